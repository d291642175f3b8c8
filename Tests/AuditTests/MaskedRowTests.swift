// Masked rows (some logits −inf, the rest finite) are judged like finite rows: the unmasked part by its bounds,
// the masked positions exactly. An ignored mask and NaN on a partly masked row fail; the shifted softmax and the
// online softmax (which once gave NaN for a row starting with −inf) pass.
import Foundation
import Testing
@testable import Audit
@testable import Kernels
@testable import Reference
import Formats

@Suite("Masked rows")
struct MaskedRowTests {
    func audit(_ body: @escaping @Sendable ([Double]) -> [Double], name: String) -> AuditResult {
        var k = Kernel(name: name, summary: "a softmax", expectation: .accurate)
        k.implement(.softmax, .perLogit(body))
        var c = AuditConfiguration()
        c.casesPerClass = 40
        c.maxLength = 64
        c.kernels = [k]
        c.classes = [InputClass.named("mask-some")!]
        return AuditEngine.run(c)
    }

    @Test("a masked row's unmasked part, and where it sits")
    func split() throws {
        let c = AuditCase([1, -.infinity, 3, -.infinity], label: 2)
        let mask = try #require(MaskedRow(.crossEntropy, c))
        #expect(mask.unmasked.row == [1, 3] && mask.unmasked.label == 1 && mask.kept == [0, 2])
        #expect(mask.wholeRow([0.25, 0.75], count: 4, perLogit: true, masked: 0) == [0.25, 0, 0.75, 0])
        let one = try #require(MaskedRow(.logSumExp, AuditCase([-.infinity, 1], label: 0)))
        #expect(one.wholeRow([0.5], count: 2, perLogit: false, masked: 0) == [0.5], "a scalar stays one value")
        #expect(MaskedRow(.crossEntropy, AuditCase([1, -.infinity], label: 1)) == nil, "the label on a masked logit")
        #expect(MaskedRow(.softmax, AuditCase([1, .infinity, -.infinity], label: 0)) == nil, "+inf is no mask")
        #expect(MaskedRow(.softmax, AuditCase([-.infinity, -.infinity], label: 0)) == nil, "a fully masked row")
        #expect(MaskedRow(.softmax, AuditCase([1, 2], label: 0)) == nil, "nothing masked")
    }

    @Test("an ignored mask fails, NaN on a partly masked row fails, the accurate softmaxes pass")
    func verdicts() {
        let ignored = audit(
            { x in
                let kept = x.map { $0.isFinite ? $0 : 0 }  // the mask ignored: masked logits read as 0
                return Shifted.softmax(kept)
            }, name: "ignores-the-mask")
        #expect(ignored.cells[0].failureCounts[.boundExceeded, default: 0] > 0, "\(ignored.cells[0].failureCounts)")
        let nan = audit({ x in x.contains(-.infinity) ? x.map { _ in .nan } : Shifted.softmax(x) }, name: "nan")
        let cls = InputClass.named("mask-some")!
        let partlyMasked = (0..<40).filter { i in
            MaskedRow(.softmax, cls.makeCase(seed: AuditConfiguration.defaultSeed, index: i, maxLength: 64)) != nil
        }.count
        #expect(partlyMasked > 20, "the class makes partly masked rows: \(partlyMasked) of 40")
        #expect(
            nan.cells[0].failureCounts[.specialValue(.nanForNumber), default: 0] == partlyMasked,
            "every partly masked row fails, not a convention: \(nan.cells[0].failureCounts)")
        for (name, body) in [("shifted", Shifted.softmax), ("online", Shifted.onlineSoftmax)]
            as [(String, @Sendable ([Double]) -> [Double])]
        {
            let r = audit(body, name: name)
            #expect(r.cells[0].failureCounts.isEmpty, "\(name): \(r.cells[0].failureCounts)")
        }
    }

    @Test("in float16 too, a masked position must be exactly 0: the smallest float16 subnormal there fails")
    func exactInNarrowFormats() {
        let h = BinaryFormat.float16.round
        var k = Kernel(name: "almost-zero", summary: "a float16 softmax", expectation: .accurate)
        k.precision = KernelPrecision(storage: .float16, accumulator: .float)
        k.implement(
            .softmax, .perLogit { x in Shifted.softmax(x).enumerated().map { x[$0] == -.infinity ? 0x1p-24 : h($1) } })
        var c = AuditConfiguration()
        c.casesPerClass = 20
        c.maxLength = 64
        c.kernels = [k]
        c.classes = [InputClass.precisionNamed("mask-some")!]
        let r = AuditEngine.run(c)
        #expect(r.cells[0].failureCounts[.boundExceeded, default: 0] > 0, "\(r.cells[0].failureCounts)")
    }

    @Test("the online softmax of a row starting with −inf: the masked position 0, the rest the shifted softmax's")
    func onlineLeadingMask() {
        let p = Shifted.onlineSoftmax([-.infinity, 0, 0])
        #expect(p == [0, 0.5, 0.5], "hand-derived: e^0 / (e^0 + e^0) = 1/2, got \(p)")
    }
}
