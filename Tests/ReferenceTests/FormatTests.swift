// The reference in binary32, binary16 and bfloat16: the formats' own rounding and ordinal axes checked
// exhaustively or against Swift's conversions, results rounded once from the exact value (never
// through binary64), and the two reference paths agreeing in every format.
import Catalogue
import Foundation
import MPFR
import Testing

@testable import Formats
@testable import Reference

@Suite("Reference in float, float16 and bfloat16")
struct FormatTests {
    init() { MPFREnvironment.useWidestExponentRange() }

    @Test("rounding a double to float and float16 by scaling matches Swift's conversions, midpoints included")
    func roundingMatchesSwift() {
        var rng = XorShift(5)
        for trial in 0..<200_000 {
            // Exponents across each format's subnormal, normal and overflow ranges.
            let e = Int(rng.next() % 300) - 160
            let x = Double(
                sign: rng.next() & 1 == 0 ? .plus : .minus, exponent: trial % 2 == 0 ? e : e / 8,
                significand: 1 + rng.unit())
            expectScalingMatchesSwift(x)
        }
        // Every float16 midpoint, and the doubles either side of it, ties to even included.
        for bits in UInt16(0)..<0x7BFF {
            let v = Double(Float16(bitPattern: bits)), next = Double(Float16(bitPattern: bits + 1))
            let mid = (v + next) / 2
            for x in [mid, mid.nextDown, mid.nextUp, -mid, Double(Float(mid).nextUp)] { expectScalingMatchesSwift(x) }
        }
    }

