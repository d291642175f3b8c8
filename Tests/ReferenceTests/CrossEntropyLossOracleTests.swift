// The cross-entropy loss with PyTorch's options (class weights, ignore_index, label smoothing, probability
// targets, the three reductions) against mpmath at 3,000 bits (`oracle.py losses`).
import Catalogue
import Foundation
import Formats
import Testing
@testable import Reference

/// One line of Fixtures/oracle-losses.txt.
struct LossOracleCase: Sendable, CustomStringConvertible {
    let line: Int
    let batch: CrossEntropyBatch
    let expected: [Double]

    var description: String {
        "line \(line): \(batch.rows.count) rows of \(batch.rows[0].count), \(batch.options.description)"
    }

    static let all: [LossOracleCase] = {
        guard
            let url = Bundle.module.url(forResource: "oracle-losses", withExtension: "txt", subdirectory: "Fixtures"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { return [] }
        func values(_ field: Substring) -> [Double] { field.split(separator: " ").map { Double(String($0))! } }
        return text.split(separator: "\n").enumerated().compactMap { index, line in
            guard !line.hasPrefix("#") else { return nil }
            let f = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces)[...] }
            let targetFields = f[4].split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces)[...] }
            let targets: CrossEntropyBatch.Targets =
                targetFields[0].contains(" ") || targetFields[0].contains("x")
                ? .probabilities(targetFields.map(values)) : .labels(targetFields.map { Int($0)! })
            let options = CrossEntropyOptions(
                classWeights: f[3] == "-" ? nil : values(f[3]), ignoreIndex: Int(f[2])!,
                labelSmoothing: Double(String(f[1]))!, reduction: LossReduction(rawValue: String(f[0]))!)
            let rows = f[5].split(separator: ";").map { values($0.trimmingCharacters(in: .whitespaces)[...]) }
            return LossOracleCase(
                line: index + 1, batch: CrossEntropyBatch(rows: rows, targets: targets, options: options),
                expected: values(f[6]))
        }
    }()
}

@Suite("Reference: the cross-entropy loss against the oracle")
struct CrossEntropyLossOracleTests {
    @Test("weights, ignore_index, label smoothing, probability targets and reductions agree bit for bit with mpmath")
    func agreement() throws {
        #expect(LossOracleCase.all.count >= 250, "the fixture holds \(LossOracleCase.all.count) cases")
        let reference = SoftmaxReference()
        var mismatches: [String] = []
        for c in LossOracleCase.all {
            do {
                let observed = try reference.crossEntropyLoss(c.batch).map(\.rounded)
                let same =
                    observed.count == c.expected.count
                    && zip(observed, c.expected).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
                if !same {
                    let want = c.expected.map(Binary64.hexString), got = observed.map(Binary64.hexString)
                    mismatches.append("\(c): expected \(want), observed \(got)")
                }
            } catch {
                mismatches.append("\(c): \(error)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(mismatches.prefix(10).joined(separator: "\n"))")
    }

    @Test("every row ignored: mean is 0/0 = NaN (pytorch#70348), sum 0, none zeros")
    func allIgnored() throws {
        let rows: [[Double]] = [[0, 1], [2, -1]]
        let r = SoftmaxReference()
        for (reduction, expected) in [(LossReduction.mean, [Double.nan]), (.sum, [0]), (.none, [0, 0])] {
            let batch = CrossEntropyBatch(
                rows: rows, targets: .labels([-100, -100]), options: CrossEntropyOptions(reduction: reduction))
            let observed = try r.crossEntropyLoss(batch).map(\.rounded)
            let same = zip(observed, expected).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
            #expect(
                same && observed.count == expected.count, "\(reduction): expected \(expected), observed \(observed)")
        }
    }
}
