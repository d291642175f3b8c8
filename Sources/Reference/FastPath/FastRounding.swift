// Certified rounding for the fast path: the same decision as Certification.swift, in doubles, to any
// BinaryFormat (written below for binary64: p = 53, emin = −1022, emax = 1023; the others substitute
// their p, emin and emax).
//
// An approximation is V = 2^scale · (hi + lo) (a normalized double word) with |v − V| <= 2^scale · error
// for the unknown exact value v. Let q = 2^qexp be the spacing of doubles in V's binade (2^-1074 for
// subnormals). In units of q — an exact rescaling — V is t + tl with t = |hi|/q in [2^52, 2^53) (smaller
// for subnormal results) and |tl| <= 1/2. With i = round(t) and f = (t − i) + tl (t − i is exact, f has
// one rounding, <= 2^-53), the rounding boundaries of binary64 are the half-integers i ± 1/2 within
// the binade (below 2^52 the next boundary is 2^52 − 1/4, out of reach of an error <= 2^-25). So when
//
//     |f| + E + 2^-50 < 1/2,      E = error · 2^(scale − qexp) (rounded up),
//
// every point of [V − E, V + E], v included, rounds to i·q: that is the correctly rounded result,
// with the sign of V (of the formula's known sign when i = 0 and |V| <= E). As in the MPFR path, E must
// also be <= 2^-25 so that ulpOffset = ±f, the position of V from the anchor in ulps, is accurate to
// 2^-24 ulp. Results this close to overflow (binade 1023) are left to the MPFR path.

struct FastApproximation {
    var value: DoubleWord
    var scale: Int
    /// |v − 2^scale · value| <= 2^scale · error.
    var error: Double

    init(_ value: DoubleWord, scale: Int = 0, absoluteError: Double) {
        self.value = value
        self.scale = scale
        self.error = absoluteError
    }

    /// A value known to relative error ε (a first-order sum of the steps' bounds). The absolute error
    /// charged is 2ε|hi|(1 + 2^-40): the factor 2 covers every second-order term (each ε < 2^-70) and
    /// |hi| versus |v|, the last factor the rounding of this product.
    init(_ value: DoubleWord, scale: Int = 0, relativeError: Double) {
        self.init(value, scale: scale, absoluteError: 2 * relativeError * value.hi.magnitude * boundRoundingUp)
    }

    /// A value known only to lie strictly within 2^exponent of zero (`knownSign` fixes its sign).
    static func tiny(below exponent: Int) -> FastApproximation {
        FastApproximation(DoubleWord(0), scale: exponent, absoluteError: 1)
    }
}

enum FastRounding {
    /// The correctly rounded binary64 value and its offset, or nil when the bound does not decide it.
    /// `magnitudeAbove`, when given, is an exact value ℓ (same scale and sign as v) with |v| > |ℓ|
    /// strictly: log p_j = d_j − L sits strictly beyond d_j, which settles a d_j that is itself a
    /// binary64 midpoint and an L far below its ulp (the MPFR path's one-sided limit).
    static func certify(
        _ a: FastApproximation, knownSign: Int, magnitudeAbove limit: DoubleWord? = nil,
        format: BinaryFormat = .double
    ) -> ReferenceValue? {
        let hi = a.value.hi, lo = a.value.lo
        guard hi.isFinite, lo.isFinite, a.error.isFinite, a.error >= 0 else { return nil }
        if hi == 0 {
            // The fast path never asserts an exact zero (an error bound that underflowed to 0 would make
            // one of a nonzero value): MPFR decides exact zeros exactly.
            guard a.error > 0 else { return nil }
            return zero(bound: a.error, scale: a.scale, sign: knownSign, format: format)
        }
        var binade = hi.exponent + a.scale
        if hi.significandBitPattern == 0 && lo != 0 && (lo < 0) != (hi < 0) { binade -= 1 }
        if binade < format.quantumExponent - 26 {
            // Far below the smallest subnormal: a zero, with V's sign when |V| > error.
            let sign = hi.magnitude * (1 - 0x1p-50) > a.error ? (hi < 0 ? -1 : 1) : knownSign
            return zero(bound: 2 * hi.magnitude + a.error, scale: a.scale, sign: sign, format: format)
        }
        let negative = hi < 0
        if binade >= format.maxExponent {
            switch overflowing(a, negative: negative, format: format) {
            case .overflows(let infinity): return infinity
            case .undecided: return nil
            case .finite: break
            }
        }
        guard binade <= format.maxExponent else { return nil }
        let p = format.precision
        let qexp = max(binade, format.minExponent) - (p - 1)
        let shift = a.scale - qexp
        let toUnits = powerOfTwo(shift)
        let t = hi.magnitude * toUnits
        let tl = (negative ? -lo : lo) * toUnits
        // For subnormal results t has a fraction, so tl can move the nearest integer by one.
        var i = t >= 0x1p52 ? t : (t + 0x1p52) - 0x1p52  // round to nearest even (t >= 0; no libm call)
        var f = (t - i) + tl
        if f > 0.5 {
            i += 1
            f -= 1
        } else if f < -0.5 {
            i -= 1
            f += 1
        }
        // An underflowed tl is off by at most 2^-1075: the 2^-1000 covers it.
        let e = a.error * powerOfTwo(max(shift, -1000)) + 0x1p-1000
        guard e <= 0x1p-25 else { return nil }
        var lowerDecided = f - e - 0x1p-50 > -0.5
        if let limit = limit, limit.hi != 0, (limit.hi < 0) == negative {
            switch limitPosition(limit, from: i, toUnits: toUnits, negative: negative) {
            case .aboveUpperMidpoint:
                // |v| > ℓ >= i + 1/2: the anchor is i + 1, and |v| is above its lower midpoint.
                i += 1
                f -= 1
                lowerDecided = true
            case .aboveLowerMidpoint:
                lowerDecided = true  // |v| > ℓ >= i − 1/2
            case .below:
                break
            }
        }
        guard lowerDecided, f + e + 0x1p-50 < 0.5, i <= powerOfTwo(p) else { return nil }
        if i == 0 {
            // Rounds to a zero; its sign is V's if V is farther from zero than the error.
            let sign = f.magnitude > e + 0x1p-50 ? (negative ? -1 : 1) : knownSign
            guard sign != 0 else { return nil }
            let zero = sign < 0 ? -0.0 : 0.0
            return ReferenceValue(rounded: zero, ulpOffset: f == 0 ? zero : (negative ? -f : f))
        }
        // i · 2^qexp, exact: i < 2^54 is a double, and a subnormal result is reached in two exact steps.
        let magnitude = qexp >= -1022 ? i * powerOfTwo(qexp) : i * powerOfTwo(qexp + 100) * 0x1p-100
        let rounded = negative ? -magnitude : magnitude
        let offset = negative ? -f : f
        return ReferenceValue(rounded: rounded, ulpOffset: offset == 0 ? (negative ? -0.0 : 0.0) : offset)
    }

