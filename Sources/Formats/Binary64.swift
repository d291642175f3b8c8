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
        String(unsafeUninitializedCapacity: hexLength) { writeHex(x, to: $0.baseAddress!) }
    }

    /// The longest hexString: a sign, "0x1.", 13 fraction digits, "p-1022".
    public static let hexLength = 1 + 4 + 13 + 6

    /// The eight nibbles of v as lowercase hex digits, most significant first in memory (a byte per nibble,
    /// spread by shifts and masks, then '0' or 'a' − 10 added to each byte at once).
    @inline(__always)
    static func hexDigits(_ v: UInt32) -> UInt64 {
        var x = UInt64(v)
        x = (x | x << 16) & 0x0000_FFFF_0000_FFFF
        x = (x | x << 8) & 0x00FF_00FF_00FF_00FF
        x = (x | x << 4) & 0x0F0F_0F0F_0F0F_0F0F  // nibble k in byte k
        let letters = ((x &+ 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101  // 1 where the nibble > 9
        let ascii = x &+ 0x3030_3030_3030_3030 &+ letters &* UInt64(UInt8(ascii: "a") - UInt8(ascii: "9") - 1)
        return ascii.bigEndian  // the most significant digit at the lowest address
    }
    private static let fractionDigits = Double.significandBitCount / 4

    /// Writes x's `hexString` at p, straight from its bits, and returns how many bytes it wrote (at most
    /// `hexLength`).
    public static func writeHex(_ x: Double, to p: UnsafeMutablePointer<UInt8>) -> Int {
        var n = 0
        func put(_ c: UInt8) {
            p[n] = c
            n += 1
        }
        func put(_ s: StaticString) {
            for i in 0..<s.utf8CodeUnitCount { put(s.utf8Start[i]) }
        }
        if x.isNaN {
            put("nan")
            return n
        }
        if x.sign == .minus { put(UInt8(ascii: "-")) }
        if x.isInfinite {
            put("inf")
        } else if x == 0 {
            put("0x0.0p+0")
        } else {
            put(x.isSubnormal ? "0x0." : "0x1.")
            // The 13 digits as two 8-byte stores: the top 5 (the rest of that store is overwritten), the low 8.
            let fraction = x.significandBitPattern
            let raw = UnsafeMutableRawPointer(p + n)
            raw.storeBytes(of: hexDigits(UInt32(truncatingIfNeeded: fraction >> 20) & 0xFFFF_F000), as: UInt64.self)
            raw.storeBytes(of: hexDigits(UInt32(truncatingIfNeeded: fraction)), toByteOffset: 5, as: UInt64.self)
            n += fractionDigits
            let e = x.isSubnormal ? Double.leastNormalMagnitude.exponent : x.exponent
            put(UInt8(ascii: "p"))
            put(UInt8(ascii: e < 0 ? "-" : "+"))
            var divisor = 1
            while divisor * 10 <= abs(e) { divisor *= 10 }
            while divisor > 0 {
                put(UInt8(ascii: "0") + UInt8(abs(e) / divisor % 10))
                divisor /= 10
            }
        }
        return n
    }
}
