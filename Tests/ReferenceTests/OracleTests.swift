// The reference against an independent evaluation: mpmath at 3,000 bits with differently anchored
// formulas and its own rounding code (Fixtures/oracle.py), on random and adversarial rows. Every
// value must agree bit for bit.
import Foundation
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
        guard let url = Bundle.module.url(forResource: "oracle-cases", withExtension: "txt", subdirectory: "Fixtures"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { return [] }
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
    }()
}

@Suite("Reference: against an independent high-precision oracle")
struct OracleTests {
    @Test("the fixture is present and large")
    func fixturePresent() {
        #expect(OracleFixture.cases.count >= 500, "Fixtures/oracle-cases.txt holds \(OracleFixture.cases.count) cases")
        #expect(OracleFixture.cases.contains { $0.row.count >= 10_000 }, "a row of 10,000+ logits")
    }

    @Test("bit-for-bit agreement on every oracle case")
    func agreement() throws {
        let reference = SoftmaxReference()
        var mismatches: [String] = []
        for c in OracleFixture.cases {
            let observed: [ReferenceValue]
            switch c.function {
            case "softmax": observed = try reference.softmax(c.row)
            case "log-softmax": observed = try reference.logSoftmax(c.row)
            case "logsumexp": observed = [try reference.logSumExp(c.row)]
            case "cross-entropy": observed = [try reference.crossEntropy(c.row, target: .label(c.label!))]
            case "cross-entropy-gradient": observed = try reference.crossEntropyGradient(c.row, target: .label(c.label!))
            default: Issue.record("unknown function \(c.function) on line \(c.line)"); continue
            }
            for (i, (o, e)) in zip(observed, c.expected).enumerated() where o.rounded.bitPattern != e.bitPattern {
                mismatches.append(
                    "line \(c.line) \(c.function)\(c.label.map { " label \($0)" } ?? "") n=\(c.row.count) element \(i): "
                        + "input \(Binary64.hexString(c.row[i < c.row.count ? i : 0]))…, expected \(Binary64.hexString(e)), observed \(o)")
            }
            if observed.count != c.expected.count { mismatches.append("line \(c.line): \(observed.count) values, expected \(c.expected.count)") }
        }
        let report = mismatches.prefix(20).joined(separator: "\n")
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(report)")
    }
}

@Suite("Reference: resources")
struct ResourceTests {
    /// Resident memory in bytes (Linux /proc/self/statm).
    func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let pages = Int(text.split(separator: " ")[1]) ?? 0
        return pages * 4096
    }

    @Test("no MPFR memory leaks over 20,000 rows (resident memory stays flat)")
    func noLeak() throws {
        let reference = SoftmaxReference()
        var rng = SplitMix64(seed: 7)
        func row() -> [Double] { (0..<(1 + Int(rng.next() % 40))).map { _ in Double(Int64(bitPattern: rng.next()) % 2000) / 7 } }
        for _ in 0..<2_000 { _ = try reference.softmax(row()); _ = try reference.crossEntropy(row(), target: .label(0)) }
        let before = residentBytes()
        for _ in 0..<20_000 {
            let x = row()
            _ = try reference.softmax(x)
            _ = try reference.logSoftmax(x)
            _ = try reference.crossEntropyGradient(x, target: .label(x.count - 1))
        }
        let growth = residentBytes() - before
        // 60,000 calls: a leak of even one MPFR value (16 bytes of limbs plus a header) per call would
        // add more than 2 MB.
        #expect(growth < 2 << 20, "resident memory grew by \(growth) bytes over 60,000 reference calls")
    }

    @Test("a 10,000-logit row certifies in one pass")
    func longRow() throws {
        let reference = SoftmaxReference()
        var rng = SplitMix64(seed: 11)
        let x = (0..<10_000).map { _ in Double(Int64(bitPattern: rng.next()) % 100_000) / 1000 }
        let p = try reference.softmax(x)
        #expect(p.count == 10_000)
        #expect(reference.lastPrecision == SoftmaxReference.initialPrecision, "needed \(reference.lastPrecision) bits")
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
