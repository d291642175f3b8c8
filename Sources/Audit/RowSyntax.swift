// The row syntax of the command-line contract: whitespace-separated numbers in any notation
// Swift's Double(String) reads (decimal, hexadecimal floats such as 0x1.8p+1, inf, -inf, nan),
// preceded by a 0-based class label and a colon for the cross-entropy functions: `2: 0.5 1 -3`. The
// paired functions follow the logits with a bar and the paired vector, of the same length, then their
// options as name=value: `0.5 -120 | 1 0.9 pos_weight=3` (binary cross-entropy), `0 1 2 | 0.2 0 0.8`
// (KL's target q), `-1000 -2 | 1 0` (logsumexp's weights b).
import Reference

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One input row: the logits and, for the cross-entropy functions, the label; for the paired functions
/// the paired vector and the options.
public struct LabeledRow: Sendable, Equatable {
    public var label: Int?
    public var logits: [Double]
    public var pair: [Double]?
    public var options: LossOptions

    public init(label: Int? = nil, logits: [Double], pair: [Double]? = nil, options: LossOptions = LossOptions()) {
        self.label = label
        self.logits = logits
        self.pair = pair
        self.options = options
    }

    /// The row of case c that function f takes: its label if f takes one, its paired vector (the case's
    /// own or the derived one) and options if f is paired.
    public init(_ c: AuditCase, row j: Int = 0, for f: AuditFunction) {
        let shape = f.shape
        // Only the options f takes: a weighted logsumexp of a case made for BCE carries no pos_weight.
        var options = LossOptions()
        let names = RowSyntax.optionNames(for: f)
        if names.contains(RowSyntax.posWeightName) { options.posWeight = c.options.posWeight }
        if names.contains(RowSyntax.betaName) {
            options.beta = c.options.beta
            options.threshold = c.options.threshold
        }
        if shape.isAttention { options.attention = AuditFunction.attentionOptions(c) }
        self.init(
            label: shape.takesLabel ? c.labels[j] : nil, logits: c.rows[j],
            pair: shape.takesPair ? f.pair(c, row: j) : nil, options: options)
    }

    /// The case this row is for function f (label 0 when it has none).
    public func auditCase(for f: AuditFunction) -> AuditCase {
        AuditCase(logits, label: label ?? 0, pair: pair, options: options)
    }

    /// The row in the contract's syntax, every value in exact hexadecimal notation.
    public var text: String { render(Binary64.hexString) }

    /// The row in the contract's syntax with shortest round-trip decimals ("1024", "-1e+300",
    /// "5e-324"): as exact as the hexadecimal form, easier to read.
    public var decimalText: String { render(RowSyntax.decimal) }

