// The exhaustive sweep of float16 pairs: its bisection over b and its bookkeeping against a direct count,
// the certified reference called on every pair, on a subset of the float16 values.
import Foundation
import Testing

@testable import Audit
@testable import Kernels
@testable import Reference

@Suite("Pair sweep")
struct PairSweepTests {
    /// Every 307th float16 value, both zeros, both infinities and the NaN, in the sweep's order.
    static let subset: [Double] = {
        let all = Sweep.values(of: .float16)
        return all.indices.filter { $0 % 307 == 0 || !all[$0].isFinite || all[$0] == 0 }.map { all[$0] }
    }()

    struct Counts: Equatable, CustomStringConvertible {
        var misrounded = 0, failing = 0, conventions = 0
        var maxULPs = 0.0
        /// The extent of a − b over the failing pairs.
        var failingDifferences: ClosedRange<Double>? = nil

        var description: String {
            "misrounded \(misrounded), failing \(failing), conventions \(conventions), max ULP \(maxULPs), "
                + "failing a - b in \(failingDifferences.map { "\($0)" } ?? "-")"
        }
    }

    /// The counts from the certified reference on every pair, and the bound from the binary64 logsumexp.
    func directCounts(_ k: Kernel, _ f: AuditFunction) throws -> (Counts, maxRatio: Double) {
        let r = SoftmaxReference(), r64 = SoftmaxReference()
        r.format = .float16
        var counts = Counts()
        var maxRatio = 0.0
        for a in Self.subset {
            for b in Self.subset {
                let c = AuditCase([a, b], label: 0)
                let expected = try f.reference(r, on: c), output = k.output(f, on: c)!
                guard a.isFinite && b.isFinite else {
                    let same = zip(output, expected).allSatisfy { o, e in
                        o.bitPattern == e.rounded.bitPattern || (o.isNaN && e.kind == .undefined)
                    }
                    if !same { counts.conventions += 1 }
                    continue
                }
                let l = try r64.logSumExp([a, b]).rounded - max(a, b)
                let bound = ErrorBounds.rowBound(
                    k.bound(for: f)!, n: 2, w: (a - b).magnitude, l: l, units: Units(k.precision.standard))!
                var wrong = false, fails = false
                for (o, e) in zip(output, expected) {
                    let error = ElementError(computed: o, reference: e)
                    if !error.isCorrectlyRounded { wrong = true }
                    if let s = error.special, s != .wrongSignOfZero {
                        fails = true
                        continue
                    }
                    counts.maxULPs = max(counts.maxULPs, error.ulps)
                    let ratio = error.absolute == 0 ? 0 : error.absolute / bound.allowance(e.rounded.magnitude)
                    maxRatio = max(maxRatio, ratio)
                    if ratio > 1 { fails = true }
                }
                if wrong { counts.misrounded += 1 }
                if fails {
                    counts.failing += 1
                    let d = a - b, hull = counts.failingDifferences ?? d...d
                    counts.failingDifferences = min(hull.lowerBound, d)...max(hull.upperBound, d)
                }
            }
        }
        return (counts, maxRatio)
    }

    static let kernels = [
        "softmax-shifted@float16", "logsumexp-log1p@float16", "cross-entropy-log-softmax@float16+float",
        "cross-entropy-log1p@float16+float",
    ].map { Kernel.named($0)! }

    @Test("the bisection's reference and the sweep's counts match the reference called on every pair")
    func matchesDirectCount() throws {
        let summary = PairSweep.run(Self.kernels, jobs: 2, values: Self.subset)
        #expect(summary.results.count == Self.kernels.count)
        for result in summary.results {
            let (direct, maxRatio) = try directCounts(result.kernel, result.function)
            var swept = Counts(
                misrounded: result.misrounded, failing: result.failing, conventions: result.conventionDifferences,
                maxULPs: result.maxULPs, failingDifferences: result.failingDifferences.map { $0.lower...$0.upper })
            // The sweep's offsets come from binary64 evaluations (within 2^-28 ulp), the direct ones from the
            // reference (within 2^-24 ulp).
            if (swept.maxULPs - direct.maxULPs).magnitude < 0x1p-23 { swept.maxULPs = direct.maxULPs }
            let message = "\(result.kernel.name) \(result.function.rawValue): swept \(swept), direct \(direct)"
            #expect(swept == direct, "\(message)")
            #expect(result.pairs == Self.subset.count * Self.subset.count)
            let ratios = "max error / bound: swept \(result.maxBoundRatio), direct \(maxRatio)"
            #expect((result.maxBoundRatio - maxRatio).magnitude <= 1e-6 * maxRatio, "\(message); \(ratios)")
        }
        for (f, calls) in summary.referenceCalls {
            #expect(calls < Self.subset.count * Self.subset.count, "\(f.rawValue): \(calls) reference calls")
        }
        // The flawed kernels are caught: -log of a stored p_t below 2^-24 is inf.
        let ofSoftmax = summary.results.first { $0.kernel.name == "cross-entropy-log-softmax@float16+float" }!
        #expect(ofSoftmax.failing > 0 && ofSoftmax.failingDifferences!.lower < -16.6)
    }

