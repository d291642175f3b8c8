// The double-word fast path checked against MPFR: each arithmetic building block within its published
// bound, the exponential within the bound the analysis charges, the rounding decision in doubles
// against exact rounding, rows that must fall back, and fast versus MPFR-only answers on random rows.
// (AuditTests/DifferentialTests.swift runs the audit's every input class through both paths.)
import Catalogue
import Formats
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

    @Test("the binary family's double-word approximations stay within the bounds they charge, against 600 bits")
    func binaryFamilyBounds() {
        var rng = XorShift(77)
        let functions: [AuditFunction] = [.sigmoid, .sigmoidGradient, .logSigmoid, .softplus]
        var worst = 0.0
        var checked = 0
        for (i, x) in binaryFamilyElements(&rng, count: 24_000).enumerated() {
            let f = functions[i % 4]
            let beta = f == .softplus && i % 3 == 0 ? [2, 0.5, 1e-3, 7.25, 1e200][i % 5] : 1
            guard let a = FastBinaryFamily.approximation(f, x, beta: beta) else { continue }
            checked += 1
            // |exact − V| in units of 2^scale, against the error charged.
            let d = binaryFamilyExact(f, x, beta: beta)
            d.scale(d, byPowerOfTwo: -a.value.scale)
            d.subtract(d, a.value.value.hi)
            d.subtract(d, a.value.value.lo)
            let ratio = abs(d.double()) / a.value.error
            worst = max(worst, ratio)
            #expect(
                ratio <= 1,
                """
                \(f.rawValue)(\(Binary64.hexString(x))) β = \(beta): \
                V = 2^\(a.value.scale)·(\(a.value.value.hi) + \(a.value.value.lo)), \
                |V − exact| = \(abs(d.double())), bound \(a.value.error)
                """
            )
        }
        #expect(checked > 20_000, "the fast path took only \(checked) of 24,000 elements")
        #expect(worst > 0, "every approximation exact: the comparison is not measuring")
    }

    @Test("binary cross-entropy's double-word loss and gradient stay within the bounds they charge, against 600 bits")
    func binaryCrossEntropyBounds() {
        var rng = XorShift(91)
        var checked = 0
        let xs = binaryFamilyElements(&rng, count: 20_000)
        for (i, x0) in xs.enumerated() {
            var x = x0
            var y = binaryTarget(&rng, i)
            let w = [1, 0, 3, 0.25, 1e-300, 7e200][i % 6]
            let gradient = (i / 6) % 2 == 1
            if i % 7 == 0 && w == 1 || w == 3 {
                // The gradient's numerator cancels, (1 − y) e^min(x, 0) ≈ w y e^−max(x, 0),
                // at x = log(w y/(1 − y)).
                y = rng.uniform(0.01, 0.99)
                x = Foundation.log(w * y / (1 - y))
            }
            guard
                let a = FastBinaryFamily.binaryCrossEntropyApproximation(
                    x, target: y, posWeight: w, gradient: gradient)
            else { continue }
            checked += 1
            let d = binaryCrossEntropyExact(x, y, w, gradient: gradient)
            d.scale(d, byPowerOfTwo: -a.value.scale)
            d.subtract(d, a.value.value.hi)
            d.subtract(d, a.value.value.lo)
            #expect(
                abs(d.double()) <= a.value.error,
                """
                \(gradient ? "gradient" : "loss")(x = \(Binary64.hexString(x)), y = \(Binary64.hexString(y)), \
                w = \(w)): V = 2^\(a.value.scale)·(\(a.value.value.hi) + \(a.value.value.lo)), \
                |V − exact| = \(abs(d.double())), bound \(a.value.error)
                """
            )
        }
        #expect(checked > 12_000, "the fast path took only \(checked) of 20,000 elements")
    }

    @Test("the framework loss in double words stays within the bound it charges, against 600 bits")
    func crossEntropyLossBound() {
        var rng = XorShift(23)
        let reference = SoftmaxReference()
        var checked = 0
        for trial in 0..<2_000 {
            let B = 1 + trial % 3, C = 2 + (trial / 3) % 6
            let spread = [0.5, 5, 50, 800][trial % 4]
            let rows = (0..<B).map { _ in (0..<C).map { _ in spread * rng.uniform(-1, 1) } }
            let weights = (0..<B).map { _ in
                (0..<C).map { _ in [1, 0.5, 3, 0, rng.unit(), 1e-200][Int(rng.next() % 6)] }
            }
            let divisor = [1, 3, 0.1, 7e-100][trial % 4]
            let exactWeights = weights.map { $0.map { MPFRFloat($0, precision: 53) } }
            guard
                let a = reference.fastCrossEntropyLossApproximation(
                    Array(zip(rows, exactWeights)), divisor: MPFRFloat(divisor, precision: 53))
            else { continue }
            checked += 1
            // Σ_i Σ_c A_ic (logsumexp(x_i) − x_ic) / divisor at 600 bits.
            let exact = MPFRFloat(precision: 600), lse = MPFRFloat(precision: 600), t = MPFRFloat(precision: 600)
            exact.setZero()
            for (x, w) in zip(rows, weights) {
                let m = x.max()!
                lse.setZero()
                for v in x {
                    t.subtract(v, m)
                    t.exp(t)
                    lse.add(lse, t)
                }
                lse.log(lse)
                lse.add(lse, m)
                for (v, c) in zip(x, w) {
                    t.subtract(lse, v)
                    t.multiply(t, c)
                    exact.add(exact, t)
                }
            }
            exact.divide(exact, divisor)
            exact.subtract(exact, a.value.hi)
            exact.subtract(exact, a.value.lo)
            #expect(
                abs(exact.double()) <= a.error,
                """
                rows \(rows) weights \(weights) / \(divisor): V = \(a.value.hi) + \(a.value.lo), \
                |V − exact| = \(abs(exact.double())), bound \(a.error)
                """
            )
        }
        #expect(checked > 1_500, "the fast path took only \(checked) of 2,000 batches")
    }

    @Test("a mean loss over a tiny or a huge total weight: underflowing terms and reciprocals are not certified")
    func crossEntropyLossTinyWeight() throws {
        // The mean is L itself whatever the weight, but A·L falls below the normal range before the division
        // (review: +0 certified for 2^-109).
        let batches: [([[Double]], [Int], [Double])] = [
            ([[0, -75]], [0], [0x1p-969, 1]), ([[0, -72]], [0], [0x1p-969, 1]), ([[0, -41.6]], [0], [0x1p-969, 1]),
            ([[0, -0x1.2adc61df967e5p+6, -0x1.2ea76615c2eaap+6]], [0], [0x1.07e7588f87c96p-969, 1, 0x1p-715]),
            // A total weight so large that 1/(C·D) has a subnormal low word (review: one ulp off in double).
            ([[0x1p-47, -100]], [1], [1, 1e295]), ([[0x1p-47, -100]], [1], [1, 1e302]),
            ([[0x1p-18, -100]], [1], [1, 1e304]),
            (
                [
                    [0x1.2bc00e9deed29p+7, 0x1.22fdd5cb3c4abp+9, 0x1.0376d3ba2bdeap+9],
                    [0x1.4751f37af7c8fp+5, -0x1.4ebae5a2112e0p+5, -0x1.3db0053677efdp+7],
                ], [0, 0], [0x1.79c4a4b27a465p+979, 0x1.1577444a568cep+984, 0x1.d32150bafde4ep+984]
            ),
        ]
        for format in BinaryFormat.all {
            let (auto, mpfr) = referencePair(format)
            for (rows, labels, weights) in batches {
                let batch = CrossEntropyBatch(
                    rows: rows, targets: .labels(labels), options: CrossEntropyOptions(classWeights: weights))
                let a = try auto.crossEntropyLoss(batch)[0], b = try mpfr.crossEntropyLoss(batch)[0]
                #expect(
                    a.rounded.bitPattern == b.rounded.bitPattern,
                    "\(format) loss of \(rows) weights \(weights): fast \(a), MPFR \(b)")
            }
        }
    }

    @Test("the framework loss's fast path gives MPFR's bits and offsets within 2^-23 ulp, in every format")
    func crossEntropyLossAgreesWithMPFR() throws {
        var rng = XorShift(17)
        for format in BinaryFormat.all {
            let (auto, mpfr) = referencePair(format)
            for trial in 0..<300 {
                let B = 1 + trial % 4, C = 2 + (trial / 4) % 7
                let spread = [0.5, 5, 50, 1e3][trial % 4]
                let offset = [0, 0, 1e8, -1e300][trial % 4 == 3 ? 3 : trial % 3]
                let rows = (0..<B).map { _ in (0..<C).map { _ in offset + spread * rng.uniform(-1, 1) } }
                let targets: CrossEntropyBatch.Targets =
                    trial % 3 == 0
                    ? .probabilities((0..<B).map { _ in (0..<C).map { _ in [0, 1, rng.unit()][Int(rng.next() % 3)] } })
                    : .labels((0..<B).map { i in i == 1 && trial % 5 == 0 ? -100 : Int(rng.next() % UInt64(C)) })
                let options = CrossEntropyOptions(
                    classWeights: trial % 2 == 0
                        ? nil : (0..<C).map { _ in [1, 0.5, 3, 0, rng.unit()][Int(rng.next() % 5)] },
                    labelSmoothing: [0, 0.1, 0x1p-40, rng.unit()][trial % 4],
                    reduction: [LossReduction.mean, .sum, .none][trial % 3])
                let batch = CrossEntropyBatch(rows: rows, targets: targets, options: options)
                let a = try auto.crossEntropyLoss(batch), b = try mpfr.crossEntropyLoss(batch)
                for (i, (p, q)) in zip(a, b).enumerated() {
                    #expect(
                        p.rounded.bitPattern == q.rounded.bitPattern && abs(p.ulpOffset - q.ulpOffset) <= 0x1p-23,
                        "\(format) loss of \(batch.rows) \(batch.targets) \(options), value \(i): fast \(p), MPFR \(q)")
                }
            }
            #expect(auto.fastPathCounts.fast >= 300, "\(format): only \(auto.fastPathCounts) calls on the fast path")
        }
    }

    @Test("the binary family's fast path and BCE's give MPFR's bits and offsets within 2^-23 ulp, in every format")
    func binaryFamilyAgreesWithMPFR() throws {
        var rng = XorShift(5)
        for format in BinaryFormat.all {
            let (auto, mpfr) = referencePair(format)
            for trial in 0..<150 {
                let x = binaryFamilyElements(&rng, count: 1 + trial % 24)
                let beta = [1, 2, 0.1, 1e3, 1e-200][trial % 5]
                let y = x.indices.map { binaryTarget(&rng, $0) }
                let w = [1, 0, 3, 0.25, 1e-300, 7e200][trial % 6]
                let pairs: [([ReferenceValue], [ReferenceValue], String)] = [
                    (try auto.sigmoid(x), try mpfr.sigmoid(x), "sigmoid"),
                    (try auto.logSigmoid(x), try mpfr.logSigmoid(x), "log-sigmoid"),
                    (try auto.sigmoidGradient(x), try mpfr.sigmoidGradient(x), "sigmoid-gradient"),
                    (try auto.softplus(x, beta: beta), try mpfr.softplus(x, beta: beta), "softplus"),
                    (
                        try auto.softplusGradient(x, beta: beta), try mpfr.softplusGradient(x, beta: beta),
                        "softplus-gradient"
                    ),
                    (
                        try auto.binaryCrossEntropy(x, targets: y, posWeight: w),
                        try mpfr.binaryCrossEntropy(x, targets: y, posWeight: w), "binary cross-entropy"
                    ),
                    (
                        try auto.binaryCrossEntropyGradient(x, targets: y, posWeight: w),
                        try mpfr.binaryCrossEntropyGradient(x, targets: y, posWeight: w), "its gradient"
                    ),
                ]
                for (a, b, name) in pairs {
                    for (i, (p, q)) in zip(a, b).enumerated() {
                        #expect(
                            p.rounded.bitPattern == q.rounded.bitPattern && abs(p.ulpOffset - q.ulpOffset) <= 0x1p-23,
                            """
                            \(name) in \(format) of \(Binary64.hexString(x[i])) β = \(beta), y = \(y[i]), \
                            w = \(w): fast \(p), MPFR \(q)
                            """
                        )
                    }
                }
            }
            // Most calls have an element beyond |βx| = 2^20 or near a midpoint, and fall back element by element.
            #expect(auto.fastPathCounts.fast >= 100, "\(format): only \(auto.fastPathCounts) calls on the fast path")
            #expect(mpfr.fastPathCounts.fast == 0 && mpfr.fastPathCounts.fallback == 0)
        }
    }
}

