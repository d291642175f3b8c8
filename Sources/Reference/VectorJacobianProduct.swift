// The vector-Jacobian product w = Jᵀv = p ⊙ (v − c), c = ⟨p, v⟩ = Σ_j p_j v_j.
//
// Unlike the other formulas, v_i − c may cancel: it is small when v_i is near the p-weighted mean of
// v. So the error bound is absolute, relative to max|v|, and Ziv's loop raises the precision until the
// cancellation is resolved. With M = max_j |v_j| (so Σ p_j |v_j| <= M) and η = 2^−P:
//
//     |c̃ − c|   <= 12η M + η |c̃|                 (p̃_j v_j: 10η each, one correctly rounded sum)
//     |r̃_i − r_i| <= |c̃ − c| + η |r̃_i|           (r_i = v_i − c)
//     |w̃_i − w_i| <= 2 p̃_i (12η M + η|c̃| + 12η|r̃_i|) + η |w̃_i|
//
// An exact zero cannot be certified by a shrinking bound, so it is decided exactly first. By the
// Lindemann–Weierstrass theorem, exponentials of distinct rationals are linearly independent over the
// rationals, so r_i S = Σ_j e_j (v_i − v_j) = Σ_G e^(d_G) Σ_{j∈G} (v_i − v_j) vanishes exactly when every
// group G of equal logits has Σ_{j∈G} v_j = |G| v_i: all groups share one mean μ of v, and v_i = μ.
// Those sums are formed exactly in MPFR (2200 bits plus log2 n hold any sum of n doubles).
//
// The same expansion settles the sign of a nonzero r_i that is too small for any precision to
// resolve (terms below MPFR's range, spreads beyond 3e18): with c_G = Σ_{j∈G} (v_i − v_j) and G1 the
// group of largest logit with c_G ≠ 0, r_i has the sign of Σ_G c_G e^(x_G − x_G1), a sum whose leading
// term is c_G1 itself — evaluated at rising precision with a rigorous bound (or, when every nonzero
// c_G has one sign, that sign outright).
import MPFR

extension SoftmaxReference {
    /// From this working precision on, a sign that the bound on r̃_i leaves open is sought in the group
    /// expansion (below it, the next precision usually settles it for less).
    static let groupExpansionPrecision = 4096

    /// When a term underflowed MPFR's range, r̃_i = v_i − c̃ carries U times max|v_j| < 2^1024 summed over
    /// n < 2^64 terms: its sign is trusted only above 2^(U's exponent + this margin).
    static let vectorUnderflowMargin = 1100

    func certifiedVectorJacobianProduct(_ x: [Double], _ v: [Double]) throws -> [ReferenceValue] {
        let n = x.count
        if let values = fast(x, single: { [.exactly(0)] }, { $0.vectorJacobianProduct(v) }) { return values }
        let groups = exactGroups(x, v)
        let isZero = exactZeros(v, groups)
        let maxMagnitude = MPFRFloat(v.map { $0.magnitude }.max() ?? 0)
        let space = workspaces.vectorJacobianProduct
        return try certified(.vectorJacobianProduct, count: n) { c in
            let p = c.precision
            row.evaluate(x, precision: p)
            c.underflowExponent = row.underflowErrorExponent
            let (probabilities, exact) = evaluateMean(v, precision: p, space)
            for i in 0..<n {
                if isZero[i] {
                    c.values[i].setZero()
                    c.recordExact(i)
                    continue
                }
                recordElement(
                    i, v, c, probability: probabilities[i], exact: exact, maxMagnitude: maxMagnitude, groups: groups,
                    space)
            }
        }
    }

    /// p_j, p_j v_j and c = Σ_j p_j v_j (one correctly rounded sum) at precision P: the p_j, and whether
    /// all are exact.
    private func evaluateMean(
        _ v: [Double], precision p: Int,
        _ space: VectorJacobianProductWorkspace
    ) -> ([MPFRFloat], Bool) {
        let n = v.count
        let probabilities = space.probabilities.prefix(n, precision: p)
        let products = space.products.prefix(n, precision: p)
        var exact = true
        for j in 0..<n {
            exact = probabilities[j].divide(row.e[j], row.S) == 0 && exact && row.eExact[j] && row.SExact
            exact = products[j].multiply(probabilities[j], v[j]) == 0 && exact
        }
        space.mean.precision = p
        return (probabilities, space.mean.sum(products, count: n) == 0 && exact)
    }

