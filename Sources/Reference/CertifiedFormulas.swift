// The certified formulas on finite rows (n >= 1), each with its error bound (η = 2^−P; the
// quantities and their bounds are in ShiftedExponentials.swift). Every formula is a sum or product of
// terms of one sign, so relative errors add; the constants below are those sums with a factor of about
// two to spare. `record` also adds the underflow allowance U when a term left MPFR's range.
//
//     softmax       p_j = e_j / S                  rel <= 2η + 6η + η          -> 16η |V|
//     log-softmax   log p_j = d_j − L  (both <= 0)  abs <= 6η L + 2^−(P+64)|d_j| + η|V| -> 16η |V|
//     logsumexp     y = m + L                      abs <= 6η L + η |V|         -> 14η |L̃| + 2η |V|
//     CE, label t   −log p_t = L − d_t  (both >= 0) as log-softmax               -> 16η |V|
//     CE, q         Σ q_i (L − d_i), terms >= 0    rel <= 8η + η + η           -> 24η |V|
//     1 − p_t       (S − e_t)/S; S − e_t >= S/2 for t ≠ k (e_t <= 1 <= S − e_t), s for t = k
//                                                  rel <= 2(6η + 2η) + η + 6η + η -> 40η |V|
//     p_j Σq − q_j  the derivative of CE with q; not sign-definite: abs <= 10η p_j Σq + 2η|V|
//                                                                                -> 16η p̃_j Σq + 3η |V|
//     J_ij          −p_i p_j, and p_i (1 − p_i) on the diagonal                  -> 48η |V|
//     Jᵀv           p_i (v_i − c), c = Σ p_j v_j: see certifiedVectorJacobianProduct
//
// Division by the batch size adds one rounding (η |V|), folded into the constants' slack.
import MPFR

extension SoftmaxReference {
    /// Bits beyond P for a cross-entropy anchor A <= Σ w_i (−d_i): the d_i carry P + 64 bits and the
    /// weights 53, so each product is exact at P + 117 bits. Every step rounds down, so A is a lower
    /// bound of the anchor always, and the anchor itself whenever it fits in P + 192 bits (a label's
    /// −d_t always does).
    static let anchorExtraBits = 192

    func certifiedSoftmax(_ x: [Double]) throws -> [ReferenceValue] {
        if let values = fast(x, single: { [.exactly(1)] }, { $0.softmax() }) { return values }
        return try certified(.softmax, count: x.count) { c in
            row.evaluate(x, precision: c.precision)
            c.underflowExponent = row.underflowErrorExponent
            for j in 0..<x.count {
                let v = c.values[j]
                let ternary = v.divide(row.e[j], row.S)
                c.record(j, exact: ternary == 0 && row.eExact[j] && row.SExact, sign: 1, (16, v))
            }
        }
    }

    func certifiedLogSoftmax(_ x: [Double]) throws -> [ReferenceValue] {
        if let values = fast(x, single: { [.exactly(0)] }, { $0.logSoftmax(x) }) { return values }
        return try certified(.logSoftmax, count: x.count) { c in
            row.evaluate(x, precision: c.precision)
            c.underflowExponent = row.underflowErrorExponent
            for j in 0..<x.count {
                let v = c.values[j]
                let ternary = v.subtract(row.d[j], row.L)
                c.record(j, exact: ternary == 0 && row.dExact[j] && row.LExact, sign: x.count > 1 ? -1 : 0, (16, v))
                // L > 0 for n > 1, so log p_j < d_j: decides a d_j that is itself a midpoint.
                if x.count > 1 && row.dExact[j] { c.limit(j, row.d[j], upper: true) }
            }
        }
    }

    func certifiedLogSumExp(_ x: [Double]) throws -> ReferenceValue {
        if let values = fast(
            x, single: { format == .double ? [.exactly(x[0] + 0)] : nil }, { $0.logSumExp().map { [$0] } })
        {
            return values[0]
        }
        return try certified(.logSumExp, count: 1) { c in
            row.evaluate(x, precision: c.precision)
            c.underflowExponent = row.underflowErrorExponent
            let v = c.values[0]
            let ternary = v.add(row.L, row.maxValue)
            // y = m + L with L > 0 when n > 1: positive whenever m >= 0.
            c.record(0, exact: ternary == 0 && row.LExact, sign: row.maxValue >= 0 ? 1 : 0, (14, row.L), (2, v))
            // And y > m: decides an m that is itself a midpoint of a narrower format (or its overflow
            // threshold) with an L far below any precision's reach.
            if x.count > 1 {
                let limit = workspaces.logSumExp.maximum
                limit.set(row.maxValue)
                c.limit(0, limit, upper: false)
            }
        }[0]
    }

