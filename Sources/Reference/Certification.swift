// Certified rounding to binary64 (docs/design.md, "The reference").
//
// Given an approximation V of an unknown exact value v with |V − v| <= E = 2^errorExponent (or V
// exact), `certify` returns the binary64 value that round-to-nearest-even gives for v — or nil when the
// bound does not decide it yet, and the caller raises the precision (Ziv's strategy).
//
// The test: round both ends of [V − E, V + E] (computed outward: down and up) to binary64 with
// mpfr_get_d, which rounds correctly to nearest-even with gradual underflow and overflow to ±inf.
// Rounding is monotone, so if both ends give the same double, so does every point between them, v
// included. This is exactly "no rounding boundary (midpoint) lies in the interval", for normal,
// subnormal and overflowing results alike, and for a result that rounds to zero it also settles the
// sign (−0 when the whole interval is negative).
//
// Why not mpfr_can_round(V, err, RNDN, RNDZ, 54), the manual's recipe for round-to-nearest: it decides
// the 54-bit rounding toward zero, whose boundaries include every double itself, so it can never
// certify a value within E of a double — and such values are common here: softmax([0, −1e10])_0 is
// 1 − 2^(−1.44e10), which any finite precision sees as 1 ± E. Round-to-nearest only has midpoints as
// boundaries, which the interval test checks directly.
//
// When the interval straddles zero (a result far below the smallest subnormal whose sign the bound
// cannot fix), the sign the formula guarantees (`knownSign`) decides; if it guarantees none, nil.
// On top of the rounding, the bound must fix `ulpOffset` to 2^−24 ulp, so that fractional ULP errors
// measured against it are themselves accurate.
import MPFR

struct Binary64Certifier {
    /// Bits of accuracy required of `ulpOffset` (its absolute error is at most 2^−offsetBits ulp).
    static let offsetBits = 24

    /// Every midpoint of every format (binary64's subnormal midpoints included) is a multiple of 2^-1075.
    static let midpointQuantumExponent = -1075
    /// Bits below that quantum for the neighbour of a one-sided limit.
    static let limitGuardBits = 5

    private let low = MPFRFloat(precision: 64)
    private let high = MPFRFloat(precision: 64)
    private let scratch = MPFRFloat(precision: 64)

    /// - Parameters:
    ///   - v: the approximation V.
    ///   - errorExponent: |V − v| <= 2^errorExponent; nil when V is exact.
    ///   - knownSign: the sign of v when the formula guarantees it (+1, −1), 0 when unknown; used only
    ///     when the bound does not exclude zero.
    ///   - limit: an exact value the exact result is strictly below (`upper`) or above, which trims the
    ///     interval to exclude it.
    func certify(
        _ v: MPFRFloat, errorExponent: Int?, knownSign: Int, limit: (MPFRFloat, upper: Bool)? = nil,
        format: BinaryFormat = .double
    ) -> ReferenceValue? {
        precondition(!v.isNaN, "the certified path never produces NaN")
        guard let err = errorExponent else {
            // Exact: an exact zero is +0, as x − x is in round-to-nearest.
            if v.isZero { return ReferenceValue(rounded: 0, ulpOffset: 0) }
            let rounded = round(v, to: format)
            return ReferenceValue(rounded: rounded, ulpOffset: offset(of: v, from: rounded, format: format))
        }
        // The offset must be known to 2^−24 of the smallest spacing near V.
        let binade = v.isRegular ? v.exponent : -1074
        let floor = format == .double ? -1073 : format.minExponent
        guard err <= max(binade - 1, floor) - (format.precision - 1) - 1 - Self.offsetBits else { return nil }

        scratch.precision = 2
        scratch.setPowerOfTwo(err)
        low.precision = max(v.precision, 64) + 64
        high.precision = low.precision
        low.subtract(v, scratch, .down)
        high.add(v, scratch, .up)
        if let (bound, upper) = limit {
            // Strictly below (above) the bound: its neighbour at a precision fine enough that no midpoint
            // of any format (all multiples of 2^-1075) lies strictly between the two, so that the
            // neighbour rounds as every value just inside the bound does. (At a precision too coarse, the
            // neighbour of a bound one ulp above a midpoint can be the midpoint itself, which ties to even.)
            // A bound rounded outward from an exact limit (more bits than that grid) is set exactly, one
            // bit finer than its own, so that its neighbour stays short of the next grid point.
            let boundExponent = bound.isRegular ? bound.exponent : 0
            let fine = max(
                low.precision, boundExponent - Self.midpointQuantumExponent + Self.limitGuardBits,
                bound.precision + 1)
            if upper && high.compare(bound) >= 0 {
                high.precision = fine
                high.set(bound, .down)
                high.nextBelow()
            } else if !upper && low.compare(bound) <= 0 {
                low.precision = fine
                low.set(bound, .up)
                low.nextAbove()
            }
        }
        let a = round(low, to: format)
        let b = round(high, to: format)
        let rounded: Double
        if a.bitPattern == b.bitPattern {
            rounded = a
        } else if a == 0 && b == 0 && knownSign != 0 {
            rounded = knownSign < 0 ? -0.0 : 0.0
        } else {
            return nil
        }
        return ReferenceValue(rounded: rounded, ulpOffset: offset(of: v, from: rounded, format: format))
    }

