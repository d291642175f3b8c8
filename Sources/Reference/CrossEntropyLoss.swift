// The cross-entropy loss as `torch.nn.functional.cross_entropy` defines it, over a batch of B rows of C
// logits (aten/src/ATen/native/LossNLL.cpp):
//
//   row i's target t_i: a class index y_i (onehot) or a probability vector q_i; ε the label smoothing,
//   w the class weights (1 without), row i ignored when y_i is the ignore index;
//   class index:   ℓ_i = (1 − ε) w_y (−log p_iy) + (ε/C) Σ_c w_c (−log p_ic)   (0 when ignored)
//   probabilities: ℓ_i = −Σ_c w_c ((1 − ε) q_ic + ε/C) log p_ic
//   reduction none: ℓ_i; sum: Σ ℓ_i; mean: Σ ℓ_i / D, D = Σ w_y over the rows not ignored (class index;
//   the count of those rows without weights) or B (probabilities), as PyTorch divides.
//
// Every row is Σ_c A_ic (−log p_ic)/C with A_ic = w_c (C(1 − ε) t_ic + ε) >= 0, formed exactly from the
// doubles (ExactCoefficients), and −log p_ic = L_i − d_ic >= 0 (CertifiedFormulas' cancellation-free
// terms): a sum of non-negative terms, so the error stays relative — 24η per row as the probability-target
// cross-entropy's, the sum and the division by C·D one rounding each (32η in all). The loss is 0 exactly
// only when each row weighs nothing or keeps one finite logit; any other value is transcendental
// (Lindemann–Weierstrass), so Ziv's loop ends, and Σ_c A_ic (−d_ic) < ℓ_i, a one-sided limit, decides a
// value on that anchor's doorstep (a dominant logit).
//
// Special values, per row by the limit rule of the probability-target cross-entropy with the weights A:
// NaN logits make the row NaN (with or without weight), weight on a −inf logit (or beside a +inf) +inf,
// several +inf logits with weight NaN, a row of −inf logits only NaN (no distribution), a weightless row
// of numbers 0; an ignored row is 0 whatever its logits (PyTorch masks it). A sum with a NaN row is NaN,
// else with a +inf row +inf. Mean over D = 0 (every row ignored, or zero weights on their classes) is
// 0/0 = NaN when the rows' losses are all 0, as in PyTorch (pytorch#70348), and +inf otherwise.
import Catalogue
import MPFR

extension SoftmaxReference {
    /// `F.cross_entropy(rows, targets, weight, ignore_index, label_smoothing, reduction)`, correctly
    /// rounded: B values for reduction none, else one.
    public func crossEntropyLoss(_ batch: CrossEntropyBatch) throws -> [ReferenceValue] {
        try validate(batch)
        let C = batch.rows[0].count
        let rows = try batch.rows.indices.map { i in try LossRow(batch, i, C, coefficients(batch, row: i)) }
        let divisor = MPFRFloat(precision: Self.exactSumBits + 2 * Int.bitWidth)
        divisor.set(C)
        if batch.options.reduction == .none {
            divisor.narrowToExact()
            return try rows.map { try tagged([certifiedLoss([$0], divisor: divisor)])[0] }
        }
        if batch.options.reduction == .mean {
            let total = meanWeight(batch)
            if total.isZero {
                // 0/0 when nothing weighs anywhere; a positive loss over zero weight is +inf.
                if rows.contains(where: \.isUndefined) { return tagged([.undefined]) }
                return tagged([rows.allSatisfy(\.isZero) ? .undefined : .infinity(negative: false)])
            }
            divisor.multiply(divisor, total)
        }
        divisor.narrowToExact()
        return tagged([try certifiedLoss(rows, divisor: divisor)])
    }

    /// The gradient of the loss with respect to every logit, row-major (for reduction none, of the rows'
    /// sum): (p_ij Σ_c A_ic − A_ij)/(C·D), D = 1 for none and sum. An ignored row's is 0; a mean over zero
    /// weight is NaN throughout (0/0, or a positive loss over 0).
    public func crossEntropyLossGradient(_ batch: CrossEntropyBatch) throws -> [ReferenceValue] {
        try validate(batch)
        let C = batch.rows[0].count
        let divisor = MPFRFloat(precision: Self.exactSumBits + 2 * Int.bitWidth)
        divisor.set(C)
        if batch.options.reduction == .mean {
            let total = meanWeight(batch)
            if total.isZero { return tagged(Array(repeating: .undefined, count: batch.rows.count * C)) }
            divisor.multiply(divisor, total)
        }
        divisor.narrowToExact()
        var values: [ReferenceValue] = []
        for i in batch.rows.indices {
            values += try gradientRow(batch.rows[i], coefficients(batch, row: i), divisor: divisor)
        }
        return tagged(values)
    }

