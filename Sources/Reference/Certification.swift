// Certified rounding to binary64 (DESIGN §3).
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
    func certify(_ v: MPFRFloat, errorExponent: Int?, knownSign: Int, limit: (MPFRFloat, upper: Bool)? = nil) -> ReferenceValue? {
        precondition(!v.isNaN, "the certified path never produces NaN")
        guard let err = errorExponent else {
            // Exact: an exact zero is +0, as x − x is in round-to-nearest.
            if v.isZero { return ReferenceValue(rounded: 0, ulpOffset: 0) }
            let rounded = v.double(.nearest)
            return ReferenceValue(rounded: rounded, ulpOffset: offset(of: v, from: rounded))
        }
        // The offset must be known to 2^−24 of the smallest spacing near V.
        let binade = v.isRegular ? v.exponent : -1074
        guard err <= max(binade - 1, -1073) - 53 - Self.offsetBits else { return nil }

        scratch.precision = 2
        scratch.setPowerOfTwo(err)
        low.precision = max(v.precision, 64) + 64
        high.precision = low.precision
        low.subtract(v, scratch, .down)
        high.add(v, scratch, .up)
        if let (bound, upper) = limit {
            if upper && high.compare(bound) >= 0 {
                high.set(bound, .down)
                high.nextBelow()
            } else if !upper && low.compare(bound) <= 0 {
                low.set(bound, .up)
                low.nextAbove()
            }
        }
        let a = low.double(.nearest)
        let b = high.double(.nearest)
        let rounded: Double
        if a.bitPattern == b.bitPattern {
            rounded = a
        } else if a == 0 && b == 0 && knownSign != 0 {
            rounded = knownSign < 0 ? -0.0 : 0.0
        } else {
            return nil
        }
        return ReferenceValue(rounded: rounded, ulpOffset: offset(of: v, from: rounded))
    }

    /// (V − anchor) / spacing, the spacing being that of the binade between V and the anchor.
    private func offset(of v: MPFRFloat, from rounded: Double) -> Double {
        let anchor: Double
        if rounded.isInfinite {
            anchor = rounded < 0 ? -.greatestFiniteMagnitude : .greatestFiniteMagnitude
        } else {
            anchor = rounded
        }
        var spacing = Binary64.ulp(anchor)
        scratch.precision = max(v.precision, 64) + 64
        scratch.set(anchor)
        // Just below a power of two (other than the smallest normal) the spacing halves.
        if anchor != 0, anchor.significandBitPattern == 0, anchor.exponentBitPattern > 1,
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
