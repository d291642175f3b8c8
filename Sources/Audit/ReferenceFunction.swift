// The functions of the command-line contract (`softmax-audit reference FUNCTION`) and of the process
// protocol: the catalogue's functions of one row (with a label for the cross-entropy ones), derived
// from AuditFunction, never listed twice.
import Formats
import Kernels
import Reference

/// A function of one row that the command line and the process protocol name.
public struct ReferenceFunction: Hashable, Sendable, CaseIterable, RawRepresentable, CustomStringConvertible {
    public let function: AuditFunction

    /// The function, when one line holds its input: one row (and perhaps a label, a paired vector,
    /// options), or for the cross-entropy loss and its gradient a batch with its options.
    public init?(_ function: AuditFunction) {
        guard function.shape.isRowFunction || function.takesBatchLine else { return nil }
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

    /// How many values the function gives for a case.
    public func outputCount(_ c: AuditCase) -> Int { function.shape.outputCount(c) }

    /// Parses one line of this function's input into the case it describes.
    public func parse(_ line: Substring) throws(RowSyntaxError) -> AuditCase {
        try RowSyntax.withBytes(line) { line throws(RowSyntaxError) in try parse(line) }
    }

    /// Parses one line, as bytes, into the case it describes.
    public func parse(_ line: LineBytes) throws(RowSyntaxError) -> AuditCase {
        if function.takesBatchLine { return try RowSyntax.parseBatch(line) }
        return try RowSyntax.parse(line, for: function).auditCase(for: function)
    }

    /// The case as one line of this function's input, in exact hexadecimal.
    public func line(_ c: AuditCase) -> String {
        function.takesBatchLine ? c.lossLine(Binary64.hexString) : LabeledRow(c, for: function).text
    }

    /// The certified values for one parsed case.
    public func evaluate(_ c: AuditCase, with reference: SoftmaxReference) throws -> [ReferenceValue] {
        try function.reference(reference, on: c)
    }
}

extension AuditFunction {
    /// Whether one line holds a whole batch of this function, with its options (`RowSyntax.parseBatch`).
    public var takesBatchLine: Bool { self == .crossEntropyLoss || self == .crossEntropyLossGradient }
}