    /// D of the mean, exact: Σ w_y over the rows not ignored (class indices), or B (probabilities).
    private func meanWeight(_ batch: CrossEntropyBatch) -> MPFRFloat {
        let total = MPFRFloat(precision: Self.exactSumBits)
        switch batch.targets {
        case .labels(let y):
            let weights = y.indices.filter { !batch.isIgnored($0) }.map { batch.options.classWeights?[y[$0]] ?? 1 }
            total.sum(weights.map { MPFRFloat($0, precision: 53) })
        case .probabilities:
            total.set(batch.rows.count)
        }
        total.narrowToExact()
        return total
    }

    /// One element of a row's gradient: NaN by the limit rule, a rational value N/(k·divisor) with N
    /// exact, or p_j Σ_c A_c − A_j over the kept finite row (position `kept`).
    private enum GradientElement {
        case undefined
        case rational(MPFRFloat, Int)
        case probability(kept: Int, column: Int)
    }

    private func gradientRow(_ x: [Double], _ a: [MPFRFloat]?, divisor: MPFRFloat) throws -> [ReferenceValue] {
        guard let a else { return Array(repeating: .exactly(0), count: x.count) }
        if x.contains(where: \.isNaN) { return Array(repeating: .undefined, count: x.count) }
        guard a.contains(where: { !$0.isZero }) else { return Array(repeating: .exactly(0), count: x.count) }
        let total = ExactCoefficients.sum(a)
        total.narrowToExact()
        /// −A_j, or ΣA − k·A_j, exactly.
        func numerator(_ j: Int, times k: Int = 0) -> MPFRFloat {
            let v = MPFRFloat(precision: a[j].precision + total.precision + Int.bitWidth + 2)
            v.multiply(a[j], -max(k, 1))
            if k > 0 { ExactCoefficients.add(v, total) }
            if v.isZero { v.setZero() }  // an exact 0 is +0
            v.narrowToExact()
            return v
        }
        var elements: [GradientElement]
        var kept: [Double]? = nil
        switch RowShape(x) {
        case .empty, .containsNaN, .allMinusInfinity:
            elements = Array(repeating: .undefined, count: x.count)
        case .plusInfinities(let top):
            // p one-hot at a single +inf logit; undefined on several.
            elements = x.indices.map { j in
                guard top.contains(j) else { return .rational(numerator(j), 1) }
                return top.count == 1 ? .rational(numerator(j, times: 1), 1) : .undefined
            }
        case .finite(let indices):
            let xk = indices.map { x[$0] }
            let tied = xk.allSatisfy { $0 == xk[0] }
            elements = x.indices.map { j in x[j] == -.infinity ? .rational(numerator(j), 1) : .undefined }
            for (k, j) in indices.enumerated() {
                elements[j] =
                    tied ? .rational(numerator(j, times: xk.count), xk.count) : .probability(kept: k, column: j)
            }
            if !tied { kept = xk }
        }
        let live = x.indices.filter { if case .undefined = elements[$0] { false } else { true } }
        var values = [ReferenceValue](repeating: .undefined, count: x.count)
        guard !live.isEmpty else { return values }
        uncoveredCall()
        let ties = kept.map(tiedMaxima)?.count ?? 0
        let space = workspaces.crossEntropyLoss
        let certifiedValues = try certified(.crossEntropyLossGradient, count: live.count) { c in
            let p = c.precision
            if let kept {
                row.evaluate(kept, precision: p)
                // The allowance on each p_j, times ΣA and over the divisor.
                c.underflowExponent = row.underflowErrorExponent.map {
                    $0 + Swift.max(total.exponent, 0) + Swift.max(1 - divisor.exponent, 0) + 1
                }
            }
            for (o, j) in live.enumerated() {
                let v = c.values[o]
                switch elements[j] {
                case .undefined:
                    preconditionFailure("undefined elements are not evaluated")
                case .rational(let n, let k):
                    var exact = v.divide(n, divisor) == 0
                    exact = v.divide(v, k) == 0 && exact
                    // Exact whatever else in the row fell below MPFR's range: nothing here depends on it.
                    if exact { c.recordExact(o) } else { c.record(o, exact: false, sign: n.sign, (2, v)) }
                case .probability(let k, let column):
                    let probability = space.probability, product = space.product
                    probability.precision = p
                    product.precision = p
                    var exact = probability.divide(row.e[k], row.S) == 0 && row.eExact[k] && row.SExact
                    exact = product.multiply(probability, total) == 0 && exact
                    exact = v.subtract(product, a[column]) == 0 && exact
                    exact = v.divide(v, divisor) == 0 && exact
                    // p_j ΣA > 0 when A_j = 0; only j weighs (ΣA = A_j): A_j (p_j − 1) < 0.
                    let sign = a[column].isZero ? 1 : (total.compare(a[column]) <= 0 ? -1 : 0)
                    // p_j ΣA's error, 16η |p_j ΣA|, reaches the result divided by C·D (which may be below 1).
                    let productBound = product.isRegular ? product.exponent - divisor.exponent + 1 : nil
                    c.record(
                        o, exact: exact, sign: sign,
                        exponents: [(16, productBound), (3, v.isRegular ? v.exponent : nil)])
                    // p_j > 0: above −A_j/(C D); on one of k < n maxima p_j < 1/k: below (ΣA/k − A_j)/(C D).
                    // Rounded outward: exact for the short dyadics of a doorstep (the operands are narrowed to
                    // their exact bits), and on the right side for any other.
                    let bits = total.precision + a[column].precision + divisor.precision + Int.bitWidth
                    let limit = space.limits.value(o, precision: Swift.max(p + Int.bitWidth, bits))
                    if kept![k] == row.maxValue {
                        limit.divide(total, ties, .up)
                        limit.subtract(limit, a[column], .up)
                        limit.divide(limit, divisor, .up)
                        c.limit(o, limit, upper: true)
                    } else {
                        limit.negate(a[column])
                        limit.divide(limit, divisor, .down)
                        c.limit(o, limit, upper: false)
                    }
                }
            }
        }
        for (o, j) in live.enumerated() { values[j] = certifiedValues[o] }
        return values
    }

