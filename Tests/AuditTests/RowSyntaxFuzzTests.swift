// A bounded fuzz of the row parser: hostile lines never trap, and valid lines agree with a reference
// parser written independently (split on spaces and tabs, Double(String) per token, overflow refused).
import Foundation
import Formats
import Testing

@testable import Audit

@Suite("Row syntax: fuzz")
struct RowSyntaxFuzzTests {
    /// Bytes the syntax gives meaning to, and some it must refuse.
    static let alphabet: [UInt8] =
        Array("0123456789.eE+-xXpPinfINFaA:|;=, \t\r".utf8) + [0, 0x1B, 0x7F, 0xC3, 0xA9, 0xFF]

    @Test("20,000 hostile lines: every function's parser returns a case or an error, never traps")
    func hostileLines() {
        var s = AuditRandom(seed: 7)
        var parsed = 0
        for _ in 0..<20_000 {
            let bytes = (0..<s.int(0...39)).map { _ in Self.alphabet[s.int(0...Self.alphabet.count - 1)] }
            let line = String(decoding: bytes, as: UTF8.self)
            let function = ReferenceFunction.allCases[s.int(0...ReferenceFunction.allCases.count - 1)]
            if (try? function.parse(line[...])) != nil { parsed += 1 }
        }
        #expect(parsed > 0, "some random lines are valid rows")
    }

