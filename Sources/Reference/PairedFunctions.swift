// The paired functions: a row x with a second vector of its length.
//
//   KL(q ‖ softmax(x)) = Σ_{q_i > 0} q_i (log q_i − log p_i)  (0 · log 0 = 0; PyTorch's kl_div summed)
//   binary cross-entropy with logits, elementwise: w y softplus(−x) + (1 − y) softplus(x), w = pos_weight
//   its gradient, elementwise: (1 − y) σ(x) − w y σ(−x)
//   the weighted logsumexp log|Σ b_i e^x_i| and its sign (SciPy's logsumexp(a, b, return_sign=True))
//
// Each is certified in Ziv's loop (η = 2^−P):
//
//   KL = A + CE with A = Σ q_i log q_i (n terms of either sign: (n + 3)η Σ|q_i log q_i|) and CE the
//   cross-entropy with target q (24η CE, CertifiedFormulas.swift); the sum η|V|.
//   BCE: t = e^−|x|, softplus(±x) = log1p(t) or |x| + log1p(t); two non-negative products: 8η |V|.
//   Its gradient: ((1 − y) − w y t)/(1 + t) for x >= 0, ((1 − y) t − w y)/(1 + t) below; the numerator
//   cancels: 2η (|a| + |b|) + 4η |V| for its terms a and b.
//   The weighted logsumexp: equal logits grouped with their weights summed exactly, T = Σ_g B_g e^(y_g − m)
//   over the groups with B_g ≠ 0 (m their largest y), the value m + log|T|: T's error E <= 4η Σ|B_g| e^…,
//   and while E < |T|/2 the logarithm's is 2E/|T| (log is 1/|T|-Lipschitz near T), plus 2η of its own.
//
// Exact zeros are decided exactly, from Lindemann–Weierstrass (e^a for distinct rationals a are linearly
// independent over the algebraic numbers):
//   - Σ b_i e^x_i = 0 exactly iff every group of equal logits has Σ b = 0 (then log 0 = −inf, sign 0);
//   - KL = 0 needs every finite logit equal (with two distinct values the sums of exponentials cannot be a
//     single one), and then KL = Σ q_i log(n q_i): a sum of logarithms of dyadic rationals n q_i, zero iff
//     each n q_i is a power of two 2^k_i and Σ q_i k_i = 0 (odd parts are multiplicatively independent of 2);
//   - the BCE gradient is zero iff x = 0 and 1 − y = w y, or 1 − y = w y = 0.
// Every other value is transcendental, so Ziv's loop ends. Below MPFR's range (|x| beyond about 3e18) a
// term is 0 with the underflow allowance, and one-sided limits settle the roundings on a midpoint's
// doorstep, as for the binary family.
//
// Special values. KL follows the cross-entropy's convention (NaN propagates, q_i > 0 where p_i = 0 gives
// +inf) plus the finite Σ q log q. BCE: NaN gives NaN; at x = ±inf the term whose softplus is infinite
// counts only with a nonzero weight (0 · inf = 0, as 0 · log 0), and the gradient is 1 − y or −w y. The
// weighted logsumexp: NaN gives NaN; terms with b_i = 0 or x_i = −inf are dropped; +inf logits give
// ±inf by the sign of their weights, NaN when the signs differ (the limit depends on the approach).
import Catalogue
import MPFR

extension SoftmaxReference {
    // MARK: - KL divergence

    /// KL(q ‖ softmax(x)) = Σ_i q_i (log q_i − log p_i), 0 · log 0 = 0, correctly rounded. q's entries
    /// must be finite and >= 0 (they need not sum to 1).
    public func klDivergence(_ x: [Double], target q: [Double]) throws -> ReferenceValue {
        try klDivergenceValue(x, q).tagged(format)
    }

    /// The gradient of KL(q ‖ softmax(x)) with respect to x, p·Σq − q (that of the cross-entropy, as
    /// Σ q log q does not depend on x), correctly rounded per element.
    public func klDivergenceGradient(_ x: [Double], target q: [Double]) throws -> [ReferenceValue] {
        try crossEntropyGradient(x, target: .distribution(q))
    }

