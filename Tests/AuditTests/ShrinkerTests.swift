// Shrinking reaches known minimal rows for planted bugs.
import Testing
@testable import Audit
@testable import Kernels

@Suite("Shrinking")
struct ShrinkerTests {
    let checker = CaseChecker()

    @Test("a planted overflow (NaN once a logit passes 100) shrinks to the single logit 128")
    func overflow() {
        var k = Kernel(name: "planted-overflow", summary: "NaN above 100", expectation: .accurate)
        k.implement(
            .softmax,
            .perLogit { x in x.contains { $0 > 100 } ? Array(repeating: .nan, count: x.count) : Shifted.softmax(x) })
        var rng = AuditRandom(seed: 5)
        var row = (0..<300).map { _ in rng.normal() * 40 }
        row[217] = 123.456
        let start = AuditCase(row, label: 3)
        #expect(checker.failureKinds(k, .softmax, start).contains(.specialValue(.nanForNumber)))
        let r = Shrinker(checker: checker, budget: 400).shrink(k, .softmax, .specialValue(.nanForNumber), start)
        #expect(
            r.minimal.row == [128] && r.minimal.label == 0,
            "minimal \(r.minimal.decimalText) after \(r.evaluations) evaluations")
    }

    @Test("a planted label bug (the loss of label 0 whatever the label) shrinks to two small logits, label 1")
    func label() {
        var k = Kernel(name: "planted-label", summary: "ignores the label", expectation: .accurate)
        k.implement(.crossEntropy, .labeledScalar { x, _ in Shifted.crossEntropyLog1p(x, 0) })
        let start = AuditCase([3.5, -2.25, 7, 0.125, 9, -4], label: 4)
        #expect(checker.failureKinds(k, .crossEntropy, start).contains(.boundExceeded))
        let r = Shrinker(checker: checker).shrink(k, .crossEntropy, .boundExceeded, start)
        #expect(r.minimal.row.count == 2 && r.minimal.label == 1, "minimal \(r.minimal.decimalText)")
        #expect(
            r.minimal.row.allSatisfy { $0 == $0.rounded() && $0.magnitude <= 2 }, "minimal \(r.minimal.decimalText)")
    }

    @Test("the tutorial's whole-matrix normalization shrinks to two rows of one zero each")
    func wholeMatrix() {
        let k = Kernel.named("seed-cross-entropy")!
        let start = InputClass.named("batches")!.makeCase(seed: 3, index: 0, maxLength: 64)
        let r = Shrinker(checker: checker).shrink(k, .batchCrossEntropy, .boundExceeded, start)
        #expect(r.minimal.rows == [[0], [0]] && r.minimal.labels == [0, 0], "minimal \(r.minimal.decimalText)")
    }

    @Test("shrinking is deterministic and bounded")
    func bounded() {
        let k = Kernel.named("seed-stable-softmax")!
        let start = InputClass.named("normal")!.makeCase(seed: 9, index: 4, maxLength: 512)
        let a = Shrinker(checker: checker, budget: 50).shrink(k, .softmax, .property(.probabilityRange), start)
        let b = Shrinker(checker: CaseChecker(), budget: 50).shrink(k, .softmax, .property(.probabilityRange), start)
        #expect(a.minimal == b.minimal && a.evaluations <= 50)
    }
}
