// Facts about binary64 that the reference and the error measures share: the ordinal axis on which
// ULP distances are measured, ulp(x), and the hexadecimal notation of the command-line contract.

public enum Binary64 {
    /// Φ(x): the position of x on the ordinal axis of doubles. Consecutive doubles differ by 1,
    /// Φ(±0) = 0, Φ(−x) = −Φ(x); ±inf sits one step past ±greatestFiniteMagnitude. Precondition: x
    /// is not NaN.
    public static func ordinal(_ x: Double) -> Int64 {
        let magnitude = Int64(bitPattern: x.magnitude.bitPattern)
        return x.sign == .minus ? -magnitude : magnitude
    }

    /// The spacing of doubles in x's binade: 2^(max(e, −1022) − 52), 2^−1074 for zero and
    /// subnormals; for ±inf, the spacing of the top binade.
    public static func ulp(_ x: Double) -> Double {
        if x.isInfinite { return Double.greatestFiniteMagnitude.ulp }
        return x.magnitude.ulp
    }

    /// Python's `float.hex()` notation, which C's `%a` also reads: `0x1.5bf0a8b145769p+1`,
    /// `-0x0.0p+0`, `0x0.0000000000001p-1022` for subnormals, `inf`, `-inf`, `nan`.
    public static func hexString(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        let sign = x.sign == .minus ? "-" : ""
        if x == 0 { return sign + "0x0.0p+0" }
        let fraction = x.significandBitPattern
        var digits = String(fraction, radix: 16)
        digits = String(repeating: "0", count: 13 - digits.count) + digits
        if x.isSubnormal { return sign + "0x0." + digits + "p-1022" }
        let e = Int(x.exponentBitPattern) - 1023
        return sign + "0x1." + digits + "p" + (e < 0 ? "-" : "+") + String(abs(e))
    }
}
