// The engine: the same results for any number of jobs, and the verdicts it draws.
import Foundation
import Testing
@testable import Audit
@testable import Kernels

@Suite("Engine")
struct EngineTests {
    func configuration(jobs: Int) -> AuditConfiguration {
        var c = AuditConfiguration.quick
        c.casesPerClass = 4
        c.maxLength = 128
        c.jobs = jobs
        c.kernels = ["seed-softmax", "softmax-shifted", "cross-entropy-log1p", "gradient-onehot"].map {
            Kernel.named($0)!
        }
        return c
    }

    @Test("one job and two give the same cells, counterexamples and verdicts")
    func jobsDoNotMatter() {
        let a = AuditEngine.run(configuration(jobs: 1))
        let b = AuditEngine.run(configuration(jobs: 2))
        #expect(a.cells.map(\.maxULPs) == b.cells.map(\.maxULPs))
        #expect(a.cells.map(\.bitsSum) == b.cells.map(\.bitsSum), "sums merged in case order, not thread order")
        #expect(a.cells.map(\.failingCases) == b.cells.map(\.failingCases))
        #expect(a.shrunk.map(\.minimal) == b.shrunk.map(\.minimal))
        #expect(a.verdicts.map(\.status) == b.verdicts.map(\.status))
    }

    @Test("flawed kernels are caught, accurate ones pass")
    func verdicts() {
        let r = AuditEngine.run(configuration(jobs: 2))
        let status = Dictionary(uniqueKeysWithValues: r.verdicts.map { ($0.kernel.name, $0.status) })
        #expect(status["seed-softmax"] == .flawDetected)
        #expect(status["gradient-onehot"] == .flawDetected)
        #expect(status["softmax-shifted"] == .passed)
        #expect(status["cross-entropy-log1p"] == .passed)
        #expect(r.passed)
    }

    @Test("a flawed kernel whose flaw goes unseen fails the run")
    func missedFlaw() {
        var c = configuration(jobs: 2)
        var k = Kernel(name: "claims-a-flaw", summary: "the shifted softmax", expectation: .flawed("none, really"))
        k.implement(.softmax, .perLogit(Shifted.softmax))
        c.kernels = [k]
        c.classes = [InputClass.named("normal")!]
        let r = AuditEngine.run(c)
        #expect(r.verdicts[0].status == .flawMissed && !r.passed)
        #expect(r.problems.first?.contains("claims-a-flaw") == true)
    }

    @Test("histogram bins double from 0.5 ulp")
    func bins() {
        #expect(ULPBins.index(0) == 0 && ULPBins.index(0.5) == 0 && ULPBins.index(0.75) == 1 && ULPBins.index(1) == 1)
        #expect(
            ULPBins.index(1.5) == 2 && ULPBins.index(2) == 2 && ULPBins.index(3) == 3
                && ULPBins.index(.infinity) == ULPBins.count - 1)
    }
}

@Suite("Shards")
struct ShardTests {
    @Test("shards written, read back and merged give the same result as one run")
    func merge() throws {
        var c = AuditConfiguration.quick
        c.casesPerClass = 5
        c.maxLength = 96
        c.kernels = ["seed-cross-entropy", "softmax-online", "gradient-onehot"].map { Kernel.named($0)! }
        let whole = AuditEngine.run(c)
        var files: [(path: String, file: ShardFile)] = []
        for k in [2, 3, 1] {
            let shard = AuditEngine.runShard(c, shard: k, of: 3, command: "softmax-audit run --test")
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("shard-\(k)-\(getpid()).json").path
            try shard.encoded().write(toFile: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: path) }
            files.append((path, try ShardFile.load(path)))
        }
        let (merged, command) = try AuditEngine.merge(files, jobs: 2)
        #expect(command == "softmax-audit run --test")
        #expect(merged.cells.map(\.maxULPs) == whole.cells.map(\.maxULPs))
        #expect(merged.cells.map(\.bitsSum) == whole.cells.map(\.bitsSum))
        #expect(merged.cells.map(\.histogram) == whole.cells.map(\.histogram))
        #expect(merged.cells.map(\.failingCases) == whole.cells.map(\.failingCases))
        #expect(merged.shrunk.map(\.minimal) == whole.shrunk.map(\.minimal))
        #expect(merged.worst.map(\.ulps) == whole.worst.map(\.ulps))
        // A missing shard is refused.
        #expect(throws: ShardError.self) { try AuditEngine.merge(Array(files.prefix(2)), jobs: 1) }
    }

    @Test("shards of the precision audit merge with the precision classes, whose names overlap the binary64 ones")
    func precisionMerge() throws {
        var c = AuditConfiguration.quick
        c.casesPerClass = 3
        c.maxLength = 64
        c.kernels = [Kernel.named("softmax-shifted@float16")!]
        c.classes = ["normal", "uniform-row-past-256"].map { name in InputClass.precision.first { $0.name == name }! }
        let whole = AuditEngine.run(c)
        var files: [(path: String, file: ShardFile)] = []
        for k in [1, 2] {
            let shard = AuditEngine.runShard(
                c, shard: k, of: 2, command: "softmax-audit run --precision", precision: true)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent(
                "precision-shard-\(k)-\(getpid()).json"
            ).path
            try shard.encoded().write(toFile: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: path) }
            files.append((path, try ShardFile.load(path)))
        }
        let (merged, _) = try AuditEngine.merge(files, jobs: 1)
        #expect(
            merged.cells.map(\.maxULPs) == whole.cells.map(\.maxULPs), "the precision 'normal' class, not binary64's")
        #expect(merged.cells.map(\.key) == whole.cells.map(\.key))
    }
}

