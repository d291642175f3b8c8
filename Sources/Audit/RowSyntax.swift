// The row syntax of the command-line contract: whitespace-separated numbers in any notation
// Swift's Double(String) reads (decimal, hexadecimal floats such as 0x1.8p+1, inf, -inf, nan),
// preceded by a 0-based class label and a colon for the cross-entropy functions: `2: 0.5 1 -3`.
import Reference

/// One input row: the logits and, for the cross-entropy functions, the label.
public struct LabeledRow: Sendable, Equatable {
    public var label: Int?
    public var logits: [Double]

    public init(label: Int? = nil, logits: [Double]) {
        self.label = label
        self.logits = logits
    }

    /// The row in the contract's syntax, every value in exact hexadecimal notation.
    public var text: String { render(Binary64.hexString) }

    /// The row in the contract's syntax with shortest round-trip decimals ("1024", "-1e+300",
    /// "5e-324"): as exact as the hexadecimal form, easier to read.
    public var decimalText: String { render(RowSyntax.decimal) }

    private func render(_ format: (Double) -> String) -> String {
        let values = logits.map(format).joined(separator: " ")
        guard let label else { return values }
        return "\(label): " + values
    }
}

/// Why a line is not a row; `description` is a clause to follow "line N: ".
public enum RowSyntaxError: Error, Equatable, CustomStringConvertible {
    case notANumber(String, position: Int)
    case missingLabel
    case badLabel(String)
    case unexpectedLabel

    public var description: String {
        switch self {
        case .notANumber(let token, let position):
            return
                "value \(position), '\(token)', is not a number (decimal, hexadecimal such as 0x1.8p+1, inf, -inf or "
                + "nan)"
        case .missingLabel:
            return "the row must start with a 0-based class label and a colon, as in '2: 0.5 1 -3'"
        case .badLabel(let token):
            return "the label '\(token)' is not a non-negative integer"
        case .unexpectedLabel:
            return "this function takes no label, but the row has a colon"
        }
    }
}

public enum RowSyntax {
    /// Swift's shortest round-trip decimal, without a trailing ".0" (Double(String) reads it back exactly).
    public static func decimal(_ x: Double) -> String {
        var s = x.description
        if s.hasSuffix(".0") { s.removeLast(2) }
        return s
    }

    /// Parses one line (a trailing carriage return and surrounding blanks are ignored).
    public static func parse(_ line: Substring, labeled: Bool) throws(RowSyntaxError) -> LabeledRow {
        var body = line
        var label: Int? = nil
        if let colon = line.firstIndex(of: ":") {
            guard labeled else { throw .unexpectedLabel }
            let token = line[..<colon].trimmingBlanks()
            guard let value = Int(token), value >= 0 else {
                throw token.isEmpty ? .missingLabel : .badLabel(String(token))
            }
            label = value
            body = line[line.index(after: colon)...]
        } else if labeled {
            throw .missingLabel
        }
        var logits: [Double] = []
        for (position, token) in body.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).enumerated() {
            guard let value = Double(token) else { throw .notANumber(String(token), position: position + 1) }
            logits.append(value)
        }
        return LabeledRow(label: label, logits: logits)
    }
}

extension Substring {
    func trimmingBlanks() -> Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s.removeLast() }
        return s
    }
}