    private func render(_ format: (Double) -> String) -> String {
        var values = logits.map(format).joined(separator: " ")
        if let pair {
            values += " | " + pair.map(format).joined(separator: " ")
            if options.posWeight != LossOptions.defaultPosWeight {
                values += " \(RowSyntax.posWeightName)=\(format(options.posWeight))"
            }
        }
        if options.beta != LossOptions.defaultBeta { values += " \(RowSyntax.betaName)=\(format(options.beta))" }
        if options.threshold != LossOptions.defaultThreshold {
            values += " \(RowSyntax.thresholdName)=\(format(options.threshold))"
        }
        if let attention = options.attention {
            values += " " + RowSyntax.attentionText(attention, keys: logits.count, format)
        }
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
    case missingPair(String)
    case unexpectedPair
    case pairLength(pair: Int, row: Int, name: String)
    case badOption(String, function: String)
    case badOptionValue(String)
    case repeatedOption(String)
    case optionBeforeValues(String)
    case missingBatchTarget
    case badChoice(String, choices: [String])
    case mixedBatchTargets
    case optionLength(String, count: Int, keys: Int)
    case optionDomain(String, expected: String)

    public var description: String {
        switch self {
        case .notANumber(let token, let position):
            return
                "value \(position), '\(RowSyntax.visible(token))', is not a number binary64 holds (decimal, "
                + "hexadecimal such as 0x1.8p+1, inf, -inf or nan; a literal past the largest double is refused, not "
                + "read as inf)"
        case .missingLabel:
            return "the row must start with a 0-based class label and a colon, as in '2: 0.5 1 -3'"
        case .badLabel(let token):
            return "the label '\(RowSyntax.visible(token))' is not a non-negative integer"
        case .unexpectedLabel:
            return "this function takes no label, but the row has a colon"
        case .missingPair(let name):
            return "the row must end with a bar and the \(name), one per logit, as in '0 1 2 | 0.2 0 0.8'"
        case .unexpectedPair:
            return "this function takes no paired vector, but the row has a bar"
        case .pairLength(let pair, let row, let name):
            func count(_ k: Int, _ noun: String) -> String { "\(k) \(noun)\(k == 1 ? "" : "s")" }
            return "the row has \(count(row, "logit")) but \(count(pair, "value")) of the \(name)"
        case .badOption(let token, let function):
            let names = RowSyntax.optionNames(for: AuditFunction(rawValue: function) ?? .softmax)
            let token = RowSyntax.visible(token)
            return names.isEmpty
                ? "'\(token)' is not an option of \(function), which takes none"
                : "'\(token)' is not an option of \(function), which takes "
                    + names.map { "\($0)=" }.joined(separator: ", ")
        case .badOptionValue(let token):
            return "'\(RowSyntax.visible(token))' needs a number after the '='"
        case .repeatedOption(let name):
            return "the option \(RowSyntax.visible(name)) is given twice"
        case .badChoice(let token, let choices):
            return "'\(RowSyntax.visible(token))' is not one of " + choices.joined(separator: ", ")
        case .missingBatchTarget:
            return "each row of the batch needs a class index and a colon ('1: 0 1 2') or a bar and its target"
        case .mixedBatchTargets:
            return "the rows of a batch must all have class indices or all have probability targets"
        case .optionDomain(let token, let expected):
            return "'\(RowSyntax.visible(token))': \(expected)"
        case .optionLength(let token, let count, let keys):
            let name = RowSyntax.visible(String(token.prefix { $0 != "=" }))
            return
                "\(name)= has \(count) value\(count == 1 ? "" : "s") but the row has \(keys) key\(keys == 1 ? "" : "s")"
        case .optionBeforeValues(let token):
            return "the option '\(RowSyntax.visible(token))' must come after the values, at the end of the row"
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

    /// The option names, as PyTorch spells them.
    public static let posWeightName = "pos_weight"
    public static let betaName = "beta"
    public static let thresholdName = "threshold"

    /// The options function f takes at the end of its row (`pos_weight=W`; `beta=B threshold=T`).
    public static func optionNames(for f: AuditFunction) -> [String] {
        switch f {
        case .binaryCrossEntropy, .binaryCrossEntropyGradient: return [posWeightName]
        case .softplus, .softplusGradient: return [betaName, thresholdName]
        case .crossEntropyLoss, .crossEntropyLossGradient: return lossOptionNames
        case .scaledSoftmax, .scaledLogSumExp, .attentionOutput, .attentionStates: return attentionOptionNames
        default: return []
        }
    }

    /// Parses one line for function f: its label, its logits, for a paired function the paired vector,
    /// and the options f takes (name=value, after the values).
    public static func parse(_ line: Substring, for f: AuditFunction) throws(RowSyntaxError) -> LabeledRow {
        try withBytes(line) { line throws(RowSyntaxError) in try parse(line, for: f) }
    }

    /// Parses one line, as bytes, for function f.
    public static func parse(_ line: LineBytes, for f: AuditFunction) throws(RowSyntaxError) -> LabeledRow {
        let line = line.last == carriageReturn ? line.dropLast() : line  // a CRLF line's carriage return
        let (body, given) = try trailingOptions(line)
        if f.shape.isAttention {
            if body.position(of: barByte) != nil { throw .unexpectedPair }
            var row = try parse(body, labeled: false)
            row.options.attention = try attentionOptions(given, function: f, keys: row.logits.count)
            return row
        }
        var settings: [(String, Double)] = []
        for (name, value, token) in given {
            guard optionNames(for: f).contains(name.text) else { throw .badOption(token.text, function: f.rawValue) }
            guard let number = NumberParsing.number(value) else { throw .badOptionValue(token.text) }
            settings.append((name.text, number))
        }
        var row: LabeledRow
        if let name = f.pairName {
            guard let bar = body.position(of: barByte) else { throw .missingPair(name) }
            row = try parse(body[..<bar], labeled: f.shape.takesLabel)
            let pair = try values(body[(bar + 1)...], after: row.logits.count)
            guard pair.count == row.logits.count else {
                throw .pairLength(pair: pair.count, row: row.logits.count, name: name)
            }
            row.pair = pair
        } else {
            if body.position(of: barByte) != nil { throw .unexpectedPair }
            row = try parse(body, labeled: f.shape.takesLabel)
        }
        for (name, value) in settings {
            switch name {
            case posWeightName: row.options.posWeight = value
            case betaName: row.options.beta = value
            default: row.options.threshold = value
            }
        }
        return row
    }

    static let carriageReturn = UInt8(ascii: "\r")
    static let barByte = UInt8(ascii: "|")
    static let colonByte = UInt8(ascii: ":")
    static let equalsByte = UInt8(ascii: "=")

    /// The text as bytes, for the parsers that read bytes.
    static func withBytes<R>(
        _ text: Substring, _ body: (LineBytes) throws(RowSyntaxError) -> R
    ) throws(RowSyntaxError) -> R {
        var text = String(text)
        return try text.withUTF8 { bytes in Result { () throws(RowSyntaxError) -> R in try body(bytes[...]) } }.get()
    }

    /// The line without its trailing name=value tokens, and those tokens (name, value, token); an option
    /// before a value, or given twice, is an error.
    static func trailingOptions(
        _ line: LineBytes
    ) throws(RowSyntaxError) -> (LineBytes, [(name: LineBytes, value: LineBytes, token: LineBytes)]) {
        guard line.position(of: equalsByte) != nil else { return (line, []) }
        let tokens = line.split(whereSeparator: isBlank)
        let first = tokens.firstIndex { $0.contains(equalsByte) }!
        if tokens[first...].contains(where: { !$0.contains(equalsByte) }) {
            throw .optionBeforeValues(tokens[first].text)
        }
        var seen: Set<String> = []
        var options: [(name: LineBytes, value: LineBytes, token: LineBytes)] = []
        for token in tokens[first...] {
            let equals = token.firstIndex(of: equalsByte)!
            let name = token[..<equals]
            guard seen.insert(name.text).inserted else { throw .repeatedOption(name.text) }
            options.append((name, token[(equals + 1)...], token))
        }
        return (line[..<tokens[first].startIndex], options)
    }

    /// The comma-separated numbers of an option's value (`weight=1,0.5,2`); `token` names it in the error.
    static func numberList(_ value: LineBytes, _ token: LineBytes) throws(RowSyntaxError) -> [Double] {
        var numbers: [Double] = []
        for part in value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            guard let v = NumberParsing.number(part) else { throw .badOptionValue(token.text) }
            numbers.append(v)
        }
        return numbers
    }

    /// A token as a Double, or nil (`NumberParsing.number`: Double(String)'s reading, a NUL byte and a
    /// finite literal that overflows refused).
    static func number(_ token: Substring) -> Double? {
        var text = String(token)
        return text.withUTF8 { NumberParsing.number($0[...]) }
    }

    /// The numbers between blanks, the first of them value number `count + 1` of the row in messages.
    static func values(_ bytes: LineBytes, after count: Int) throws(RowSyntaxError) -> [Double] {
        var values: [Double] = []
        guard let base = bytes.base.baseAddress else { return values }
        var i = bytes.startIndex
        let end = bytes.endIndex
        while true {
            while i < end && isBlank(base[i]) { i += 1 }
            guard i < end else { return values }
            if let (value, length) = NumberParsing.canonicalHexadecimal(base + i, end - i),
                i + length == end || isBlank(base[i + length])
            {
                values.append(value)
                i += length
                continue
            }
            let start = i
            while i < end && !isBlank(base[i]) { i += 1 }
            guard let value = NumberParsing.number(bytes.base[start..<i]) else {
                throw .notANumber(bytes.base[start..<i].text, position: count + values.count + 1)
            }
            values.append(value)
        }
    }

    /// Blanks between values: spaces and tabs. (A carriage return ends a line only before its newline, which
    /// the readers strip; inside a line it is refused, not taken for a blank that would join two rows.)
    @inline(__always)
    static func isBlank(_ c: UInt8) -> Bool { c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") }

    /// The text with control characters shown as \u{XX}, so that an error message never carries them to a
    /// terminal.
    public static func visible(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value) {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Parses one line (surrounding blanks are ignored).
    public static func parse(_ line: Substring, labeled: Bool) throws(RowSyntaxError) -> LabeledRow {
        try withBytes(line) { line throws(RowSyntaxError) in try parse(line, labeled: labeled) }
    }

    /// Parses one line, as bytes: a label and a colon when labeled, then the values.
    public static func parse(_ line: LineBytes, labeled: Bool) throws(RowSyntaxError) -> LabeledRow {
        var body = line
        var label: Int? = nil
        if let colon = line.position(of: colonByte) {
            guard labeled else { throw .unexpectedLabel }
            let token = line[..<colon].trimmingBlanks()
            guard let value = Int(token.text), value >= 0 else {
                throw token.isEmpty ? .missingLabel : .badLabel(token.text)
            }
            label = value
            body = line[(colon + 1)...]
        } else if labeled {
            throw .missingLabel
        }
        return LabeledRow(label: label, logits: try values(body, after: 0))
    }
}

extension Slice where Base == UnsafeBufferPointer<UInt8> {
    /// The index of the first such byte (memchr's scan), or nil.
    func position(of byte: UInt8) -> Int? {
        guard let base = base.baseAddress, !isEmpty,
            let found = memchr(base + startIndex, Int32(byte), count)
        else { return nil }
        return UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - base
    }

    /// The bytes as text (invalid UTF-8 shown as U+FFFD), for messages and names.
    var text: String { String(decoding: self, as: UTF8.self) }

    func trimmingBlanks() -> Self {
        var s = self
        while let c = s.first, RowSyntax.isBlank(c) { s.removeFirst() }
        while let c = s.last, RowSyntax.isBlank(c) { s.removeLast() }
        return s
    }
}
