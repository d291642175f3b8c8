// The reference's convention for rows that are not all finite (the README's special-value table).
//
// The rule: an element's value is the limit of the exact function as each infinite logit goes to its
// infinity with the other logits fixed; where that limit depends on how the infinities are approached
// (two +inf logits sharing the mass, an all −inf row), the element is NaN. So:
//
// - a NaN logit makes every output NaN (IEEE propagation, as every peer does);
// - a −inf logit has probability 0 (log-probability −inf) and the rest is the softmax of the finite
//   logits; a label on it has loss +inf and gradient −1;
// - a single +inf logit takes all the mass: softmax is one-hot, log-softmax is 0 there and −inf
//   elsewhere, logsumexp is +inf, the loss is 0 on it and +inf on any other label;
// - several +inf logits: their shares are NaN, every other element is as above (probability 0);
// - an all −inf row: logsumexp is −inf (log 0), everything else NaN;
// - an empty row: logsumexp is −inf (an empty sum), everything else an error;
// - a label out of range, or a probability target that is negative, NaN, infinite or of the wrong
//   length, is an error; q_i = 0 on a −inf logit contributes 0 (0 · log 0 = 0, the limit).
import MPFR

/// Which convention case a row falls in.
enum RowShape {
    case empty
    case containsNaN
    /// Indices of the +inf entries (at least one; no NaN).
    case plusInfinities(Set<Int>)
    /// Every entry −inf.
    case allMinusInfinity
    /// Indices of the finite entries (at least one), the others being −inf.
    case finite([Int])

    init(_ x: [Double]) {
        if x.isEmpty {
            self = .empty
        } else if x.contains(where: { $0.isNaN }) {
            self = .containsNaN
        } else if x.contains(.infinity) {
            self = .plusInfinities(Set(x.indices.filter { x[$0] == .infinity }))
        } else {
            let kept = x.allSatisfy(\.isFinite) ? Array(x.indices) : x.indices.filter { x[$0].isFinite }
            self = kept.isEmpty ? .allMinusInfinity : .finite(kept)
        }
    }
}

/// A cross-entropy problem reduced to a finite row, or settled by the convention.
enum PreparedCrossEntropy {
    case special(ReferenceValue)
    case finite([Double], CrossEntropyTarget)

    init(_ x: [Double], _ target: CrossEntropyTarget) throws {
        try validate(target, count: x.count)
        switch (RowShape(x), target) {
        case (.empty, _):
            throw ReferenceError.emptyRow
        case (.containsNaN, _), (.allMinusInfinity, _):
            self = .special(.undefined)
        case (.plusInfinities(let a), .label(let t)):
            self = .special(a.contains(t) ? (a.count == 1 ? .exactly(0) : .undefined) : .infinity(negative: false))
        case (.plusInfinities(let a), .distribution(let q)):
            if q.indices.contains(where: { !a.contains($0) && q[$0] > 0 }) {
                self = .special(.infinity(negative: false))
            } else if a.contains(where: { q[$0] > 0 }) {
                self = .special(a.count == 1 ? .exactly(0) : .undefined)
            } else {
                self = .special(.exactly(0))
            }
        case (.finite(let kept), .label(let t)):
            guard let position = kept.firstIndex(of: t) else {
                self = .special(.infinity(negative: false))
                return
            }
            self = .finite(x.selecting(kept), .label(position))
        case (.finite(let kept), .distribution(let q)):
            if q.indices.contains(where: { !x[$0].isFinite && q[$0] > 0 }) {
                self = .special(.infinity(negative: false))
            } else {
                self = .finite(x.selecting(kept), .distribution(q.selecting(kept)))
            }
        }
    }
}

extension Array where Element == Double {
    /// The entries at `kept` (ascending indices), without a copy when that is all of them.
    func selecting(_ kept: [Int]) -> [Double] { kept.count == count ? self : kept.map { self[$0] } }
}

