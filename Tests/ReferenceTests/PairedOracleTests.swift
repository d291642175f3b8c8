// The paired functions (KL divergence and its gradient, binary cross-entropy with logits and its
// gradient, the weighted logsumexp) against mpmath at 3,000 bits (`oracle.py paired`).
import Foundation
import Testing
import Formats
@testable import Reference

/// One line of Fixtures/oracle-paired.txt: a function, its row, its paired vector, pos_weight, the values.
struct PairedCase: Sendable {
    let line: Int
    let function: String
    let row: [Double]
    let pair: [Double]
    let posWeight: Double
    let expected: [Double]

    static let all: [PairedCase] = FixtureRecord.all("oracle-paired").map { r in
        PairedCase(
            line: r.line, function: r.fields[0], row: r.values(1), pair: r.values(2),
            posWeight: r.fields[3] == "-" ? 1 : Double(r.fields[3])!, expected: r.values(4))
    }

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

/// Rows whose results lie beyond mpmath's reach at 3,000 bits (a term of e^-1e6, or below MPFR's range),
/// each worked out by hand.
@Suite("Reference: the paired functions on a midpoint's doorstep")
struct PairedDoorstepTests {
    struct Doorstep: Sendable, CustomStringConvertible {
        let function: String
        let row: [Double]
        let pair: [Double]
        var posWeight = 1.0
        let expected: [Double]
        let why: String
        var description: String { "\(function) \(row) | \(pair) pos_weight=\(posWeight)" }
    }

    static let cases: [Doorstep] = [
        // T = −1 + 6e^-0.1 + e^-1e19 ≈ 4.43: the others outweigh the unit top, so no limit at m applies.
        Doorstep(
            function: "weighted-logsumexp", row: [0, -0.1, -1e19], pair: [-1, 6, 1],
            expected: [0x1.7cf9528b5acdcp+0, 1], why: "log(6e^-0.1 - 1)"),
        // log(1 − e^-1e6) < 0 rounds to −0; the sign of T is +.
        Doorstep(
            function: "weighted-logsumexp", row: [0, -1e6], pair: [1, -1], expected: [-0.0, 1],
            why: "log(1 - e^-1e6) is just below 0"),
        // T = −1 + e^-1e6: |T| < 1, sign −.
        Doorstep(
            function: "weighted-logsumexp", row: [0, -1e6], pair: [-1, 1], expected: [-0.0, -1],
            why: "log|-1 + e^-1e6| is just below 0"),
        // Mixed signs below the top: R = −e^-1e19 + e^-2e19 < 0, |T| = 1 − e^-1e19 (below MPFR's range).
        Doorstep(
            function: "weighted-logsumexp", row: [0, -1e19, -2e19], pair: [1, -1, 1], expected: [-0.0, 1],
            why: "R' = -1 + e^-1e19 < 0"),
        // The product of e^-3.2e18 and 2^-200 falls below MPFR's range though the exponential does not.
        Doorstep(
            function: "weighted-logsumexp", row: [0, -3.196577161300664e18], pair: [1, -0x1p-200],
            expected: [-0.0, 1], why: "a product below range"),
        // Two tied maxima with q on them: KL = log(1 + e^-1e6/2) > 0 rounds to +0.
        Doorstep(
            function: "kl-divergence", row: [0, 0, -1e6], pair: [0.5, 0.5, 0], expected: [0],
            why: "KL = log(1 + s/2) > 0"),
        Doorstep(
            function: "kl-divergence", row: [0, 0, 0, 0, 0, 0, 0, 0, -1e19],
            pair: [0.25, 0.0625, 0.0625, 0.0625, 0.0625, 0, 0, 0, 0], expected: [0],
            why: "Σ q log(8q) = 0, then KL = log(1 + s/8) > 0"),
        // (1 − 3·2^-54) σ(1e-40) = 1/2 − 3·2^-55 + 1.25e-41: just above a midpoint, rounds up.
        Doorstep(
            function: "binary-cross-entropy-gradient", row: [1e-40], pair: [0x1.8p-53], posWeight: 0,
            expected: [0x1.fffffffffffffp-2], why: "t = e^-|x| is rounded, so the result is not exact"),
        // −2^-1074 σ(−1e-40): just above the midpoint 2^-1075 in magnitude.
        Doorstep(
            function: "binary-cross-entropy-gradient", row: [-1e-40], pair: [1], posWeight: 0x1p-1074,
            expected: [-0x1p-1074], why: "w y σ(−x) with w the smallest subnormal"),
    ]

    @Test("each is correctly rounded, with the sign of zero its limit gives", arguments: cases)
    func doorstep(_ c: Doorstep) throws {
        let r = SoftmaxReference()
        let observed: [ReferenceValue]
        switch c.function {
        case "weighted-logsumexp": observed = try r.weightedLogSumExp(c.row, weights: c.pair)
        case "kl-divergence": observed = [try r.klDivergence(c.row, target: c.pair)]
        default: observed = try r.binaryCrossEntropyGradient(c.row, targets: c.pair, posWeight: c.posWeight)
        }
        let bits = observed.map(\.rounded.bitPattern)
        let expected = c.expected.map(Binary64.hexString), got = observed.map { Binary64.hexString($0.rounded) }
        #expect(bits == c.expected.map(\.bitPattern), "\(c) (\(c.why)): expected \(expected), observed \(got)")
    }
}
