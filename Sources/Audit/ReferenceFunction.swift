// The functions of the command-line contract (`softmax-audit reference FUNCTION`) and of the process
// protocol: the catalogue's functions of one row (with a label for the cross-entropy ones), derived
// from AuditFunction, never listed twice.
import Kernels
import Reference

/// A function of one row that the command line and the process protocol name.
public struct ReferenceFunction: Hashable, Sendable, CaseIterable, RawRepresentable, CustomStringConvertible {
    public let function: AuditFunction

    /// The function, when it takes one row (and perhaps a label) and gives one value or one per logit.
    public init?(_ function: AuditFunction) {
        guard function.shape.isRowFunction else { return nil }
        self.function = function
    }

    public init?(rawValue: String) {
        guard let function = AuditFunction(rawValue: rawValue) else { return nil }
        self.init(function)
    }

    public var rawValue: String { function.rawValue }
    public var description: String { rawValue }

    public static var allCases: [ReferenceFunction] { AuditFunction.allCases.compactMap(Self.init) }

    /// Whether a row of this function starts with a class label and a colon (`2: 0.5 1 -3`).
    public var takesLabel: Bool { function.shape.takesLabel }

    /// Whether the function gives one value per row (otherwise one per logit, or a value and its sign).
    public var isScalar: Bool { function.shape.isScalar }

    /// How many values the function gives for a row of n logits.
    public func outputCount(_ n: Int) -> Int {
        function.shape.outputCount(AuditCase(Array(repeating: 0, count: n), label: 0))
    }

    /// Parses one line of this function's input.
    public func parse(_ line: Substring) throws(RowSyntaxError) -> LabeledRow {
        try RowSyntax.parse(line, for: function)
    }

    /// The certified values for one parsed row.
    public func evaluate(_ row: LabeledRow, with reference: SoftmaxReference) throws -> [ReferenceValue] {
        try function.reference(reference, on: row.auditCase(for: function))
    }
}
