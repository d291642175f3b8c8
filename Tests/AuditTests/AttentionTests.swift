// Attention's audit: every accurate kernel passes and every flawed one is caught with a shrunk row, in binary64
// and in each format; hand-worked kernel outputs and bounds; the properties catch a kernel that breaks them;
// the row syntax of the options.
import Foundation
import Testing
@testable import Audit
@testable import Kernels
@testable import Reference
import Formats

@Suite("Attention")
struct AttentionTests {
    func audit(_ kernels: [Kernel], classes: [InputClass], cases: Int = 60) -> AuditResult {
        var c = AuditConfiguration()
        c.casesPerClass = cases
        c.maxLength = 256
        c.kernels = kernels
        c.classes = classes
        return AuditEngine.run(c)
    }

    func expectDeclared(_ r: AuditResult) {
        for v in r.verdicts {
            #expect(
                v.isGood,
                "\(v.kernel.name): \(v.status.rawValue), expected \(v.kernel.expectation), failures \(v.failures)")
            if !v.kernel.expectation.isAccurate {
                let shrunk = r.shrunk.filter { $0.kernel == v.kernel.name }
                #expect(!shrunk.isEmpty, "\(v.kernel.name): caught, but no shrunk counterexample")
                for s in shrunk {
                    #expect(
                        s.minimal.row.count <= s.original.row.count,
                        "\(v.kernel.name): the minimal row \(s.minimal.row) is longer than \(s.original.row)")
                }
            }
        }
    }

    @Test("binary64: the accurate kernels pass, each flawed one is caught with a shrunk row")
    func binary64() {
        expectDeclared(audit(Kernel.attentionKernels, classes: InputClass.attentionClasses))
    }

    @Test("float, float16 and bfloat16, each accumulator: as declared, with shrunk rows")
    func formats() {
        expectDeclared(audit(Kernel.formatAttentionKernels, classes: InputClass.attentionPrecisionClasses, cases: 40))
    }

    @Test("hand-worked: two keys, a sink, a mask and values, in every accurate kernel")
    func handWorked() throws {
        // z = 0.5·[2, 4, 100] + [0, 0, 0], key 2 masked, sink log 2: terms e^1, e^2 and the sink's 2.
        let o = AttentionOptions(
            scale: 0.5, masked: [false, false, true], sink: Foundation.log(2.0), values: [3, -1, 7])
        let x = [2.0, 4, 100]
        let e1 = Foundation.exp(1.0), e2 = Foundation.exp(2.0), total = e1 + e2 + 2
        let expected = [e1 / total, e2 / total, 0], lse = Foundation.log(total), out = (3 * e1 - e2) / total
        for name in ["attention-two-pass", "attention-online", "attention-blocked", "attention-split-k"] {
            let k = try #require(Kernel.named(name))
            var c = AuditCase(x, label: 0, options: LossOptions(attention: o))
            for blocks in [1, 2, 5] {
                c.options.attention?.blocks = blocks
                if let p = k.output(.scaledSoftmax, on: c) {
                    for j in 0..<3 {
                        #expect(
                            (p[j] - expected[j]).magnitude <= 1e-15 * expected[j],
                            "\(name), \(blocks) blocks: p[\(j)] = \(p[j]), expected \(expected[j])")
                    }
                }
                let y = try #require(k.output(.scaledLogSumExp, on: c))[0]
                #expect((y - lse).magnitude <= 1e-15 * lse, "\(name), \(blocks) blocks: lse \(y), expected \(lse)")
                let v = try #require(k.output(.attentionOutput, on: c))[0]
                #expect((v - out).magnitude <= 1e-15, "\(name), \(blocks) blocks: output \(v), expected \(out)")
            }
        }
    }

    @Test("the flawed merges: two empty states give NaN, an empty block's +inf too; the guarded merge does not")
    func emptyStates() throws {
        // Three keys in seven blocks: blocks 0 and 1 are empty.
        let c = AuditCase([1, 2, 3], label: 0, options: LossOptions(attention: AttentionOptions(blocks: 7)))
        let naive = try #require(Kernel.named("attention-merge-nan")?.output(.scaledLogSumExp, on: c))[0]
        let infinite = try #require(Kernel.named("attention-empty-lse-inf")?.output(.attentionOutput, on: c))[0]
        let guarded = try #require(Kernel.named("attention-split-k")?.output(.scaledLogSumExp, on: c))[0]
        let states = try #require(Kernel.named("attention-split-k")?.output(.attentionStates, on: c))
        let sentinel = try #require(Kernel.named("attention-empty-lse-inf")?.output(.attentionStates, on: c))
        #expect(states.prefix(4) == [-.infinity, 0, -.infinity, 0], "split-K's empty states: \(states)")
        #expect(sentinel.prefix(2) == [.infinity, 0], "the sentinel's empty state: \(sentinel)")
        #expect(naive.isNaN, "merge of two empty states: \(naive)")
        #expect(infinite.isNaN, "empty block at +inf: \(infinite)")
        let exact = Foundation.log(Foundation.exp(1.0) + Foundation.exp(2.0) + Foundation.exp(3.0))
        #expect((guarded - exact).magnitude <= 1e-15 * exact, "split-K: \(guarded), expected \(exact)")
    }

    @Test("a score that overflows: the prescaled kernels give the row's softmax, the naive scores NaN")
    func overflowingTemperature() throws {
        // s·x = 2^1023 · [4, 2]: both overflow binary64, yet p = [1, 0] (their difference is 2^1024).
        let o = AttentionOptions(scale: 0x1p1023)
        let c = AuditCase([4, 2], label: 0, options: LossOptions(attention: o))
        let p = try #require(Kernel.named("attention-two-pass")?.output(.scaledSoftmax, on: c))
        #expect(p == [1, 0], "prescaled: \(p)")
        let constant = try #require(Kernel.named("attention-mask-constant")?.output(.scaledSoftmax, on: c))
        #expect(constant.allSatisfy { $0.isNaN }, "s·x formed as it comes: \(constant)")
    }

    @Test("an overflowing temperature leaves a one-hot row judged to the last bit: 1% off fails")
    func overflowingTemperatureJudged() {
        let twoPass = AttentionArithmetic(.double)
        var perturbed = Kernel(name: "one-percent-off", summary: "", expectation: .accurate)
        perturbed.implement(
            .scaledSoftmax, .attentionPerLogit { x, o in twoPass.softmax(x, o, .twoPass).map { $0 * 0.99 } })
        perturbed.implement(.scaledLogSumExp, .attentionScalar { x, o in twoPass.logSumExp(x, o, .twoPass) * 1.01 })
        let overflowing = InputClass.named("attention-overflowing-temperature")!
        let r = audit([perturbed], classes: [overflowing], cases: 20)
        // Every case is caught where the result is finite (logsumexp overflows to ±inf on some rows).
        let reference = SoftmaxReference()
        let finite = (0..<20).filter { i in
            let c = overflowing.makeCase(seed: AuditConfiguration().seed, index: i, maxLength: 256)
            return (try? reference.scaledLogSumExp(c.row, AuditFunction.attentionOptions(c)).rounded.isFinite) == true
        }.count
        for (f, expected) in [(AuditFunction.scaledSoftmax, 20), (.scaledLogSumExp, finite)] {
            let failing = r.cells.filter { $0.function == f }.map { $0.failureCounts[.boundExceeded] ?? 0 }.reduce(0, +)
            #expect(failing == expected, "\(f.rawValue): \(failing) of 20 cases caught, expected \(expected)")
        }
    }

    @Test("rows from the reviews: each block prescaled for itself, a prescaling past 2^1023, an overflowing state")
    func reviewedRows() throws {
        let rows: [(String, String, AuditFunction)] = [
            (
                "attention-split-k@float",
                "-0x1p127 0 0x1.00007p-130 0 scale=0x1p127 blocks=2 masked=0,0,0,1 v=1,2,3,4",
                .attentionStates
            ),
            ("attention-split-k@float", "0x1p127 0x0.800007p-126 scale=0x1p127 blocks=2", .attentionStates),
            ("attention-two-pass", "0x1p1020 1 scale=0x1p1023", .scaledSoftmax),
            ("attention-two-pass", "0x1p1020 1 scale=0x1p1023", .attentionOutput),
        ]
        let checker = CaseChecker()
        for (name, row, f) in rows {
            let k = try #require(Kernel.named(name))
            let c = try ReferenceFunction(f)!.parse(Substring(row))
            let (cf, expected) = try f.expected(for: k, on: c, reference: checker.reference)
            let outcome = try #require(try checker.check(k, f, cf, expected: expected))
            #expect(outcome.failures.isEmpty, "\(name) \(f.rawValue) on \(row): \(outcome.failures.map(\.detail))")
        }
    }

    @Test("the bound's units, by hand: K = n + 4 + 3w + 3B + 10A")
    func units() {
        // Keys z = 0.5·[2, 4] and a sink 0: n = 3, w = 2, A = 2, one block.
        #expect(ErrorBounds.attentionUnits(n: 3, w: 2, blocks: 1, a: 2) == 3 + 4 + 6 + 3 + 20)
        #expect(ErrorBounds.attentionUnits(n: 1, w: .infinity, blocks: 1, a: .infinity) == .infinity)
    }

    @Test("a kernel that splits wrongly, or treats a mask as a score of 0, fails the property that says so")
    func properties() {
        let twoPass = AttentionArithmetic(.double)
        var splitSensitive = Kernel(name: "split-sensitive", summary: "", expectation: .accurate)
        splitSensitive.implement(
            .scaledLogSumExp, .attentionScalar { x, o in twoPass.logSumExp(x, o, .twoPass) + 1e-9 * Double(o.blocks) })
        var maskAsZero = Kernel(name: "mask-as-zero", summary: "", expectation: .accurate)
        maskAsZero.implement(
            .scaledLogSumExp,
            .attentionScalar { x, o in
                var unmasked = o
                unmasked.masked = nil
                let z = x.indices.map { (o.masked?[$0] ?? false) ? 0 : x[$0] }
                return twoPass.logSumExp(z, unmasked, .twoPass)
            })
        let c = AuditCase(
            [1, 2, 3, 4], label: 0,
            options: LossOptions(attention: AttentionOptions(masked: [false, true, false, false], blocks: 2)))
        let split = Properties.metamorphicFailures(
            splitSensitive, .scaledLogSumExp, c, output: splitSensitive.output(.scaledLogSumExp, on: c)!,
            softmaxBound: 0)
        #expect(split.contains { $0.property == .splitInvariance }, "split sensitivity: \(split)")
        let mask = Properties.metamorphicFailures(
            maskAsZero, .scaledLogSumExp, c, output: maskAsZero.output(.scaledLogSumExp, on: c)!, softmaxBound: 0)
        #expect(mask.contains { $0.property == .maskRemoval }, "a mask read as a score of 0: \(mask)")
        let accurate = Kernel.named("attention-blocked")!
        let none = Properties.metamorphicFailures(
            accurate, .attentionOutput, c, output: accurate.output(.attentionOutput, on: c)!, softmaxBound: 0)
        #expect(none.isEmpty, "the blocked kernel: \(none)")
    }

    @Test("the row syntax: every option read and written back, and each mistake named")
    func syntax() throws {
        let f = try #require(ReferenceFunction(rawValue: "attention-output"))
        let c = try f.parse(
            "1 2 -3 scale=0.125 bias=0,-1,-inf masked=0,1,0 sink=2 v=1,-1,0.5 blocks=3 fully_masked=zeros")
        let o = try #require(c.options.attention)
        #expect(o.scale == 0.125 && o.bias! == [0, -1, -.infinity] && o.masked! == [false, true, false])
        #expect(o.sink == 2 && o.values! == [1, -1, 0.5] && o.blocks == 3 && o.fullyMasked == .zeros)
        #expect(try f.parse(Substring(f.line(c))) == c, "written back: \(f.line(c))")
        let mistakes: [(String, String)] = [
            ("1 2 bias=0", "bias= has 1 value but the row has 2 keys"),
            ("1 2 masked=0,2", "'masked=0,2': masked= takes 0 (kept) or 1 (masked) per key"),
            ("1 2 blocks=0", "'blocks=0': blocks= takes an integer from 1 to 4096"),
            ("1 2 scale=inf", "'scale=inf': scale= takes a finite number"),
            ("1 2 fully_masked=one", "'fully_masked=one' is not one of fully_masked=nan, fully_masked=zeros"),
            ("1 2 | 3 4", "this function takes no paired vector, but the row has a bar"),
            ("1 2 temperature=2", "'temperature=2' is not an option of attention-output, which takes scale=, bias=,"),
        ]
        for (line, message) in mistakes {
            do {
                _ = try f.parse(Substring(line))
                Issue.record("'\(line)' parsed")
            } catch {
                #expect(error.description.hasPrefix(message), "'\(line)': \(error.description)")
            }
        }
    }
}