    func klDivergenceValue(_ x: [Double], _ q: [Double]) throws -> ReferenceValue {
        switch try PreparedCrossEntropy(x, .distribution(q)) {
        case .special(let value):
            // A cross-entropy of exactly 0 (all weight on a single +inf logit, or none): KL is Σ q log q.
            guard value.kind == .real else { return value }
            return try certifiedKL(nil, q)
        case .finite(let row, .distribution(let kept)):
            return try certifiedKL(row, kept)
        case .finite:
            preconditionFailure("a distribution stays a distribution")
        }
    }

    /// KL of a finite row (nil: Σ q log q alone).
    private func certifiedKL(_ x: [Double]?, _ q: [Double]) throws -> ReferenceValue {
        guard q.contains(where: { $0 > 0 }) else { return .exactly(0) }
        uncoveredCall()
        var sign = 0
        if let x {
            let allEqual = x.allSatisfy { $0 == x[0] }
            if allEqual && logFormIsZero(q, scale: x.count) { return .exactly(0) }
            // With the weight only on the k maxima, KL = Σ q_i log(k q_i) + Σq · log(1 + s/k) (s the others'
            // Σ e^(x_i − m) > 0): positive when the first sum is exactly 0, however small s is.
            let top = x.max()!
            let k = x.filter { $0 == top }.count
            if !allEqual && logFormIsZero(q, scale: k) && q.indices.allSatisfy({ q[$0] == 0 || x[$0] == top }) {
                sign = 1
            }
        } else if logFormIsZero(q, scale: 1) {
            return .exactly(0)
        }
        let space = workspaces.paired
        return try certified(.klDivergence, count: 1) { c in
            let p = c.precision
            let v = c.values[0]
            let (entropyExact, count) = entropy(q, precision: p)
            var exact = entropyExact
            if let x {
                row.evaluate(x, precision: p)
                c.underflowExponent = row.underflowErrorExponent
                space.crossEntropy.precision = p
                let (ceExact, _) = crossEntropy(into: space.crossEntropy, x.count, .distribution(q))
                exact = v.add(space.entropy, space.crossEntropy) == 0 && exact && ceExact
                c.record(
                    0, exact: exact, sign: sign, (24, space.crossEntropy), (count + 3, space.entropyMagnitude), (2, v))
            } else {
                v.set(space.entropy)
                c.record(0, exact: exact, sign: sign, (count + 3, space.entropyMagnitude), (2, v))
            }
        }[0]
    }

    /// A = Σ_{q_i > 0} q_i log q_i into the workspace's `entropy`, Σ|q_i log q_i| into `entropyMagnitude`;
    /// returns whether A is exact and the number of terms.
    private func entropy(_ q: [Double], precision p: Int) -> (Bool, Int) {
        let space = workspaces.paired
        let positive = q.indices.filter { q[$0] > 0 }
        let terms = space.terms.prefix(positive.count, precision: p)
        let magnitudes = space.magnitudes.prefix(positive.count, precision: p)
        var exact = true
        for (k, i) in positive.enumerated() {
            terms[k].set(q[i])
            exact = terms[k].log(terms[k]) == 0 && exact
            exact = terms[k].multiply(terms[k], q[i]) == 0 && exact
            magnitudes[k].absoluteValue(terms[k])
        }
        space.entropy.precision = p
        space.entropyMagnitude.precision = p
        exact = space.entropy.sum(terms, count: positive.count) == 0 && exact
        space.entropyMagnitude.sum(magnitudes, count: positive.count)
        return (exact, positive.count)
    }

    /// Whether Σ_{q_i > 0} q_i log(scale · q_i) = 0 exactly: each scale · q_i must be a power of two 2^k_i
    /// (an odd factor other than 1 cannot cancel against 2), and then Σ q_i k_i = 0, summed exactly.
    func logFormIsZero(_ q: [Double], scale: Int) -> Bool {
        guard scale > 0 && scale & (scale - 1) == 0 else { return false }
        let shift = scale.trailingZeroBitCount
        var terms: [MPFRFloat] = []
        for v in q where v > 0 {
            guard v.significandWidth == 0 else { return false }
            let term = MPFRFloat(v, precision: 53 + Int.bitWidth)
            term.multiply(term, Int(v.exponent) + shift)
            terms.append(term)
        }
        let total = MPFRFloat(precision: Self.exactSumBits)
        total.sum(terms)
        return total.isZero
    }