    @Test("value(atOrdinal:) inverts the ordinal axis: every float16 value, and neighbours by nextUp in binary64")
    func ordinalInverse() {
        for bits in UInt16(0)...0x7C00 {
            for v in [Double(Float16(bitPattern: bits)), -Double(Float16(bitPattern: bits))] {
                let k = BinaryFormat.float16.ordinal(v)
                let back = BinaryFormat.float16.value(atOrdinal: k)
                #expect(
                    back == v && back.sign == (v == 0 ? .plus : v.sign),
                    "float16 \(v.hex): ordinal \(k) → \(back.hex)")
            }
        }
        var rng = XorShift(11)
        for _ in 0..<20_000 {
            let x = Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF)
            for format in BinaryFormat.all {
                let v = format.round(x)
                guard v.isFinite else { continue }
                let k = format.ordinal(v)
                #expect(format.value(atOrdinal: k) == v, "\(format.name) \(v.hex)")
                let next = format.value(atOrdinal: k + 1)
                #expect(
                    next > v && format.represents(next) && format.round(v.nextUp) <= next,
                    "\(format.name) \(v.hex) + 1")
            }
        }
        let pastTop = BinaryFormat.double.ordinal(.greatestFiniteMagnitude) + 1
        #expect(BinaryFormat.double.value(atOrdinal: pastTop) == .infinity)
    }

    /// `round` (by the bits), `roundedByScaling` (the definition) and Swift's conversions agree for float and
    /// float16, and the first two for bfloat16.
    func expectScalingMatchesSwift(_ x: Double) {
        let conversions: [(BinaryFormat, Double?)] = [
            (.float, Double(Float(x))), (.float16, Double(Float16(x))), (.bfloat16, nil),
        ]
        for (format, swift) in conversions {
            let expected = format.roundedByScaling(x), rounded = format.round(x), bits = format.roundedByBits(x)
            let message = "\(format.name): \(x.hex) → \(rounded.hex), by bits \(bits.hex), by scaling \(expected.hex)"
            #expect(rounded.bitPattern == expected.bitPattern && bits.bitPattern == expected.bitPattern, "\(message)")
            if let swift { #expect(swift.bitPattern == expected.bitPattern, "\(message), Swift \(swift.hex)") }
        }
    }

    @Test("bfloat16 rounding of floats matches the bit-level round-to-nearest-even of the top 16 bits")
    func bfloat16Rounding() {
        var rng = XorShift(6)
        for _ in 0..<200_000 {
            let bits = UInt32(truncatingIfNeeded: rng.next())
            let x = Float(bitPattern: bits)
            guard x.isFinite else { continue }
            // The usual conversion: add 0x7FFF plus the lowest kept bit, truncate (finite inputs).
            let rounded = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000
            let expected = Double(Float(bitPattern: rounded))
            #expect(
                BinaryFormat.bfloat16.round(Double(x)).bitPattern == expected.bitPattern,
                "bfloat16 of \(Double(x).hex): \(BinaryFormat.bfloat16.round(Double(x)).hex), expected \(expected.hex)")
        }
    }

    @Test(
        "every float16 and bfloat16 value is one step from the next on the format's ordinal axis",
        arguments: ["float16", "bfloat16"])
    func ordinalAxis(_ name: String) {
        let format = BinaryFormat.named(name)!
        var previous: Int64? = nil
        var previousValue = 0.0
        // Non-negative values in increasing order of their bit patterns, then +inf.
        let end = name == "float16" ? 0x7C00 : 0x7F80  // +inf's bit pattern
        for b in 0...end {
            let value: Double =
                name == "float16" ? Double(Float16(bitPattern: UInt16(b))) : Double(Float(bitPattern: UInt32(b) << 16))
            let k = format.ordinal(value)
            if let previous {
                #expect(k == previous + 1, "\(name): \(previousValue.hex) at \(previous), then \(value.hex) at \(k)")
            }
            #expect(format.represents(value), "\(name) \(value.hex)")
            #expect(format.ordinal(-value) == -k)
            previous = k
            previousValue = value
        }
        #expect(format.greatestFiniteMagnitude == (name == "float16" ? 65504 : Double(Float(bitPattern: 0x7F7F_0000))))
    }

    @Test("results are rounded once from the exact value: a softmax whose binary64 result is a float16 midpoint")
    func noDoubleRounding() throws {
        // softmax([0, d])_0 = 1/(1 + e^d) with e^d/(1 + e^d) ≈ 2^-12: p_0 sits within 2^-60 of the float16
        // midpoint 1 − 2^-12, so binary64 rounds it onto the midpoint, which then ties to 1.0; the
        // correctly rounded float16 depends on the side p_0 is really on, decided here with MPFR.
        let target = MPFRFloat(precision: 300)
        let t = MPFRFloat(precision: 300)
        target.setPowerOfTwo(-12)
        t.set(1.0)
        t.subtract(t, target)
        target.divide(target, t)
        target.log(target)  // log(2^-12 / (1 − 2^-12))
        let d0 = target.double()
        var checked = 0
        for k in -4...4 {
            let d = d0 + Double(k) * d0.ulp
            // p_0 − (1 − 2^-12), exactly enough at 300 bits.
            let p = MPFRFloat(precision: 300)
            p.set(d)
            p.exp(p)
            p.add(p, 1.0)
            let one = MPFRFloat(precision: 300)
            one.set(1.0)
            p.divide(one, p)
            let midpoint = MPFRFloat(precision: 300)
            midpoint.set(1 - 0x1p-12)
            let side = p.compare(midpoint)
            guard side != 0 else { continue }
            let expected = side < 0 ? 1 - 0x1p-11 : 1.0
            for path in FastPathMode.allCases {
                let r = SoftmaxReference()
                r.fastPath = path
                r.format = .float16
                let value = try r.softmax([0, d])[0]
                #expect(
                    value.rounded == expected && value.format == .float16,
                    "float16 softmax([0, \(d.hex)])_0 via \(path): \(value), expected \(expected.hex)")
            }
            let binary64 = try SoftmaxReference().softmax([0, d])[0].rounded
            if binary64 == 1 - 0x1p-12 && expected != 1.0 { checked += 1 }  // double rounding would have failed here
        }
        #expect(checked > 0, "no candidate row had binary64 on the midpoint with p_0 below it")
    }

    @Test(
        "fast path and MPFR agree in every format on 300 random rows and five functions",
        arguments: ["float", "float16", "bfloat16"])
    func pathsAgree(_ name: String) throws {
        let format = BinaryFormat.named(name)!
        var rng = XorShift(41)
        let auto = SoftmaxReference()
        let mpfr = SoftmaxReference()
        auto.format = format
        mpfr.format = format
        mpfr.fastPath = .mpfr
        for trial in 0..<300 {
            let n = 1 + Int(rng.next() % 40)
            let spread = [0.01, 1, 8, 30, 200, 1e5][trial % 6]
            // Logits of the format itself, as a kernel in that format would take them.
            let x = (0..<n).map { _ in format.round(spread * rng.uniform(-1, 1)) }
            let t = Int(rng.next() % UInt64(n))
            let pairs = try rowFunctionPairs(auto, mpfr, x, label: t)
            for (a, b, function) in pairs {
                for (i, (p, q)) in zip(a, b).enumerated() {
                    #expect(
                        p.rounded.bitPattern == q.rounded.bitPattern && abs(p.ulpOffset - q.ulpOffset) <= 0x1p-23
                            && format.represents(p.rounded) && p.format == format,
                        "\(name) \(function) of \(x.map(\.hex)) label \(t), element \(i): fast \(p), MPFR \(q)")
                }
            }
        }
    }

    @Test(
        "in each format the result is RN of the exact value the binary64 reference pins down",
        arguments: ["float", "float16", "bfloat16"])
    func agreesWithBinary64Reference(_ name: String) throws {
        // Independent route: exact ≈ r64 + offset · ulp64 (to 2^-24 ulp64), rounded once to the format
        // with MPFR; valid unless the exact value is within 2^-23 ulp64 of a format midpoint.
        let format = BinaryFormat.named(name)!
        var rng = XorShift(43)
        let r64 = SoftmaxReference()
        let rf = SoftmaxReference()
        rf.format = format
        let v = MPFRFloat(precision: 200)
        let rounded = MPFRFloat(precision: format.precision)
        for _ in 0..<400 {
            let n = 2 + Int(rng.next() % 20)
            let x = (0..<n).map { _ in format.round(12 * rng.uniform(-1, 1)) }
            for (a, b) in zip(try r64.logSoftmax(x), try rf.logSoftmax(x)) {
                v.set(a.rounded)
                v.add(v, a.ulpOffset * Binary64.ulp(a.rounded))
                rounded.set(v, .nearest)
                let expected = format.round(rounded.double())  // already in range: exact
                #expect(
                    b.rounded == expected,
                    "\(name) log-softmax of \(x.map(\.hex)): \(b), from binary64 \(a) expected \(expected.hex)")
            }
        }
    }

    @Test(
        "in each format the paired functions and the loss are RN of the exact value the binary64 reference pins down",
        arguments: ["float", "float16", "bfloat16"])
    func pairedAgreeWithBinary64Reference(_ name: String) throws {
        let format = BinaryFormat.named(name)!
        var rng = XorShift(47)
        let r64 = SoftmaxReference(), rf = SoftmaxReference()
        rf.format = format
        let v = MPFRFloat(precision: 200), rounded = MPFRFloat(precision: format.precision)
        let smallestNormal = Double(sign: .plus, exponent: format.minExponent, significand: 1)
        var checked = 0
        func expectRounded(_ a: [ReferenceValue], _ b: [ReferenceValue], _ what: String) {
            #expect(a.count == b.count, "\(what): \(a.count) values in binary64, \(b.count) in \(name)")
            for (x, y) in zip(a, b) {
                guard x.kind == .real, x.rounded.isFinite, x.rounded != 0 else {
                    #expect(y.rounded.bitPattern == x.rounded.bitPattern || (x.rounded.isNaN && y.rounded.isNaN))
                    continue
                }
                v.set(x.rounded)
                v.add(v, x.ulpOffset * Binary64.ulp(x.rounded))
                rounded.set(v, .nearest)
                let r = rounded.double()
                // Subnormal and overflowing results round twice this way: the rounding tests cover them.
                guard r.magnitude >= smallestNormal && r.magnitude <= format.greatestFiniteMagnitude else { continue }
                checked += 1
                #expect(y.rounded == r, "\(name) \(what): \(y), from binary64 \(x) expected \(r.hex)")
            }
        }
        for _ in 0..<60 {
            let n = 2 + Int(rng.next() % 12)
            let x = (0..<n).map { _ in format.round(12 * rng.uniform(-1, 1)) }
            let q = (0..<n).map { _ in rng.next() % 3 == 0 ? 0 : format.round(rng.unit()) }
            let y = (0..<n).map { _ in format.round(rng.unit()) }
            let b = (0..<n).map { _ in format.round(rng.uniform(-1, 2)) }
            let w = format.round(rng.uniform(0.5, 3))
            let row = "\(x.map(\.hex))"
            expectRounded([try r64.klDivergence(x, target: q)], [try rf.klDivergence(x, target: q)], "KL of \(row)")
            expectRounded(
                try r64.klDivergenceGradient(x, target: q), try rf.klDivergenceGradient(x, target: q),
                "KL gradient of \(row)")
            expectRounded(
                try r64.binaryCrossEntropy(x, targets: y, posWeight: w),
                try rf.binaryCrossEntropy(x, targets: y, posWeight: w), "BCE of \(row)")
            expectRounded(
                try r64.binaryCrossEntropyGradient(x, targets: y, posWeight: w),
                try rf.binaryCrossEntropyGradient(x, targets: y, posWeight: w), "BCE gradient of \(row)")
            expectRounded(
                try r64.weightedLogSumExp(x, weights: b), try rf.weightedLogSumExp(x, weights: b),
                "weighted logsumexp of \(row)")
            let rows = [x, x.reversed(), x.map { format.round($0 / 2) }]
            let options = CrossEntropyOptions(
                classWeights: (0..<n).map { _ in format.round(rng.uniform(0, 2)) },
                labelSmoothing: format.round(rng.uniform(0, 0.3)),
                reduction: [LossReduction.none, .sum, .mean][Int(rng.next() % 3)])
            let batch = CrossEntropyBatch(
                rows: rows, targets: .labels(rows.map { _ in Int(rng.next() % UInt64(n)) }), options: options)
            expectRounded(try r64.crossEntropyLoss(batch), try rf.crossEntropyLoss(batch), "loss of \(row)")
            expectRounded(
                try r64.crossEntropyLossGradient(batch), try rf.crossEntropyLossGradient(batch),
                "loss gradient of \(row)")
        }
        #expect(checked > 1500, "only \(checked) values were normal in \(name)")
    }
}