/// A reference on the default path and one on MPFR alone, both rounding to `format`.
func referencePair(_ format: BinaryFormat) -> (auto: SoftmaxReference, mpfr: SoftmaxReference) {
    let auto = SoftmaxReference(), mpfr = SoftmaxReference()
    auto.format = format
    mpfr.format = format
    mpfr.fastPath = .mpfr
    return (auto, mpfr)
}

/// Elements for the binary family's tests: every regime of t = e^−|βx| (near 1, the Newton and atanh
/// sides of 2^-10, below 2^-1074, the wide exponential's range), zeros, subnormals and values of the
/// narrow formats.
func binaryFamilyElements(_ rng: inout XorShift, count: Int) -> [Double] {
    (0..<count).map { i in
        let sign: Double = rng.next() & 1 == 0 ? 1 : -1
        switch i % 8 {
        case 0: return rng.uniform(-40, 40)
        case 1: return sign * rng.uniform(6.5, 7.5)  // t around 2^-10
        case 2: return rng.uniform(-800, 800)
        case 3: return sign * rng.uniform(700, 2e5)
        case 4:
            return sign * Double(sign: .plus, exponent: Int(rng.next() % 1100) - 1074, significand: rng.uniform(1, 2))
        case 5: return sign * Double(rng.next() % 2048) * 0x1p-10  // on the grid of float16's significands
        case 6: return [0.0, -0.0, 0x1p-1074, -0x1p-1074, 36.04, -36.04, 0x1p20, -0x1p20][Int(rng.next() % 8)]
        default: return sign * rng.uniform(0, 1)
        }
    }
}