    // MARK: - Binary cross-entropy with logits

    /// w y softplus(−x_j) + (1 − y_j) softplus(x_j) for each element, correctly rounded; y_j in [0, 1],
    /// w = pos_weight finite and >= 0.
    public func binaryCrossEntropy(
        _ x: [Double], targets y: [Double], posWeight w: Double = 1
    ) throws
        -> [ReferenceValue]
    {
        try tagged(binaryCrossEntropyValues(.binaryCrossEntropy, x, y, w))
    }

    /// (1 − y_j) σ(x_j) − w y_j σ(−x_j) for each element, correctly rounded.
    public func binaryCrossEntropyGradient(
        _ x: [Double], targets y: [Double], posWeight w: Double = 1
    ) throws
        -> [ReferenceValue]
    {
        try tagged(binaryCrossEntropyValues(.binaryCrossEntropyGradient, x, y, w))
    }

    private func binaryCrossEntropyValues(
        _ f: AuditFunction, _ x: [Double], _ y: [Double], _ w: Double
    ) throws
        -> [ReferenceValue]
    {
        guard y.count == x.count else {
            throw ReferenceError.targetLengthMismatch(targetCount: y.count, rowCount: x.count)
        }
        if let i = y.firstIndex(where: { !(0...1).contains($0) }) {
            throw ReferenceError.invalidBinaryTarget(index: i, value: y[i])
        }
        guard w.isFinite && w >= 0 else { throw ReferenceError.invalidOption(name: "pos_weight", value: w) }
        var out = [ReferenceValue](repeating: .undefined, count: x.count)
        var finite = x.indices.filter { x[$0].isFinite }
        let infinite = x.indices.filter { x[$0].isInfinite }
        if !infinite.isEmpty {
            let values = try binaryLimits(f, infinite.map { x[$0] }, infinite.map { y[$0] }, w)
            for (value, j) in zip(values, infinite) { out[j] = value }
        }
        guard !finite.isEmpty else { return out }
        // The fast path first, element by element; MPFR answers only the elements it leaves.
        finite = fastElementwise(finite, into: &out) { j in
            FastBinaryFamily.binaryCrossEntropy(
                x[j], target: y[j], posWeight: w, gradient: f == .binaryCrossEntropyGradient, format: format)
        }
        guard !finite.isEmpty else { return out }
        let xs = finite.map { x[$0] }, ys = finite.map { y[$0] }
        let values = try certifiedBinaryCrossEntropy(f, xs, ys, w)
        for (value, j) in zip(values, finite) { out[j] = value }
        return out
    }

    /// The weights 1 − y_j and w y_j of each element, exactly (1 − y spans 2^0 down to 2^-1074).
    private func binaryWeights(_ y: [Double], _ w: Double) -> (negative: [MPFRFloat], positive: [MPFRFloat]) {
        let space = workspaces.paired
        let negative = space.negatives.prefix(y.count, precision: Self.exactDoubleSumBits)
        let positive = space.positives.prefix(y.count, precision: 2 * 53)
        for j in y.indices {
            negative[j].subtract(1, y[j])
            positive[j].set(w)
            positive[j].multiply(positive[j], y[j])
        }
        return (negative, positive)
    }

    /// The limits at x = ±inf: the loss is +inf where an infinite softplus has a nonzero weight, else 0;
    /// the gradient is 1 − y at +inf and −w y at −inf, correctly rounded.
    private func binaryLimits(
        _ f: AuditFunction, _ x: [Double], _ y: [Double], _ w: Double
    ) throws
        -> [ReferenceValue]
    {
        let (negative, positive) = binaryWeights(y, w)
        if f == .binaryCrossEntropy {
            return x.indices.map { j in
                (x[j] > 0 ? negative[j] : positive[j]).isZero ? .exactly(0) : .infinity(negative: false)
            }
        }
        return try certified(f, count: x.count) { c in
            for j in x.indices {
                let v = c.values[j]
                v.precision = Self.exactDoubleSumBits
                if x[j] > 0 { v.set(negative[j]) } else { v.negate(positive[j]) }
                c.record(j, exact: true, sign: v.sign)
            }
        }
    }

