// Numbers read from bytes: the row syntax's values without Characters or copies. Two exact fast paths
// cover what writers print (hexadecimal floats with at most 53 significant bits in the normal range,
// as float.hex and %a write them; decimals of at most 19 digits whose value Clinger's method rounds
// once); every other token goes to Double(String), so that each token reads exactly as
// Double(String) reads it.

/// A line, or part of one, as bytes.
public typealias LineBytes = Slice<UnsafeBufferPointer<UInt8>>

enum NumberParsing {
    /// The token as a Double, or nil when binary64 does not read it: Double(String)'s grammar and value,
    /// with a NUL byte refused (strtod would stop at it) and a finite literal that overflows refused
    /// (only inf and infinity, signed and in any case, spell ±inf).
    static func number(_ token: LineBytes) -> Double? {
        guard let base = token.base.baseAddress, !token.isEmpty else { return nil }
        let t = Token(start: base + token.startIndex, count: token.count)
        if let value = exactHexadecimal(t) ?? exactDecimal(t) { return value }
        guard !token.contains(0) else { return nil }
        let text = String(decoding: token, as: UTF8.self)
        guard let value = Double(text) else { return nil }
        if value.isInfinite && !text.lowercased().contains("inf") { return nil }
        return value
    }

    /// The canonical hexadecimal form of a normal double as hexString writes it, [-]0x1.hhhhhhhhhhhhhp±d, read
    /// at p without a branch per digit: its value and its length, or nil when the bytes from p (up to end) do
    /// not start with that form. The caller checks that a blank or the end follows.
    @inline(__always)
    static func canonicalHexadecimal(_ p: UnsafePointer<UInt8>, _ available: Int) -> (Double, Int)? {
        let negative = p[0] == minus
        let s = negative ? 1 : 0
        let digitsStart = s + prefixLength
        guard available >= digitsStart + fractionDigits + 3,
            p[s] == zero, p[s + 1] | 0x20 == UInt8(ascii: "x"), p[s + 2] == UInt8(ascii: "1"), p[s + 3] == point
        else { return nil }
        var fraction: UInt64 = 0
        var invalid: UInt8 = 0
        hexDigits.withUnsafeBufferPointer { table in
            for k in 0..<fractionDigits {
                let v = table[Int(p[digitsStart + k])]
                invalid |= v
                fraction = fraction << 4 | UInt64(v & 0xF)
            }
        }
        var i = digitsStart + fractionDigits
        guard invalid < 16, p[i] | 0x20 == UInt8(ascii: "p"), p[i + 1] == plus || p[i + 1] == minus else { return nil }
        let negativeExponent = p[i + 1] == minus
        i += 2
        var e = 0
        while i < available, i < digitsStart + fractionDigits + 2 + exponentDigits {
            let d = p[i] &- zero
            guard d < 10 else { break }
            e = e * 10 + Int(d)
            i += 1
        }
        guard i > digitsStart + fractionDigits + 2 else { return nil }
        if negativeExponent { e = -e }
        guard e >= Double.leastNormalMagnitude.exponent, e <= Double.greatestFiniteMagnitude.exponent else {
            return nil
        }
        let value = Double(
            sign: negative ? .minus : .plus, exponentBitPattern: UInt(e + Int(Double(1).exponentBitPattern)),
            significandBitPattern: fraction)
        return (value, i)
    }

    /// "0x1.", the 13 hex digits of a 52-bit fraction, and the digits of a binary64 exponent.
    static let prefixLength = 4
    static let fractionDigits = Double.significandBitCount / 4
    static let exponentDigits = 4

    /// A token's bytes, read without bounds checks: every index is below count.
    struct Token {
        let start: UnsafePointer<UInt8>
        let count: Int

        @inline(__always)
        subscript(i: Int) -> UInt8 { start[i] }
    }

    static let zero = UInt8(ascii: "0")
    static let minus = UInt8(ascii: "-")
    static let plus = UInt8(ascii: "+")
    static let point = UInt8(ascii: ".")

    /// A sign, if any: whether it is minus, and where the digits start.
    @inline(__always)
    static func sign(_ t: Token) -> (negative: Bool, start: Int) {
        let first = t[0]
        guard first == minus || first == plus else { return (false, 0) }
        return (first == minus, 1)
    }

    /// Each byte's value as a hex digit, or 16 when it is not one (a table: the digits of random values
    /// would mispredict a branch between 0-9 and a-f about every other time).
    static let hexDigits: [UInt8] = (0...255).map { c in
        switch UInt8(c) {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt8(c) - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt8(c) - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt8(c) - UInt8(ascii: "A") + 10
        default: 16
        }
    }

    /// The largest exponent the fast paths take; a larger one (which leading zeros after the point could
    /// bring back into range) goes to Double(String).
    static let exponentCeiling = 100_000

