// Softplus with PyTorch's beta, softplus(βx)/β, and its gradient σ(βx), against mpmath at 3,000 bits from
// the exact product βx (`oracle.py softplus-beta`): β from 1e-300 to 1e300, x around PyTorch's threshold
// 20/β, across exp's range in βx, and sampled over the bit patterns.
import Foundation
import Formats
import Testing
@testable import Reference

@Suite("Reference: softplus with beta against the oracle")
struct SoftplusBetaOracleTests {
    struct Line: Sendable {
        let line: Int
        let beta: Double
        let x: [Double]
        let softplus: [Double]
        let gradient: [Double]
    }

    static let lines: [Line] = FixtureRecord.all("oracle-softplus-beta").map { r in
        Line(line: r.line, beta: Double(r.fields[0])!, x: r.values(1), softplus: r.values(2), gradient: r.values(3))
    }

    @Test("softplus(βx)/β and σ(βx) agree bit for bit with mpmath")
    func agreement() throws {
        #expect(Self.lines.count >= 250, "the fixture holds \(Self.lines.count) lines")
        let r = SoftmaxReference()
        var mismatches: [String] = []
        for l in Self.lines {
            for (name, expected, observed) in [
                ("softplus", l.softplus, try r.softplus(l.x, beta: l.beta)),
                ("gradient", l.gradient, try r.softplusGradient(l.x, beta: l.beta)),
            ] {
                for (i, (e, o)) in zip(expected, observed).enumerated() where e.bitPattern != o.rounded.bitPattern {
                    mismatches.append(
                        "line \(l.line) \(name) beta \(l.beta) x \(l.x[i]): expected \(Binary64.hexString(e)), "
                            + "observed \(Binary64.hexString(o.rounded))")
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(mismatches.prefix(10).joined(separator: "\n"))")
    }

    @Test("beta must be finite and > 0")
    func invalidBeta() {
        for beta in [0, -1, Double.infinity, .nan] {
            #expect(throws: ReferenceError.self, "beta \(beta)") { try SoftmaxReference().softplus([1], beta: beta) }
        }
    }
}
