// The line syntax of the cross-entropy loss and its gradient (`softmax-audit reference
// cross-entropy-loss`, the process protocol): a batch on one line, rows separated by ";", each a class
// index and a colon before its logits (the index may be ignore_index, e.g. -100) or its logits, a bar and
// its probability target; then the options as F.cross_entropy names them:
//
//     1: 0 1 2 ; -100: 3 0 -1 ; 2: 1 1 1 weight=1,0.5,2 label_smoothing=0.1 reduction=sum
//     0 1 2 | 0.2 0 0.8 ; 1 1 0 | 0 1 0 reduction=none
//
// `weight=` takes C comma-separated values; `ignore_index=` an integer (default -100),
// `label_smoothing=` a number in [0, 1] (default 0), `reduction=` none, sum or mean (default mean).
import Catalogue
import Formats

extension RowSyntax {
    /// The options of the loss, as PyTorch spells them.
    public static let lossOptionNames = ["weight", "ignore_index", "label_smoothing", "reduction"]

    /// Parses one line of the loss: its rows with their labels or probability targets, and its options
    /// (PyTorch's defaults when a line gives none).
    public static func parseBatch(_ line: Substring) throws(RowSyntaxError) -> AuditCase {
        try withBytes(line) { line throws(RowSyntaxError) in try parseBatch(line) }
    }

    /// Parses one line of the loss, as bytes.
    public static func parseBatch(_ line: LineBytes) throws(RowSyntaxError) -> AuditCase {
        let line = line.last == carriageReturn ? line.dropLast() : line  // a CRLF line's carriage return
        let (body, given) = try trailingOptions(line)
        var options = CrossEntropyOptions()
        for (name, value, token) in given {
            switch name.text {
            case "weight":
                options.classWeights = try numberList(value, token)
            case "ignore_index":
                guard let i = Int(value.text) else { throw .badOptionValue(token.text) }
                options.ignoreIndex = i
            case "label_smoothing":
                guard let e = NumberParsing.number(value) else { throw .badOptionValue(token.text) }
                options.labelSmoothing = e
            case "reduction":
                guard let r = LossReduction(rawValue: value.text) else {
                    throw .badChoice(token.text, choices: LossReduction.allCases.map { "reduction=\($0.rawValue)" })
                }
                options.reduction = r
            default:
                throw .badOption(token.text, function: AuditFunction.crossEntropyLoss.rawValue)
            }
        }
        var rows: [[Double]] = [], labels: [Int] = [], targets: [[Double]] = []
        for part in body.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false) {
            if let bar = part.firstIndex(of: barByte) {
                let row = try parse(part[..<bar], labeled: false)
                let target = try parse(part[(bar + 1)...], labeled: false)
                guard target.logits.count == row.logits.count else {
                    throw .pairLength(pair: target.logits.count, row: row.logits.count, name: "probability target")
                }
                rows.append(row.logits)
                targets.append(target.logits)
                labels.append(0)
            } else {
                guard let colon = part.firstIndex(of: colonByte) else { throw .missingBatchTarget }
                let token = part[..<colon].trimmingBlanks()
                guard let label = Int(token.text) else {
                    throw token.isEmpty ? .missingBatchTarget : .badLabel(token.text)
                }
                rows.append(try parse(part[(colon + 1)...], labeled: false).logits)
                labels.append(label)
            }
        }
        guard targets.isEmpty || targets.count == rows.count else { throw .mixedBatchTargets }
        return AuditCase(
            rows: rows, labels: labels, pairs: targets.isEmpty ? nil : targets,
            options: LossOptions(crossEntropy: options))
    }
}

extension AuditCase {
    /// The case as one line of the loss's syntax, each value written by `format`; the options as the
    /// case gives them (or as the audit derives them).
    public func lossLine(_ format: (Double) -> String) -> String {
        let rows = self.rows.indices.map { i in
            let values = self.rows[i].map(format).joined(separator: " ")
            if let pairs { return values + " | " + pairs[i].map(format).joined(separator: " ") }
            return "\(labels[i]): " + values
        }
        let o = AuditFunction.crossEntropyOptions(self)
        var options: [String] = []
        if let w = o.classWeights { options.append("weight=" + w.map(format).joined(separator: ",")) }
        if o.ignoreIndex != CrossEntropyOptions.defaultIgnoreIndex { options.append("ignore_index=\(o.ignoreIndex)") }
        if o.labelSmoothing != 0 { options.append("label_smoothing=" + format(o.labelSmoothing)) }
        options.append("reduction=" + o.reduction.rawValue)
        return rows.joined(separator: " ; ") + " " + options.joined(separator: " ")
    }
}