    /// An optional signed decimal exponent from index i to the end; nil when it is not one.
    @inline(__always)
    static func exponent(_ t: Token, from i: Int) -> Int? {
        var i = i
        var negative = false
        if i < t.count, t[i] == minus || t[i] == plus {
            negative = t[i] == minus
            i += 1
        }
        guard i < t.count else { return nil }
        var e = 0
        while i < t.count {
            let d = t[i] &- zero
            guard d < 10 else { return nil }
            e = e * 10 + Int(d)
            guard e <= exponentCeiling else { return nil }
            i += 1
        }
        return negative ? -e : e
    }

    /// The digits of a literal in base 16 or 10 from index i, an optional point among them, then an optional
    /// exponent after its marker (p or e, either case): the mantissa of at most `significantLimit` significant
    /// digits, the count of digits after the point, and the exponent; nil when the token is not such a
    /// literal or has more significant digits.
    @inline(__always)
    static func literal(
        _ t: Token, from i: Int, radix: UInt64, significantLimit: Int, marker: UInt8
    ) -> (mantissa: UInt64, fractionDigits: Int, exponent: Int)? {
        var i = i
        var mantissa: UInt64 = 0
        var significant = 0  // digits in the mantissa, from the first nonzero one
        var digits = 0
        var fractionDigits = 0
        var inFraction = false
        let table = hexDigits
        while i < t.count {
            let c = t[i]
            let d = UInt64(table.withUnsafeBufferPointer { $0[Int(c)] })
            if d < radix {
                digits += 1
                if inFraction { fractionDigits += 1 }
                if mantissa != 0 || d != 0 {
                    significant += 1
                    guard significant <= significantLimit else { return nil }
                    mantissa = mantissa &* radix &+ d
                }
            } else if c == point && !inFraction {
                inFraction = true
            } else {
                break
            }
            i += 1
        }
        guard digits > 0 else { return nil }
        guard i < t.count else { return (mantissa, fractionDigits, 0) }
        guard t[i] | 0x20 == marker, let e = exponent(t, from: i + 1) else { return nil }
        return (mantissa, fractionDigits, e)
    }

    /// [±]0x digits[.digits][p[±]digits] whose value needs no rounding and is a normal double or zero;
    /// nil for anything else (which Double(String) then reads).
    static func exactHexadecimal(_ t: Token) -> Double? {
        let (negative, start) = sign(t)
        guard t.count - start >= 3, t[start] == zero, t[start + 1] | 0x20 == UInt8(ascii: "x"),
            // More than 14 digits, 56 bits, would need rounding; 14 may, which the width test finds.
            let (mantissa, fractionDigits, e) = literal(
                t, from: start + 2, radix: 16, significantLimit: 14, marker: UInt8(ascii: "p"))
        else { return nil }
        guard mantissa != 0 else { return negative ? -0.0 : 0.0 }
        let width = UInt64.bitWidth - mantissa.leadingZeroBitCount
        guard width <= Double.significandBitCount + 1 else { return nil }
        let top = e - 4 * fractionDigits + width - 1  // the exponent of the leading bit
        guard top >= Double.leastNormalMagnitude.exponent, top <= Double.greatestFiniteMagnitude.exponent else {
            return nil
        }
        let fraction = mantissa << UInt64(Double.significandBitCount + 1 - width)
        return Double(
            sign: negative ? .minus : .plus, exponentBitPattern: UInt(top + Int(Double(1).exponentBitPattern)),
            significandBitPattern: fraction & (1 << UInt64(Double.significandBitCount) - 1))
    }

    /// Exact powers of ten, 10^0 through 10^22: each a double, so one multiplication or division rounds once.
    static let powersOfTen: [Double] = (0...22).reduce(into: []) { p, k in p.append(k == 0 ? 1 : p[k - 1] * 10) }

    /// [±]digits[.digits][e[±]digits] with at most 19 significant digits, a mantissa of at most 2^53 and a
    /// power of ten within 10^±22 (Clinger's fast path: the result is rounded once); nil for anything else.
    static func exactDecimal(_ t: Token) -> Double? {
        let (negative, start) = sign(t)
        guard
            let (mantissa, scale, e) = literal(
                t, from: start, radix: 10, significantLimit: 19, marker: UInt8(ascii: "e"))
        else { return nil }
        guard mantissa != 0 else { return negative ? -0.0 : 0.0 }
        let power = e - scale
        guard mantissa <= 1 << 53, abs(power) < powersOfTen.count else { return nil }
        let value = power >= 0 ? Double(mantissa) * powersOfTen[power] : Double(mantissa) / powersOfTen[-power]
        return negative ? -value : value
    }
}