    /// v rounded to nearest-even in `format` (gradual underflow, overflow to ±inf), as a double.
    /// For double, mpfr_get_d; otherwise v is first rounded to the format's precision at v's binade
    /// (fewer bits below 2^emin) — one correct rounding, never double rounding through binary64.
    private func round(_ v: MPFRFloat, to format: BinaryFormat) -> Double {
        if format == .double || v.isZero || !v.isRegular { return v.double(.nearest) }
        let b = v.exponent - 1  // 2^b <= |v| < 2^(b+1)
        let bits = format.precision - max(0, format.minExponent - b)
        if bits <= 0 {
            // |v| < 2^(q+1), q the smallest subnormal's exponent: 0, or 2^q above the midpoint 2^(q−1).
            let q = format.quantumExponent
            let beyondHalf =
                b == q - 1 && v.compareMagnitude(MPFRFloat(Double(sign: .plus, exponent: q - 1, significand: 1))) > 0
            let r = beyondHalf ? Double(sign: .plus, exponent: q, significand: 1) : 0
            return v.sign < 0 ? -r : r
        }
        scratch.precision = bits
        scratch.set(v, .nearest)
        let r = scratch.double(.nearest)  // exact: bits <= 53 and the exponent is in double's range
        if r.magnitude > format.greatestFiniteMagnitude { return r < 0 ? -.infinity : .infinity }
        return r
    }

    /// (V − anchor) / spacing, the spacing being that of the format's binade between V and the anchor.
    private func offset(of v: MPFRFloat, from rounded: Double, format: BinaryFormat) -> Double {
        let anchor: Double
        if rounded.isInfinite {
            let max = format.greatestFiniteMagnitude
            anchor = rounded < 0 ? -max : max
        } else {
            anchor = rounded
        }
        var spacing = format.ulp(anchor)
        scratch.precision = max(v.precision, 64) + 64
        scratch.set(anchor)
        // Just below a power of two (other than the smallest normal) the spacing halves.
        if anchor != 0, anchor.significandBitPattern == 0, Int(anchor.exponent) > format.minExponent,
            v.compareMagnitude(scratch) < 0
        {
            spacing /= 2
        }
        scratch.subtract(v, scratch)
        scratch.scale(scratch, byPowerOfTwo: -Int(spacing.exponent))
        let offset = scratch.double(.nearest)
        return offset == 0 ? (rounded.sign == .minus ? -0.0 : 0.0) : offset
    }
}
