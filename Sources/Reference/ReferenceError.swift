// Why the reference declined a row: bad input (a clear sentence for the user), or a result it could
// not certify within its precision limit (which it reports instead of guessing).

import Catalogue

public enum ReferenceError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The row has no elements (defined only for logsumexp, whose value is −inf).
    case emptyRow
    /// A class label outside 0..<count.
    case labelOutOfRange(label: Int, count: Int)
    /// A probability target of the wrong length.
    case targetLengthMismatch(targetCount: Int, rowCount: Int)
    /// A probability-target entry that is negative, NaN or infinite.
    case invalidTargetEntry(index: Int, value: Double)
    /// A vector (VJP, Jacobian) argument or logit that must be finite and is not.
    case nonFiniteInput(what: String, index: Int, value: Double)
    /// Rows and targets of a batch differ in number, or the batch is empty.
    case batchShapeMismatch(rows: Int, targets: Int)
    /// A binary cross-entropy target outside [0, 1] (or NaN).
    case invalidBinaryTarget(index: Int, value: Double)
    /// An option outside its domain (pos_weight must be finite and >= 0).
    case invalidOption(name: String, value: Double)
    /// A batch row whose length differs from the first row's.
    case raggedBatch(row: Int, count: Int, expected: Int)
    /// Class weights whose number is not the number of classes.
    case classWeightCount(count: Int, classes: Int)
    /// A softplus β that is not finite and > 0.
    case invalidBeta(Double)
    /// A label smoothing outside [0, 1] (or NaN).
    case invalidLabelSmoothing(Double)
    /// An attention option (bias, masked, v) whose length is not the row's.
    case attentionOptionLength(name: String, count: Int, keys: Int)
    /// An attention scale that is not finite.
    case invalidAttentionScale(Double)
    /// A block count outside 1...AttentionOptions.maximumBlocks.
    case invalidBlocks(Int)
    /// Ziv's loop reached the precision limit without certifying the rounding.
    case uncertified(function: AuditFunction, precision: Int)

    public var description: String {
        switch self {
        case .emptyRow:
            return "the row is empty (only logsumexp is defined for an empty row)"
        case .labelOutOfRange(let label, let count):
            return "label \(label) is out of range for a row of \(count) logits (labels are 0-based, 0..<\(count))"
        case .targetLengthMismatch(let targetCount, let rowCount):
            return "the probability target has \(targetCount) entries but the row has \(rowCount)"
        case .invalidTargetEntry(let index, let value):
            return "probability target entry \(index) is \(value); entries must be finite and >= 0"
        case .nonFiniteInput(let what, let index, let value):
            return "\(what) entry \(index) is \(value); it must be finite"
        case .batchShapeMismatch(let rows, let targets):
            return rows == 0 ? "the batch is empty" : "the batch has \(rows) rows but \(targets) targets"
        case .invalidBinaryTarget(let index, let value):
            return "binary target entry \(index) is \(value); targets must lie in [0, 1]"
        case .invalidOption(let name, let value):
            return "\(name) is \(value); it must be finite and >= 0"
        case .raggedBatch(let row, let count, let expected):
            return "batch row \(row) has \(count) logit\(count == 1 ? "" : "s") but the first row has \(expected)"
        case .classWeightCount(let count, let classes):
            return "\(count) class weight\(count == 1 ? " is" : "s are") given for \(classes) classes"
        case .invalidBeta(let value):
            return "beta is \(value); it must be finite and > 0"
        case .invalidLabelSmoothing(let value):
            return "label_smoothing is \(value); it must lie in [0, 1]"
        case .attentionOptionLength(let name, let count, let keys):
            func plural(_ k: Int, _ noun: String) -> String { "\(k) \(noun)\(k == 1 ? "" : "s")" }
            return "\(name)= has \(plural(count, "value")) but the row has \(plural(keys, "key"))"
        case .invalidAttentionScale(let value):
            return "scale is \(value); it must be finite"
        case .invalidBlocks(let value):
            return "blocks is \(value); it must be an integer from 1 to \(AttentionOptions.maximumBlocks)"
        case .uncertified(let function, let precision):
            return "\(function.rawValue): could not certify the rounding within \(precision) bits of precision"
        }
    }
}

/// What a cross-entropy compares the logits with.
public enum CrossEntropyTarget: Sendable, Hashable {
    /// A 0-based class index t: loss −log p_t, gradient p − onehot(t).
    case label(Int)
    /// A probability vector q (entries finite and >= 0, taken as given, not renormalized):
    /// loss −Σ q_i log p_i, gradient p·Σq − q (its derivative; p − q only when the doubles sum to 1).
    case distribution([Double])
}