    private func validate(_ batch: CrossEntropyBatch) throws {
        let rows = batch.rows
        guard let C = rows.first?.count else { throw ReferenceError.batchShapeMismatch(rows: 0, targets: 0) }
        guard C > 0 else { throw ReferenceError.emptyRow }
        if let i = rows.firstIndex(where: { $0.count != C }) {
            throw ReferenceError.raggedBatch(row: i, count: rows[i].count, expected: C)
        }
        let o = batch.options
        if let w = o.classWeights {
            guard w.count == C else { throw ReferenceError.classWeightCount(count: w.count, classes: C) }
            if let c = w.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
                throw ReferenceError.invalidOption(name: "weight[\(c)]", value: w[c])
            }
        }
        guard o.labelSmoothing >= 0 && o.labelSmoothing <= 1 else {
            throw ReferenceError.invalidLabelSmoothing(o.labelSmoothing)
        }
        switch batch.targets {
        case .labels(let y):
            guard y.count == rows.count else {
                throw ReferenceError.batchShapeMismatch(rows: rows.count, targets: y.count)
            }
            if let t = y.first(where: { $0 != o.ignoreIndex && !(0..<C).contains($0) }) {
                throw ReferenceError.labelOutOfRange(label: t, count: C)
            }
        case .probabilities(let q):
            guard q.count == rows.count else {
                throw ReferenceError.batchShapeMismatch(rows: rows.count, targets: q.count)
            }
            for target in q {
                guard target.count == C else {
                    throw ReferenceError.targetLengthMismatch(targetCount: target.count, rowCount: C)
                }
                if let c = target.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
                    throw ReferenceError.invalidTargetEntry(index: c, value: target[c])
                }
            }
        }
    }

    /// A_ic = w_c (C(1 − ε) t_ic + ε) for row i, exactly (nil for an ignored row).
    private func coefficients(_ batch: CrossEntropyBatch, row i: Int) -> [MPFRFloat]? {
        guard !batch.isIgnored(i) else { return nil }
        let C = batch.rows[i].count
        let o = batch.options
        let complement = ExactCoefficients.difference(1, o.labelSmoothing)
        complement.multiply(complement, C)
        complement.narrowToExact()
        return (0..<C).map { c in
            let t: Double
            switch batch.targets {
            case .labels(let y): t = y[i] == c ? 1 : 0
            case .probabilities(let q): t = q[i][c]
            }
            let a = ExactCoefficients.product(complement, t)
            ExactCoefficients.add(a, o.labelSmoothing)
            let weighted = ExactCoefficients.product(a, o.classWeights?[c] ?? 1)
            // The value needs far fewer bits than the spans allowed for: every product with it is cheaper.
            weighted.narrowToExact()
            return weighted
        }
    }

    /// Σ_i Σ_c A_ic (−log p_ic) / divisor over finite and special rows, certified.
    private func certifiedLoss(_ rows: [LossRow], divisor: MPFRFloat) throws -> ReferenceValue {
        if rows.contains(where: \.isUndefined) { return .undefined }
        if rows.contains(where: \.isInfinite) { return .infinity(negative: false) }
        let live = rows.compactMap(\.finite)
        guard !live.isEmpty else { return .exactly(0) }
        if fastPath == .auto && decimalDigits == nil {
            if let value = fastCrossEntropyLoss(live, divisor: divisor) {
                fastPathCounts.fast += 1
                return value
            }
            fastPathCounts.fallback += 1
        } else {
            uncoveredCall()
        }
        let space = workspaces.crossEntropyLoss
        return try certified(.crossEntropyLoss, count: 1) { c in
            let p = c.precision
            let losses = space.losses.prefix(live.count, precision: p)
            space.anchorSum.precision = p + Self.anchorExtraBits
            space.anchorSum.setZero()
            var exact = true, sign = 0, anchored = true
            var underflow: Int? = nil
            for (k, (x, a)) in live.enumerated() {
                row.evaluate(x, precision: p)
                if let u = row.underflowErrorExponent {
                    // The allowance per unit weight, times Σ_c A_ic < 2^(e + 1).
                    let scale = space.weightTotal
                    scale.precision = Self.exactSumBits
                    scale.sum(a)
                    underflow = max(
                        underflow ?? Int.min,
                        u + (scale.isRegular ? scale.exponent + 1 : 0) + Swift.max(1 - divisor.exponent, 0))
                }
                let terms = space.terms.prefix(x.count, precision: p)
                var rowExact = row.LExact
                for j in x.indices {
                    rowExact = terms[j].subtract(row.L, row.d[j]) == 0 && rowExact && row.dExact[j]
                    rowExact = terms[j].multiply(terms[j], a[j]) == 0 && rowExact
                }
                exact = losses[k].sum(terms, count: x.count) == 0 && rowExact && exact
                // ℓ_i > Σ_c A_ic (−d_ic) when the row keeps more than one logit and weighs something.
                let weighs = a.contains { !$0.isZero }
                if x.count > 1 && weighs {
                    sign = 1
                    anchored = anchored && anchor(x.count, a)
                }
            }
            c.underflowExponent = underflow
            let v = c.values[0]
            exact = v.sum(losses, count: live.count) == 0 && exact
            exact = v.divide(v, divisor) == 0 && exact
            c.record(0, exact: exact && underflow == nil, sign: sign, (32, v))
            if sign > 0 && anchored {
                space.anchorSum.divide(space.anchorSum, divisor, .down)
                c.limit(0, space.anchorSum, upper: false)
            }
        }[0]
    }

    /// Adds Σ_c A_c (−d_c), rounded down, to the workspace's anchor sum; false when some weighted d_c is
    /// not exact (then there is no anchor).
    private func anchor(_ n: Int, _ a: [MPFRFloat]) -> Bool {
        let space = workspaces.crossEntropyLoss
        let term = space.anchorTerm
        term.precision = space.anchorSum.precision
        for c in 0..<n where !a[c].isZero {
            guard row.dExact[c] else { return false }
            term.negate(row.d[c])
            term.multiply(term, a[c], .down)
            space.anchorSum.add(space.anchorSum, term, .down)
        }
        return true
    }
}