    func certifiedCrossEntropy(_ x: [Double], _ target: CrossEntropyTarget) throws -> ReferenceValue {
        if case .label(let t) = target {
            if let values = fast(x, single: { [.exactly(0)] }, { $0.crossEntropy(x, label: t).map { [$0] } }) {
                return values[0]
            }
        } else {
            uncoveredCall()
        }
        return try certified(.crossEntropy, count: 1) { c in
            row.evaluate(x, precision: c.precision)
            c.underflowExponent = row.underflowErrorExponent
            if case .distribution(let q) = target, !q.contains(where: { $0 > 0 }) {
                c.values[0].setZero()  // no weight anywhere: exactly 0
                c.recordExact(0)
                return
            }
            let (exact, sign) = crossEntropy(into: c.values[0], x.count, target)
            c.record(0, exact: exact, sign: sign, (24, c.values[0]))
            // CE = Σ w_i (−d_i) + L Σ w_i > Σ w_i (−d_i) for n > 1: decides an anchor that is itself a midpoint.
            let anchor = workspaces.crossEntropy.anchor
            if crossEntropyAnchor(into: anchor, x.count, target) { c.limit(0, anchor, upper: false) }
        }[0]
    }

    /// A lower bound A <= Σ_i w_i (−d_i) (w = onehot(t) or q; rounded down, exact when representable) into
    /// `a`; returns whether CE > A is guaranteed (n > 1, some weight, every weighted d_i exact).
    private func crossEntropyAnchor(into a: MPFRFloat, _ n: Int, _ target: CrossEntropyTarget) -> Bool {
        guard n > 1 else { return false }
        a.precision = row.precision + Self.anchorExtraBits
        switch target {
        case .label(let t):
            guard row.dExact[t] else { return false }
            a.negate(row.d[t])
            return true
        case .distribution(let q):
            guard q.contains(where: { $0 > 0 }) else { return false }
            a.setZero()
            let term = workspaces.crossEntropy.anchorTerm
            term.precision = a.precision
            for i in 0..<n where q[i] > 0 {
                guard row.dExact[i] else { return false }
                term.negate(row.d[i])
                term.multiply(term, q[i], .down)
                a.add(a, term, .down)
            }
            return true
        }
    }

    /// CE of the row in `row` (already evaluated) into v; returns (exact, known sign).
    func crossEntropy(into v: MPFRFloat, _ n: Int, _ target: CrossEntropyTarget) -> (Bool, Int) {
        switch target {
        case .label(let t):
            let ternary = v.subtract(row.L, row.d[t])
            return (ternary == 0 && row.dExact[t] && row.LExact, n > 1 ? 1 : 0)
        case .distribution(let q):
            let terms = workspaces.crossEntropy.terms.prefix(n, precision: v.precision)
            var exact = row.LExact
            for i in 0..<n {
                let ti = terms[i]
                exact = ti.subtract(row.L, row.d[i]) == 0 && exact && row.dExact[i]
                exact = ti.multiply(ti, q[i]) == 0 && exact
            }
            exact = v.sum(terms, count: n) == 0 && exact
            return (exact, n > 1 && q.contains { $0 > 0 } ? 1 : 0)
        }
    }

    func certifiedMeanCrossEntropy(_ rows: [([Double], CrossEntropyTarget)], batchSize: Int) throws -> ReferenceValue {
        if let value = fastMeanCrossEntropy(rows, batchSize: batchSize) { return value }
        return try certified(.batchCrossEntropy, count: 1) { c in
            let space = workspaces.meanCrossEntropy
            let losses = space.losses.prefix(rows.count, precision: c.precision)
            let anchorSum = space.anchorSum
            var exact = true
            var sign = 0
            var underflow: Int? = nil
            // Σ_b A_b / B, rounded down, below the mean whenever some row has a positive loss (A_b its
            // anchor, or 0).
            anchorSum.precision = c.precision + Self.anchorExtraBits
            anchorSum.setZero()
            for (b, (x, target)) in rows.enumerated() {
                if case .distribution(let q) = target, !q.contains(where: { $0 > 0 }) {
                    losses[b].setZero()  // no weight: an exact 0
                    continue
                }
                row.evaluate(x, precision: c.precision)
                if let u = row.underflowErrorExponent { underflow = u }
                let (e, rowSign) = crossEntropy(into: losses[b], x.count, target)
                exact = exact && e && row.underflowErrorExponent == nil
                sign = max(sign, rowSign)
                if crossEntropyAnchor(into: space.rowAnchor, x.count, target) {
                    anchorSum.add(anchorSum, space.rowAnchor, .down)
                }
            }
            c.underflowExponent = underflow
            let v = c.values[0]
            exact = v.sum(losses, count: rows.count) == 0 && exact
            exact = v.divide(v, batchSize) == 0 && exact
            if exact {
                c.recordExact(0)
            } else {
                c.record(0, exact: false, sign: sign, (32, v))
            }
            if sign > 0 {
                anchorSum.divide(anchorSum, batchSize, .down)
                c.limit(0, anchorSum, upper: false)
            }
        }[0]
    }

