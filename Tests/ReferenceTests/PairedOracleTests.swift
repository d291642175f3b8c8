// The paired functions (KL divergence and its gradient, binary cross-entropy with logits and its
// gradient, the weighted logsumexp) against mpmath at 3,000 bits (`oracle.py paired`).
import Foundation
import Testing
@testable import Reference

/// One line of Fixtures/oracle-paired.txt: a function, its row, its paired vector, pos_weight, the values.
struct PairedCase: Sendable {
    let line: Int
    let function: String
    let row: [Double]
    let pair: [Double]
    let posWeight: Double
    let expected: [Double]

    static let all: [PairedCase] = {
        guard
            let url = Bundle.module.url(forResource: "oracle-paired", withExtension: "txt", subdirectory: "Fixtures"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { return [] }
        func values(_ field: String) -> [Double] { field.split(separator: " ").map { Double(String($0))! } }
        return text.split(separator: "\n").enumerated().compactMap { index, line in
            guard !line.hasPrefix("#") else { return nil }
            let fields = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            return PairedCase(
                line: index + 1, function: fields[0], row: values(fields[1]), pair: values(fields[2]),
                posWeight: fields[3] == "-" ? 1 : Double(fields[3])!, expected: values(fields[4]))
        }
    }()

    func evaluate(_ r: SoftmaxReference) throws -> [ReferenceValue] {
        switch function {
        case "kl-divergence": return [try r.klDivergence(row, target: pair)]
        case "kl-divergence-gradient": return try r.klDivergenceGradient(row, target: pair)
        case "binary-cross-entropy": return try r.binaryCrossEntropy(row, targets: pair, posWeight: posWeight)
        case "binary-cross-entropy-gradient":
            return try r.binaryCrossEntropyGradient(row, targets: pair, posWeight: posWeight)
        case "weighted-logsumexp": return try r.weightedLogSumExp(row, weights: pair)
        default: throw ReferenceError.emptyRow
        }
    }
}

@Suite("Reference: the paired functions against the oracle")
struct PairedOracleTests {
    @Test("KL, binary cross-entropy and the weighted logsumexp agree bit for bit with mpmath at 3,000 bits")
    func agreement() throws {
        let functions = Set(PairedCase.all.map(\.function))
        #expect(PairedCase.all.count >= 700 && functions.count == 5, "the fixture holds \(PairedCase.all.count) cases")
        let reference = SoftmaxReference()
        var mismatches: [String] = []
        for c in PairedCase.all {
            let observed: [ReferenceValue]
            do {
                observed = try c.evaluate(reference)
            } catch {
                mismatches.append("line \(c.line) \(c.function): \(error)")
                continue
            }
            for (i, (o, e)) in zip(observed, c.expected).enumerated() where o.rounded.bitPattern != e.bitPattern {
                let input = i < c.row.count ? " x \(c.row[i].hex), pair \(c.pair[i].hex)," : ""
                mismatches.append(
                    "line \(c.line) \(c.function)[\(i)]:\(input) w \(c.posWeight), expected \(e.hex), observed \(o)")
            }
            if observed.count != c.expected.count {
                mismatches.append("line \(c.line): \(observed.count) values, expected \(c.expected.count)")
            }
        }
        let shown = mismatches.prefix(15).joined(separator: "\n")
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(shown)")
    }
}

extension Double {
    fileprivate var hex: String { Binary64.hexString(self) }
}
