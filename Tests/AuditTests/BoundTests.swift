// The published and derived bounds, evaluated on hand-worked rows (u = 2^-53; a bound of k units is
// expm1(k u)).
import Foundation
import Testing
@testable import Audit
import Reference

@Suite("Error bounds")
struct BoundTests {
    let r = SoftmaxReference()
    let u = 0x1p-53
    func bounds(_ f: BoundFormula, _ x: [Double], label: Int = 0) throws -> [ElementBound] {
        try ErrorBounds.bounds(f, case: AuditCase(x, label: label), reference: r)
    }

    @Test("shifted softmax: (n + 4 + 2w) u; pairwise: (⌈log2 n⌉ + 5 + 2w) u; Kahan: (7 + 2w + n²u) u")
    func softmax() throws {
        // [0, 0]: n = 2, w = 0 → 6 units; the absolute floor (n + 8) 2^-1074 = 10 · 2^-1074.
        #expect(
            try bounds(.shiftedSoftmax, [0, 0])
                == Array(repeating: ElementBound(relative: expm1(6 * u), absolute: 10 * 0x1p-1074), count: 2))
        // [0, 1, 2, 3, 4]: ⌈log2 5⌉ = 3, w = 4 → 3 + 5 + 8 = 16 units.
        #expect(try bounds(.pairwiseSoftmax, [0, 1, 2, 3, 4])[0].relative == expm1(16 * u))
        // Kahan on the same row: 7 + 8 + 25u units.
        #expect(try bounds(.compensatedSoftmax, [0, 1, 2, 3, 4])[0].relative == expm1((15 + 25 * u) * u))
        // The online softmax on [0, 1, 2]: 5·3 + 5 + 3·2 = 26 units.
        #expect(try bounds(.onlineSoftmax, [0, 1, 2])[1].relative == expm1(26 * u))
    }

    @Test("division-free softmax at an offset of 1e8: about |y| u ≈ 1.1102231e-8, vacuous far beyond")
    func divisionFree() throws {
        // y = 1e8 + log 2; k = |y| + |x_j − y| + 2 + (n + w + 4) L = 1e8 + 8 · 0.6931 + 2 = 1e8 + 7.5452, so
        // k u = 1.1102230246e-8 + 8.377e-16 = 1.11022310839e-8, and expm1 adds (k u)²/2 = 6.16e-17.
        let b = try bounds(.divisionFreeSoftmax, [1e8, 1e8])
        #expect(abs(b[0].relative - 1.11022311455e-8) < 1e-18, "\(b[0].relative)")
        #expect(try bounds(.divisionFreeSoftmax, [1e300, 1e300])[0].relative == .infinity)
    }

    @Test("logsumexp: absolute (n + w + 4) L u + u|y|; log-softmax and CE: (n + 6 + w) u")
    func logs() throws {
        // [0, −40]: L = log1p(e^-40) = 4.248354255291589e-18, n + w + 4 = 46.
        let l = try bounds(.log1pLogSumExp, [0, -40])[0]
        #expect(l.relative == u && l.absolute == expm1(46 * u) * 4.248354255291589e-18 + 10 * 0x1p-1074)
        // [3, 1, −2]: n = 3, w = 5 → 14 units.
        #expect(try bounds(.log1pCrossEntropy, [3, 1, -2], label: 2)[0].relative == expm1(14 * u))
        #expect(try bounds(.log1pLogSoftmax, [3, 1, -2]).allSatisfy { $0.relative == expm1(14 * u) })
    }

    @Test("gradient: the softmax bound off the label, (2n + 8 + 4w) u at it; the Jacobian (2n + 10 + 4w) u")
    func gradient() throws {
        let g = try bounds(.complementGradient, [0, 0, 0], label: 1)
        #expect(g[0].relative == expm1(7 * u) && g[1].relative == expm1(14 * u) && g[2].relative == expm1(7 * u))
        #expect(try bounds(.jacobian, [0, 0]).count == 4)
        #expect(try bounds(.jacobian, [0, 0])[0].relative == expm1(14 * u))
    }

    @Test("VJP: absolute p_i (ε_p + (n + 2) u)(max|v| + |r_i|)")
    func vjp() throws {
        // [0, 0] with v = [−2, 0]: p = 1/2, ⟨p, v⟩ = −1, r = [−1, 1], max|v| = 2; ε_p + (n + 2)u = 10 units.
        let b = try bounds(.vectorJacobianProduct, [0, 0])
        #expect(AuditFunction.vjpVector(2) == [-2, 0])
        let expected = 0.5 * expm1(10 * u) * 3 * 1.01 + 10 * 0x1p-1074
        #expect(b.allSatisfy { $0.absolute == expected && $0.relative == u }, "\(b)")
    }

    @Test("a case's verdict: the worst element's error / bound, above 1 a failure naming the element")
    func ratio() throws {
        var k = Kernels.Kernel(name: "two-ulps", summary: "", expectation: .accurate)
        k.implement(.softmax, .perLogit { _ in [(0.5).nextUp.nextUp.nextUp.nextUp, (0.5).nextDown] })
        let c = AuditCase([0, 0], label: 0)
        let o = try #require(try CaseChecker().check(k, .softmax, c, expected: try r.softmax([0, 0])))
        // Error 4 ulps of 1/2 = 2^-51 against expm1(6u) · 1/2 + floor ≈ 3 · 2^-53: ratio 4/3.
        #expect(abs(o.maxBoundRatio - 4.0 / 3) < 1e-9 && o.failures.first?.kind == .boundExceeded, "\(o.maxBoundRatio)")
    }
}

import Kernels