    /// The gradient p·Σw − w of the finite row x, divided by B; `total` is Σw over the whole row (1 for a
    /// label), exact.
    func certifiedGradient(
        _ x: [Double], _ target: CrossEntropyTarget, batchSize: Int,
        total: MPFRFloat
    ) throws -> [ReferenceValue] {
        if case .label(let t) = target {
            if let values = fast(x, single: { [.exactly(0)] }, { $0.gradient(label: t, batchSize: batchSize) }) {
                return values
            }
        } else {
            uncoveredCall()
        }
        if case .distribution(let q) = target, x.count > 1, x.allSatisfy({ $0 == x[0] }) {
            return try tiedDistributionGradient(q, batchSize: batchSize, total: total)
        }
        let space = workspaces.gradient
        let ties = tiedMaxima(x)
        return try certified(batchSize == 1 ? .crossEntropyGradient : .batchCrossEntropyGradient, count: x.count) { c in
            row.evaluate(x, precision: c.precision)
            c.underflowExponent = row.underflowErrorExponent
            let n = x.count
            for j in 0..<n {
                let v = c.values[j]
                switch target {
                case .label(let t) where j == t:
                    // p_t − 1 = −(1 − p_t), with 1 − p_t = (S − e_t)/S formed without cancellation.
                    var exact = complement(t, into: space.complement)
                    exact = v.divide(space.complement, row.S) == 0 && exact && row.SExact
                    v.negate(v)
                    exact = v.divide(v, batchSize) == 0 && exact
                    c.record(j, exact: exact, sign: n > 1 ? -1 : 0, (40, v))
                    // On one of k tied maxima with other logits, p_t < 1/k: the result is below −(k − 1)/(kB),
                    // which can be a midpoint of a narrow format (511/512 in bfloat16) that p_t's distance to
                    // 1/k, beyond any precision, would never decide.
                    if x[t] == row.maxValue && ties.count > 1 && ties.count < n {
                        let limit = space.limits.value(j, precision: Self.exactSumBits)
                        limit.set(-(ties.count - 1))
                        limit.divide(limit, ties.count * batchSize, .up)
                        c.limit(j, limit, upper: true)
                    }
                case .distribution(let q):
                    distributionGradient(j, q, total, batchSize, c, maximum: x[j] == row.maxValue ? ties.count : nil)
                default:
                    var exact = v.divide(row.e[j], row.S) == 0 && row.eExact[j] && row.SExact
                    exact = v.divide(v, batchSize) == 0 && exact
                    c.record(j, exact: exact, sign: 1, (16, v))
                }
            }
        }
    }

    /// The gradient of a row whose logits are all equal, p_j = 1/n: (Σq − n q_j)/(nB), from an exact
    /// numerator, so that an exact zero (n q_j = Σq) or a dyadic result is decided exactly.
    private func tiedDistributionGradient(_ q: [Double], batchSize: Int, total: MPFRFloat) throws -> [ReferenceValue] {
        let n = q.count
        let numerator = workspaces.gradient.difference
        return try certified(batchSize == 1 ? .crossEntropyGradient : .batchCrossEntropyGradient, count: n) { c in
            for j in 0..<n {
                let v = c.values[j]
                numerator.precision = Self.exactSumBits + Int.bitWidth
                numerator.set(q[j])
                numerator.multiply(numerator, n)
                numerator.subtract(total, numerator)
                let ternary = v.divide(numerator, n * batchSize)
                c.record(j, exact: ternary == 0, sign: numerator.sign, (1, v))
            }
        }
    }

