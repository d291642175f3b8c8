import Testing
@testable import MPFR

@Suite("MPFRFloat")
struct MPFRFloatTests {
    init() { MPFREnvironment.useWidestExponentRange() }

    @Test(
        "doubles convert exactly and come back unchanged",
        arguments: [
            0.1, -1e308, 5e-324, -2.2250738585072014e-308, 1.7976931348623157e308, 0.0, -0.0,
        ])
    func roundTrip(_ x: Double) {
        let v = MPFRFloat(x)
        #expect(v.double().bitPattern == x.bitPattern, "input \(x), observed \(v.double())")
    }

    @Test("ternary values report exactness")
    func ternary() {
        let a = MPFRFloat(1.0, precision: 64)
        let b = MPFRFloat(3.0, precision: 64)
        let q = MPFRFloat(precision: 64)
        #expect(q.divide(a, b) != 0, "1/3 is inexact at 64 bits")
        #expect(q.add(a, b) == 0, "1 + 3 is exact")
        #expect(q.compare(4.0) == 0)
        let small = MPFRFloat(precision: 2)
        #expect(small.add(a, MPFRFloat(0.25)) != 0, "1.25 needs 3 bits")
    }

    @Test("mpfr_sum rounds once: 1 + 2^-100 - 1 is 2^-100 at 10 bits")
    func sumIsCorrectlyRounded() {
        let terms = [MPFRFloat(1.0), MPFRFloat(0x1p-100), MPFRFloat(-1.0)]
        let s = MPFRFloat(precision: 10)
        #expect(s.sum(terms) == 0)
        #expect(s.double() == 0x1p-100, "observed \(s.double())")
        #expect(s.sum(terms, count: 2) != 0, "1 + 2^-100 is inexact at 10 bits")
        #expect(s.double() == 1.0)
    }

    @Test("exp underflow beyond 2^emin is flagged, and exp of -1e10 is not")
    func underflowFlag() {
        let x = MPFRFloat(-1e10)
        let y = MPFRFloat(precision: 64)
        MPFREnvironment.clearUnderflow()
        y.exp(x)
        #expect(!MPFREnvironment.underflowed, "exp(-1e10) = 2^-1.44e10 is inside MPFR's widest range")
        #expect(y.exponent < -14_000_000_000)
        x.set(-1e19)
        MPFREnvironment.clearUnderflow()
        y.exp(x)
        #expect(MPFREnvironment.underflowed, "exp(-1e19) is below 2^(1-2^62)")
    }

    @Test("exponent, sign and decimal digits")
    func inspection() {
        let v = MPFRFloat(-0.75)
        #expect(v.exponent == 0, "0.75 = 0.11b x 2^0")
        #expect(v.sign == -1)
        #expect(v.decimalString(digits: 5) == "-7.5000e-1")
        #expect(MPFRFloat(1e300).decimalString(digits: 3) == "1.00e+300")
        let third = MPFRFloat(precision: 200)
        third.divide(MPFRFloat(1.0, precision: 200), 3)
        #expect(third.decimalString(digits: 40) == "3.333333333333333333333333333333333333333e-1")
    }

    @Test("log1p keeps a tiny argument: log1p(1e-300) = 1e-300 to 50 digits")
    func log1pTiny() {
        let x = MPFRFloat(1e-300, precision: 200)
        let y = MPFRFloat(precision: 200)
        y.log(onePlus: x)
        #expect(y.double() == 1e-300)
    }
}
