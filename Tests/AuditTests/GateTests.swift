// The gate: realistic mistakes in accurate kernels fail it, naming kernel, class and row; a slightly
// worse kernel trips the baseline; the cap cannot be exceeded.
import Foundation
import Testing
@testable import Audit
@testable import Kernels

@Suite("Gate and baselines")
struct GateTests {
    func configuration(_ kernels: [Kernel]) -> AuditConfiguration {
        var c = AuditConfiguration.quick
        c.casesPerClass = 6
        c.maxLength = 256
        c.kernels = kernels
        return c
    }

    /// The kernel `name`, with its softmax (or other function) replaced by a degraded version.
    func degraded(_ name: String, _ change: (inout Kernel) -> Void) -> Kernel {
        var k = Kernel.named(name)!
        change(&k)
        return k
    }

    @Test(
        "realistic mistakes fail the gate with the kernel, class and row named",
        arguments: [
            "sum in Float", "no shift", "log instead of log1p", "p_t - 1 at the label",
        ])
    func mistakes(_ mistake: String) {
        let k: Kernel
        switch mistake {
        case "sum in Float":
            k = degraded("softmax-shifted") {
                $0.implement(
                    .softmax,
                    .perLogit { x in
                        let m = x.max()!
                        let e = x.map { exp($0 - m) }
                        let total = Double(e.reduce(Float(0)) { $0 + Float($1) })
                        return e.map { $0 / total }
                    })
            }
        case "no shift":
            k = degraded("softmax-shifted") {
                $0.implement(
                    .softmax,
                    .perLogit { x in
                        let e = x.map { exp($0) }; let t = e.reduce(0, +); return e.map { $0 / t }
                    })
            }
        case "log instead of log1p":
            k = degraded("logsumexp-log1p") { $0.implement(.logSumExp, .scalar(Shifted.logSumExpLog)) }
        default:
            k = degraded("gradient-complement") {
                $0.implement(.crossEntropyGradient, .labeledPerLogit(Gradient.onehotGradient))
            }
        }
        let r = AuditEngine.run(configuration([k]))
        let gate = r.gate(failOn: Set(GateCheck.allCases), baseline: nil)
        #expect(!gate.passed, "\(mistake) was not caught")
        let line = gate.failures.first ?? ""
        #expect(line.hasPrefix(k.name + " × ") && line.contains("case #") && line.contains("minimal row:"), "\(line)")
    }

    @Test("a kernel made slightly worse trips the baseline; the unchanged kernel does not")
    func baseline() {
        let good = Kernel.named("softmax-shifted")!
        let recorded = AuditEngine.run(configuration([good]))
        let section = recorded.baselineSection(command: "test")
        #expect(AuditEngine.run(configuration([good])).compare(with: section).regressions.isEmpty)
        // About two ulps worse on every element (× (1 − 2^-51)): inside the bound, above the baseline.
        let worse = degraded("softmax-shifted") {
            $0.implement(.softmax, .perLogit { x in Shifted.softmax(x).map { $0 * (1 - 0x1p-51) } })
        }
        let run = AuditEngine.run(configuration([worse]))
        let comparison = run.compare(with: section)
        #expect(!comparison.regressions.isEmpty)
        #expect(run.gate(failOn: [.bound, .property, .special], baseline: comparison).passed, "within the bound")
        let gate = run.gate(failOn: Set(GateCheck.allCases), baseline: comparison)
        #expect(
            !gate.passed
                && gate.failures.contains { $0.hasPrefix("baseline exceeded: softmax-shifted × softmax × ") })
        // And the better kernel's improvements are reported against the worse one's baseline.
        #expect(!recorded.compare(with: run.baselineSection(command: "test")).improvements.isEmpty)
    }

    @Test("the cap: a baseline cannot record an accurate kernel above its bound")
    func cap() throws {
        let broken = degraded("logsumexp-log1p") { $0.implement(.logSumExp, .scalar(Shifted.logSumExpLog)) }
        let r = AuditEngine.run(configuration([broken]))
        #expect(!r.capViolations.isEmpty && r.capViolations[0].hasPrefix("logsumexp-log1p × logsumexp × "))
        let fine = AuditEngine.run(configuration([Kernel.named("logsumexp-log1p")!]))
        #expect(fine.capViolations.isEmpty)
        // Flawed kernels are recorded as they are: the cap is for kernels declared accurate.
        #expect(AuditEngine.run(configuration([Kernel.named("log-softmax-shifted")!])).capViolations.isEmpty)
    }

    @Test("baseline files round-trip, sections keyed by configuration")
    func files() throws {
        let r = AuditEngine.run(configuration([Kernel.named("seed-softmax")!]))
        let file = BaselineFile().updated(with: r, command: "x")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("baseline-\(getpid()).json").path
        try file.encoded().write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let back = try BaselineFile.load(path)
        #expect(back == file && back.section(for: r) != nil, "inf ratios survive the round trip")
        #expect(back.updated(with: r, command: "x").sections.count == 1, "an update replaces its own section")
    }
}
