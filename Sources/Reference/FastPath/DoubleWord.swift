// Double-word ("double-double") arithmetic for the certified fast path: a real number held as the
// unevaluated sum hi + lo of two doubles with |lo| <= ulp(hi)/2, about 106 bits.
//
// The error-free transformations are exact (barring overflow, and for products underflow, which the
// fast path rules out by keeping every operand it multiplies in [2^-1000, 2^1000]):
//
//     twoSum(a, b)      = (s, e) with s = RN(a + b), s + e = a + b          (Knuth, 6 flops)
//     fastTwoSum(a, b)  = the same when a = 0 or |a| >= |b|                 (Dekker, 3 flops)
//     twoProduct(a, b)  = (p, e) with p = RN(a·b), p + e = a·b              (Dekker/Veltkamp, no FMA)
//
// The operations on double words round, with the relative error bounds (u = 2^-53) proved by
// Joldes, Muller and Popescu, "Tight and rigorous error bounds for basic building blocks of
// double-word arithmetic", ACM TOMS 44(2), 2017 (their algorithm numbers):
//
//     plus(Double)   DWPlusFP,          Algorithm 4     <= 2u²
//     plus(DW)       AccurateDWPlusDW,  Algorithm 6     <= 3u² / (1 − 4u)
//     times(Double)  DWTimesFP2,        Algorithm 8     <= 3u²
//     times(DW)      DWTimesDW1,        Algorithm 10    <= 7u²
//     divided(Double) DWDivFP3,         Algorithm 15    <= 3u²
//     reciprocal     DWDivDW2 of 1,     Algorithm 17    <= 15u² + 56u³ (with DWTimesFP1 inside;
//                                                        we use DWTimesFP2 and charge 20u²)
//
// The fast path's error analysis (FastExponential.swift, FastRow.swift) charges these constants
// rounded up (`DoubleWord.errorOf...`), and FastPathTests checks each operation against MPFR on random
// operands. We use the algorithms without FMA: Swift's fma is a call into
// libm here, and Veltkamp's split keeps every step inline and portable.

struct DoubleWord: Equatable, Sendable {
    var hi: Double
    var lo: Double

    init(_ hi: Double, _ lo: Double = 0) {
        self.hi = hi
        self.lo = lo
    }

    static let u = 0x1p-53
    static let u2 = 0x1p-106
    /// Relative error bounds of the rounded operations (the published constants, rounded up).
    static let errorOfPlusDouble = 2 * u2
    static let errorOfPlus = 3.01 * u2
    static let errorOfTimesDouble = 3 * u2
    static let errorOfTimes = 7 * u2
    static let errorOfDividedByDouble = 3.5 * u2
    static let errorOfReciprocal = 20 * u2

    var value: Double { hi + lo }
    var negated: DoubleWord { DoubleWord(-hi, -lo) }

    /// The double word times 2^e, exact while both words stay normal.
    @inline(__always)
    func scaled(_ e: Int) -> DoubleWord {
        DoubleWord(Double(sign: .plus, exponent: e, significand: hi), Double(sign: .plus, exponent: e, significand: lo))
    }
}

// MARK: - Error-free transformations

@inline(__always)
func twoSum(_ a: Double, _ b: Double) -> DoubleWord {
    let s = a + b
    let bb = s - a
    let e = (a - (s - bb)) + (b - bb)
    return DoubleWord(s, e)
}

@inline(__always)
func fastTwoSum(_ a: Double, _ b: Double) -> DoubleWord {
    let s = a + b
    return DoubleWord(s, b - (s - a))
}

/// Veltkamp's split: a = high + low with each half of at most 26 significant bits (|a| < 2^995).
@inline(__always)
func split(_ a: Double) -> (Double, Double) {
    let t = 134_217_729.0 * a  // 2^27 + 1
    let high = t - (t - a)
    return (high, a - high)
}

@inline(__always)
func twoProduct(_ a: Double, _ b: Double) -> DoubleWord {
    let p = a * b
    let (ah, al) = split(a)
    let (bh, bl) = split(b)
    let e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return DoubleWord(p, e)
}

// MARK: - Rounded operations

extension DoubleWord {
    /// DWPlusFP (Algorithm 4): relative error <= 2u².
    @inline(__always)
    func plus(_ y: Double) -> DoubleWord {
        let s = twoSum(hi, y)
        let v = lo + s.lo
        return fastTwoSum(s.hi, v)
    }

    /// AccurateDWPlusDW (Algorithm 6): relative error <= 3u²/(1 − 4u).
    @inline(__always)
    func plus(_ y: DoubleWord) -> DoubleWord {
        let s = twoSum(hi, y.hi)
        let t = twoSum(lo, y.lo)
        let c = s.lo + t.hi
        let v = fastTwoSum(s.hi, c)
        let w = t.lo + v.lo
        return fastTwoSum(v.hi, w)
    }

    /// DWTimesFP2 (Algorithm 8): relative error <= 3u².
    @inline(__always)
    func times(_ y: Double) -> DoubleWord {
        let c = twoProduct(hi, y)
        let cl3 = c.lo + lo * y
        return fastTwoSum(c.hi, cl3)
    }

    /// DWTimesDW1 (Algorithm 10): relative error <= 7u².
    @inline(__always)
    func times(_ y: DoubleWord) -> DoubleWord {
        let c = twoProduct(hi, y.hi)
        let cl2 = hi * y.lo + lo * y.hi
        let cl3 = c.lo + cl2
        return fastTwoSum(c.hi, cl3)
    }

    /// DWDivFP3 (Algorithm 15): relative error <= 3u² (charged 3.5u²).
    @inline(__always)
    func divided(by y: Double) -> DoubleWord {
        let th = hi / y
        let pi = twoProduct(th, y)
        let dh = hi - pi.hi
        let dt = dh - pi.lo
        let d = dt + lo
        let tl = d / y
        return fastTwoSum(th, tl)
    }

    /// 1 / self by DWDivDW2 (Algorithm 17) with x = 1 (charged 20u²).
    @inline(__always)
    var reciprocal: DoubleWord {
        let th = 1 / hi
        let r = times(th)
        let pih = 1 - r.hi
        let dl = -r.lo
        let d = pih + dl
        let tl = d / hi
        return fastTwoSum(th, tl)
    }
}
