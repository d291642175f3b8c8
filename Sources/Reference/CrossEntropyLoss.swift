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
// NaN logits make the row NaN, weight on a −inf logit (or beside a +inf) +inf, several +inf logits with
// weight NaN; an ignored row is 0 whatever its logits (PyTorch masks it). A sum with a NaN row is NaN,
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
            return try rows.map { try tagged([certifiedLoss([$0], divisor: divisor)])[0] }
        }
        if batch.options.reduction == .mean {
            let total = MPFRFloat(precision: Self.exactSumBits)
            switch batch.targets {
            case .labels(let y):
                let weights = y.indices.filter { !batch.isIgnored($0) }.map { batch.options.classWeights?[y[$0]] ?? 1 }
                total.sum(weights.map { MPFRFloat($0, precision: 53) })
            case .probabilities:
                total.set(batch.rows.count)
            }
            if total.isZero {
                // 0/0 when nothing weighs anywhere; a positive loss over zero weight is +inf.
                if rows.contains(where: \.isUndefined) { return tagged([.undefined]) }
                return tagged([rows.allSatisfy(\.isZero) ? .undefined : .infinity(negative: false)])
            }
            divisor.multiply(divisor, total)
        }
        return tagged([try certifiedLoss(rows, divisor: divisor)])
    }

    private func validate(_ batch: CrossEntropyBatch) throws {
        let rows = batch.rows
        guard let C = rows.first?.count else { throw ReferenceError.batchShapeMismatch(rows: 0, targets: 0) }
        guard C > 0 else { throw ReferenceError.emptyRow }
        if let i = rows.firstIndex(where: { $0.count != C }) {
            throw ReferenceError.targetLengthMismatch(targetCount: rows[i].count, rowCount: C)
        }
        let o = batch.options
        if let w = o.classWeights {
            guard w.count == C else { throw ReferenceError.targetLengthMismatch(targetCount: w.count, rowCount: C) }
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
        return (0..<C).map { c in
            let t: Double
            switch batch.targets {
            case .labels(let y): t = y[i] == c ? 1 : 0
            case .probabilities(let q): t = q[i][c]
            }
            let a = ExactCoefficients.product(complement, t)
            ExactCoefficients.add(a, o.labelSmoothing)
            return ExactCoefficients.product(a, o.classWeights?[c] ?? 1)
        }
    }

    /// Σ_i Σ_c A_ic (−log p_ic) / divisor over finite and special rows, certified.
    private func certifiedLoss(_ rows: [LossRow], divisor: MPFRFloat) throws -> ReferenceValue {
        if rows.contains(where: \.isUndefined) { return .undefined }
        if rows.contains(where: \.isInfinite) { return .infinity(negative: false) }
        let live = rows.compactMap(\.finite)
        guard !live.isEmpty else { return .exactly(0) }
        uncoveredCall()
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
                    underflow = max(underflow ?? Int.min, u + (scale.isRegular ? scale.exponent + 1 : 0))
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
        guard let a, a.contains(where: { !$0.isZero }) else {
            self = .zero
            return
        }
        let x = batch.rows[i]
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

    /// The bits from the higher top to the lower bottom of a and b, and one for a carry.
    private static func span(_ a: MPFRFloat, _ b: Double) -> Int {
        guard a.isRegular else { return 64 }
        let bTop = Int(b.exponent) + 1, bBottom = Int(b.exponent) - 52
        let aTop = a.exponent, aBottom = a.exponent - a.precision
        return max(aTop, bTop) - min(aBottom, bBottom) + 2
    }
}
