// A safe Swift value over MPFR's mpfr_t: the only code in SoftmaxAudit that imports CMPFR.
//
// `MPFRFloat` owns one mpfr_t (mpfr_init2 in init, mpfr_clear in deinit) behind a stable pointer,
// so the C struct never moves and may be passed as both input and output of one operation
// (`x.add(x, y)`): MPFR allows such aliasing, and since Swift only ever sees the class reference,
// no exclusivity rule is involved. Every arithmetic method rounds to the receiver's precision and
// returns MPFR's ternary value: 0 when the result is exact, negative or positive when the stored
// result is below or above the exact one.
import CMPFR

/// The rounding directions the reference needs.
public enum MPFRRounding: Sendable {
    case nearest, towardZero, up, down

    var raw: mpfr_rnd_t {
        switch self {
        case .nearest: return MPFR_RNDN
        case .towardZero: return MPFR_RNDZ
        case .up: return MPFR_RNDU
        case .down: return MPFR_RNDD
        }
    }
}

/// A multiple-precision binary floating-point number (MPFR).
///
/// Not `Sendable`: an `MPFRFloat` is mutable state without a lock, and MPFR's exponent range and
/// flags are per thread. Give each thread (each audit worker) its own values.
public final class MPFRFloat {
    let raw: UnsafeMutablePointer<__mpfr_struct>

    /// A NaN of the given precision in bits (MPFR's initial value).
    public init(precision: Int) {
        raw = .allocate(capacity: 1)
        mpfr_init2(raw, mpfr_prec_t(precision))
    }

    /// The exact value of `value`, at `precision` bits (53 or more keeps it exact).
    public convenience init(_ value: Double, precision: Int = 53) {
        self.init(precision: precision)
        set(value)
    }

    deinit {
        mpfr_clear(raw)
        raw.deallocate()
    }

    /// The precision in bits. Setting it keeps no value (the number becomes NaN); MPFR reuses the
    /// allocation when the new precision fits in it.
    public var precision: Int {
        get { Int(cmpfr_precision(raw)) }
        set { mpfr_set_prec(raw, mpfr_prec_t(newValue)) }
    }

    /// Narrows the precision to the fewest bits that hold the value exactly (at least 2), keeping it.
    public func narrowToExact() {
        guard isRegular else { return }
        mpfr_prec_round(raw, max(mpfr_min_prec(raw), 2), MPFR_RNDN)
    }

    // MARK: - Inspection

    public var isZero: Bool { mpfr_zero_p(raw) != 0 }
    public var isNaN: Bool { mpfr_nan_p(raw) != 0 }
    public var isInfinite: Bool { mpfr_inf_p(raw) != 0 }
    /// Non-zero and finite.
    public var isRegular: Bool { mpfr_regular_p(raw) != 0 }
    /// -1, 0 or +1 (0 for zero and NaN).
    public var sign: Int { Int(cmpfr_sign(raw)) }
    /// True for negative values, -0 and NaNs with the sign bit set.
    public var signBit: Bool { mpfr_signbit(raw) != 0 }

    /// MPFR's exponent e of a regular value: |x| lies in [2^(e-1), 2^e).
    public var exponent: Int {
        precondition(isRegular, "exponent of a zero, infinite or NaN MPFRFloat")
        return Int(cmpfr_exponent(raw))
    }

    /// -1, 0 or +1 as self is below, equal to or above `other` (NaNs compare as 0).
    public func compare(_ other: MPFRFloat) -> Int { Int(mpfr_cmp(raw, other.raw)).signum() }
    public func compare(_ other: Double) -> Int { Int(mpfr_cmp_d(raw, other)).signum() }
    /// Compares |self| with |other|.
    public func compareMagnitude(_ other: MPFRFloat) -> Int { Int(mpfr_cmpabs(raw, other.raw)).signum() }

    // MARK: - Assignment

    @discardableResult
    public func set(_ value: Double, _ rounding: MPFRRounding = .nearest) -> Int {
        Int(mpfr_set_d(raw, value, rounding.raw))
    }

