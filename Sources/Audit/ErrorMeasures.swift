// How far a computed double is from the certified reference (docs/design.md#error-measures).
//
// - ulps: |Φ(c) − Φ(v)| on the ordinal axis of doubles (ReferenceValue.ulpError): fractional,
//   subnormal-aware (the spacing is 2^−1074 there), split at binade boundaries; 0.5 or less means
//   correctly rounded.
// - bits = log2(1 + ulps), Herbie's measure: the number of low bits that are wrong.
// - relative |c − v| / |v| and absolute |c − v|: near zero (log-softmax at a dominant logit, a tiny
//   gradient) relative error explodes while the absolute error is tiny, so each verdict says which it uses.
// - Special values are verdicts of their own, never folded into the ULP figures: NaN or inf where
//   the result is a finite number, a number where the convention gives NaN or inf, the wrong sign of
//   an infinity or of a zero.
import Reference

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A special-value mismatch between a computed double and the reference.
public enum SpecialValueVerdict: String, Sendable, CaseIterable, Codable {
    case nanForNumber = "NaN where the result is a number"
    case numberForNaN = "a number where the convention gives NaN"
    case infinityForFinite = "inf where the correctly rounded result is finite"
    case finiteForInfinity = "finite where the result is inf"
    case wrongSignOfInfinity = "inf of the wrong sign"
    case wrongSignOfZero = "zero of the wrong sign"
}

/// The error of one computed element against its reference value.
public struct ElementError: Sendable, Equatable {
    /// Fractional ULP error (NaN when one side is NaN, +inf for an infinity against a finite value).
    public let ulps: Double
    /// log2(1 + ulps).
    public let bits: Double
    /// |c − v| / |v| (0 when both are zero, +inf when only v is).
    public let relative: Double
    /// |c − v|.
    public let absolute: Double
    /// A special-value mismatch, reported apart from accuracy.
    public let special: SpecialValueVerdict?

    /// The computed double is the reference's rounded value (numerically: ±0 match here, the sign of zero
    /// being the `special` verdict's business). Decided by equality, not by ulps <= 0.5, which a value
    /// within the reference's offset accuracy (2^-24 ulp) of a midpoint could tip either way.
    public let equalsRounded: Bool

    /// Correctly rounded: the reference's rounded value, and no special-value mismatch.
    public var isCorrectlyRounded: Bool { special == nil && equalsRounded }

    public init(
        ulps: Double, relative: Double, absolute: Double, special: SpecialValueVerdict?, equalsRounded: Bool? = nil
    ) {
        self.ulps = ulps
        self.bits = ulps.isNaN ? .nan : log2(1 + ulps)
        self.relative = relative
        self.absolute = absolute
        self.special = special
        self.equalsRounded = equalsRounded ?? (ulps <= 0.5)
    }

    public init(computed c: Double, reference r: ReferenceValue) {
        switch r.kind {
        case .undefined:
            self = c.isNaN ? .zero : ElementError(ulps: .nan, relative: .nan, absolute: .nan, special: .numberForNaN)
        case .infinity:
            if c == r.rounded {
                self = .zero
            } else {
                let verdict: SpecialValueVerdict =
                    c.isNaN ? .nanForNumber : (c.isInfinite ? .wrongSignOfInfinity : .finiteForInfinity)
                self = ElementError(ulps: .infinity, relative: .infinity, absolute: .infinity, special: verdict)
            }
        case .real:
            self = ElementError(c, againstReal: r)
        }
    }

    private init(_ c: Double, againstReal r: ReferenceValue) {
        if c.isNaN {
            self.init(ulps: .nan, relative: .nan, absolute: .nan, special: .nanForNumber)
            return
        }
        if c.isInfinite {
            if c == r.rounded {
                self = .zero  // the exact value overflows to this same infinity
            } else {
                self.init(ulps: .infinity, relative: .infinity, absolute: .infinity, special: .infinityForFinite)
            }
            return
        }
        let ulps = r.ulpError(c)
        let anchor = r.anchor
        let (relative, absolute) = Self.relativeAndAbsolute(c, anchor: anchor, offset: r.ulpOffset, format: r.format)
        var special: SpecialValueVerdict? = nil
        if r.rounded.isInfinite {
            special = .finiteForInfinity
        } else if c == 0, r.rounded == 0, c.sign != r.rounded.sign {
            special = .wrongSignOfZero
        }
        self.init(ulps: ulps, relative: relative, absolute: absolute, special: special, equalsRounded: c == r.rounded)
    }

    public static let zero = ElementError(ulps: 0, relative: 0, absolute: 0, special: nil)

    /// Relative and absolute error of c against v = anchor + offset · spacing (the spacing of the
    /// binade between them, in the reference's format). Below its smallest normal the values are scaled
    /// to units of its smallest subnormal first (2^1074 for double), so that the relative
    /// error of a subnormal result does not underflow.
    private static func relativeAndAbsolute(
        _ c: Double, anchor: Double, offset: Double, format: BinaryFormat
    ) -> (Double, Double) {
        if anchor.magnitude < Double(sign: .plus, exponent: format.minExponent, significand: 1) {
            // Units of the smallest subnormal q: v' = Φ(v), c' = c / q (may overflow to inf for a far-off c).
            let q = format.quantumExponent
            let vScaled = Double(format.ordinal(anchor)) + offset
            let cScaled = Double(sign: c.sign, exponent: -q, significand: c.magnitude)
            // A c too far off to scale is off by about itself, which binary64 measures without scaling.
            if !cScaled.isFinite { return (.infinity, (c - anchor).magnitude) }
            let difference = (cScaled - vScaled).magnitude
            let absolute = Double(sign: .plus, exponent: q, significand: difference)
            if vScaled == 0 { return (difference == 0 ? 0 : .infinity, absolute) }
            return (difference / vScaled.magnitude, absolute)
        }
        var spacing = format.ulp(anchor)
        if offset.sign != anchor.sign, anchor.significandBitPattern == 0, Int(anchor.exponent) > format.minExponent {
            spacing /= 2  // v lies just inside the binade below a power of two
        }
        let difference = ((c - anchor) - offset * spacing).magnitude
        return (difference / anchor.magnitude, difference)
    }
}

/// The errors of a vector output, element by element, and their summary.
public struct VectorError: Sendable {
    public let elements: [ElementError]

    public init(computed: [Double], reference: [ReferenceValue]) {
        precondition(computed.count == reference.count, "output length differs from the reference's")
        elements = zip(computed, reference).map { ElementError(computed: $0, reference: $1) }
    }

    /// The largest ULP error among elements without a special-value verdict (0 for none).
    public var maxULPs: Double { elements.filter { $0.special == nil }.map(\.ulps).max() ?? 0 }
    /// The index of that element.
    public var worstIndex: Int? {
        elements.indices.filter { elements[$0].special == nil }.max { elements[$0].ulps < elements[$1].ulps }
    }
    public var specials: [SpecialValueVerdict] { elements.compactMap(\.special) }
}