    private func certifiedBinaryCrossEntropy(
        _ f: AuditFunction, _ x: [Double], _ y: [Double], _ w: Double
    ) throws
        -> [ReferenceValue]
    {
        let space = workspaces.paired
        let (negative, positive) = binaryWeights(y, w)
        return try certified(f, count: x.count) { c in
            let p = c.precision
            for s in [space.argument, space.exponential, space.logarithm, space.first, space.second, space.sum] {
                s.precision = p
            }
            space.argument.precision = p + 1
            for j in 0..<x.count {
                let exactT = elementExponential(x[j], argument: space.argument, into: space.exponential, c)
                if f == .binaryCrossEntropy {
                    recordBinaryLoss(j, x[j], negative[j], positive[j], exactT, c)
                } else {
                    recordBinaryGradient(j, x[j], negative[j], positive[j], exactT, c)
                }
            }
        }
    }

    /// loss = (1 − y) softplus(x) + w y softplus(−x): with l = log1p(t), the softplus of |x|'s sign is |x| + l
    /// and the other l, so loss = a·|x| + (a + b) l with a the weight of that side: non-negative terms.
    private func recordBinaryLoss(
        _ j: Int, _ x: Double, _ negative: MPFRFloat, _ positive: MPFRFloat,
        _ exactT: Bool, _ c: Candidates
    ) {
        let space = workspaces.paired
        let v = c.values[j]
        if negative.isZero && positive.isZero {
            v.setZero()  // no weight on either term: exactly 0, whatever underflowed
            c.recordExact(j)
            return
        }
        let (a, b) = x >= 0 ? (negative, positive) : (positive, negative)
        let l = space.logarithm
        var exact = l.log(onePlus: space.exponential) == 0 && exactT
        // (a + b) l + a |x|.
        exact = space.sum.add(a, b) == 0 && exact
        exact = space.first.multiply(space.sum, l) == 0 && (exact || space.sum.isZero)
        exact = space.second.multiply(a, x.magnitude) == 0 && exact
        exact = v.add(space.first, space.second) == 0 && exact
        c.record(j, exact: exact, sign: 1, (16, v))
        // l > 0, so with weight the loss is strictly above a |x|: decides an a|x| that is a midpoint.
        let limit = space.limits.value(j, precision: Self.exactDoubleSumBits + 64)
        limit.multiply(a, x.magnitude)
        c.limit(j, limit, upper: false)
    }

    /// gradient = ((1 − y) − w y t)/(1 + t) for x >= 0 and ((1 − y) t − w y)/(1 + t) below.
    private func recordBinaryGradient(
        _ j: Int, _ x: Double, _ negative: MPFRFloat, _ positive: MPFRFloat,
        _ exactT: Bool, _ c: Candidates
    ) {
        let space = workspaces.paired
        let v = c.values[j]
        if negative.isZero && positive.isZero {
            v.setZero()
            c.recordExact(j)
            return
        }
        let t = space.exponential
        var exact = exactT
        if x >= 0 {
            exact = space.first.set(negative) == 0 && exact
            exact = space.second.multiply(positive, t) == 0 && exact
        } else {
            exact = space.first.multiply(negative, t) == 0 && exact
            exact = space.second.set(positive) == 0 && exact
        }
        exact = space.sum.subtract(space.first, space.second) == 0 && exact
        exact = space.logarithm.add(t, 1.0) == 0 && exact
        exact = v.divide(space.sum, space.logarithm) == 0 && exact
        // Signs when one weight is zero; both zero is an exact 0.
        let sign = negative.isZero ? -positive.sign : (positive.isZero ? 1 : 0)
        c.record(j, exact: exact, sign: sign, (4, space.first), (4, space.second), (8, v))
        // Strictly inside (−w y, 1 − y) with some weight nonzero: x >= 0 puts it just below 1 − y, x < 0
        // just above −w y, where 1 − y or −w y can be a midpoint and t far below any precision.
        let limit = space.limits.value(j, precision: Self.exactDoubleSumBits + 64)
        if x >= 0 {
            limit.set(negative)
            c.limit(j, limit, upper: true)
        } else {
            limit.negate(positive)
            c.limit(j, limit, upper: false)
        }
    }