/// One row of the loss: ignored or weightless (0), special (NaN, +inf, or 0 by the limit rule), or a
/// finite row with its exact weights A over the logits it keeps.
private enum LossRow {
    case zero
    case special(ReferenceValue)
    case finite([Double], [MPFRFloat])

    init(_ batch: CrossEntropyBatch, _ i: Int, _ C: Int, _ a: [MPFRFloat]?) throws {
        let x = batch.rows[i]
        // An ignored row is 0 whatever its logits; a NaN logit makes any other row NaN, weight or none.
        guard let a else {
            self = .zero
            return
        }
        if x.contains(where: \.isNaN) {
            self = .special(.undefined)
            return
        }
        guard a.contains(where: { !$0.isZero }) else {
            self = .zero
            return
        }
        switch try PreparedCrossEntropy(x, .distribution(a.map { $0.isZero ? 0 : 1 })) {
        case .special(let value):
            self = value.kind == .real && value.rounded == 0 ? .zero : .special(value)
        case .finite(let kept, _):
            let indices = x.indices.filter { x[$0] != -.infinity }
            self = .finite(kept, indices.map { a[$0] })
        }
    }

    var finite: ([Double], [MPFRFloat])? {
        if case .finite(let x, let a) = self { return (x, a) }
        return nil
    }
    var isUndefined: Bool {
        if case .special(let v) = self { return v.kind == .undefined }
        return false
    }
    var isInfinite: Bool {
        if case .special(let v) = self { return v.kind != .undefined }
        return false
    }
    /// Whether the row's loss is exactly 0: no weight, or one finite logit left (p = 1 where it weighs).
    var isZero: Bool {
        switch self {
        case .zero: return true
        case .special: return false
        case .finite(let x, _): return x.count == 1
        }
    }
}

