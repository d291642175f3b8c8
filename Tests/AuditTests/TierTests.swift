// The two tiers of a verdict: the textbook algorithms the catalogue carries as kernels must land in the
// textbook tier (their declared bound holds on every class), the best-known ones in the best-known tier, and
// a kernel that overflows beyond both.
import Foundation
import Testing
@testable import Audit
@testable import Kernels
@testable import Reference
import Formats

@Suite("Verdict tiers")
struct TierTests {
    /// The kernels judged in tiers, as an external audit judges its worker.
    func audit(_ names: [String], precision: Bool = false, cases: Int = 40) -> AuditResult {
        var c = AuditConfiguration()
        c.casesPerClass = cases
        c.maxLength = 512
        c.kernels = names.map { name in
            var k = (precision ? Kernel.formatKernels : Kernel.all).first { $0.name == name }!
            k.judging.tiers = true
            return k
        }
        c.classes = precision ? InputClass.precision : InputClass.all
        return AuditEngine.run(c)
    }

    func tiers(_ r: AuditResult) -> [String: VerdictTier] {
        var out: [String: VerdictTier] = [:]
        for k in r.kernels { for t in r.tiers(kernel: k) { out["\(k.name) \(t.function.rawValue)"] = t.tier } }
        return out
    }

    /// Each kernel's worst textbook ratio and the first failing detail, for the failure message.
    func evidence(_ r: AuditResult) -> String {
        r.cells.filter { $0.failureCounts[.textbookExceeded] != nil }.map {
            "\($0.key): \($0.failureSummary(.textbookExceeded)), ratio \($0.maxTextbookRatio)"
        }.joined(separator: "\n")
    }

    /// A float16 kernel (float accumulator) judged in tiers, with no functions yet.
    func float16Kernel(_ name: String) -> Kernel {
        var k = Kernel(name: name, summary: "a float16 kernel", expectation: .accurate)
        k.precision = KernelPrecision(storage: .float16, accumulator: .float)
        k.judging.tiers = true
        return k
    }

    /// A kernel audited over the precision classes, 30 cases each, rows up to 512 logits.
    func auditOnPrecisionClasses(_ k: Kernel) -> AuditResult {
        var c = AuditConfiguration()
        c.casesPerClass = 30
        c.maxLength = 512
        c.kernels = [k]
        c.classes = InputClass.precision
        return AuditEngine.run(c)
    }