/// Throws unless the target fits a row of `count` logits.
func validate(_ target: CrossEntropyTarget, count: Int) throws {
    switch target {
    case .label(let t):
        guard count > 0 else { throw ReferenceError.emptyRow }
        guard (0..<count).contains(t) else { throw ReferenceError.labelOutOfRange(label: t, count: count) }
    case .distribution(let q):
        guard q.count == count else { throw ReferenceError.targetLengthMismatch(targetCount: q.count, rowCount: count) }
        if let i = q.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
            throw ReferenceError.invalidTargetEntry(index: i, value: q[i])
        }
    }
}

extension SoftmaxReference {
    /// The gradient of the loss −Σ_i w_i log p_i with respect to the logits, p·Σw − w (w = onehot(t),
    /// whose sum is 1, or a probability target q, whose sum need not be), divided by `batchSize`, under
    /// the convention.
    func gradient(_ x: [Double], _ target: CrossEntropyTarget, batchSize: Int) throws -> [ReferenceValue] {
        try validate(target, count: x.count)
        let total = targetTotal(target)
        // The one-hot or q entry of element j: what the gradient subtracts there.
        func subtracted(_ j: Int) -> Double {
            switch target {
            case .label(let t): return j == t ? 1 : 0
            case .distribution(let q): return q[j]
            }
        }
        switch RowShape(x) {
        case .empty:
            throw ReferenceError.emptyRow
        case .containsNaN, .allMinusInfinity:
            return Array(repeating: .undefined, count: x.count)
        case .plusInfinities(let a):
            // p is one-hot on a single +inf entry: (Σw · [j = a] − w_j) / B.
            return try x.indices.map { j in
                if a.contains(j) {
                    return a.count == 1 ? try exactDifference(total, subtracted(j), dividedBy: batchSize) : .undefined
                }
                return try exactDifference(nil, subtracted(j), dividedBy: batchSize)
            }
        case .finite where total.isZero:
            // A target of zeros weighs nothing: p·0 − 0 is exactly 0 everywhere, whatever p underflows to.
            return try x.indices.map { try exactDifference(nil, subtracted($0), dividedBy: batchSize) }
        case .finite(let kept):
            // p_j = 0 on the −inf entries; Σw counts every entry, a label on a −inf entry included.
            let subTarget: CrossEntropyTarget
            switch target {
            case .label(let t):
                subTarget =
                    kept.firstIndex(of: t).map { .label($0) } ?? .distribution(Array(repeating: 0, count: kept.count))
            case .distribution(let q): subTarget = .distribution(q.selecting(kept))
            }
            let values = try certifiedGradient(x.selecting(kept), subTarget, batchSize: batchSize, total: total)
            if kept.count == x.count { return values }
            var out = try x.indices.map { try exactDifference(nil, subtracted($0), dividedBy: batchSize) }
            for (value, index) in zip(values, kept) { out[index] = value }
            return out
        }
    }

    /// Σ_i w_i of a target, exactly: 1 for a label, the sum of q's doubles otherwise (in the gradient's
    /// workspace, which keeps it for the call).
    func targetTotal(_ target: CrossEntropyTarget) -> MPFRFloat {
        let total = workspaces.gradient.total
        switch target {
        case .label:
            total.precision = 2
            total.set(1)
        case .distribution(let q):
            total.precision = Self.exactSumBits
            total.sum(q.map { MPFRFloat($0, precision: 53) })
        }
        return total
    }

    /// (a − b) / batchSize correctly rounded, for an exact a (nil for 0) and a double b (an exact zero is +0).
    func exactDifference(_ a: MPFRFloat?, _ b: Double, dividedBy batchSize: Int) throws -> ReferenceValue {
        let difference = workspaces.gradient.difference
        return try certified(batchSize == 1 ? .crossEntropyGradient : .batchCrossEntropyGradient, count: 1) { c in
            let v = c.values[0]
            difference.precision = Self.exactSumBits + 1
            if let a { difference.set(a) } else { difference.setZero() }
            difference.subtract(difference, b)
            let ternary = v.divide(difference, batchSize)
            c.record(0, exact: ternary == 0, sign: difference.sign, (1, v))
        }[0]
    }
}