    /// The reference parser: tokens between spaces and tabs, each a Double that is not infinite unless it spells
    /// inf, and holds no NUL (where strtod would stop).
    static func referenceParse(_ line: String) -> [Double]? {
        var values: [Double] = []
        for token in line.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            guard !token.contains("\u{0}"), let v = Double(token), !v.isInfinite || token.lowercased().contains("inf")
            else { return nil }
            values.append(v)
        }
        return values
    }

    /// Expects the row parser to read the line as the reference parser does, value for value, bit for bit (any
    /// NaN for a NaN), or to refuse it as the reference parser does; returns whether the line is valid.
    @discardableResult
    static func expectAgreement(_ line: String) -> Bool {
        let expected = referenceParse(line)
        let observed = try? RowSyntax.parse(line[...], labeled: false).logits
        let same =
            expected.map { e in
                observed.map { o in
                    o.count == e.count
                        && zip(o, e).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
                } ?? false
            }
            ?? (observed == nil)
        let (e, o) = (String(describing: expected), String(describing: observed))
        #expect(same, "'\(RowSyntax.visible(line))': expected \(e), observed \(o)")
        return expected != nil
    }

    @Test("10,000 lines of number tokens: the row parser and the reference parser agree bit for bit")
    func agreesWithReference() throws {
        var s = AuditRandom(seed: 11)
        let tokens = [
            "0", "-0", "1", "-2.5e-3", "1e308", "1.7976931348623157e308", "1.7976931348623159e308", "1e400",
            "-1e400", "5e-324", "1e-400", "0x1.8p+1", "0x1p+1023", "0x1p+1024", "0x1p-1074", "inf", "-inf",
            "Infinity", "nan", "+1", ".5", "5.", "1e", "0x", "--1", "1_0",
        ]
        for _ in 0..<10_000 {
            let parts = (0..<(1 + s.int(0...5))).map { _ in tokens[s.int(0...tokens.count - 1)] }
            let line = parts.joined(separator: s.int(0...1) == 0 ? " " : "\t")
            Self.expectAgreement(line)
        }
    }

    /// A random token near the grammar of numbers: hexadecimal and decimal literals of every length, sign,
    /// case and exponent (subnormal, overflowing, huge), float.hex's own output, and now and then one byte
    /// changed, so that the fast paths meet the tokens they must hand on.
    static func numberToken(_ s: inout AuditRandom) -> String {
        func digits(_ count: Int, _ alphabet: String) -> String {
            let a = Array(alphabet)
            return String((0..<count).map { _ in a[s.int(0...a.count - 1)] })
        }
        let sign = ["", "-", "+"][s.int(0...2)]
        var token: String
        switch s.int(0...3) {
        case 0:
            token = Binary64.hexString(s.bitPatternDouble())
        case 1:
            let x = s.int(0...1) == 0 ? "x" : "X"
            let body = digits(s.int(0...3), "0123456789abcdefABCDEF") + "." + digits(s.int(0...16), "0123456789abcdef")
            let e = [s.int(-20...20), s.int(-1100...1100), s.int(-200_000...200_000)][s.int(0...2)]
            token = sign + "0" + x + body + (s.int(0...4) == 0 ? "" : ["p", "P"][s.int(0...1)] + "\(e)")
        case 2:
            let e = [s.int(-25...25), s.int(-400...400)][s.int(0...1)]
            token = sign + digits(s.int(0...20), "0123456789") + "." + digits(s.int(0...20), "0123456789")
            if s.int(0...3) != 0 {
                token += ["e", "E"][s.int(0...1)] + (e >= 0 && s.int(0...1) == 0 ? "+" : "") + "\(e)"
            }
        default:
            token = sign + digits(s.int(1...19), "0123456789") + (s.int(0...1) == 0 ? "" : "e\(s.int(-30...30))")
        }
        if s.int(0...9) == 0, !token.isEmpty {
            var bytes = Array(token.utf8)
            bytes[s.int(0...bytes.count - 1)] = Self.alphabet[s.int(0...Self.alphabet.count - 1)]
            token = String(decoding: bytes, as: UTF8.self)
        }
        return token
    }

    @Test("50,000 lines of generated literals: the byte parser reads each token as Double(String) does")
    func generatedLiterals() throws {
        var s = AuditRandom(seed: 13)
        var fast = 0
        for _ in 0..<50_000 {
            let parts = (0..<(1 + s.int(0...3))).map { _ in Self.numberToken(&s) }
            let line = parts.joined(separator: " ")
            if Self.expectAgreement(line) { fast += 1 }
        }
        #expect(fast > 10_000, "many generated lines are valid rows")
    }

    @Test("zeros after the point and an exponent past the fast paths' ceiling read as Double(String) reads them")
    func longZerosAndLargeExponents() {
        // 0.0…01e100005 is 1e5 and 0x0.0…01p105000 overflows: an exponent clamped at the ceiling read them as 1
        // and 2^-4.
        for (zeros, exponent) in [(99_999, 100_005), (99_999, 99_999), (100_000, 100_001), (5, 100_001)] {
            Self.expectAgreement("0." + String(repeating: "0", count: zeros) + "1e\(exponent)")
        }
        for (zeros, exponent) in [(25_000, 105_000), (25_000, 100_004), (25_000, 100_001), (3, 100_001)] {
            Self.expectAgreement("0x0." + String(repeating: "0", count: zeros) + "1p\(exponent) -0x1p-\(exponent)")
        }
    }

    /// float.hex's notation written the slow way, digit by digit: the reference for Binary64.hexString.
    static func referenceHex(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        let sign = x.sign == .minus ? "-" : ""
        if x == 0 { return sign + "0x0.0p+0" }
        var digits = String(x.significandBitPattern, radix: 16)
        digits = String(repeating: "0", count: 13 - digits.count) + digits
        if x.isSubnormal { return sign + "0x0." + digits + "p-1022" }
        let e = Int(x.exponentBitPattern) - 1023
        return sign + "0x1." + digits + "p" + (e < 0 ? "-" : "+") + String(abs(e))
    }

    @Test("hexString writes float.hex's notation for 200,000 bit patterns and the special values, and reads back")
    func hexStrings() {
        var s = AuditRandom(seed: 17)
        let specials: [Double] = [
            0, -0.0, 1, -1, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, .leastNormalMagnitude,
            .greatestFiniteMagnitude, -.leastNormalMagnitude.nextDown, 0x1.fffffffffffffp-1, 0x1p+1023,
        ]
        for x in specials + (0..<200_000).map({ _ in s.bitPatternDouble() }) {
            let text = Binary64.hexString(x)
            let back = Double(text)
            #expect(
                text == Self.referenceHex(x) && (back.map { $0.bitPattern == x.bitPattern || x.isNaN } ?? false),
                "\(x.bitPattern): expected \(Self.referenceHex(x)), observed \(text)")
        }
    }
}
