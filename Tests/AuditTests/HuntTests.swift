// The hunt: it finds narrow planted flaws that sampling misses, walks them to ranges that bracket the planted
// region, stays within the bound on accurate kernels, and gives the same result whatever the threads. The
// condition numbers are checked against closed forms worked out by hand.
import Foundation
import Testing
@testable import Audit
@testable import Kernels

@Suite("Hunt")
struct HuntTests {
    /// A short hunt (the tests run in a debug build): rows up to `maxLength`.
    func configuration(_ evaluations: Int, maxLength: Int = 256, jobs: Int = 2) -> HuntConfiguration {
        var c = HuntConfiguration()
        c.evaluations = evaluations
        c.maxLength = maxLength
        c.jobs = jobs
        c.shrinkBudget = 40
        return c
    }

    func range(_ t: HuntTarget, _ axis: FailingRange.Axis) -> FailingRange? { t.ranges.first { $0.axis == axis } }

    @Test("a flaw at odd lengths 37 to 61 is found, and its range is exactly the odd n in [37, 61]")
    func oddWidths() throws {
        var k = Kernel(name: "odd-window", summary: "p off by 2^-20 for odd rows of 37 to 61", expectation: .accurate)
        k.implement(
            .softmax,
            .perLogit { x in
                let p = Shifted.softmax(x)
                return x.count % 2 == 1 && (37...61).contains(x.count) ? p.map { $0 * (1 + 0x1p-20) } : p
            })
        let t = Hunt.hunt(k, .softmax, configuration(600, maxLength: 128))
        #expect(t.failed, "not found in \(t.evaluations) evaluations; worst \(t.worst.map { $0.ratio } ?? -1)")
        let r = try #require(range(t, .length), "no length range among \(t.ranges.map(\.text))")
        #expect(r.low == 37 && r.high == 61 && r.text.hasPrefix("odd n"), "range \(r.text)")
        #expect(r.lowEdge?.row.count == 37 && r.highEdge?.row.count == 61, "edges keep their lengths")
    }

    @Test("the planted lead window [45, 45.5) is found and bracketed to within 0.01 at each end")
    func leadWindow() throws {
        let k = try #require(Kernel.named("planted-lead-window"))
        let t = Hunt.hunt(k, .logSoftmax, configuration(3_000, maxLength: 64))
        #expect(t.failed, "not found in \(t.evaluations) evaluations")
        let r = try #require(range(t, .lead), "no lead range among \(t.ranges.map(\.text))")
        #expect(abs(r.low - 45) < 0.01 && abs(r.high - 45.5) < 0.01, "range \(r.text)")
    }

    @Test("the planted offset binade [2^40, 2^41) is found, and its range is that binade")
    func offsetBinade() throws {
        let k = try #require(Kernel.named("planted-offset-binade"))
        let t = Hunt.hunt(k, .logSumExp, configuration(1_500, maxLength: 64))
        #expect(t.failed, "not found in \(t.evaluations) evaluations")
        let r = try #require(range(t, .maximum), "no maximum range among \(t.ranges.map(\.text))")
        #expect(r.low == 40 && r.high == 40, "range \(r.text)")
    }

