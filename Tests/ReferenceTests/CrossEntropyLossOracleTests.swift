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
    let gradient: [Double]

    var description: String {
        "line \(line): \(batch.rows.count) rows of \(batch.rows[0].count), \(batch.options.description)"
    }

    static let all: [LossOracleCase] = FixtureRecord.all("oracle-losses").map { r in
        let f = r.fields
        let perRow = { (field: String) in field.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) } }
        let targetFields = perRow(f[4])
        let targets: CrossEntropyBatch.Targets =
            targetFields[0].contains(" ") || targetFields[0].contains("x")
            ? .probabilities(targetFields.map(FixtureRecord.values)) : .labels(targetFields.map { Int($0)! })
        let options = CrossEntropyOptions(
            classWeights: f[3] == "-" ? nil : r.values(3), ignoreIndex: Int(f[2])!, labelSmoothing: Double(f[1])!,
            reduction: LossReduction(rawValue: f[0])!)
        return LossOracleCase(
            line: r.line,
            batch: CrossEntropyBatch(rows: perRow(f[5]).map(FixtureRecord.values), targets: targets, options: options),
            expected: r.values(6), gradient: r.values(7))
    }
}

@Suite("Reference: the cross-entropy loss against the oracle")
struct CrossEntropyLossOracleTests {
    @Test(
        "the loss and its gradient (weights, ignore_index, smoothing, reductions) agree with mpmath"
    )
    func agreement() throws {
        #expect(LossOracleCase.all.count >= 250, "the fixture holds \(LossOracleCase.all.count) cases")
        let reference = SoftmaxReference()
        var mismatches: [String] = []
        func compare(
            _ what: String, _ c: LossOracleCase, _ expected: [Double], _ evaluate: () throws -> [ReferenceValue]
        ) {
            do {
                let observed = try evaluate().map(\.rounded)
                let same =
                    observed.count == expected.count
                    && zip(observed, expected).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
                if !same {
                    let want = expected.map(Binary64.hexString), got = observed.map(Binary64.hexString)
                    mismatches.append("\(c) \(what): expected \(want), observed \(got)")
                }
            } catch {
                mismatches.append("\(c) \(what): \(error)")
            }
        }
        for c in LossOracleCase.all {
            compare("loss", c, c.expected) { try reference.crossEntropyLoss(c.batch) }
            compare("gradient", c, c.gradient) { try reference.crossEntropyLossGradient(c.batch) }
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

/// Batches worked out by hand: a mean a hair below a midpoint that only the one-sided limit (rounded from
/// the exact anchor) decides, and NaN in a row without weight.
@Suite("Reference: the cross-entropy loss on a midpoint's doorstep")
struct CrossEntropyLossDoorstepTests {
    struct Doorstep: Sendable, CustomStringConvertible {
        let rows: [[Double]]
        let labels: [Int]
        let weights: [Double]
        let reduction: LossReduction
        let expected: [Double]
        let why: String
        var description: String { "\(rows) labels \(labels) weight \(weights) \(reduction)" }
    }

    static let tiny = 0x1p-1074
    static let cases: [Doorstep] = [
        // (M + L0 + w (M − 2^-60 + L1)) / (1 + w), M = 2^11 + 2^-42 the midpoint above 2^11: just below M.
        Doorstep(
            rows: [[-0x1p11, 0x1p-42], [0x1p-42 - 0x1p-60, -0x1p11]], labels: [0, 1], weights: [1, 0x1p-1022],
            reduction: .mean, expected: [0x1p11], why: "below the midpoint 2^11 + 2^-42 by about 2^-1082"),
        Doorstep(
            rows: [[-0x1p54, 2], [2 - 0x1p-8, -0x1p54]], labels: [0, 1], weights: [1, tiny], reduction: .mean,
            expected: [0x1p54], why: "below the midpoint 2^54 + 2"),
        // 10000.5 T (1 − T) + e^-1e4: just below the midpoint 10000.5 T of the subnormals.
        Doorstep(
            rows: [[0, -10000.5], [0, -1e4]], labels: [1, 0], weights: [1, tiny], reduction: .mean,
            expected: [10000 * tiny], why: "below the subnormal midpoint 10000.5 T"),
        Doorstep(
            rows: [[0, -10000.5], [0, -1e4]], labels: [1, 0], weights: [1, 3 * tiny], reduction: .mean,
            expected: [30001 * tiny], why: "below the subnormal midpoint 30001.5 T"),
        // A NaN logit makes a row NaN even when its label weighs nothing (0 · NaN).
        Doorstep(
            rows: [[.nan, 0]], labels: [0], weights: [0, 1], reduction: .none, expected: [.nan],
            why: "NaN in a weightless row"),
        Doorstep(
            rows: [[.nan, 0], [0, 1]], labels: [0, 1], weights: [0, 1], reduction: .sum, expected: [.nan],
            why: "a NaN row in a sum"),
    ]

    @Test("each is correctly rounded", arguments: cases)
    func doorstep(_ c: Doorstep) throws {
        let batch = CrossEntropyBatch(
            rows: c.rows, targets: .labels(c.labels),
            options: CrossEntropyOptions(classWeights: c.weights, reduction: c.reduction))
        let observed = try SoftmaxReference().crossEntropyLoss(batch).map(\.rounded)
        let same = zip(observed, c.expected).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
        let want = c.expected.map(Binary64.hexString), got = observed.map(Binary64.hexString)
        #expect(same && observed.count == c.expected.count, "\(c) (\(c.why)): expected \(want), observed \(got)")
    }
}

@Suite("Reference: the cross-entropy loss's gradient, worked out by hand")
struct CrossEntropyLossGradientCaseTests {
    @Test("a −inf column beside a term below MPFR's range is an exact +0; the others keep their signs")
    func exactBesideUnderflow() throws {
        let batch = CrossEntropyBatch(
            rows: [[0, -1e300, -.infinity]], targets: .labels([0]), options: CrossEntropyOptions(reduction: .none))
        let observed = try SoftmaxReference().crossEntropyLossGradient(batch).map(\.rounded)
        // −p_1 < 0, p_1 > 0, and A_2 = 0 exactly.
        let expected: [Double] = [-0.0, 0.0, 0.0]
        #expect(observed.map(\.bitPattern) == expected.map(\.bitPattern), "expected \(expected), observed \(observed)")
    }

    @Test("a mean over a divisor far below 1 keeps the product's error in proportion")
    func smallDivisor() throws {
        // A = [2e-20, 0], C·D = 2e-20: G = [p_0 − 1, p_1] = [−σ(−60), σ(−60)].
        let batch = CrossEntropyBatch(
            rows: [[0, -60]], targets: .labels([0]), options: CrossEntropyOptions(classWeights: [1e-20, 1]))
        let observed = try SoftmaxReference().crossEntropyLossGradient(batch).map(\.rounded)
        let expected = [-0x1.5ae191a99585ap-87, 0x1.5ae191a99585ap-87]
        #expect(observed.map(\.bitPattern) == expected.map(\.bitPattern), "expected \(expected), observed \(observed)")
    }
}
