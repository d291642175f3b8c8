// The double-word fast path checked against MPFR: each arithmetic building block within its published
// bound, the exponential within the bound the analysis charges, the rounding decision in doubles
// against exact rounding, rows that must fall back, and fast versus MPFR-only answers on random rows.
// (AuditTests/DifferentialTests.swift runs the audit's every input class through both paths.)
import Foundation
import MPFR
import Testing
@testable import Reference

/// A deterministic xorshift64 source, so failures reproduce.
struct XorShift {
    var state: UInt64
    init(_ seed: UInt64) { state = seed | 1 }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
    mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * unit() }
}

@Suite("Fast path")
struct FastPathTests {
    init() { MPFREnvironment.useWidestExponentRange() }

    /// |computed − exact| / |exact| at 400 bits, as a double (rounded up is not needed: the bounds are
    /// compared with room).
    func relativeError(_ computed: DoubleWord, _ exact: MPFRFloat) -> Double {
        let c = MPFRFloat(precision: 400)
        c.set(computed.hi)
        c.add(c, computed.lo)
        c.subtract(c, exact)
        c.divide(c, exact)
        return abs(c.double())
    }

    func mp(_ x: DoubleWord) -> MPFRFloat {
        let v = MPFRFloat(precision: 400)
        v.set(x.hi)
        v.add(v, x.lo)
        return v
    }

    func randomWord(_ rng: inout XorShift, scale: Double = 1) -> DoubleWord {
        let hi = rng.uniform(0.5, 2) * scale * (rng.next() & 1 == 0 ? 1 : -1)
        let lo = hi.ulp * rng.uniform(-0.5, 0.5)
        return fastTwoSum(hi, lo)
    }

    @Test("each double-word operation stays within its published error bound on 20,000 random operands")
    func doubleWordOperations() {
        var rng = XorShift(2026)
        var worst: [String: Double] = [:]
        let exact = MPFRFloat(precision: 400)
        let other = MPFRFloat(precision: 400)
        for _ in 0..<20_000 {
            let x = randomWord(&rng, scale: Double(sign: .plus, exponent: Int(rng.next() % 40) - 20, significand: 1))
            let y = randomWord(&rng, scale: Double(sign: .plus, exponent: Int(rng.next() % 40) - 20, significand: 1))
            let d = rng.uniform(-4, 4)
            func measure(_ name: String, _ computed: DoubleWord, _ bound: Double) {
                let e = relativeError(computed, exact)
                worst[name] = max(worst[name] ?? 0, e / bound)
                #expect(e <= bound, "\(name): x = \(x), y = \(y), d = \(d): relative error \(e) > bound \(bound)")
            }
            exact.add(mp(x), mp(y))
            if !exact.isZero { measure("plus(DW)", x.plus(y), DoubleWord.errorOfPlus) }
            exact.add(mp(x), d)
            if !exact.isZero { measure("plus(Double)", x.plus(d), DoubleWord.errorOfPlusDouble) }
            exact.multiply(mp(x), mp(y))
            measure("times(DW)", x.times(y), DoubleWord.errorOfTimes)
            exact.multiply(mp(x), d)
            if d != 0 { measure("times(Double)", x.times(d), DoubleWord.errorOfTimesDouble) }
            other.set(d)
            exact.divide(mp(x), other)
            if d != 0 { measure("divided(by:)", x.divided(by: d), DoubleWord.errorOfDividedByDouble) }
            other.set(1.0)
            exact.divide(other, mp(x))
            measure("reciprocal", x.reciprocal, DoubleWord.errorOfReciprocal)
        }
        // Every bound is used to at most its full size, and each is within a factor 64 of tight.
        for (name, ratio) in worst { #expect(ratio > 1.0 / 64, "\(name): worst error is only \(ratio) of its bound") }
    }

    @Test("exp: the narrow, paired and wide versions stay within 2^-101 of MPFR on 60,000 arguments (2^-99 is charged)")
    func exponential() {
        var rng = XorShift(7)
        var worstNarrow = 0.0, worstWide = 0.0
        let exact = MPFRFloat(precision: 400)
        let argument = MPFRFloat(precision: 400)
        func check(_ dh: Double, _ dl: Double, _ m: DoubleWord, _ e: Int, _ what: String) -> Double {
            argument.set(dh)
            argument.add(argument, dl)
            exact.exp(argument)
            exact.scale(exact, byPowerOfTwo: -e)
            let err = relativeError(m, exact)
            #expect(err <= 0x1p-101, "\(what) exp(\(dh) + \(dl)): relative error 2^\(log2(err)) > 2^-101")
            return err
        }
        var arguments: [(Double, Double)] = [(0, 0), (-0x1p-1074, 0), (-709, 0), (-1e-300, 0), (-0x1p-30, 1e-50)]
        for _ in 0..<30_000 {
            let dh = -rng.uniform(0, 709) * (rng.next() & 3 == 0 ? rng.unit() * rng.unit() : 1)
            arguments.append((dh, dh.ulp * rng.uniform(-0.5, 0.5)))
        }
        for (dh, dl) in arguments {
            let g = FastExponential.narrow(dh, dl)
            worstNarrow = max(worstNarrow, check(dh, dl, g.m, g.e, "narrow"))
        }
        // Pairs: the same operations lane by lane, so the same bits.
        for i in stride(from: 0, to: arguments.count - 1, by: 2) {
            let (a, b) = (arguments[i], arguments[i + 1])
            let pair = FastExponential.narrow2(SIMD2(a.0, b.0), SIMD2(a.1, b.1))
            let one = FastExponential.narrow(a.0, a.1), two = FastExponential.narrow(b.0, b.1)
            #expect(pair.m.hi[0] == one.m.hi && pair.m.lo[0] == one.m.lo && pair.e0 == one.e, "narrow2 lane 0 at \(a)")
            #expect(pair.m.hi[1] == two.m.hi && pair.m.lo[1] == two.m.lo && pair.e1 == two.e, "narrow2 lane 1 at \(b)")
        }
        for _ in 0..<30_000 {
            let dh = -rng.uniform(0, 0x1p20) * (rng.next() & 1 == 0 ? rng.unit() : 1)
            let dl = dh.ulp * rng.uniform(-0.5, 0.5)
            guard let g = FastExponential.wide(dh, dl) else {
                Issue.record("wide declined \(dh)")
                continue
            }
            worstWide = max(worstWide, check(dh, dl, g.m, g.e, "wide"))
        }
        #expect(FastExponential.wide(-0x1.0000000000001p20, 0) == nil, "beyond 2^20 the wide exp declines")
        #expect(
            worstNarrow > 0x1p-110 && worstWide > 0x1p-110,
            "the test sees real errors: 2^\(log2(worstNarrow)), 2^\(log2(worstWide))")
    }