extension Double {
    fileprivate var hex: String { Binary64.hexString(self) }
}

@Suite("Reference in formats: one-sided limits and the signs of zeros")
struct FormatLimitTests {
    func both(
        _ body: (SoftmaxReference) throws -> [ReferenceValue], format: BinaryFormat
    ) throws -> ([ReferenceValue], [ReferenceValue]) {
        let auto = SoftmaxReference(), mpfr = SoftmaxReference()
        auto.format = format
        mpfr.format = format
        mpfr.fastPath = .mpfr
        return (try body(auto), try body(mpfr))
    }

    @Test("log p_j = d_j − L just inside a narrower format's midpoint rounds toward d_j's side (both paths)")
    func logSoftmaxBelowMidpoint() throws {
        // |d_1| = 257 − 2^-60 is just below bfloat16's midpoint 257 between 256 and 258, and L ≈ 2^-371:
        // |log p_1| < 257, so it rounds to 256 (a position computed from the rounded anchor would give 258).
        let cases: [([Double], Int, BinaryFormat, Double)] = [
            ([-0x1p-60, -257], 1, .bfloat16, -256),
            ([-0x1p-70, -0x1.000001p+20], 1, .float, -0x1p20),
            ([-0x1p-70, -1024.5, -100], 1, .float16, -1024),
            // The max a tiny −δ: x_j − max = M + δ is just on the zero side of the midpoint M, by less
            // than 2^-1075 of an ulp (the fast path's scaled low word underflowed to 0) …
            ([-0x1p-1074, -1022], 1, .bfloat16, -0x1.fep+9),
            ([-0x1p-971, -0x1.000001p+127], 1, .float, -0x1p127),
            ([-0x1p-1074, -0x1.006p+15], 1, .float16, -0x1.004p+15),
            ([-0x1p-1000, -0x1.01p+100], 1, .bfloat16, -0x1p100),
            // … or by exactly one ulp at 192 bits, where MPFR's strict limit once stepped onto M itself.
            ([-0x1p-178, -0x1.0bp+13], 1, .bfloat16, -0x1.0ap+13),
            ([-0x1p-306, -0x1.0bp+13], 1, .bfloat16, -0x1.0ap+13),
        ]
        for (x, j, format, expected) in cases {
            let (a, m) = try both({ try $0.logSoftmax(x) }, format: format)
            #expect(
                a[j].rounded == expected && m[j].rounded == expected,
                "\(format) log-softmax of \(x): fast \(a[j]), MPFR \(m[j])")
            let (ca, cm) = try both({ [try $0.crossEntropy(x, target: .label(j))] }, format: format)
            #expect(
                ca[0].rounded == -expected && cm[0].rounded == -expected,
                "\(format) cross-entropy: fast \(ca[0]), MPFR \(cm[0])")
        }
    }

    @Test("logsumexp > max settles a max on a midpoint of the format, and the overflow threshold (both paths)")
    func logSumExpAboveMax() throws {
        let cases: [([Double], BinaryFormat, Double)] = [
            ([0x1.000001p+0, -1e6], .float, 0x1.000002p+0),  // m is a float midpoint; y = m + e^-1e6
            ([-0x1.000001p+0, -1e6], .float, -1),
            ([0x1.fffffe0000000p+127, 0x1.ffffff0000000p+127], .float, .infinity),  // m is float's overflow threshold
        ]
        for (x, format, expected) in cases {
            let (a, m) = try both({ [try $0.logSumExp(x)] }, format: format)
            #expect(
                a[0].rounded == expected && m[0].rounded == expected,
                "\(format) logsumexp of \(x): fast \(a[0]), MPFR \(m[0])")
        }
    }

    @Test("Jᵀv never asserts an exact zero it cannot prove: signs of tiny results agree with MPFR")
    func vectorJacobianSigns() throws {
        let cases: [([Double], [Double])] = [([0, 0], [-0x1p-1074, 0]), ([0, 0, -800], [-1, -1, 1])]
        for (x, v) in cases {
            let (a, m) = try both({ try $0.vectorJacobianProduct(x, v) }, format: .double)
            for (p, q) in zip(a, m) {
                let message = "J^T v of \(x) with v = \(v): fast \(a), MPFR \(m)"
                #expect(p.rounded.bitPattern == q.rounded.bitPattern, "\(message)")
            }
            #expect(m[0].rounded.sign == .minus, "w_0 < 0: \(m[0])")
        }
    }
}