    @Test("the sweep does not depend on the number of jobs")
    func jobsDoNotMatter() {
        let one = PairSweep.run(Self.kernels, jobs: 1, values: Self.subset)
        let three = PairSweep.run(Self.kernels, jobs: 3, values: Self.subset)
        for (a, b) in zip(one.results, three.results) {
            #expect(
                a.misrounded == b.misrounded && a.failing == b.failing && a.maxULPs == b.maxULPs
                    && a.worst == b.worst && a.maxBoundRatio == b.maxBoundRatio
                    && a.differenceRanges == b.differenceRanges && a.maximumRanges == b.maximumRanges,
                "\(a.kernel.name): one job and three differ")
        }
        #expect(one.referenceCalls == three.referenceCalls)
    }

    @Test("shards written, read back and merged give the unsharded sweep; a bad or missing shard is refused")
    func shardsMerge() throws {
        let whole = PairSweep.run(Self.kernels, jobs: 2, values: Self.subset)
        let shards = try (1...3).map { k in
            let s = PairSweepShard.run(
                Self.kernels, jobs: 1, shard: k, of: 3, command: "c", tool: "t", mpfr: "m", values: Self.subset)
            return try JSONDecoder().decode(PairSweepShard.self, from: Data(try s.json().utf8))
        }
        let (merged, command) = try PairSweepShard.merge(
            shards.enumerated().map { ("shard-\($0.offset + 1)", $0.element) }, tool: "t", mpfr: "m",
            values: Self.subset)
        #expect(command == "c")
        for (a, b) in zip(whole.results, merged.results) {
            #expect(
                a.misrounded == b.misrounded && a.failing == b.failing
                    && a.conventionDifferences
                        == b.conventionDifferences
                    && a.maxULPs == b.maxULPs && a.worst == b.worst
                    && a.maxBoundRatio == b.maxBoundRatio && a.differenceRanges == b.differenceRanges
                    && a.maximumRanges == b.maximumRanges && a.failingDifferences == b.failingDifferences
                    && a.pairs == b.pairs,
                "\(a.kernel.name) \(a.function.rawValue): merged shards differ from the unsharded sweep")
        }
        #expect(whole.referenceCalls == merged.referenceCalls)

        func refusal(_ files: [(String, PairSweepShard)]) -> String {
            do {
                _ = try PairSweepShard.merge(files, tool: "t", mpfr: "m", values: Self.subset)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        let missing = refusal([("a", shards[0]), ("b", shards[1])])
        #expect(missing.contains("shards 3 of 3 are missing"), "\(missing)")
        let twice = refusal([("a", shards[0]), ("b", shards[0]), ("c", shards[2])])
        #expect(twice.contains("'b': field shard"), "\(twice)")
        var tampered = shards[2]
        tampered.counts[0][0].differences.append(.init(bin: 1_000_000, failing: 1, lower: "0x1p+0", upper: "0x1p+0"))
        let bin = refusal([("a", shards[0]), ("b", shards[1]), ("c", tampered)])
        #expect(bin.contains("'c': field differences: bin 1000000"), "\(bin)")
        tampered = shards[2]
        tampered.pairs -= 1
        let pairs = refusal([("a", shards[0]), ("b", shards[1]), ("c", tampered)])
        #expect(pairs.contains("'c': field pairs"), "\(pairs)")
        tampered = shards[2]
        tampered.shards = 0
        let none = refusal([("c", tampered)])
        #expect(none.contains("'c': field shards"), "\(none)")
        tampered = shards[2]
        tampered.tool = "0.0.1"
        let tool = refusal([("a", shards[0]), ("b", shards[1]), ("c", tampered)])
        #expect(tool.contains("'c': field tool: swept by softmax-audit 0.0.1"), "\(tool)")
        // A failing count its bins do not hold, and a worst pair that is not the shard's.
        if let g = shards[2].counts.firstIndex(where: { $0.contains { $0.failing > 0 } }) {
            let k = shards[2].counts[g].firstIndex { $0.failing > 0 }!
            tampered = shards[2]
            tampered.counts[g][k].failing += 1
            let count = refusal([("a", shards[0]), ("b", shards[1]), ("c", tampered)])
            #expect(count.contains("'c': field differences: the bins hold another number"), "\(count)")
            tampered = shards[2]
            tampered.counts[g][k].worst?.first = 0
            let worst = refusal([("a", shards[0]), ("b", shards[1]), ("c", tampered)])
            #expect(worst.contains("'c': field worst"), "\(worst)")
        } else {
            Issue.record("the third shard has no failing kernel to tamper with")
        }
    }
}
