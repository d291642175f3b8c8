// The reference against an independent evaluation: mpmath at 3,000 bits with differently anchored
// formulas and its own rounding code (Fixtures/oracle.py), on random and adversarial rows. Every
// value must agree bit for bit.
import Foundation
import MPFR
import Testing
@testable import Reference

struct OracleCase: Sendable, CustomTestStringConvertible {
    let line: Int
    let function: String
    let label: Int?
    let row: [Double]
    let expected: [Double]
    var testDescription: String { "line \(line): \(function), n = \(row.count)" }
}

enum OracleFixture {
    static let cases: [OracleCase] = {
        // The softmax family's fixture and the binary family's (`oracle.py fixture`, `oracle.py binary`).
        var cases: [OracleCase] = []
        for name in ["oracle-cases", "oracle-binary"] {
            guard let url = Bundle.module.url(forResource: name, withExtension: "txt", subdirectory: "Fixtures"),
                let text = try? String(contentsOf: url, encoding: .utf8)
            else { continue }
            cases += parse(text)
        }
        return cases
    }()

    static func parse(_ text: String) -> [OracleCase] {
        var cases: [OracleCase] = []
        for (index, line) in text.split(separator: "\n").enumerated() where !line.hasPrefix("#") {
            let fields = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            var body = Substring(fields[1])
            var label: Int? = nil
            if let colon = body.firstIndex(of: ":") {
                label = Int(body[..<colon])
                body = body[body.index(after: colon)...]
            }
            cases.append(
                OracleCase(
                    line: index + 1, function: fields[0], label: label,
                    row: body.split(separator: " ").map { Double(String($0))! },
                    expected: fields[2].split(separator: " ").map { Double(String($0))! }))
        }
        return cases
    }
}

@Suite("Reference: against an independent high-precision oracle")
struct OracleTests {
    @Test("the fixture is present and large")
    func fixturePresent() {
        #expect(OracleFixture.cases.count >= 500, "Fixtures/oracle-cases.txt holds \(OracleFixture.cases.count) cases")
        #expect(OracleFixture.cases.contains { $0.row.count >= 10_000 }, "a row of 10,000+ logits")
        let binary = OracleFixture.cases.filter { $0.function.contains("sigmoid") || $0.function.contains("softplus") }
        #expect(binary.count >= 1800, "Fixtures/oracle-binary.txt holds \(binary.count) cases")
    }

    @Test("bit-for-bit agreement on every oracle case, fast path first and MPFR only", arguments: FastPathMode.allCases)
    func agreement(_ path: FastPathMode) throws {
        let reference = SoftmaxReference()
        reference.fastPath = path
        var mismatches: [String] = []
        for c in OracleFixture.cases {
            let observed: [ReferenceValue]
            switch c.function {
            case "softmax": observed = try reference.softmax(c.row)
            case "log-softmax": observed = try reference.logSoftmax(c.row)
            case "logsumexp": observed = [try reference.logSumExp(c.row)]
            case "cross-entropy": observed = [try reference.crossEntropy(c.row, target: .label(c.label!))]
            case "sigmoid": observed = try reference.sigmoid(c.row)
            case "log-sigmoid": observed = try reference.logSigmoid(c.row)
            case "softplus": observed = try reference.softplus(c.row)
            case "sigmoid-gradient": observed = try reference.sigmoidGradient(c.row)
            case "log-sigmoid-gradient": observed = try reference.logSigmoidGradient(c.row)
            case "softplus-gradient": observed = try reference.softplusGradient(c.row)
            case "cross-entropy-gradient":
                observed = try reference.crossEntropyGradient(c.row, target: .label(c.label!))
            default: Issue.record("unknown function \(c.function) on line \(c.line)"); continue
            }
            for (i, (o, e)) in zip(observed, c.expected).enumerated() where o.rounded.bitPattern != e.bitPattern {
                mismatches.append(
                    "line \(c.line) \(c.function)\(c.label.map { " label \($0)" } ?? "") n=\(c.row.count) element "
                        + "\(i): "
                        + "input \(Binary64.hexString(c.row[i < c.row.count ? i : 0]))…, expected "
                        + "\(Binary64.hexString(e)), observed \(o)"
                )
            }
            if observed.count != c.expected.count {
                mismatches.append("line \(c.line): \(observed.count) values, expected \(c.expected.count)")
            }
        }
        let report = mismatches.prefix(20).joined(separator: "\n")
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(report)")
        if path == .auto {
            // The fixture is mostly adversarial; the fast path still answers most of it.
            #expect(
                reference.fastPathCounts.fast > 3 * reference.fastPathCounts.fallback, "\(reference.fastPathCounts)")
        }
    }
}