/// Exact arithmetic on doubles for the loss's weights: each result gets the precision its exact value
/// needs (a product the sum of its factors' precisions; a sum the span of its operands' bits).
enum ExactCoefficients {
    /// a − b exactly.
    static func difference(_ a: Double, _ b: Double) -> MPFRFloat {
        let v = MPFRFloat(precision: SoftmaxReference.exactDoubleSumBits)
        v.subtract(a, b)
        return v
    }

    /// Σ a_i exactly: at the span of the terms' bits and a carry per doubling.
    static func sum(_ a: [MPFRFloat]) -> MPFRFloat {
        let regular = a.filter(\.isRegular)
        guard let top = regular.map(\.exponent).max(), let bottom = regular.map({ $0.exponent - $0.precision }).min()
        else {
            let zero = MPFRFloat(precision: 64)
            zero.setZero()
            return zero
        }
        let v = MPFRFloat(precision: top - bottom + Int.bitWidth - a.count.leadingZeroBitCount + 2)
        v.sum(regular)
        return v
    }

    /// a · b exactly.
    static func product(_ a: MPFRFloat, _ b: Double) -> MPFRFloat {
        let v = MPFRFloat(precision: a.precision + 53)
        v.multiply(a, b)
        return v
    }

    /// a += b exactly, widening a.
    static func add(_ a: MPFRFloat, _ b: Double) {
        guard b != 0 else { return }
        let bits = span(a, b)
        let sum = MPFRFloat(precision: bits)
        sum.add(a, b)
        a.precision = bits
        a.set(sum)
    }

    /// a += b exactly, widening a.
    static func add(_ a: MPFRFloat, _ b: MPFRFloat) {
        guard b.isRegular else { return }
        let bits =
            a.isRegular
            ? max(a.exponent, b.exponent) - min(a.exponent - a.precision, b.exponent - b.precision) + 2
            : b.precision
        let sum = MPFRFloat(precision: bits)
        sum.add(a, b)
        a.precision = bits
        a.set(sum)
    }

    /// The bits from the higher top to the lower bottom of a and b, and one for a carry.
    private static func span(_ a: MPFRFloat, _ b: Double) -> Int {
        guard a.isRegular else { return 64 }
        let bTop = Int(b.exponent) + 1, bBottom = Int(b.exponent) - 52
        let aTop = a.exponent, aBottom = a.exponent - a.precision
        return max(aTop, bTop) - min(aBottom, bBottom) + 2
    }
}