@Suite("The precision audit")
struct PrecisionAuditTests {
    @Test(
        "float16 and bfloat16 accumulation and -log of an underflowed p_t are caught; the mixed-precision kernels pass")
    func verdicts() {
        var configuration = AuditConfiguration.quick
        // Attention's format kernels have classes of their own (AttentionTests).
        configuration.kernels = Kernel.formatKernels.filter { !$0.functions.contains { $0.shape.isAttention } }
        configuration.classes = [
            "normal", "uniform-row-past-256", "uniform-row-past-2048", "near-float16-overflow", "near-float-overflow",
            "dominant-8", "dominant-18", "label-on-smallest",
        ]
        .map { name in InputClass.precision.first { $0.name == name }! }
        configuration.casesPerClass = 6
        configuration.maxLength = 4096
        let result = AuditEngine.run(configuration)
        for v in result.verdicts {
            #expect(v.isGood, "\(v.kernel.name): \(v.status.rawValue), failures \(v.failures)")
        }
        // The float16-accumulated softmax on a uniform row past 2048: off by the ratio, shrunk to a row.
        let shrunk = result.shrunk.filter { $0.kernel == "softmax-shifted@float16" }
        #expect(!shrunk.isEmpty, "no shrunk counterexample for softmax-shifted@float16")
        #expect(
            result.cells.filter { $0.kernel == "softmax-shifted@float16" && $0.inputClass == "uniform-row-past-2048" }
                .allSatisfy { $0.maxULPs > 100 }, "a uniform row of 2,049 to 4,096 logits is off by the ratio n/2048")
    }
}

@Suite("Exhaustive sweeps")
struct SweepTests {
    @Test("every float16 and bfloat16 value, in order, both zeros and infinities, one NaN")
    func values() {
        let half = Sweep.values(of: .float16)
        // 2^16 patterns, less the 2 · (2^10 − 1) NaNs, plus one NaN.
        #expect(half.count == 65_536 - 2 * 1023 + 1)
        let ordered = half.dropLast()
        #expect(zip(ordered, ordered.dropFirst()).allSatisfy { $0 < $1 || ($0 == 0 && $1 == 0) })
        #expect(ordered.first == -.infinity && ordered.last == .infinity && half.last!.isNaN)
        #expect(Sweep.values(of: .bfloat16).count == 65_536 - 2 * 127 + 1)
    }

    @Test("log(1 + exp(x)) computed in float fails exactly from the first float16 above 88.72 to the largest")
    func naiveSoftplusRange() throws {
        // exp overflows float above log(FLT_MAX) = 88.7228; float16 values there are multiples of 1/16.
        let k = try #require(Kernel.formatKernels.first { $0.name == "softplus-naive@float16+float" })
        let r = try #require(Sweep.run([k], jobs: 2).first)
        // From 88.75 to 65504: (128 − 88.75) · 16 = 628 values of spacing 1/16 below 128, then the 9 whole
        // binades [2^7, 2^8) … [2^15, 2^16) of 1,024 values each.
        let expected = 628 + 9 * 1024
        #expect(r.failingRanges == [SweepRange(lower: 88.75, upper: 65504, count: expected)], "\(r.failingRanges)")
        #expect(r.failing == expected)
        let stable = try #require(Kernel.formatKernels.first { $0.name == "sigmoid-stable@float16+float" })
        let s = try #require(Sweep.run([stable], jobs: 2).first)
        // Computed in float (5 float ulps, 5 · 2^-13 of a float16 ulp at most) and rounded once to float16:
        // within half a float16 ulp and that much, though a few outputs round the other way.
        #expect(s.failing == 0 && s.maxULPs <= 0.5 + 5 * 0x1p-13, "\(s.maxULPs) ulps")
        #expect(s.misrounded > 0 && s.misrounded < 100, "\(s.misrounded) misrounded")
    }
}
