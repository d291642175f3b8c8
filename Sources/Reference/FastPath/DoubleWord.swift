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
// operands. We use the algorithms without FMA: on a baseline x86-64 target Swift's fma is a call into
// libm, and Veltkamp's split keeps every step inline and portable. Built with `-DSOFTMAX_AUDIT_FMA` for
// a CPU with FMA (`-target-cpu haswell`), twoProduct takes one FMA instead: the same exact pair, 1.2 to 1.3
// times as fast (README, Performance); where Veltkamp's split would overflow (beyond 2^996) the default
// build's NaN makes the fast path decline, and the FMA build may answer the same value itself.

/// What the double-word algorithms compute with: a double, or two doubles side by side (SIMD2), so that
/// the row loop evaluates two exponentials per pass with the very same operations.
protocol Lanes {
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    static prefix func - (a: Self) -> Self
    init(broadcast value: Double)
    /// a·b + c with one rounding.
    static func fused(_ a: Self, _ b: Self, _ c: Self) -> Self
}

extension Double: Lanes {
    @inline(__always) init(broadcast value: Double) { self = value }
    @inline(__always) static func fused(_ a: Double, _ b: Double, _ c: Double) -> Double { c.addingProduct(a, b) }
}

extension SIMD2: Lanes where Scalar == Double {
    @inline(__always) init(broadcast value: Double) { self.init(repeating: value) }
    @inline(__always) static func fused(_ a: Self, _ b: Self, _ c: Self) -> Self { c.addingProduct(a, b) }
}

typealias DoubleWord = DW<Double>

/// hi + lo, lane by lane.
struct DW<T: Lanes> {
    var hi: T
    var lo: T

    @inline(__always)
    init(_ hi: T, _ lo: T) {
        self.hi = hi
        self.lo = lo
    }

    @inline(__always)
    var negated: DW { DW(-hi, -lo) }
}

extension DW: Equatable where T: Equatable {}
extension DW: Sendable where T: Sendable {}

extension DW where T == Double {
    init(_ hi: Double) {
        self.hi = hi
        self.lo = 0
    }

    static var u: Double { 0x1p-53 }
    static var u2: Double { 0x1p-106 }
    /// Relative error bounds of the rounded operations (the published constants, rounded up).
    static var errorOfPlusDouble: Double { 2 * u2 }
    static var errorOfPlus: Double { 3.01 * u2 }
    static var errorOfTimesDouble: Double { 3 * u2 }
    static var errorOfTimes: Double { 7 * u2 }
    static var errorOfDividedByDouble: Double { 3.5 * u2 }
    static var errorOfReciprocal: Double { 20 * u2 }

    var value: Double { hi + lo }

    /// |self| for a normalized double word (its sign is hi's).
    var magnitude: DoubleWord { hi < 0 ? negated : self }

    /// The double word times 2^e, exact while both words stay normal.
    @inline(__always)
    func scaled(_ e: Int) -> DoubleWord {
        DoubleWord(Double(sign: .plus, exponent: e, significand: hi), Double(sign: .plus, exponent: e, significand: lo))
    }
}

// MARK: - Error-free transformations

@inline(__always)
func twoSum<T: Lanes>(_ a: T, _ b: T) -> DW<T> {
    let s = a + b
    let bb = s - a
    let e = (a - (s - bb)) + (b - bb)
    return DW(s, e)
}

@inline(__always)
func fastTwoSum<T: Lanes>(_ a: T, _ b: T) -> DW<T> {
    let s = a + b
    return DW(s, b - (s - a))
}

/// Veltkamp's split: a = high + low with each half of at most 26 significant bits (|a| < 2^995).
@inline(__always)
func split<T: Lanes>(_ a: T) -> (T, T) {
    let t = T(broadcast: 134_217_729.0) * a  // 2^27 + 1
    let high = t - (t - a)
    return (high, a - high)
}

@inline(__always)
func twoProduct<T: Lanes>(_ a: T, _ b: T) -> DW<T> {
    let p = a * b
    #if SOFTMAX_AUDIT_FMA
    // The same exact pair (p = RN(ab) and ab − p are unique), one instruction where the target has FMA.
    return DW(p, T.fused(a, b, -p))
    #else
    let (ah, al) = split(a)
    let (bh, bl) = split(b)
    let e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return DW(p, e)
    #endif
}

// MARK: - Rounded operations

extension DW {
    /// DWPlusFP (Algorithm 4): relative error <= 2u².
    @inline(__always)
    func plus(_ y: T) -> DW {
        let s = twoSum(hi, y)
        let v = lo + s.lo
        return fastTwoSum(s.hi, v)
    }

    /// AccurateDWPlusDW (Algorithm 6): relative error <= 3u²/(1 − 4u).
    @inline(__always)
    func plus(_ y: DW) -> DW {
        let s = twoSum(hi, y.hi)
        let t = twoSum(lo, y.lo)
        let c = s.lo + t.hi
        let v = fastTwoSum(s.hi, c)
        let w = t.lo + v.lo
        return fastTwoSum(v.hi, w)
    }

    /// DWTimesFP2 (Algorithm 8): relative error <= 3u².
    @inline(__always)
    func times(_ y: T) -> DW {
        let c = twoProduct(hi, y)
        let cl3 = c.lo + lo * y
        return fastTwoSum(c.hi, cl3)
    }

    /// DWTimesDW1 (Algorithm 10): relative error <= 7u².
    @inline(__always)
    func times(_ y: DW) -> DW {
        let c = twoProduct(hi, y.hi)
        let cl2 = hi * y.lo + lo * y.hi
        let cl3 = c.lo + cl2
        return fastTwoSum(c.hi, cl3)
    }
}

extension DW where T == Double {
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

// MARK: - Error bounds computed in doubles

/// The factor that rounds an error bound computed in doubles up: such a bound is a short product or sum
/// of non-negative doubles, each step rounded to nearest (relative error at most 2^-53), and fewer than
/// 2^12 steps stay below the 2^-41 that 1 + 2^-40 adds to a first-order total.
let boundRoundingUp = 1 + 0x1p-40

/// The factor that rounds a denominator of an error bound down, for the same reason.
let boundRoundingDown = 1 - 0x1p-40
