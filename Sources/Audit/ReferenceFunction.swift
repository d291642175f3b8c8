// The functions of the command-line contract (`softmax-audit reference FUNCTION`), and how each one
// is asked of the certified reference.
import Reference

/// A function of one row that the command line and the audit name.
public enum ReferenceFunction: String, CaseIterable, Sendable {
    case softmax
    case logSoftmax = "log-softmax"
    case logSumExp = "logsumexp"
    case crossEntropy = "cross-entropy"
    case crossEntropyGradient = "cross-entropy-gradient"

    /// Whether a row of this function starts with a class label and a colon (`2: 0.5 1 -3`).
    public var takesLabel: Bool { self == .crossEntropy || self == .crossEntropyGradient }

    /// Whether the function gives one value per row (otherwise one per logit).
    public var isScalar: Bool { self == .logSumExp || self == .crossEntropy }

    /// The certified values for one parsed row.
    public func evaluate(_ row: LabeledRow, with reference: SoftmaxReference) throws -> [ReferenceValue] {
        switch self {
        case .softmax: return try reference.softmax(row.logits)
        case .logSoftmax: return try reference.logSoftmax(row.logits)
        case .logSumExp: return [try reference.logSumExp(row.logits)]
        case .crossEntropy: return [try reference.crossEntropy(row.logits, target: .label(row.label ?? 0))]
        case .crossEntropyGradient: return try reference.crossEntropyGradient(row.logits, target: .label(row.label ?? 0))
        }
    }
}
