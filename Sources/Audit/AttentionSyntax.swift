// The options of attention's functions in the row syntax (`softmax-audit reference scaled-softmax`, the
// process protocol): after the row's logits x, as name=value,
//
//     0.5 1 -3 2 scale=0.125 bias=0,-1,-2,-3 masked=0,0,1,0 sink=2 v=1,-1,2,0.5 blocks=3 fully_masked=zeros
//
// `scale=` a finite number (default 1); `bias=`, `masked=` (1 masks a key, 0 keeps it) and `v=` one
// comma-separated value per key; `sink=` a number; `blocks=` the number of blocks B a blocked kernel splits
// the row into (block k: keys ⌊k n/B⌋ ..< ⌊(k+1) n/B⌋; default 1); `fully_masked=` nan or zeros, what the
// softmax and the output of a row with every key masked and no sink are (default nan).
import Catalogue

extension RowSyntax {
    public static let attentionOptionNames = ["scale", "bias", "masked", "sink", "v", "blocks", "fully_masked"]

    /// Attention's options from the row's name=value tokens, for a row of n keys.
    static func attentionOptions(
        _ given: [(name: LineBytes, value: LineBytes, token: LineBytes)], function f: AuditFunction, keys n: Int
    ) throws(RowSyntaxError) -> AttentionOptions {
        var o = AttentionOptions()
        func list(_ value: LineBytes, _ token: LineBytes) throws(RowSyntaxError) -> [Double] {
            let values = try numberList(value, token)
            guard values.count == n else { throw .optionLength(token.text, count: values.count, keys: n) }
            return values
        }
        for (name, value, token) in given {
            switch name.text {
            case "scale":
                guard let s = NumberParsing.number(value) else { throw .badOptionValue(token.text) }
                guard s.isFinite else { throw .optionDomain(token.text, expected: "scale= takes a finite number") }
                o.scale = s
            case "bias": o.bias = try list(value, token)
            case "v": o.values = try list(value, token)
            case "masked":
                let flags = try list(value, token)
                guard flags.allSatisfy({ $0 == 0 || $0 == 1 }) else {
                    throw .optionDomain(token.text, expected: "masked= takes 0 (kept) or 1 (masked) per key")
                }
                o.masked = flags.map { $0 == 1 }
            case "sink":
                guard let s = NumberParsing.number(value) else { throw .badOptionValue(token.text) }
                o.sink = s
            case "blocks":
                guard let b = Int(value.text), (1...AttentionOptions.maximumBlocks).contains(b) else {
                    throw .optionDomain(
                        token.text, expected: "blocks= takes an integer from 1 to \(AttentionOptions.maximumBlocks)")
                }
                o.blocks = b
            case "fully_masked":
                guard let c = FullyMaskedRow(rawValue: value.text) else {
                    throw .badChoice(token.text, choices: FullyMaskedRow.allCases.map { "fully_masked=\($0.rawValue)" })
                }
                o.fullyMasked = c
            default:
                throw .badOption(token.text, function: f.rawValue)
            }
        }
        return o
    }

    /// The options as name=value tokens, those at their default left out (v always given).
    static func attentionText(_ o: AttentionOptions, keys n: Int, _ format: (Double) -> String) -> String {
        func list(_ values: [Double]) -> String { values.map(format).joined(separator: ",") }
        var parts: [String] = []
        if o.scale != AttentionOptions.defaultScale { parts.append("scale=\(format(o.scale))") }
        if let b = o.bias { parts.append("bias=" + list(b)) }
        if let m = o.masked { parts.append("masked=" + m.map { $0 ? "1" : "0" }.joined(separator: ",")) }
        if let s = o.sink { parts.append("sink=\(format(s))") }
        parts.append("v=" + list(o.values(count: n)))
        if o.blocks != AttentionOptions.defaultBlocks { parts.append("blocks=\(o.blocks)") }
        if o.fullyMasked != .nan { parts.append("fully_masked=\(o.fullyMasked.rawValue)") }
        return parts.joined(separator: " ")
    }
}
