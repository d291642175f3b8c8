// The reference against results worked out by hand (closed forms and exact dyadic values).
import Testing
@testable import Reference

/// "input ... expected ... observed" for failure messages.
func describe(_ x: [Double], _ expected: [Double], _ observed: [ReferenceValue]) -> String {
    "input \(x.map(Binary64.hexString)), expected \(expected.map(Binary64.hexString)), observed "
        + "\(observed.map(\.description))"
}

func bits(_ values: [ReferenceValue]) -> [UInt64] { values.map(\.rounded.bitPattern) }
func bits(_ values: [Double]) -> [UInt64] { values.map(\.bitPattern) }

@Suite("Reference: closed forms")
struct ClosedFormTests {
    /// The reference as the audit runs it (fast path first) …
    let reference = SoftmaxReference()
    /// … and MPFR alone, whose Ziv loop the one-pass checks are about.
    let mpfrOnly: SoftmaxReference = {
        let r = SoftmaxReference()
        r.fastPath = .mpfr
        return r
    }()

    @Test(
        "a uniform row gives 1/n correctly rounded, log-softmax -log n, CE log n",
        arguments: [1, 2, 3, 4, 5, 7, 10, 1000, 4096])
    func uniform(_ n: Int) throws {
        let x = Array(repeating: 3.25, count: n)
        let p = try reference.softmax(x)
        let expected = 1.0 / Double(n)  // IEEE division is correctly rounded
        #expect(
            bits(p) == Array(repeating: expected.bitPattern, count: n), "\(describe(x, [expected], Array(p.prefix(3))))"
        )
        if n & (n - 1) == 0 {
            #expect(p.allSatisfy { $0.isExact }, "1/\(n) is dyadic, so exact")
            #expect(try mpfrOnly.softmax(x) == p)
            #expect(mpfrOnly.lastPrecision == SoftmaxReference.initialPrecision, "an exact result needs one pass")
        }
        // log n: Glibc's log is correctly rounded on these (checked against mpmath); n = 1 gives +0.
        let ce = try reference.crossEntropy(x, target: .label(n - 1))
        let logN = [
            1: 0.0, 2: 0x1.62e42fefa39efp-1, 3: 0x1.193ea7aad030bp+0, 4: 0x1.62e42fefa39efp+0,
            5: 0x1.9c041f7ed8d33p+0, 7: 0x1.f2272ae325a57p+0, 10: 0x1.26bb1bbb55516p+1,
            1000: 0x1.ba18a998fffa0p+2, 4096: 0x1.0a2b23f3bab73p+3,
        ][n]!
        #expect(
            ce.rounded.bitPattern == logN.bitPattern,
            "n = \(n): expected log n = \(Binary64.hexString(logN)), observed \(ce)")
        let lse = try reference.logSumExp(x)
        #expect(lse.rounded == (3.25 + logN) || n > 1, "n = 1: logsumexp is the logit")
    }

    @Test(
        "n = 1: softmax [1], log-softmax [+0], logsumexp x, CE +0, gradient [+0]",
        arguments: [0.0, -1e308, 5e-324, 709.8])
    func singleton(_ v: Double) throws {
        let x = [v]
        #expect(bits(try reference.softmax(x)) == bits([1.0]))
        #expect(bits(try reference.logSoftmax(x)) == bits([0.0]))
        #expect(try reference.logSumExp(x).rounded.bitPattern == v.bitPattern)
        #expect(try reference.crossEntropy(x, target: .label(0)).rounded.bitPattern == (0.0).bitPattern)
        #expect(bits(try reference.crossEntropyGradient(x, target: .label(0))) == bits([0.0]), "1 - 1 is +0")
        #expect(bits(try mpfrOnly.crossEntropyGradient(x, target: .label(0))) == bits([0.0]), "1 - 1 is +0")
        #expect(mpfrOnly.lastPrecision == SoftmaxReference.initialPrecision)
    }

    @Test("exact dyadic results certify in one pass: [0, 0], [5, 5, 5, 5] and its gradient")
    func dyadic() throws {
        #expect(bits(try reference.softmax([0, 0])) == bits([0.5, 0.5]))
        #expect(bits(try mpfrOnly.softmax([0, 0])) == bits([0.5, 0.5]))
        #expect(mpfrOnly.lastPrecision == SoftmaxReference.initialPrecision)
        let g = try reference.crossEntropyGradient([5, 5, 5, 5], target: .label(1))
        #expect(bits(g) == bits([0.25, -0.75, 0.25, 0.25]), "observed \(g)")
        #expect(g.allSatisfy { $0.isExact })
        let q = try reference.crossEntropyGradient([0, 0], target: .distribution([0.5, 0.5]))
        #expect(bits(q) == bits([0.0, 0.0]), "p - q = 1/2 - 1/2 is an exact +0: \(q)")
        let vjp = try reference.vectorJacobianProduct([2, 2, 2, 2], [1, 2, 3, 6])
        #expect(bits(vjp) == bits([-0.5, -0.25, 0, 0.75]), "p = 1/4, <p, v> = 3: \(vjp)")
    }

    @Test("[0, fl(log 3)]: p = [1/4, 3/4] moved by log 3's rounding, across the binade at 1/4")
    func logThree() throws {
        // fl(log 3) = 0x1.193ea7aad030bp+0 = log 3 + δ, δ = 9.07e-17 (mpmath). So
        // p_0 = 1/(1 + 3e^δ) = 1/4 (1 − 3δ/4) = 1/4 − 1.70e-17. Below 1/4 doubles are 2^-55 = 2.78e-17
        // apart: p_0 is 0.61 of a spacing below 1/4 and rounds to 1/4 − 2^-55 (0x1.fffffffffffffp-3).
        // p_1 = 3/4 + 1.70e-17 is 0.15 ulp above 3/4 and rounds to 3/4.
        // log p_0 = −log(4 + 3δ) = −2 log 2 − 6.8e-17; 2 log 2 = 0x1.62e42fefa39ef + 0.357 ulp, and
        // 6.8e-17 is 0.31 ulp more: 0.66 ulp, so it rounds to −0x1.62e42fefa39f0p+0.
        let x = [0, 0x1.193ea7aad030bp+0]
        let p = try reference.softmax(x)
        #expect(bits(p) == bits([0x1.fffffffffffffp-3, 0.75]), "\(describe(x, [0x1.fffffffffffffp-3, 0.75], p))")
        #expect(abs(p[0].ulpOffset - 0.39) < 0.01, "1/4 − 1.70e-17 is 0.39 spacing above 1/4 − 2^-55: \(p[0])")
        #expect(abs(p[1].ulpOffset - 0.153) < 0.01, "observed \(p[1])")
        let l = try reference.logSoftmax(x)
        #expect(l[0].rounded == -0x1.62e42fefa39f0p+0, "observed \(l[0])")
        #expect(l[1].rounded == -0x1.269621134db92p-2, "log(3/4) − 6.8e-17 · 1/3: observed \(l[1])")
    }

    @Test("a dominant logit keeps relative accuracy: CE([0, -40], 0) = log1p(e^-40)")
    func dominant() throws {
        // e^-40 = 4.248354255291589e-18; log1p(e^-40) = e^-40 - e^-80/2 = 4.2483542552915889...e-18.
        let ce = try reference.crossEntropy([0, -40], target: .label(0))
        #expect(ce.rounded == 4.248354255291589e-18, "observed \(ce)")
        let l = try reference.logSoftmax([0, -40])
        #expect(l[0].rounded == -4.248354255291589e-18, "scipy#18295 / pytorch#113708 give 0 here: \(l[0])")
        let g = try reference.crossEntropyGradient([0, -40], target: .label(0))
        #expect(g[0].rounded == -4.248354255291589e-18, "p_0 - 1 = -e^-40/(1 + e^-40): \(g[0])")
    }

    @Test("Jacobian of a uniform row: 3/16 on the diagonal, −1/16 elsewhere, exactly")
    func jacobianUniform() throws {
        let j = try reference.jacobian([2, 2, 2, 2])
        for i in 0..<4 {
            for k in 0..<4 {
                let expected = i == k ? 0.1875 : -0.0625
                #expect(
                    j[i][k].rounded == expected && j[i][k].isExact,
                    "J[\(i)][\(k)]: expected \(expected), observed \(j[i][k])")
            }
        }
    }

    @Test("VJP across a spread beyond MPFR's range: the signs of the zeros come from the leading group")
    func vjpSignsBeyondRange() throws {
        // x = [1e300, 1e300⁺, 1e300⁺⁺] (consecutive doubles, 1.5e284 apart): p_0 and p_1 are below 2^(emin),
        // p_2 ≈ 1. With v = [−1, 0, 1]: r_0 = −1 − c ≈ −2, r_1 ≈ −1, r_2 = 2p_0 + p_1 > 0 (tiny). So
        // w = p ⊙ r = [−tiny, −tiny, +tiny]: [−0, −0, +0].
        let x = [1e300, 1e300.nextUp, 1e300.nextUp.nextUp]
        let w = try reference.vectorJacobianProduct(x, [-1, 0, 1])
        #expect(bits(w) == bits([-0.0, -0.0, 0.0]), "observed \(w)")
    }

    @Test("VJP whose group coefficients differ in sign: the expansion is evaluated at the Ziv loop's precision")
    func vjpMixedGroupSigns() throws {
        // x = [0, −1e19, −2e19]: p_1 and p_2 are below 2^(emin). With v = [0, 1, −1], r_0 = −p_1 + p_2 < 0
        // (p_1 > p_2), a sum whose coefficients −1, +1 differ in sign: the leading group decides, once
        // the loop reaches the expansion's precision. r_1 ≈ 1 and r_2 ≈ −1. So w = [−0, +0, −0].
        let w = try reference.vectorJacobianProduct([0, -1e19, -2e19], [0, 1, -1])
        #expect(bits(w) == bits([-0.0, 0.0, -0.0]), "observed \(w)")
        #expect(
            reference.lastPrecision >= SoftmaxReference.groupExpansionPrecision, "at \(reference.lastPrecision) bits")
        let mirrored = try reference.vectorJacobianProduct([0, -1e19, -2e19], [0, -1, 1])
        #expect(bits(mirrored) == bits([0.0, -0.0, 0.0]), "observed \(mirrored)")
    }

    @Test("a probability target's gradient is the derivative of its loss, p·Σq − q, whatever Σq")
    func distributionGradient() throws {
        // mpmath at 3,000 bits (p_j anchored at each logit), rounded to nearest: with Σq = 2 the derivative
        // is 2p − q, not p − q (−1.2689); and q = [0.9, 0.05, 0.05], whose doubles sum to 1 + 2^-55, gives
        // exactly fl(0.1) at the dominant logit, where p − q gives 0.09999999999999998.
        let cases: [([Double], [Double], [Double])] = [
            ([2, 1], [2, 0], [-0x1.136561454ba86p-1, 0x1.136561454ba86p-1]),
            ([0, -60, -70], [0.9, 0.05, 0.05], [0x1.999999999999ap-4, -0x1.999999999999ap-5, -0x1.999999999999ap-5]),
        ]
        for (x, q, expected) in cases {
            let g = try reference.crossEntropyGradient(x, target: .distribution(q))
            #expect(bits(g) == bits(expected), "\(describe(x, expected, g)), q \(q)")
        }
        // A label is the target onehot(t), whose sum is 1: on a −inf logit, the finite ones get p_j.
        let label = try reference.crossEntropyGradient([0, -.infinity, 0], target: .label(1))
        #expect(bits(label) == bits([0.5, -1, 0.5]), "\(label)")
        // Σq = 1/2 on a row whose +inf entry takes all the mass: (Σq·[j = a] − q_j).
        let limit = try reference.crossEntropyGradient([.infinity, 0, 1], target: .distribution([0.25, 0.25, 0]))
        #expect(bits(limit) == bits([0.25, -0.25, 0]), "\(limit)")
    }

    @Test("results on a midpoint's doorstep are decided by one-sided limits, not left to spin")
    func midpointDoorsteps() throws {
        // log p_1 = d_1 − L with d_1 = −100000 − 2^-37 exactly, a binary64 midpoint; L ≈ e^-100000 > 0
        // pushes the exact value below it, so it rounds down (away from zero).
        let l = try reference.logSoftmax([0x1p-37, -100000])
        #expect(l[1].rounded == -0x1.86a0000000001p+16, "observed \(l[1])")
        // The same through the mean cross-entropy of a one-row batch.
        let mean = try reference.meanCrossEntropy([[0x1p-37, -100000]], targets: [.label(1)])
        #expect(mean.rounded == 0x1.86a0000000001p+16, "observed \(mean)")
        // CE with q = [0, 1/2, 1/2]: 25000 + 0x1.86a0000000001p+15 / 2 is a midpoint, L > 0 lifts it: round up.
        let ce = try reference.crossEntropy([0, -50000, -0x1.86a0000000001p+15], target: .distribution([0, 0.5, 0.5]))
        #expect(ce.rounded == 0x1.86a0000000001p+15, "observed \(ce)")
        // Gradient p − q with a one-hot q on a dominant logit: p_0 − 1 = −e^-100000/(1 + …) is −0.
        let g = try reference.crossEntropyGradient([0, -100000], target: .distribution([1, 0]))
        #expect(bits(g) == bits([-0.0, 0.0]), "observed \(g)")
        // q = [fl(1/3), 1/2, 1/2 − fl(1/3)] sums to 1 exactly: the derivative p_0 Σq − q_0 is just below
        // 1 − q_0, a midpoint (54 bits), since p_0 < 1.
        let third = 0x1.5555555555555p-2
        let h = try reference.crossEntropyGradient(
            [0, -100000, -100000], target: .distribution([third, 0.5, 0.5 - third]))
        #expect(h[0].rounded == 0x1.5555555555555p-1, "observed \(h[0])")
        // No weight at all: the loss is exactly 0, even with terms below MPFR's range.
        #expect(
            try reference.crossEntropy([0, -1e300], target: .distribution([0, 0])).rounded.bitPattern
                == (0.0).bitPattern)
        #expect(
            try reference.crossEntropy([0, -40], target: .distribution([0, 0])).rounded.bitPattern == (0.0).bitPattern)
    }

    @Test("tied maxima with a logit below MPFR's range: each maximum's p is just below 1/k, and that decides")
    func tiedMaximaDoorsteps() throws {
        // p_0 = p_1 = 1/(2 + e^-100000) < 1/2. Σq = 0.8 + 0.1 + 0.1 in doubles: Σq/2 − q_0 is a binary64 midpoint
        // (worked out in exact rationals), and the exact value lies below it: round away from zero.
        let q = [0.8, 0.1, 0.1]
        let g = try reference.crossEntropyGradient([0, 0, -100000], target: .distribution(q))
        let expected = [-0x1.3333333333334p-2, 0x1.999999999999ap-2, -0x1.999999999999ap-4]
        #expect(bits(g) == bits(expected), "row [0, 0, -1e5], q \(q): expected \(expected), observed \(g)")
        // 512 tied zeros and −1e5, label 0, in bfloat16: p_0 − 1 = −511/512 − ε, just below the midpoint of
        // −(1 − 2^-8) and −1, so −1; the other maxima give 2^-9 − ε/512, which rounds to 2^-9.
        var bfloat = SoftmaxReference()
        bfloat.format = .bfloat16
        let h = try bfloat.crossEntropyGradient(Array(repeating: 0, count: 512) + [-100000], target: .label(0))
        #expect(h[0].rounded == -1 && h[1].rounded == 0x1p-9 && h[511].rounded == 0x1p-9, "observed \(h[0...1])")
        #expect(h[512].rounded.bitPattern == (0.0).bitPattern, "e^-100000 / 512 rounds to +0: \(h[512])")
    }

    @Test("the binary family at ±inf: log σ(+inf) = −0 (the limit of negative values), σ'(±inf) = +0")
    func binaryLimits() throws {
        let inf = Double.infinity
        #expect(bits(try reference.logSigmoid([inf, -inf])) == bits([-0.0, -inf]))
        #expect(bits(try reference.sigmoid([inf, -inf])) == bits([1, 0]))
        #expect(bits(try reference.softplus([inf, -inf])) == bits([inf, 0]))
        #expect(bits(try reference.sigmoidGradient([inf, -inf])) == bits([0, 0]))
        #expect(bits(try reference.logSigmoidGradient([inf, -inf])) == bits([0, 1]))
        #expect(bits(try reference.softplusGradient([inf, -inf])) == bits([1, 0]))
        // Beyond MPFR's range, log σ(1e300) is −e^-1e300: a negative value that rounds to −0.
        #expect(bits(try reference.logSigmoid([1e300])) == bits([-0.0]))
        #expect(bits(try reference.sigmoidGradient([1e300, -1e300])) == bits([0, 0]))
    }
}