    @Test("certified rounding in doubles gives RN of the exact value whenever it decides, on 100,000 approximations")
    func roundingDecision() {
        var rng = XorShift(99)
        let v = MPFRFloat(precision: 4000)
        let bound = MPFRFloat(precision: 4000)
        var decided = 0
        for trial in 0..<100_000 {
            // Values around every kind of binade: normal, near 2^-1022, subnormal, far below.
            let scale = [0, -1000, -1022, -1050, -1074, -1090, -1200, 900][trial % 8]
            var hi = rng.uniform(0.5, 2) * (rng.next() & 1 == 0 ? 1 : -1)
            if trial % 5 == 0 { hi = hi.sign == .minus ? -1 : 1 }  // powers of two
            var lo = hi.ulp * rng.uniform(-0.5, 0.5)
            // Exactly a midpoint in 2^scale units:
            if trial % 7 == 0 { lo = hi.ulp / 2 * (rng.next() & 1 == 0 ? 1 : -1) }
            let word = fastTwoSum(hi, lo)
            let error = [0, 0x1p-120, 0x1p-80, 0x1p-60, 0x1p-40][Int(rng.next() % 5)]
            // The exact value: V itself, or V moved by up to the error, or a midpoint's neighbour.
            v.set(word.hi)
            v.add(v, word.lo)
            bound.set(error * rng.uniform(-1, 1))
            v.add(v, bound)
            v.scale(v, byPowerOfTwo: scale)
            let a = FastApproximation(word, scale: scale, absoluteError: error)
            guard let r = FastRounding.certify(a, knownSign: v.sign) else { continue }
            decided += 1
            let expected = v.isZero ? 0.0 : v.double(.nearest)
            let says = Binary64.hexString(r.rounded), nearest = Binary64.hexString(expected)
            #expect(
                r.rounded.bitPattern == expected.bitPattern,
                "V = 2^\(scale)·(\(word.hi) + \(word.lo)) ± \(error): fast path says \(says), RN is \(nearest)")
        }
        #expect(decided > 60_000, "only \(decided) of 100,000 decided")
    }

    @Test("rows whose result sits within the fast path's error of a midpoint fall back to MPFR, which answers")
    func forcedFallback() throws {
        // softmax([0, d])_0 = 1/(1 + e^d) with e^d ≈ 2^-54: within 2^-100 of the midpoint 1 − 2^-54.
        let ln2 = MPFRFloat(precision: 200)
        let two = MPFRFloat(precision: 200)
        two.set(2.0)
        ln2.log(two)
        ln2.multiply(ln2, -54)
        let d0 = ln2.double()
        let auto = SoftmaxReference()
        let mpfr = SoftmaxReference()
        mpfr.fastPath = .mpfr
        for k in -3...3 {
            let d = d0 + Double(k) * d0.ulp
            let before = auto.fastPathCounts
            let fast = try auto.softmax([0, d])
            let slow = try mpfr.softmax([0, d])
            #expect(auto.fastPathCounts.fallback == before.fallback + 1, "softmax([0, \(d)]) did not fall back")
            #expect(fast == slow, "softmax([0, \(d)]): \(fast) vs MPFR \(slow)")
        }
        // logsumexp with cancellation: x + log 2 for x = −RN(log 2) is about 1e-17 with a bound near 1e-32.
        let x = -0.6931471805599453
        let before = auto.fastPathCounts
        #expect(try auto.logSumExp([x, x]) == mpfr.logSumExp([x, x]))
        #expect(auto.fastPathCounts.fallback == before.fallback + 1, "logsumexp([x, x]) did not fall back")
        // A difference of logits that overflows goes to MPFR too.
        #expect(
            try auto.softmax([.greatestFiniteMagnitude, -.greatestFiniteMagnitude])
                == mpfr.softmax([.greatestFiniteMagnitude, -.greatestFiniteMagnitude]))
    }

    @Test("Jᵀv's sign survives terms below every double: tied maxima with the other logits 1e308 away")
    func vectorJacobianSignOfZero() throws {
        // p_0 = p_5 ≈ 1/2, every other p_j below 2^-1e300. w_0 = p_0 Σ_{j∉{0,5}} p_j (v_0 − v_j) with each
        // v_0 − v_j <= 0 and some < 0: negative, far below the smallest subnormal, so −0.0. (A bound of
        // 2^-1100 written as a double literal is 0: the fast path once certified +0 here.)
        let x: [Double] = [1e308, 1, -1e308, -1e308, -.greatestFiniteMagnitude, 1e308, -1e308]
        let v = [-2.0, 0, 2, -1, 1, -2, 0]
        for path in FastPathMode.allCases {
            let r = SoftmaxReference()
            r.fastPath = path
            let w = try r.vectorJacobianProduct(x, v)
            #expect(w[0].rounded == 0 && w[0].rounded.sign == .minus, "path \(path): w_0 = \(w[0]), expected -0.0")
            #expect(w[5].rounded == 0 && w[5].rounded.sign == .minus, "path \(path): w_5 = \(w[5]), expected -0.0")
            #expect(
                w[1].rounded == 0 && w[1].rounded.sign == .plus, "path \(path): w_1 = \(w[1]), expected +0.0 (v_1 > c)")
        }
    }

    @Test("the fast path answers common rows itself, with the same bits as MPFR and offsets within 2^-23 ulp")
    func agreesWithMPFR() throws {
        var rng = XorShift(31)
        let auto = SoftmaxReference()
        let mpfr = SoftmaxReference()
        mpfr.fastPath = .mpfr
        for trial in 0..<300 {
            let n = 1 + Int(rng.next() % 40)
            let spread = [0.1, 1, 10, 100, 1000, 1e6][trial % 6]
            let offset = [0, 0, 1e3, -1e10, 1e300][trial % 5]
            let x = (0..<n).map { _ in offset + spread * rng.uniform(-1, 1) }
            let t = Int(rng.next() % UInt64(n))
            let pairs =
                try rowFunctionPairs(auto, mpfr, x, label: t) + [
                    (try auto.jacobian(x).flatMap { $0 }, try mpfr.jacobian(x).flatMap { $0 }, "jacobian"),
                    (
                        try auto.vectorJacobianProduct(x, x.indices.map { Double($0 % 3) - 1 }),
                        try mpfr.vectorJacobianProduct(x, x.indices.map { Double($0 % 3) - 1 }),
                        "vector-jacobian-product"
                    ),
                    (
                        [try auto.meanCrossEntropy([x, x.reversed()], targets: [.label(t), .label(n - 1 - t)])],
                        [try mpfr.meanCrossEntropy([x, x.reversed()], targets: [.label(t), .label(n - 1 - t)])],
                        "mean cross-entropy"
                    ),
                ]
            for (a, b, name) in pairs {
                for (i, (p, q)) in zip(a, b).enumerated() {
                    #expect(
                        p.rounded.bitPattern == q.rounded.bitPattern && abs(p.ulpOffset - q.ulpOffset) <= 0x1p-23,
                        "\(name) of \(x.map(Binary64.hexString)) label \(t), element \(i): fast \(p), MPFR \(q)")
                }
            }
        }
        #expect(
            auto.fastPathCounts.fast >= 2200, "the fast path answered only \(auto.fastPathCounts.fast) of 2,400 calls")
        #expect(mpfr.fastPathCounts.fast == 0)
    }
}

/// The five row functions of `a` and `b` on one row (label t), side by side with their names.
func rowFunctionPairs(
    _ a: SoftmaxReference, _ b: SoftmaxReference, _ x: [Double], label t: Int
) throws
    -> [([ReferenceValue], [ReferenceValue], String)]
{
    [
        (try a.softmax(x), try b.softmax(x), "softmax"),
        (try a.logSoftmax(x), try b.logSoftmax(x), "log-softmax"),
        ([try a.logSumExp(x)], [try b.logSumExp(x)], "logsumexp"),
        ([try a.crossEntropy(x, target: .label(t))], [try b.crossEntropy(x, target: .label(t))], "cross-entropy"),
        (
            try a.crossEntropyGradient(x, target: .label(t)), try b.crossEntropyGradient(x, target: .label(t)),
            "gradient"
        ),
    ]
}