    // MARK: - Weighted logsumexp

    /// log|Σ_i b_i e^x_i| and its sign (+1, −1, or 0 with −inf for a sum that is exactly zero), correctly
    /// rounded; b finite, of the row's length.
    public func weightedLogSumExp(_ x: [Double], weights b: [Double]) throws -> [ReferenceValue] {
        guard b.count == x.count else {
            throw ReferenceError.targetLengthMismatch(targetCount: b.count, rowCount: x.count)
        }
        if let i = b.firstIndex(where: { !$0.isFinite }) {
            throw ReferenceError.nonFiniteInput(what: "weight", index: i, value: b[i])
        }
        if x.contains(where: \.isNaN) { return [.undefined, .undefined] }
        let live = x.indices.filter { b[$0] != 0 && x[$0] != -.infinity }
        let infinite = live.filter { x[$0] == .infinity }
        if !infinite.isEmpty {
            let signs = Set(infinite.map { b[$0] > 0 })
            guard signs.count == 1 else { return [.undefined, .undefined] }
            return [.infinity(negative: false), .exactly(signs.first! ? 1 : -1)]
        }
        // Groups of equal logits with their weights summed exactly; the zero sums drop out.
        let sorted = live.sorted { x[$0] > x[$1] }
        var groups: [(value: Double, weight: MPFRFloat)] = []
        var start = 0
        while start < sorted.count {
            var end = start
            while end < sorted.count && x[sorted[end]] == x[sorted[start]] { end += 1 }
            let weight = MPFRFloat(precision: Self.exactSumBits)
            weight.sum(sorted[start..<end].map { MPFRFloat(b[$0], precision: 53) })
            if !weight.isZero { groups.append((x[sorted[start]], weight)) }
            start = end
        }
        guard !groups.isEmpty else { return [.infinity(negative: true), .exactly(0)] }
        uncoveredCall()
        return tagged(try certifiedWeightedLogSumExp(groups))
    }

