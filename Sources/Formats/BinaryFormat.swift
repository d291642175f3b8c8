// The binary floating-point formats results are rounded to: binary64 (double), binary32 (float),
// binary16 (Float16) and bfloat16 (binary32's exponent range with an 8-bit significand). Every value
// of each is a double, so results travel as doubles (hexadecimal floats of their exact value).

/// An IEEE-style binary format: precision p (significand bits, the leading one included), normal
/// exponents emin...emax, gradual underflow to subnormals, overflow to ±inf, round to nearest even.
public struct BinaryFormat: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let precision: Int
    public let minExponent: Int
    public let maxExponent: Int

    public static let double = BinaryFormat(name: "double", precision: 53, minExponent: -1022, maxExponent: 1023)
    public static let float = BinaryFormat(name: "float", precision: 24, minExponent: -126, maxExponent: 127)
    public static let float16 = BinaryFormat(name: "float16", precision: 11, minExponent: -14, maxExponent: 15)
    public static let bfloat16 = BinaryFormat(name: "bfloat16", precision: 8, minExponent: -126, maxExponent: 127)
    /// In the order of `index` (ReferenceValue stores the index).
    public static let all: [BinaryFormat] = [.double, .float, .float16, .bfloat16]

    public static func named(_ name: String) -> BinaryFormat? { all.first { $0.name == name } }

    public var description: String { name }

    /// The position in `all`.
    public var index: Int { Self.all.firstIndex(of: self)! }

    /// The exponent of the smallest subnormal, emin − p + 1 (the spacing below 2^emin).
    public var quantumExponent: Int { minExponent - precision + 1 }

    /// (2 − 2^(1−p)) · 2^emax.
    public var greatestFiniteMagnitude: Double {
        Double(
            sign: .plus, exponent: maxExponent,
            significand: 2 - Double(sign: .plus, exponent: 1 - precision, significand: 1))
    }

    /// The spacing of this format's values in x's binade (the subnormal spacing below 2^emin; for ±inf,
    /// the top binade's).
    public func ulp(_ x: Double) -> Double {
        if self == .double { return Binary64.ulp(x) }
        if x.isInfinite { return ulp(greatestFiniteMagnitude) }
        let b = x == 0 ? minExponent : max(Int(x.exponent), minExponent)
        return Double(sign: .plus, exponent: b - precision + 1, significand: 1)
    }

    /// x rounded to this format (to nearest, ties to even; subnormals; ±inf beyond the largest finite).
    public func round(_ x: Double) -> Double {
        if precision == 53 || !x.isFinite || x == 0 { return x }
        // The hardware's and compiler-rt's conversions round to nearest even, with gradual underflow.
        if precision == 24 && minExponent == -126 { return Double(Float(x)) }
        return roundedByBits(x)
    }

    /// `round` for p <= 24 from the bits: round to nearest even by adding just under half the dropped
    /// part (plus the kept part's lowest bit) and truncating, a carry moving into the exponent; below
    /// 2^emin by adding and subtracting 2^52 in units of the smallest subnormal (both exact).
    @inline(__always)
    func roundedByBits(_ x: Double) -> Double {
        let m = x.magnitude
        let r: Double
        if Int(m.exponent) >= minExponent {
            let dropped = UInt64(53 - precision)
            let bits = m.bitPattern
            let half = (UInt64(1) << (dropped - 1)) - 1 + ((bits >> dropped) & 1)
            r = Double(bitPattern: (bits + half) & ~((UInt64(1) << dropped) - 1))
            if r > greatestFiniteMagnitude { return x < 0 ? -.infinity : .infinity }
        } else {
            let units = Double(sign: .plus, exponent: -quantumExponent, significand: m)
            r = Double(sign: .plus, exponent: quantumExponent, significand: (units + 0x1p52) - 0x1p52)
        }
        return x < 0 ? -r : r
    }

    /// `round` by exact scalings, for any format (the conversions' own definition).
    func roundedByScaling(_ x: Double) -> Double {
        if precision == 53 || !x.isFinite || x == 0 { return x }
        let q = max(Int(x.exponent), minExponent) - precision + 1
        let i = Double(sign: .plus, exponent: -q, significand: x).rounded(.toNearestOrEven)  // exact scalings
        let r = Double(sign: .plus, exponent: q, significand: i)
        return r.magnitude > greatestFiniteMagnitude ? (r < 0 ? -.infinity : .infinity) : r
    }

    /// Whether x is a value of this format.
    public func represents(_ x: Double) -> Bool { x.isNaN || round(x).bitPattern == x.bitPattern }

    /// Φ: the position of x (a value of this format) on the format's ordinal axis: consecutive values
    /// differ by 1, Φ(±0) = 0, ±inf one step past ±greatestFiniteMagnitude.
    public func ordinal(_ x: Double) -> Int64 {
        if self == .double { return Binary64.ordinal(x) }
        let m = x.isInfinite ? greatestFiniteMagnitude : x.magnitude
        let half = Int64(1) << (precision - 1)
        var k: Int64
        if m < Double(sign: .plus, exponent: minExponent, significand: 1) {
            k = Int64(Double(sign: .plus, exponent: -quantumExponent, significand: m))
        } else {
            let b = Int(m.exponent)
            k =
                Int64(b - minExponent + 1) * half
                + Int64(Double(sign: .plus, exponent: precision - 1 - b, significand: m)) - half
        }
        if x.isInfinite { k += 1 }
        return x.sign == .minus ? -k : k
    }

    /// The value at position k of the ordinal axis (the inverse of `ordinal`): ±inf past the largest
    /// finite magnitude.
    public func value(atOrdinal k: Int64) -> Double {
        let sign: FloatingPointSign = k < 0 ? .minus : .plus
        let t = k.magnitude
        let half = UInt64(1) << (precision - 1)
        if t < half { return Double(sign: sign, exponent: quantumExponent, significand: Double(t)) }
        let binade = Int(t / half) + minExponent - 1
        guard binade <= maxExponent else { return sign == .minus ? -.infinity : .infinity }
        return Double(sign: sign, exponent: binade - precision + 1, significand: Double(half + t % half))
    }
}