    /// w_i = p_i (v_i − c) into candidate i, with its bound and, when it can be proved, its sign.
    private func recordElement(
        _ i: Int, _ v: [Double], _ c: Candidates, probability: MPFRFloat, exact: Bool,
        maxMagnitude: MPFRFloat, groups: [ExactGroup], _ space: VectorJacobianProductWorkspace
    ) {
        let p = c.precision
        let mean = space.mean, difference = space.difference
        difference.precision = p
        let w = c.values[i]
        var elementExact = difference.subtract(v[i], mean) == 0 && exact
        elementExact = w.multiply(probability, difference) == 0 && elementExact
        // The sign of w_i is that of r_i once the bound on r̃_i excludes zero, or, when a high precision
        // has not settled it, once the group expansion proves it.
        var sign = 0
        if difference.isRegular {
            var bound = difference.exponent - p + 4
            if maxMagnitude.isRegular { bound = max(bound, maxMagnitude.exponent - p + 4) }
            if mean.isRegular { bound = max(bound, mean.exponent - p) }
            if let u = row.underflowErrorExponent { bound = max(bound, u + Self.vectorUnderflowMargin) }
            if bound + 2 < difference.exponent - 1 { sign = difference.sign }
        }
        if sign == 0 && p >= Self.groupExpansionPrecision { sign = dominantGroupSign(i, v, groups, precision: p) }
        // 2 p̃_i (12η M + η|c̃| + 12η|r̃_i|) + η|w̃_i|, each magnitude as an exponent:
        // |p̃_i x| < 2^(e_p + e_x), with one bit more to spare.
        func scaled(_ x: MPFRFloat) -> Int? {
            probability.isRegular && x.isRegular ? probability.exponent + x.exponent + 1 : nil
        }
        c.record(
            i, exact: elementExact, sign: sign,
            exponents: [
                (2, w.isRegular ? w.exponent : nil), (24, scaled(maxMagnitude)), (2, scaled(mean)),
                (24, scaled(difference)),
            ])
    }

    /// Which r_i are exactly zero: those with |G| v_i = Σ_{j∈G} v_j when every group shares one mean of v.
    private func exactZeros(_ v: [Double], _ groups: [ExactGroup]) -> [Bool] {
        guard let (groupSum, groupSize) = exactCommonGroupMean(groups) else {
            return Array(repeating: false, count: v.count)
        }
        let lhs = MPFRFloat(precision: Self.exactSumBits)
        return v.map { vi in
            lhs.set(vi)
            lhs.multiply(lhs, groupSize)
            return lhs.compare(groupSum) == 0
        }
    }

    /// The groups of equal logits in decreasing order of logit: (logit, exact Σ_{j∈G} v_j, |G|).
    private func exactGroups(_ x: [Double], _ v: [Double]) -> [ExactGroup] {
        let order = x.indices.sorted { x[$0] > x[$1] || (x[$0] == x[$1] && $0 < $1) }
        var groups: [ExactGroup] = []
        var start = 0
        while start < order.count {
            var end = start
            while end < order.count && x[order[end]] == x[order[start]] { end += 1 }
            let sum = MPFRFloat(precision: Self.exactSumBits)
            sum.sum(order[start..<end].map { MPFRFloat(v[$0], precision: 53) })
            groups.append((x[order[start]], sum, end - start))
            start = end
        }
        return groups
    }

    /// Enough bits for any sum of doubles times an Int.
    static let exactSumBits = exactDoubleSumBits + 2 * Int.bitWidth