    /// Where a one-sided limit ℓ stands against the midpoints around the integer i (in ulps).
    enum LimitPosition { case aboveUpperMidpoint, aboveLowerMidpoint, below }

    /// ℓ's position P from i, in ulps: P = p.hi + p.lo exactly when `exact` (both twoSums capture their
    /// errors and nothing underflowed); otherwise within 2^-50 of p.hi + p.lo + s1.lo.
    private static func limitPosition(
        _ limit: DoubleWord, from i: Double, toUnits: Double,
        negative: Bool
    ) -> LimitPosition {
        let s1 = twoSum(limit.hi.magnitude * toUnits, -i)
        let c = (negative ? -limit.lo : limit.lo) * toUnits
        let p = twoSum(s1.hi, c)
        // (A low word that underflowed when scaled makes c inexact, even when it became 0.)
        let exact = s1.lo == 0 && (limit.lo == 0 || c.magnitude >= 0x1p-1000)
        func atLeast(_ t: Double) -> Bool {
            exact ? (p.hi > t || (p.hi == t && p.lo >= 0)) : (p.hi + p.lo) + s1.lo - 0x1p-50 >= t
        }
        if atLeast(0.5) { return .aboveUpperMidpoint }
        return atLeast(-0.5) ? .aboveLowerMidpoint : .below
    }

    /// Where a value in the top binade stands against the overflow threshold.
    enum Overflow {
        /// At or above the threshold: ±inf, with its offset.
        case overflows(ReferenceValue)
        /// Below it: the normal rounding applies.
        case finite
        /// Too close to the threshold for the bound to tell: the MPFR path decides.
        case undecided
    }

    /// A value at or beyond 2^1023: ±inf when it is certainly at or above the overflow threshold
    /// T = 2^1024 − 2^970 (the midpoint above the largest double, which ties to even: to infinity), with
    /// the offset (V − greatestFiniteMagnitude) / 2^971 that the MPFR path gives (relative accuracy
    /// 2^-50: such offsets are large); finite when it is certainly below T (the caller's normal rounding
    /// then applies, its grid 2^971 and its integer below 2^53); undecided when too close to T to tell.
    private static func overflowing(_ a: FastApproximation, negative: Bool, format: BinaryFormat) -> Overflow {
        // Units of u = 2^(emax − p) (2^970 for double): T = (2^(p+1) − 1) u, the largest finite (2^(p+1) − 2) u.
        let unit = format.maxExponent - format.precision
        guard (-1022...1023).contains(a.scale - unit) else { return .undecided }
        let toUnits = powerOfTwo(a.scale - unit)
        let t = a.value.hi.magnitude * toUnits
        let tl = (negative ? -a.value.lo : a.value.lo) * toUnits
        let e = a.error * toUnits
        let top = powerOfTwo(format.precision + 1)
        let beyond = twoSum(t, -(top - 1))  // exact
        let position = beyond.hi + (beyond.lo + tl)  // V − T, two roundings
        let slack = e + position.magnitude * 0x1p-50 + 0x1p-50
        if position - slack > 0 {
            let fromMax = twoSum(t, -(top - 2))  // V − greatestFiniteMagnitude, in units of u
            let offset = (fromMax.hi + (fromMax.lo + tl)) / 2
            return .overflows(
                ReferenceValue(rounded: negative ? -.infinity : .infinity, ulpOffset: negative ? -offset : offset))
        }
        return position + slack < 0 ? .finite : .undecided
    }

    /// 2^e as a double (0 below 2^-1074, inf above 2^1023).
    @inline(__always)
    static func powerOfTwo(_ e: Int) -> Double {
        if e >= -1022 && e <= 1023 { return Double(bitPattern: UInt64(e + 1023) << 52) }
        return Double(sign: .plus, exponent: e, significand: 1)
    }

    /// |v| < 2^scale · bound: a zero of the given sign when that is below 2^-25 of the smallest
    /// subnormal (2^-1099 for double), so that the offset, 0, is within 2^-25 ulp.
    private static func zero(bound: Double, scale: Int, sign: Int, format: BinaryFormat) -> ReferenceValue? {
        guard sign != 0, bound > 0, scale + bound.exponent + 1 <= format.quantumExponent - 25 else { return nil }
        let zero = sign < 0 ? -0.0 : 0.0
        return ReferenceValue(rounded: zero, ulpOffset: zero)
    }
}