    /// (p_j Σq − q_j) / B into candidate j. p_j carries 9η relatively and the product one rounding, so the
    /// error is at most 10η p̃_j Σq + 2η|ṽ| (the subtraction and the division): not sign-definite, so
    /// absolute. For n > 1, 0 < p_j puts the result strictly above −q_j/B, and on one of k maxima (`maximum`
    /// = k) p_j < 1/k puts it strictly below (Σq/k − q_j)/B; those limits decide results on a midpoint's
    /// doorstep (a one-hot or 1/3 target with a dominant logit, two tied maxima and a far logit).
    private func distributionGradient(
        _ j: Int, _ q: [Double], _ total: MPFRFloat, _ batchSize: Int, _ c: Candidates,
        maximum ties: Int?
    ) {
        let space = workspaces.gradient
        let v = c.values[j]
        let n = q.count
        let p = space.probability
        p.precision = c.precision
        var exact = p.divide(row.e[j], row.S) == 0 && row.eExact[j] && row.SExact
        let product = space.product
        product.precision = c.precision
        // (With no weight at all, p_j Σq = 0 exactly, however p_j was rounded.)
        exact = product.multiply(p, total) == 0 && (exact || total.isZero)
        exact = v.subtract(product, q[j]) == 0 && exact
        exact = v.divide(v, batchSize) == 0 && exact
        // Known signs: −q_j when nothing else weighs (Σq = q_j, so p_j Σq − q_j = q_j (p_j − 1) < 0), and
        // p_j Σq > 0 when q_j = 0 < Σq.
        var sign = 0
        if n > 1 && total.sign > 0 {
            if q[j] == 0 { sign = 1 } else if total.compare(q[j]) <= 0 { sign = -1 }
        }
        c.record(j, exact: exact, sign: sign, (16, product), (3, v))
        guard n > 1 && total.sign > 0 else { return }
        let limit = space.limits.value(j, precision: Self.exactSumBits + 2 * Int.bitWidth)
        if let ties, ties < n {
            // Σq/k − q_j, rounded up (exact for k a power of two), then divided by B rounded up: still above.
            limit.divide(total, ties, .up)
            limit.subtract(limit, q[j], .up)
            limit.divide(limit, batchSize, .up)
            c.limit(j, limit, upper: true)
        } else {
            limit.set(-q[j])
            limit.divide(limit, batchSize, .down)
            c.limit(j, limit, upper: false)
        }
    }

    /// The indices of the row's maximum (more than one when it is tied).
    func tiedMaxima(_ x: [Double]) -> [Int] {
        guard let m = x.max() else { return [] }
        return x.indices.filter { x[$0] == m }
    }

    /// S − e_i = Σ_{j≠i} e_j into `out` (s itself for the max's index; otherwise S − e_i, which loses at
    /// most one bit since e_i <= 1 <= S − e_i). Returns whether it is exact.
    func complement(_ i: Int, into out: MPFRFloat) -> Bool {
        out.precision = row.precision
        if i == row.maxIndex { return out.set(row.s) == 0 && row.sExact }
        return out.subtract(row.S, row.e[i]) == 0 && row.SExact && row.eExact[i]
    }

    func certifiedJacobian(_ x: [Double]) throws -> [ReferenceValue] {
        let n = x.count
        if let values = fast(x, single: { [.exactly(0)] }, { $0.jacobian() }) { return values }
        return try certified(.jacobian, count: n * n) { c in
            row.evaluate(x, precision: c.precision)
            c.underflowExponent = row.underflowErrorExponent
            let space = workspaces.jacobian
            let p = space.probabilities.prefix(n, precision: c.precision)
            let q = space.complements.prefix(n, precision: c.precision)  // 1 − p_i
            var pExact = [Bool](repeating: true, count: n)
            var qExact = [Bool](repeating: true, count: n)
            for i in 0..<n {
                pExact[i] = p[i].divide(row.e[i], row.S) == 0 && row.eExact[i] && row.SExact
                let exactComplement = complement(i, into: space.numerator)
                qExact[i] = q[i].divide(space.numerator, row.S) == 0 && exactComplement && row.SExact
            }
            for i in 0..<n {
                for j in 0..<n {
                    let v = c.values[i * n + j]
                    if i == j {
                        let exact = v.multiply(p[i], q[i]) == 0 && pExact[i] && qExact[i]
                        c.record(i * n + j, exact: exact, sign: n > 1 ? 1 : 0, (48, v))
                    } else {
                        let exact = v.multiply(p[i], p[j]) == 0 && pExact[i] && pExact[j]
                        v.negate(v)
                        c.record(i * n + j, exact: exact, sign: -1, (48, v))
                    }
                }
            }
        }
    }
}
