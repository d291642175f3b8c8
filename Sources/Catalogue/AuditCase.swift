// One input of the audit: a row with its label, or a batch of rows of one length with a label each,
// and for the paired functions a second vector per row (the target q, the binary targets y or the
// weights b) with the functions' options.
import Formats

/// One audit input: a row with its label, or a batch of rows of one length with a label each.
public struct AuditCase: Sendable, Equatable {
    public var rows: [[Double]]
    public var labels: [Int]
    /// A second vector per row, of the row's length, for the paired functions (KL's target q, binary
    /// cross-entropy's targets y, logsumexp's weights b); nil when each function derives its own from the
    /// row's length (`AuditFunction.derivedPair`).
    public var pairs: [[Double]]?
    /// The options of the functions that take them (binary cross-entropy's pos_weight).
    public var options: LossOptions

    public init(rows: [[Double]], labels: [Int], pairs: [[Double]]? = nil, options: LossOptions = LossOptions()) {
        self.rows = rows
        self.labels = labels
        self.pairs = pairs
        self.options = options
    }

    public init(_ row: [Double], label: Int, pair: [Double]? = nil, options: LossOptions = LossOptions()) {
        self.init(rows: [row], labels: [label], pairs: pair.map { [$0] }, options: options)
    }

    public var isBatch: Bool { rows.count > 1 }
    public var row: [Double] { rows[0] }
    public var label: Int { labels[0] }
    /// Whether every logit is finite (special-value verdicts then count as failures).
    public var isFinite: Bool { rows.allSatisfy { $0.allSatisfy(\.isFinite) } }

    /// The case with every logit, paired value and option rounded to `format` (the inputs a kernel in
    /// that format takes).
    public func rounded(to format: BinaryFormat) -> AuditCase {
        guard format != .double else { return self }
        return AuditCase(
            rows: rows.map { $0.map(format.round) }, labels: labels,
            pairs: pairs.map { $0.map { $0.map(format.round) } },
            options: options.rounded(to: format))
    }
}

/// The options of the functions that take them, as the frameworks name them.
public struct LossOptions: Sendable, Equatable, Hashable {
    /// Binary cross-entropy's weight of the positive term, PyTorch's `pos_weight` (finite, >= 0).
    public var posWeight: Double

    public static let defaultPosWeight = 1.0

    public init(posWeight: Double = defaultPosWeight) { self.posWeight = posWeight }

    public var isDefault: Bool { self == LossOptions() }

    func rounded(to format: BinaryFormat) -> LossOptions { LossOptions(posWeight: format.round(posWeight)) }
}