    private func certifiedWeightedLogSumExp(
        _ groups: [(value: Double, weight: MPFRFloat)]
    ) throws
        -> [ReferenceValue]
    {
        let space = workspaces.paired
        let m = groups[0].value
        let top = groups[0].weight
        // With |B_top| = 1, T = B_top + R (R the other groups' Σ B_g e^(y_g − m)) and log|T| has the sign of
        // sign(B_top)·sign(R) when R has B_top's sign (|T| > 1) or |R| < 1 (then 0 < |T| < 1 or |T| > 1 by
        // that sign): the limit m then decides a value on a midpoint's doorstep, where the others are far
        // below the top (Lindemann–Weierstrass: nothing else puts |T| within 2^-65536 of 1).
        let unit = top.compareMagnitude(MPFRFloat(1, precision: 2)) == 0 && groups.count > 1
        let otherSigns = Set(groups.dropFirst().map { $0.weight.sign })
        return try certified(.weightedLogSumExp, count: 2) { c in
            let p = c.precision
            let terms = space.terms.prefix(groups.count, precision: p)
            let magnitudes = space.magnitudes.prefix(groups.count, precision: p)
            var exact = true
            var underflowed = false
            space.argument.precision = p + 64
            for (g, group) in groups.enumerated() {
                // B_g e^(y_g − m): the argument exact at P + 64 bits (or far below range), exp η, product η.
                var e = space.argument.subtract(group.value, m) == 0
                MPFREnvironment.clearUnderflow()
                e = terms[g].exp(space.argument) == 0 && e
                e = terms[g].multiply(terms[g], group.weight) == 0 && e
                if MPFREnvironment.underflowed {
                    // e^(y_g − m), or its product with the weight (< 2^1100), fell below MPFR's range.
                    terms[g].setZero()
                    underflowed = true
                    e = false
                }
                magnitudes[g].absoluteValue(terms[g])
                exact = exact && e
            }
            let sum = space.sum, magnitude = space.magnitude
            sum.precision = p
            magnitude.precision = p
            exact = sum.sum(terms, count: groups.count) == 0 && exact
            magnitude.sum(magnitudes, count: groups.count)
            if underflowed {
                c.underflowExponent = ShiftedExponentials.underflowAllowanceExponent
                exact = false
            }
            // E <= 4η Σ|terms| + (the allowance, times every weight: < 2^1100 each, fewer than 2^64 of them).
            let allowance = underflowed ? ShiftedExponentials.underflowAllowanceExponent + 1200 : nil
            let errorT: Int? = exact ? nil : max(magnitude.exponent - p + 3, allowance ?? Int.min)
            let v = c.values[0], s = c.values[1]
            guard !sum.isZero, errorT.map({ $0 < sum.exponent - 3 }) ?? true else {
                // T is not yet known to be away from 0: no sign and no logarithm at this precision.
                v.setZero()
                s.setZero()
                c.record(0, sign: 0, errorExponent: Int(Int32.max))
                c.record(1, sign: 0, errorExponent: Int(Int32.max))
                return
            }
            s.set(sum.sign)
            c.recordExact(1)
            let l = space.logarithm
            l.precision = p
            space.first.precision = p
            space.first.absoluteValue(sum)
            var exactV = l.log(space.first) == 0 && exact
            exactV = v.add(l, m) == 0 && exactV
            // |T| >= 2^(e − 1) − E >= 2^(e − 2) with E < 2^(e − 3): 2E/|T| < 2^(E's exponent − e + 3); then
            // η|log|T|| + η|V|.
            var bound = errorT.map { $0 - sum.exponent + 3 }
            for magnitude in [l, v] where magnitude.isRegular {
                bound = max(bound ?? Int.min, magnitude.exponent - p)
            }
            c.record(0, sign: 0, errorExponent: exactV ? nil : bound.map { $0 + 2 })
            guard unit, let rest = otherSign(groups, otherSigns, precision: p) else { return }
            if rest != top.sign {
                // |R| <= Σ_{g > 0} |terms_g| (each within 2η, the sum η) must stay below 1.
                magnitude.sum(Array(magnitudes[1..<groups.count]), count: groups.count - 1)
                guard magnitude.compare(0.5) < 0 else { return }
            }
            let limit = space.limits.value(0, precision: 64)
            limit.set(m)
            c.limit(0, limit, upper: rest != top.sign)
        }
    }

    /// The sign of R = Σ_{g > 0} B_g e^(y_g − m): the others' common sign, or with mixed signs that of
    /// R' = Σ_{g > 0} B_g e^(y_g − y_1) (R = e^(y_1 − m) R', anchored at the second group so that it
    /// cannot underflow as a whole) when its error, 4η Σ|terms| (plus the allowance for terms below MPFR's
    /// range), is below |R'|; nil when this precision cannot tell.
    private func otherSign(
        _ groups: [(value: Double, weight: MPFRFloat)], _ signs: Set<Int>, precision p: Int
    ) -> Int? {
        if signs.count == 1 { return signs.first! }
        let space = workspaces.paired
        let count = groups.count - 1
        let terms = space.restTerms.prefix(count, precision: p)
        let magnitudes = space.restMagnitudes.prefix(count, precision: p)
        var underflowed = false
        space.argument.precision = p + 64
        for g in 1..<groups.count {
            let term = terms[g - 1]
            space.argument.subtract(groups[g].value, groups[1].value)
            MPFREnvironment.clearUnderflow()
            term.exp(space.argument)
            term.multiply(term, groups[g].weight)
            if MPFREnvironment.underflowed {
                term.setZero()
                underflowed = true
            }
            magnitudes[g - 1].absoluteValue(term)
        }
        let rest = space.restSum, magnitude = space.restMagnitude
        rest.precision = p
        magnitude.precision = p
        rest.sum(terms, count: count)
        magnitude.sum(magnitudes, count: count)
        guard !rest.isZero else { return nil }
        var error = magnitude.exponent - p + 3
        if underflowed { error = max(error, ShiftedExponentials.underflowAllowanceExponent + 1200) }
        return error < rest.exponent - 2 ? rest.sign : nil
    }
}