    @Test("the planted value one ulp below a power of two is found; its element range is that one value")
    func powerOfTwo() throws {
        let k = try #require(Kernel.named("planted-power-of-two"))
        let t = Hunt.hunt(k, .softmax, configuration(800, maxLength: 64))
        #expect(t.failed, "not found in \(t.evaluations) evaluations")
        let r = try #require(range(t, .element), "no element range among \(t.ranges.map(\.text))")
        #expect(
            r.low == r.high && r.low.magnitude >= 1 && r.low.significandBitPattern == (1 << 52) - 1,
            "range \(r.text)")
    }

    @Test(
        "accurate kernels stay within their bounds",
        arguments: [
            "softmax-shifted", "logsumexp-log1p",
            "cross-entropy-log1p", "gradient-complement", "softplus-log1p", "softmax-shifted@float16+float",
        ])
    func accurate(_ name: String) throws {
        let k = try #require(Kernel.named(name))
        for f in k.functions {
            let t = Hunt.hunt(k, f, configuration(150))
            #expect(
                !t.failed,
                "\(name) \(f.rawValue): \(t.worst?.failure?.detail ?? "") on \(t.worst?.input.decimalText ?? "")")
            #expect(t.evaluations == 150)
        }
    }

    @Test("the same seed and budget give the same hunt with one thread or two")
    func deterministic() throws {
        let k = try #require(Kernel.named("planted-power-of-two"))
        let a = Hunt.hunt(k, .softmax, configuration(200, maxLength: 64, jobs: 1))
        let b = Hunt.hunt(k, .softmax, configuration(200, maxLength: 64, jobs: 2))
        #expect(a.worst?.input == b.worst?.input && a.worst?.ratio == b.worst?.ratio)
        #expect(a.growth.map(\.evaluation) == b.growth.map(\.evaluation) && a.firstFailure == b.firstFailure)
        #expect(a.ranges.map(\.text) == b.ranges.map(\.text) && a.shrunk == b.shrunk)
    }

    @Test("condition numbers match their closed forms on ties and on the sigmoid at -log 3")
    func conditionNumbers() {
        // A tie [3, 3]: p = 1/2, logsumexp = 3 + log 2.
        let tie = AuditCase([3, 3], label: 0)
        let cases: [(AuditFunction, AuditCase, Double)] = [
            (.logSumExp, tie, 3 / (3 + M_LN2)),
            (.softmax, tie, 3),  // |x_j|(1 − p_j) + p_i |x_i| = 3/2 + 3/2
            (.logSoftmax, tie, 3 / M_LN2),
            (.crossEntropy, tie, 3 / M_LN2),
            // σ(−log 3) = 1/4, σ(log 3) = 3/4: κ = |x| σ(−x) = log 3 · 3/4.
            (.sigmoid, AuditCase([-log(3.0)], label: 0), log(3.0) * 0.75),
            // A dominant label: with s = e^-45, c_0 = 0·(1 − p_0) + p_1·45 and |log p_0| = log1p(s) ≈ p_1.
            (.crossEntropy, AuditCase([0, -45], label: 0), 45),
            // The same under the offset −2^27: c_0 = 2^27·p_1 + p_1·(2^27 + 45), nothing cancelling.
            (.crossEntropy, AuditCase([-0x1p27, -0x1p27 - 45], label: 0), 0x1p28 + 45),
        ]
        for (f, c, expected) in cases {
            let observed = ConditionNumbers.largest(f, c)
            #expect(
                abs(observed - expected) <= 1e-14 * expected,
                "\(f.rawValue) on \(c.decimalText): expected \(expected), observed \(observed)")
        }
    }

    @Test("a walk's ends are a failing value beside a passing one")
    func walkEnds() {
        let walker = FailingRanges(
            kernel: Kernel.named("softmax-shifted")!, function: .softmax, kind: .boundExceeded,
            space: HuntSpace(function: .softmax, format: .double, maxLength: 64), checker: CaseChecker())
        let fails: (Int64) -> Bool = { (1_000...123_456).contains($0) }
        let w = walker.walk(from: 5_000, step: 1, domain: -1_000_000...1_000_000, fails)
        #expect(w.low == 1_000 && w.high == 123_456 && !w.lowOpen && !w.highOpen, "\(w)")
        let odd = walker.walk(from: 41, step: 2, domain: 1...1_000) { $0 % 2 == 1 && (17...301).contains($0) }
        #expect(odd.low == 17 && odd.high == 301, "\(odd)")
        let open = walker.walk(from: 10, step: 1, domain: 0...100) { $0 >= 3 }
        #expect(open.low == 3 && open.high == 100 && open.highOpen && !open.lowOpen, "\(open)")
    }
}
