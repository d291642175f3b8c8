// Certified rounding on hand-built values: subnormals, the midpoint below the smallest subnormal,
// overflow, ties to even, binade boundaries and the sign of zero.
import MPFR
import Testing
@testable import Reference

@Suite("Certified rounding to binary64")
struct CertificationTests {
    let certifier = Binary64Certifier()
    init() { MPFREnvironment.useWidestExponentRange() }

    /// 2^e · (1 + k · 2^-f), exactly, at 256 bits.
    func value(_ e: Int, plus k: Int = 0, times f: Int = 0, negative: Bool = false) -> MPFRFloat {
        let v = MPFRFloat(precision: 256)
        v.setPowerOfTwo(e)
        if k != 0 {
            let t = MPFRFloat(precision: 256)
            t.setPowerOfTwo(e - f)
            t.multiply(t, k)
            v.add(v, t)
        }
        if negative { v.negate(v) }
        return v
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let e: Int, k: Int, f: Int, negative: Bool
        let error: Int?
        let expected: Double
        var testDescription: String { name }
    }

    @Test(
        "exact and nearly exact values round as IEEE says",
        arguments: [
            Case(
                name: "2^-1075 exactly: a tie between 0 and 2^-1074 goes to even 0", e: -1075, k: 0, f: 0,
                negative: false, error: nil, expected: 0),
            Case(name: "-2^-1075 exactly: -0.0", e: -1075, k: 0, f: 0, negative: true, error: nil, expected: -0.0),
            Case(
                name: "2^-1075 (1 + 2^-60) ± 2^-1200: above the midpoint, 2^-1074", e: -1075, k: 1, f: 60,
                negative: false, error: -1200, expected: 0x1p-1074),
            Case(
                name: "2^-1075 · 1.5 = 0.75 · 2^-1074: 2^-1074", e: -1075, k: 1, f: 1, negative: false, error: -1300,
                expected: 0x1p-1074),
            Case(name: "2^-1076 ± 2^-1300: 0", e: -1076, k: 0, f: 0, negative: false, error: -1300, expected: 0),
            Case(name: "-2^-1100 ± 2^-1300: -0.0", e: -1100, k: 0, f: 0, negative: true, error: -1300, expected: -0.0),
            Case(
                name: "subnormal 2^-1074 * 2.5 exactly: tie to even 2 * 2^-1074", e: -1073, k: 1, f: 2, negative: false,
                error: nil, expected: 0x1p-1073),
            Case(
                name: "subnormal 2^-1074 * 3.5 exactly: tie to even 4 * 2^-1074", e: -1073, k: 3, f: 2, negative: false,
                error: nil, expected: 0x1p-1072),
            Case(
                name: "2^-1022 (1 - 2^-60): the top of the subnormals rounds up to the smallest normal", e: -1023,
                k: ((1 << 59) - 1) >> 0, f: 59, negative: false, error: -1400, expected: 0x1p-1022),
            Case(
                name: "1 - 2^-54 exactly: tie between 1 - 2^-53 and 1, even is 1", e: -1, k: (1 << 54) - 2, f: 54,
                negative: false, error: nil, expected: 1),
            Case(
                name: "1 - 2^-55 +- 2^-200: 1", e: -1, k: (1 << 55) - 2, f: 55, negative: false, error: -200,
                expected: 1
            ),
            Case(
                name: "1 + 2^-53 exactly: tie between 1 and 1 + 2^-52, even is 1", e: 0, k: 1, f: 53, negative: false,
                error: nil, expected: 1),
            Case(
                name: "1 + 3 · 2^-53 exactly: tie, even is 1 + 2^-51", e: 0, k: 3, f: 53, negative: false, error: nil,
                expected: 1 + 0x1p-51),
            Case(
                name: "2^1024 (1 - 2^-54) exactly: the midpoint above the largest double overflows (even)", e: 1023,
                k: (1 << 53) - 1, f: 53, negative: false, error: nil, expected: .infinity),
            Case(
                name: "2^1024 - 1.5 · 2^970, between the largest double and the midpoint: the largest double", e: 1023,
                k: (1 << 54) - 3, f: 54, negative: false, error: -2000, expected: .greatestFiniteMagnitude),
            Case(name: "-2^1025: -inf", e: 1025, k: 0, f: 0, negative: true, error: 800, expected: -.infinity),
        ])
    func rounding(_ c: Case) {
        let v = value(c.e, plus: c.k, times: c.f, negative: c.negative)
        let r = certifier.certify(v, errorExponent: c.error, knownSign: 0)
        #expect(r != nil, "\(c.name): not certified")
        if let r {
            let observed = Binary64.hexString(r.rounded), exact = v.decimalString(digits: 30)
            #expect(
                r.rounded.bitPattern == c.expected.bitPattern,
                "\(c.name): expected \(Binary64.hexString(c.expected)), observed \(observed), V = \(exact)")
        }
    }

    @Test("an interval that contains a midpoint is not certified")
    func midpointRefused() {
        // 1 + 2^-53 ± 2^-100: straddles the midpoint between 1 and 1 + 2^-52.
        #expect(certifier.certify(value(0, plus: 1, times: 53), errorExponent: -100, knownSign: 1) == nil)
        // 2^-1075 ± 2^-1200 straddles the midpoint between 0 and 2^-1074.
        #expect(certifier.certify(value(-1075), errorExponent: -1200, knownSign: 1) == nil)
        // An error too coarse for the ulp offset (2^-24 ulp) is refused even far from a midpoint.
        #expect(certifier.certify(value(0, plus: 1, times: 2), errorExponent: -60, knownSign: 1) == nil)
    }

    @Test("a zero whose interval straddles 0 takes the formula's sign, or is refused")
    func signOfZero() {
        let zero = MPFRFloat(precision: 64)
        zero.setZero()
        #expect(certifier.certify(zero, errorExponent: -5000, knownSign: -1)?.rounded.bitPattern == (-0.0).bitPattern)
        #expect(certifier.certify(zero, errorExponent: -5000, knownSign: 1)?.rounded.bitPattern == (0.0).bitPattern)
        #expect(certifier.certify(zero, errorExponent: -5000, knownSign: 0) == nil)
        #expect(
            certifier.certify(zero, errorExponent: nil, knownSign: -1)?.rounded.bitPattern == (0.0).bitPattern,
            "an exact zero is +0")
    }

    @Test("the ulp offset is measured in the binade between the value and its rounding")
    func offsets() throws {
        // 1 − 2^-55: rounds to 1, and lies a quarter of the lower binade's spacing (2^-53) below it.
        let below = try #require(
            certifier.certify(value(-1, plus: (1 << 55) - 2, times: 55), errorExponent: -300, knownSign: 1))
        #expect(below.rounded == 1 && abs(below.ulpOffset + 0.25) < 1e-15, "observed \(below)")
        // 1 + 2^-54: a quarter ulp (2^-52) above 1.
        let above = try #require(certifier.certify(value(0, plus: 1, times: 54), errorExponent: -300, knownSign: 1))
        #expect(above.rounded == 1 && abs(above.ulpOffset - 0.25) < 1e-15, "observed \(above)")
        // 0.3 · 2^-1074: rounds to 0, offset 0.3 in units of 2^-1074.
        let tiny = MPFRFloat(precision: 128)
        tiny.setPowerOfTwo(-1074)
        tiny.multiply(tiny, 0.3)
        let t = try #require(certifier.certify(tiny, errorExponent: -1300, knownSign: 1))
        #expect(t.rounded == 0 && abs(t.ulpOffset - 0.3) < 1e-15, "observed \(t)")
        // 2^1024 · (1 + 2^-10) overflows: anchored at the largest double, in its spacing 2^971.
        let huge = try #require(certifier.certify(value(1024, plus: 1, times: 10), errorExponent: 900, knownSign: 1))
        #expect(
            huge.rounded == .infinity && huge.ulpOffset == 0x1p43 + 1,
            "2^1024 (1 + 2^-10) − (2^1024 − 2^971) = (2^43 + 1) · 2^971: observed \(huge)")
    }
}
