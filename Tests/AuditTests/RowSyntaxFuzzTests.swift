// A bounded fuzz of the row parser: hostile lines never trap, and valid lines agree with a reference
// parser written independently (split on spaces and tabs, Double(String) per token, overflow refused).
import Foundation
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

    /// The reference parser: tokens between spaces and tabs, each a Double that is not infinite unless it spells inf.
    static func referenceParse(_ line: String) -> [Double]? {
        var values: [Double] = []
        for token in line.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            guard let v = Double(token), !v.isInfinite || token.lowercased().contains("inf") else { return nil }
            values.append(v)
        }
        return values
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
            let expected = Self.referenceParse(line)
            let observed = try? RowSyntax.parse(line[...], labeled: false).logits
            let same =
                expected.map { e in
                    observed.map { o in
                        o.count == e.count
                            && zip(o, e).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
                    } ?? false
                }
                ?? (observed == nil)
            #expect(
                same, "'\(line)': expected \(String(describing: expected)), observed \(String(describing: observed))")
        }
    }
}