    @Test("the textbook algorithms are within their textbook bounds on every binary64 class, and fail the best-known")
    func textbookKernels() {
        let r = audit([
            "log-softmax-shifted", "gradient-onehot", "sigmoid-naive", "sigmoid-gradients-from-output",
            "bce-with-logits-pytorch",
        ])
        let t = tiers(r)
        let expected = [
            "log-softmax-shifted log-softmax", "log-softmax-shifted logsumexp",
            "gradient-onehot cross-entropy-gradient",
            "sigmoid-naive sigmoid", "sigmoid-gradients-from-output sigmoid-gradient",
            "sigmoid-gradients-from-output log-sigmoid-gradient", "bce-with-logits-pytorch binary-cross-entropy",
            "bce-with-logits-pytorch binary-cross-entropy-gradient",
        ]
        for name in expected {
            #expect(
                t[name] == .textbook,
                """
                \(name): expected the textbook tier (fails the best-known bound, within the textbook one), \
                got \(t[name].map(\.rawValue) ?? "none")
                \(evidence(r))
                """)
        }
    }

    @Test("the textbook algorithms in float, float16 and bfloat16 are within their textbook bounds")
    func narrowTextbookKernels() {
        let names = ["sigmoid-gradients-from-output", "softplus-naive"].flatMap { name in
            ["float", "float16", "bfloat16", "float16+float"].map { "\(name)@\($0)" }
        }
        let r = audit(names, precision: true, cases: 30)
        #expect(r.cells.contains { $0.failureCounts[.boundExceeded] != nil }, "they fail the best-known bound")
        #expect(
            !r.cells.contains { $0.failureCounts[.textbookExceeded] != nil },
            "no case beyond a textbook bound, got:\n\(evidence(r))")
    }

    @Test("the best-known algorithms are best-known, and an overflowing softmax is beyond")
    func bestKnownAndBeyond() {
        let r = audit(["softmax-shifted", "logsumexp-log1p", "gradient-complement", "seed-softmax"], cases: 12)
        let t = tiers(r)
        #expect(t["softmax-shifted softmax"] == .bestKnown, "got \(String(describing: t["softmax-shifted softmax"]))")
        #expect(t["logsumexp-log1p log-softmax"] == .bestKnown && t["logsumexp-log1p logsumexp"] == .bestKnown)
        #expect(t["gradient-complement cross-entropy-gradient"] == .bestKnown)
        #expect(t["seed-softmax softmax"] == .beyond, "NaN from exp's overflow is beyond any declared algorithm")
        let beyond = r.tiers(kernel: r.kernels.last!).first!.beyond
        #expect(beyond[.specialValue(.nanForNumber)] != nil, "the NaN is what places it beyond: \(beyond)")
    }

    @Test("a softmax summed in float16 itself is beyond the textbook tier; summed in float it is best-known")
    func sumInTheNarrowFormat() {
        let r = audit(["softmax-shifted@float16", "softmax-shifted@float16+float"], precision: true, cases: 20)
        let t = tiers(r)
        #expect(t["softmax-shifted@float16 softmax"] == .beyond, "\(t)")
        #expect(t["softmax-shifted@float16+float softmax"] == .bestKnown, "\(t)\n\(evidence(r))")
    }

    @Test("a float16 gradient read back from a stored log-softmax, as autograd does, is textbook, not beyond")
    func gradientFromStoredLogSoftmax() {
        var k = float16Kernel("stored-log-softmax")
        k.implement(
            .crossEntropyGradient,
            .general { c in
                // ℓ rounded to float16 (stored), p = e^ℓ in float rounded to float16, then p − onehot.
                let l = Shifted.logSoftmaxLog1p(c.row).map(BinaryFormat.float16.round)
                return l.indices.map { j in
                    let p = BinaryFormat.float16.round(BinaryFormat.float.round(Foundation.exp(l[j])))
                    return BinaryFormat.float16.round(j == c.label ? p - 1 : p)
                }
            })
        let r = auditOnPrecisionClasses(k)
        let t = r.tiers(kernel: k).first
        #expect(t?.tier == .textbook, "got \(String(describing: t?.tier)), \(evidence(r))")
    }

    @Test("float16 softmax and log-softmax that store x − max and the sum in float16 (summed in float): textbook")
    func storedIntermediates() {
        let h = BinaryFormat.float16.round, f = BinaryFormat.float.round
        var k = float16Kernel("stored-intermediates")
        k.implement(
            .softmax,
            .general { c in
                let m = c.row.max()!
                let e = c.row.map { f(Foundation.exp(h($0 - m))) }  // x − max stored in float16
                let s = e.reduce(0) { f($0 + $1) }
                return e.map { h($0 / s) }
            })
        k.implement(
            .logSoftmax,
            .general { c in
                let m = c.row.max()!
                let s = h(c.row.reduce(0) { f($0 + f(Foundation.exp($1 - m))) })  // the sum stored in float16
                let l = h(f(Foundation.log(s)))
                return c.row.map { h(h($0 - m) - l) }
            })
        let r = auditOnPrecisionClasses(k)
        #expect(
            r.tiers(kernel: k).map(\.tier) == [.textbook, .textbook],
            """
            both fail the best-known bound and stay within the textbook one: \
            \(r.tiers(kernel: k).map { "\($0.function): \($0.tier)" })\n\(evidence(r))
            """)
    }

    @Test("logsumexp with L stored in float16 where max ≈ −L (the reviewer's row) is within the textbook bound")
    func storedLogOfSum() throws {
        let h = BinaryFormat.float16.round
        var k = float16Kernel("stored-l")
        k.implement(.logSumExp, .general { c in [h(c.row.max()! + h(Foundation.log(2)))] })
        let c = AuditCase([-0.69287109375, -0.69287109375], label: 0)
        let checker = CaseChecker()
        let (cf, expected) = try AuditFunction.logSumExp.expected(for: k, on: c, reference: checker.reference)
        let outcome = try #require(try checker.check(k, .logSumExp, cf, expected: expected))
        // L = log 2 = 0.6931…, stored as 0.693359375 (the nearest float16): 0.00048828125 against 2.76e-4, an error
        // of u_S L that the best-known bound's one storage rounding of L already allows.
        #expect(outcome.output == [0.00048828125], "hand-derived output, got \(outcome.output)")
        #expect(
            !outcome.failures.contains { $0.kind == .textbookExceeded },
            "within the textbook bound: \(outcome.failures), ratio \(outcome.maxTextbookRatio)")
    }

    @Test("a kernel not judged in tiers has none, and its failures count as before")
    func untiered() {
        var c = AuditConfiguration.quick
        c.casesPerClass = 4
        c.kernels = [Kernel.named("gradient-onehot")!]
        let r = AuditEngine.run(c)
        #expect(r.tiers(kernel: r.kernels[0]).isEmpty)
        #expect(!r.cells.contains { $0.failureCounts[.textbookExceeded] != nil || $0.maxTextbookRatio != 0 })
    }

    @Test("the log-of-sum allowance is −log(1 − expm1((n + 1 + w)u)), worked by hand for n = 3, w = 5")
    func logOfSumAllowance() throws {
        let u = 0x1p-53
        let expected = -Foundation.log1p(-Foundation.expm1(9 * u))  // n + 1 + w = 3 + 1 + 5
        let c = AuditCase([0, -5, -1], label: 0)
        let allowances = try ErrorBounds.textbookAllowances(
            .logSoftmax, case: c, reference: SoftmaxReference(), units: .double)
        #expect(
            allowances == [expected, expected, expected], "expected \(expected), got \(String(describing: allowances))")
        #expect(abs(expected / (9 * u) - 1) < 1e-14, "first order: 9u")
        let gradient = try ErrorBounds.textbookAllowances(
            .crossEntropyGradient, case: c, reference: SoftmaxReference(), units: .double)!
        // At the label: the shifted softmax's n + 4 + 2w = 17 units; elsewhere nothing added.
        #expect(gradient == [Foundation.expm1(17 * u), 0, 0], "got \(gradient)")
        #expect(
            try ErrorBounds.textbookAllowances(.softmax, case: c, reference: SoftmaxReference(), units: .double) == nil,
            "the shifted softmax is its own textbook algorithm")
    }
}