    @discardableResult
    public func set(_ value: MPFRFloat, _ rounding: MPFRRounding = .nearest) -> Int {
        Int(mpfr_set(raw, value.raw, rounding.raw))
    }

    @discardableResult
    public func set(_ value: Int, _ rounding: MPFRRounding = .nearest) -> Int {
        Int(mpfr_set_si(raw, value, rounding.raw))
    }

    /// Moves to the next representable value below (mpfr_nextbelow).
    public func nextBelow() { mpfr_nextbelow(raw) }

    /// Moves to the next representable value above (mpfr_nextabove).
    public func nextAbove() { mpfr_nextabove(raw) }

    /// Sets ±0 (negative when `negative`).
    public func setZero(negative: Bool = false) { mpfr_set_zero(raw, negative ? -1 : 1) }

    /// Sets 2^e exactly (MPFR's exponent range permitting).
    public func setPowerOfTwo(_ e: Int) {
        mpfr_set_ui_2exp(raw, 1, mpfr_exp_t(e), MPFR_RNDN)
    }

    // MARK: - Arithmetic (self = op(...), rounded to self's precision)

    @discardableResult
    public func add(_ a: MPFRFloat, _ b: MPFRFloat, _ r: MPFRRounding = .nearest) -> Int {
        Int(mpfr_add(raw, a.raw, b.raw, r.raw))
    }

    @discardableResult
    public func add(_ a: MPFRFloat, _ b: Double, _ r: MPFRRounding = .nearest) -> Int {
        Int(mpfr_add_d(raw, a.raw, b, r.raw))
    }

    @discardableResult
    public func subtract(_ a: MPFRFloat, _ b: MPFRFloat, _ r: MPFRRounding = .nearest) -> Int {
        Int(mpfr_sub(raw, a.raw, b.raw, r.raw))
    }

    @discardableResult
    public func subtract(_ a: Double, _ b: Double, _ r: MPFRRounding = .nearest) -> Int {
        // Both operands are exact at 53 bits; MPFR rounds the exact difference once.
        let tmp = MPFRFloat(b)
        mpfr_set_d(raw, a, MPFR_RNDN)  // exact when self has 53 bits or more
        return Int(mpfr_sub(raw, raw, tmp.raw, r.raw))
    }

    @discardableResult
    public func subtract(_ a: MPFRFloat, _ b: Double, _ r: MPFRRounding = .nearest) -> Int {
        Int(mpfr_sub_d(raw, a.raw, b, r.raw))
    }

    @discardableResult
    public func subtract(_ a: Double, _ b: MPFRFloat, _ r: MPFRRounding = .nearest) -> Int {
        Int(mpfr_d_sub(raw, a, b.raw, r.raw))
    }

    @discardableResult
    public func multiply(_ a: MPFRFloat, _ b: MPFRFloat, _ r: MPFRRounding = .nearest) -> Int {
        Int(mpfr_mul(raw, a.raw, b.raw, r.raw))
    }

    @discardableResult
    public func multiply(_ a: MPFRFloat, _ b: Double, _ r: MPFRRounding = .nearest) -> Int {
        Int(mpfr_mul_d(raw, a.raw, b, r.raw))
    }

    @discardableResult
    public func multiply(_ a: MPFRFloat, _ b: Int, _ r: MPFRRounding = .nearest) -> Int {
        Int(mpfr_mul_si(raw, a.raw, b, r.raw))
    }

    /// self = a·b + c, rounded once (exact when the precision holds the result).
    @discardableResult
    public func fusedMultiplyAdd(_ a: MPFRFloat, _ b: MPFRFloat, _ c: MPFRFloat, _ r: MPFRRounding = .nearest) -> Int {
        Int(mpfr_fma(raw, a.raw, b.raw, c.raw, r.raw))
    }

    @discardableResult
    public func divide(_ a: MPFRFloat, _ b: MPFRFloat, _ r: MPFRRounding = .nearest) -> Int {
        Int(mpfr_div(raw, a.raw, b.raw, r.raw))
    }