/// f(x) at 600 bits, from t = e^−|βx| with βx exact (BinaryFamily.swift's formulas).
func binaryFamilyExact(_ f: AuditFunction, _ x: Double, beta: Double) -> MPFRFloat {
    let precision = 600
    let y = MPFRFloat(precision: precision), t = MPFRFloat(precision: precision)
    let v = MPFRFloat(precision: precision), w = MPFRFloat(precision: precision)
    y.set(-x.magnitude)
    y.multiply(y, beta)
    t.exp(y)
    w.add(t, 1.0)
    switch f {
    case .sigmoid where x >= 0: v.set(1.0); v.divide(v, w)
    case .sigmoid: v.divide(t, w)
    case .sigmoidGradient: w.multiply(w, w); v.divide(t, w)
    case .logSigmoid: v.log(onePlus: t); v.negate(v); if x < 0 { v.add(v, x) }
    default: v.log(onePlus: t); v.divide(v, beta); if x > 0 { v.add(v, x) }  // softplus
    }
    return v
}

/// Targets in [0, 1] for binary cross-entropy: hard labels, 1 − 2^-k, 2^-k down to subnormals, uniform.
func binaryTarget(_ rng: inout XorShift, _ i: Int) -> Double {
    switch i % 5 {
    case 0: return Double(rng.next() & 1)
    case 1: return 1 - Double(sign: .plus, exponent: -Int(1 + rng.next() % 53), significand: 1)
    case 2: return Double(sign: .plus, exponent: -Int(1 + rng.next() % 1074), significand: 1)
    default: return rng.unit()
    }
}

/// Binary cross-entropy's loss or gradient at 600 bits from the exact weights 1 − y and w y.
func binaryCrossEntropyExact(_ x: Double, _ y: Double, _ w: Double, gradient: Bool) -> MPFRFloat {
    let precision = 1200
    let a = MPFRFloat(precision: precision), b = MPFRFloat(precision: precision)
    let t = MPFRFloat(precision: precision), v = MPFRFloat(precision: precision)
    let u = MPFRFloat(precision: precision)
    a.subtract(1, y)
    b.set(w)
    b.multiply(b, y)
    t.set(-x.magnitude)
    t.exp(t)
    if gradient {
        // (a − b t)/(1 + t) for x >= 0, (a t − b)/(1 + t) below.
        if x >= 0 { u.multiply(b, t); v.subtract(a, u) } else { u.multiply(a, t); v.subtract(u, b) }
        u.add(t, 1.0)
        v.divide(v, u)
        return v
    }
    let (A, B) = x >= 0 ? (a, b) : (b, a)
    u.log(onePlus: t)
    v.add(A, B)
    v.multiply(v, u)
    u.multiply(A, x.magnitude)
    v.add(v, u)
    return v
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
