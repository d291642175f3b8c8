// Where the fast path sits: before the MPFR path, for the functions it covers. It answers a row only
// when every element is certified; otherwise the MPFR path (the authority) answers the whole row.
//
// Covered: softmax, log-softmax, logsumexp, cross-entropy and its gradient with a class label (also
// per row of a batch gradient). Not covered, MPFR only: probability targets, the mean batch loss, the
// Jacobian and the vector-Jacobian product, and any request for decimal digits.

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
    func fast(_ x: [Double], single: () -> [ReferenceValue], _ body: (FastRow) -> [ReferenceValue]?) -> [ReferenceValue]? {
        guard fastPath == .auto && decimalDigits == nil else { return nil }
        if x.count == 1 {
            fastPathCounts.fast += 1
            return single()
        }
        if fastRow.evaluate(x), let values = body(fastRow) {
            fastPathCounts.fast += 1
            return values
        }
        fastPathCounts.fallback += 1
        return nil
    }

    /// Counts a call the fast path does not cover.
    func uncoveredCall() {
        fastPathCounts.uncovered += 1
    }
}
