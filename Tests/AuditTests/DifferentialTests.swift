// The fast path against the MPFR path on every input class of the audit: wherever the fast path
// answers, the rounded values are the same bits and the offsets agree within the two bounds (2^-24 ulp
// each). Rows of the long-rows class and a 100,000-logit row are included.
import Audit
import Kernels
import Testing
@testable import Reference

@Suite("Fast path versus MPFR on the audit's classes")
struct DifferentialTests {
    func compare(_ a: [ReferenceValue], _ b: [ReferenceValue], _ what: @autoclosure () -> String) {
        #expect(a.count == b.count, "\(what()): \(a.count) values, MPFR \(b.count)")
        for (i, (p, q)) in zip(a, b).enumerated()
        where
            !(p.rounded.bitPattern == q.rounded.bitPattern && p.kind == q.kind
            && (p.ulpOffset - q.ulpOffset).magnitude <= 0x1p-23)
        {
            Issue.record("\(what()), element \(i): fast path \(p), MPFR \(q)")
            return
        }
    }

    @Test("every class and function, 40 cases each (rows up to 1,000 logits): same bits; fallbacks counted per class")
    func everyClass() throws {
        let auto = SoftmaxReference()
        let mpfr = SoftmaxReference()
        mpfr.fastPath = .mpfr
        var perClass: [String] = []
        for inputClass in InputClass.all {
            let before = auto.fastPathCounts
            for index in 0..<40 {
                let c = inputClass.makeCase(seed: 11 + UInt64(index % 2) * 66, index: index, maxLength: 1_000)
                let what = "\(inputClass.name) case \(index)"
                for f in AuditFunction.allCases where f.applies(to: c) {
                    compare(try f.reference(auto, on: c), try f.reference(mpfr, on: c), "\(what), \(f.rawValue)")
                }
            }
            let counts = auto.fastPathCounts - before
            perClass.append(
                "\(inputClass.name): fast \(counts.fast), fallback \(counts.fallback), MPFR only \(counts.uncovered)")
        }
        let total = auto.fastPathCounts
        #expect(
            total.fast > 15 * total.fallback,
            "fast \(total.fast), fallback \(total.fallback): \(perClass.joined(separator: "; "))")
        #expect(mpfr.fastPathCounts.fast == 0 && mpfr.fastPathCounts.fallback == 0)
    }

    @Test("every class, 400 more cases of at most 16 logits each (where signs of zero and ties live): same bits")
    func shortRows() throws {
        let auto = SoftmaxReference()
        let mpfr = SoftmaxReference()
        mpfr.fastPath = .mpfr
        for inputClass in InputClass.all {
            for index in 0..<400 {
                let c = inputClass.makeCase(seed: AuditConfiguration.defaultSeed, index: index, maxLength: 16)
                for f in AuditFunction.allCases where f.applies(to: c) {
                    compare(
                        try f.reference(auto, on: c), try f.reference(mpfr, on: c),
                        "\(inputClass.name) case \(index) (max 16), \(f.rawValue)")
                }
            }
        }
    }

    @Test("rows of 20,000 and 100,000 logits: same bits")
    func longRows() throws {
        let auto = SoftmaxReference()
        let mpfr = SoftmaxReference()
        mpfr.fastPath = .mpfr
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func unit() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) * 0x1p-53
        }
        let medium = (0..<20_000).map { _ in 40 * unit() - 20 }
        let long = (0..<100_000).map { i in i == 7 ? 30 : 8 * unit() - 4 }
        compare(try auto.softmax(long), try mpfr.softmax(long), "softmax of 100,000 logits")
        compare(try auto.logSoftmax(long), try mpfr.logSoftmax(long), "log-softmax of 100,000 logits")
        compare([try auto.logSumExp(medium)], [try mpfr.logSumExp(medium)], "logsumexp of 20,000 logits")
        compare(
            [try auto.crossEntropy(medium, target: .label(3))], [try mpfr.crossEntropy(medium, target: .label(3))],
            "cross-entropy of 20,000 logits")
        compare(
            try auto.crossEntropyGradient(medium, target: .label(3)),
            try mpfr.crossEntropyGradient(medium, target: .label(3)),
            "gradient of 20,000 logits")
        #expect(auto.fastPathCounts.fallback == 0 && auto.fastPathCounts.fast == 5)
    }
}
