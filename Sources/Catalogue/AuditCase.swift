// One input of the audit: a row with its label, or a batch of rows of one length with a label each.
import Formats

/// One audit input: a row with its label, or a batch of rows of one length with a label each.
public struct AuditCase: Sendable, Equatable {
    public var rows: [[Double]]
    public var labels: [Int]

    public init(rows: [[Double]], labels: [Int]) {
        self.rows = rows
        self.labels = labels
    }

    public init(_ row: [Double], label: Int) { self.init(rows: [row], labels: [label]) }

    public var isBatch: Bool { rows.count > 1 }
    public var row: [Double] { rows[0] }
    public var label: Int { labels[0] }
    /// Whether every logit is finite (special-value verdicts then count as failures).
    public var isFinite: Bool { rows.allSatisfy { $0.allSatisfy(\.isFinite) } }

    /// The case with every logit rounded to `format` (the inputs a kernel in that format takes).
    public func rounded(to format: BinaryFormat) -> AuditCase {
        format == .double ? self : AuditCase(rows: rows.map { $0.map(format.round) }, labels: labels)
    }
}