    /// If every group has the same mean of v, returns (Σ_{j∈G} v_j, |G|) of one group (so r_i = 0
    /// exactly when |G| v_i = Σ_{j∈G} v_j); nil when the means differ (no r_i is zero).
    private func exactCommonGroupMean(_ groups: [ExactGroup]) -> (MPFRFloat, Int)? {
        let (_, firstSum, firstSize) = groups[0]
        let a = MPFRFloat(precision: Self.exactSumBits)
        let b = MPFRFloat(precision: Self.exactSumBits)
        for (_, sum, size) in groups.dropFirst() {
            a.multiply(sum, firstSize)
            b.multiply(firstSum, size)
            if a.compare(b) != 0 { return nil }
        }
        return (firstSum, firstSize)
    }

    /// The sign of r_i proved by the leading group of the expansion at precision P, or 0 when it does not
    /// dominate there (a higher precision of the Ziv loop tries again).
    private func dominantGroupSign(_ i: Int, _ v: [Double], _ groups: [ExactGroup], precision: Int) -> Int {
        var coefficients: [(logit: MPFRFloat, coefficient: MPFRFloat)] = []
        for (logit, sum, size) in groups {
            let c = MPFRFloat(precision: Self.exactSumBits)
            c.set(v[i])
            c.multiply(c, size)
            c.subtract(c, sum)  // |G| v_i − Σ_{j∈G} v_j, exact
            if !c.isZero { coefficients.append((MPFRFloat(logit), c)) }
        }
        return expansionSign(coefficients, precision: precision)
    }

    /// The sign of Σ_G c_G e^(x_G) for exact logits x_G in decreasing order and exact nonzero coefficients c_G,
    /// a sum that is not zero (Lindemann–Weierstrass), proved at precision P, or 0 when P does not settle it.
    func expansionSign(_ coefficients: [(logit: MPFRFloat, coefficient: MPFRFloat)], precision: Int) -> Int {
        guard let (leadLogit, lead) = coefficients.first else { return 0 }
        // Coefficients of one sign times positive exponentials: that sign, whatever their sizes.
        if coefficients.allSatisfy({ $0.coefficient.sign == lead.sign }) { return lead.sign }
        // Otherwise evaluate T = Σ_G c_G e^(x_G − x_G1), the same sum rescaled by e^(−x_G1) > 0: each term
        // within 4·2^−P of itself, and a term whose exponential leaves MPFR's range within |c_G| 2^emin.
        // T ≠ 0 (Lindemann–Weierstrass), so a precision settles its sign.
        let total = MPFRFloat(precision: precision)
        let bound = MPFRFloat(precision: 64)
        bound.setZero()
        let argument = MPFRFloat(precision: precision + 64)
        let magnitude = MPFRFloat(precision: 64)
        var terms: [MPFRFloat] = []
        var underflowed = false
        for (logit, c) in coefficients {
            argument.subtract(logit, leadLogit)
            if !argument.isZero && argument.exponent > ShiftedExponentials.negligibleDifferenceExponent {
                underflowed = true
                continue
            }
            let term = MPFRFloat(precision: precision)
            MPFREnvironment.clearUnderflow()
            term.exp(argument)
            if MPFREnvironment.underflowed {
                underflowed = true
                continue
            }
            term.multiply(term, c)
            terms.append(term)
            magnitude.absoluteValue(term)
            bound.add(bound, magnitude, .up)
        }
        // One correctly rounded sum (mpfr_sum), so the rounding is 2^−P |T| <= 2^−P Σ|t|.
        total.sum(terms)
        // Per term 3·2^−P (argument, exp, product) plus the sum's 2^−P: 4·2^−P Σ|t| <= 8·2^−P Σ|t|; plus
        // the underflow allowance U for the dropped terms.
        bound.scale(bound, byPowerOfTwo: 3 - precision, .up)
        if underflowed {
            let tiny = MPFRFloat(precision: 2)
            tiny.setPowerOfTwo(ShiftedExponentials.underflowAllowanceExponent)
            bound.add(bound, tiny, .up)
        }
        magnitude.absoluteValue(total)
        return magnitude.compare(bound) > 0 ? total.sign : 0
    }
}

/// A group of equal logits: (the logit, the exact Σ_{j∈G} v_j, |G|).
typealias ExactGroup = (logit: Double, sum: MPFRFloat, size: Int)