/// A probability target's row of the fixture: q, the logits, the loss −Σ q_i log p_i and its gradient.
struct TargetCase: Sendable {
    let line: Int
    let q: [Double]
    let row: [Double]
    let loss: Double
    let gradient: [Double]

    static let all: [TargetCase] = FixtureRecord.all("oracle-targets").map { r in
        TargetCase(line: r.line, q: r.values(0), row: r.values(1), loss: Double(r.fields[2])!, gradient: r.values(3))
    }
}

@Suite("Reference: probability targets against the oracle")
struct TargetOracleTests {
    @Test("the loss −Σ q_i log p_i and its derivative p·Σq − q agree bit for bit with mpmath at 3,000 bits")
    func agreement() throws {
        #expect(TargetCase.all.count >= 100, "Fixtures/oracle-targets.txt holds \(TargetCase.all.count) cases")
        let reference = SoftmaxReference()
        var mismatches: [String] = []
        for c in TargetCase.all {
            let loss = try reference.crossEntropy(c.row, target: .distribution(c.q))
            if loss.rounded.bitPattern != c.loss.bitPattern {
                mismatches.append("line \(c.line) loss: expected \(c.loss.hex), observed \(loss)")
            }
            let g: [ReferenceValue]
            do {
                g = try reference.crossEntropyGradient(c.row, target: .distribution(c.q))
            } catch {
                mismatches.append("line \(c.line) gradient: q \(c.q.map(\.hex)), row \(c.row.map(\.hex)): \(error)")
                continue
            }
            for (i, (o, e)) in zip(g, c.gradient).enumerated() where o.rounded.bitPattern != e.bitPattern {
                mismatches.append(
                    "line \(c.line) gradient[\(i)]: q \(c.q.map(\.hex)), expected \(e.hex), observed \(o)")
            }
        }
        let shown = mismatches.prefix(10).joined(separator: "\n")
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(shown)")
    }
}

extension Double {
    fileprivate var hex: String { Binary64.hexString(self) }
}

@Suite("Reference: resources")
struct ResourceTests {
    @Test("no MPFR memory leaks: the same 20,000 rows again allocate nothing more")
    func noLeak() throws {
        MPFRMemory.startCounting()
        let reference = SoftmaxReference()
        reference.fastPath = .mpfr  // the MPFR path is the one that allocates
        var rng = SplitMix64(seed: 7)
        let rows = (0..<2_000).map { _ in
            (0..<(1 + Int(rng.next() % 40))).map { _ in Double(Int64(bitPattern: rng.next()) % 2000) / 7 }
        }
        func pass() throws {
            for x in rows {
                _ = try reference.softmax(x)
                _ = try reference.logSoftmax(x)
                _ = try reference.crossEntropyGradient(x, target: .label(x.count - 1))
                _ = try reference.vectorJacobianProduct(x, x.map { $0.rounded() })
            }
        }
        try pass()  // grows the reusable workspace to its size
        let before = MPFRMemory.liveBytesOnThisThread
        for _ in 0..<10 { try pass() }
        let growth = MPFRMemory.liveBytesOnThisThread - before
        // Counted on this thread only (GMP's allocator hook), so other tests do not disturb it.
        #expect(
            growth == 0, "MPFR's live memory grew by \(growth) bytes over 80,000 more reference calls on the same rows")
    }

    @Test("a 10,000-logit row certifies in one pass (MPFR) and the fast path agrees")
    func longRow() throws {
        let reference = SoftmaxReference()
        reference.fastPath = .mpfr
        var rng = SplitMix64(seed: 11)
        let x = (0..<10_000).map { _ in Double(Int64(bitPattern: rng.next()) % 100_000) / 1000 }
        let p = try reference.softmax(x)
        #expect(p.count == 10_000)
        #expect(reference.lastPrecision == SoftmaxReference.initialPrecision, "needed \(reference.lastPrecision) bits")
        #expect(try SoftmaxReference().softmax(x).map(\.rounded) == p.map(\.rounded))
    }
}

/// A small deterministic generator for the tests (seeded randomness only).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