    @discardableResult
    public func divide(_ a: MPFRFloat, _ b: Double, _ r: MPFRRounding = .nearest) -> Int {
        Int(mpfr_div_d(raw, a.raw, b, r.raw))
    }

    @discardableResult
    public func divide(_ a: MPFRFloat, _ b: Int, _ r: MPFRRounding = .nearest) -> Int {
        Int(mpfr_div_si(raw, a.raw, b, r.raw))
    }

    /// self = a · 2^e (exact unless it leaves the exponent range).
    @discardableResult
    public func scale(_ a: MPFRFloat, byPowerOfTwo e: Int, _ r: MPFRRounding = .nearest) -> Int {
        Int(mpfr_mul_2si(raw, a.raw, e, r.raw))
    }

    @discardableResult
    public func negate(_ a: MPFRFloat) -> Int { Int(mpfr_neg(raw, a.raw, MPFR_RNDN)) }

    @discardableResult
    public func absoluteValue(_ a: MPFRFloat) -> Int { Int(mpfr_abs(raw, a.raw, MPFR_RNDN)) }

    /// self = e^a.
    @discardableResult
    public func exp(_ a: MPFRFloat, _ r: MPFRRounding = .nearest) -> Int {
        Int(mpfr_exp(raw, a.raw, r.raw))
    }

    /// self = log(a).
    @discardableResult
    public func log(_ a: MPFRFloat, _ r: MPFRRounding = .nearest) -> Int {
        Int(mpfr_log(raw, a.raw, r.raw))
    }

    /// self = log(1 + a).
    @discardableResult
    public func log(onePlus a: MPFRFloat, _ r: MPFRRounding = .nearest) -> Int {
        Int(mpfr_log1p(raw, a.raw, r.raw))
    }

    /// self = Σ terms[0..<count] (all terms when count is nil), correctly rounded (mpfr_sum: one
    /// rounding whatever the number of terms).
    @discardableResult
    public func sum(_ terms: [MPFRFloat], count: Int? = nil, _ r: MPFRRounding = .nearest) -> Int {
        let n = count ?? terms.count
        if n == 0 {
            setZero()
            return 0
        }
        var pointers: [UnsafeMutablePointer<__mpfr_struct>?] = terms[0..<n].map { $0.raw }
        return pointers.withUnsafeMutableBufferPointer { buffer in
            Int(mpfr_sum(raw, buffer.baseAddress, UInt(buffer.count), r.raw))
        }
    }

    // MARK: - Conversion

    /// The value rounded to binary64 (mpfr_get_d: correctly rounded, gradual underflow included,
    /// overflow to ±inf in round-to-nearest).
    public func double(_ r: MPFRRounding = .nearest) -> Double { mpfr_get_d(raw, r.raw) }

    /// The value in decimal scientific notation with `digits` significant digits, rounded to
    /// nearest: "1.234e-5", "-inf", "nan".
    public func decimalString(digits: Int) -> String {
        if isNaN { return "nan" }
        if isInfinite { return signBit ? "-inf" : "inf" }
        if isZero { return signBit ? "-0" : "0" }
        var exp10: mpfr_exp_t = 0
        guard let cString = mpfr_get_str(nil, &exp10, 10, digits, raw, MPFR_RNDN) else { return "?" }
        defer { mpfr_free_str(cString) }
        var mantissa = String(cString: cString)
        var negative = false
        if mantissa.hasPrefix("-") {
            negative = true
            mantissa.removeFirst()
        }
        let head = mantissa.prefix(1)
        let tail = mantissa.dropFirst()
        let e = Int(exp10) - 1
        return (negative ? "-" : "") + head + (tail.isEmpty ? "" : "." + tail) + "e" + (e < 0 ? "" : "+") + String(e)
    }
}

@available(*, unavailable, message: "MPFRFloat is per-thread mutable state; give each thread its own.")
extension MPFRFloat: Sendable {}
