// Where the fast path sits: before the MPFR path, for the functions it covers. It answers a row only
// when every element is certified; otherwise the MPFR path (the authority) answers the whole row. The
// elementwise functions are the exception: each element stands alone, so MPFR answers only the elements
// the fast path leaves (the call then counts as a fallback).
//
// Covered: softmax, log-softmax, logsumexp, the Jacobian, the vector-Jacobian product, with class labels
// the cross-entropy, its gradient (also per row of a batch gradient) and the mean batch loss; the
// framework loss (FastCrossEntropyLoss.swift) over its finite rows; and elementwise the binary family
// (sigmoid, log-sigmoid, softplus with β, their gradients) and binary cross-entropy with logits and its
// gradient. Not covered, MPFR only: KL and the cross-entropy with probability targets, the weighted
// logsumexp, the framework loss's gradient, and any request for decimal digits.

/// Whether the reference tries the double-word fast path first.
public enum FastPathMode: String, Sendable, CaseIterable {
    /// Fast path first, MPFR when it does not certify (the default).
    case auto
    /// MPFR only (the differential tests' other side, and a baseline for the benchmarks).
    case mpfr
}

/// How the reference's calls went: answered by the fast path, by MPFR after the fast path declined
/// (a fallback), or by MPFR for a function the fast path does not cover.
public struct FastPathCounts: Sendable, Hashable, Codable {
    public var fast = 0
    public var fallback = 0
    public var uncovered = 0

    public init(fast: Int = 0, fallback: Int = 0, uncovered: Int = 0) {
        self.fast = fast
        self.fallback = fallback
        self.uncovered = uncovered
    }

    public static func + (a: Self, b: Self) -> Self {
        FastPathCounts(fast: a.fast + b.fast, fallback: a.fallback + b.fallback, uncovered: a.uncovered + b.uncovered)
    }

    public static func - (a: Self, b: Self) -> Self {
        FastPathCounts(fast: a.fast - b.fast, fallback: a.fallback - b.fallback, uncovered: a.uncovered - b.uncovered)
    }
}

extension SoftmaxReference {
    /// Runs the fast path for a covered call (x finite, n >= 1): its answer, or nil after counting a
    /// fallback. Rows of one logit are exact.
    func fast(
        _ x: [Double], single: () -> [ReferenceValue]?, _ body: (FastRow) -> [ReferenceValue]?
    ) -> [ReferenceValue]? {
        guard fastPath == .auto && decimalDigits == nil else { return nil }
        if x.count == 1, let values = single() {
            fastPathCounts.fast += 1
            return values
        }
        if x.count == 1 {
            fastPathCounts.fallback += 1
            return nil
        }
        if fastRow.evaluate(x), let values = body(fastRow) {
            fastPathCounts.fast += 1
            return values
        }
        fastPathCounts.fallback += 1
        return nil
    }

    /// An elementwise call: the fast path's value for each of `indices` written into `out` (none with the
    /// MPFR path or decimal digits); returns the elements it leaves to MPFR, and counts the call.
    func fastElementwise(
        _ indices: [Int], into out: inout [ReferenceValue], _ value: (Int) -> ReferenceValue?
    ) -> [Int] {
        guard fastPath == .auto && decimalDigits == nil else {
            uncoveredCall()
            return indices
        }
        let left = indices.filter { j in
            guard let v = value(j) else { return true }
            out[j] = v
            return false
        }
        if left.isEmpty { fastPathCounts.fast += 1 } else { fastPathCounts.fallback += 1 }
        return left
    }

    /// Counts a call the fast path does not cover.
    func uncoveredCall() {
        fastPathCounts.uncovered += 1
    }

    /// The mean loss of a batch with class labels (rows finite and prepared), or nil after counting.
    func fastMeanCrossEntropy(_ rows: [([Double], CrossEntropyTarget)], batchSize: Int) -> ReferenceValue? {
        guard fastPath == .auto && decimalDigits == nil else { return nil }
        guard rows.allSatisfy({ if case .label = $0.1 { true } else { false } }) else {
            uncoveredCall()
            return nil
        }
        var sum = DoubleWord(0)
        var error = 0.0
        var magnitude = 0.0
        var positive = false
        for (x, target) in rows where x.count > 1 {
            guard case .label(let t) = target, fastRow.evaluate(x),
                let (loss, e) = fastRow.crossEntropyWord(x, label: t)
            else {
                fastPathCounts.fallback += 1
                return nil
            }
            sum = sum.plus(loss)
            error += e
            magnitude += loss.hi.magnitude
            positive = true
        }
        var value = ReferenceValue(rounded: 0, ulpOffset: 0)  // every row has one logit: exactly 0
        if positive {
            error = (error + Double(rows.count + 1) * DoubleWord.errorOfPlus * magnitude) * boundRoundingUp
            let mean = batchSize == 1 ? sum : sum.divided(by: Double(batchSize))
            let meanError =
                error / Double(batchSize) * boundRoundingUp + 2 * DoubleWord.errorOfDividedByDouble * mean.hi.magnitude
            guard let certified = fastRow.certify(FastApproximation(mean, absoluteError: meanError), knownSign: 1)
            else {
                fastPathCounts.fallback += 1
                return nil
            }
            value = certified
        }
        fastPathCounts.fast += 1
        return value
    }
}
