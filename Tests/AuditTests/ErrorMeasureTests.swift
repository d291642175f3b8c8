// Error measures on hand-worked values: binade boundaries, subnormals, zero crossings, overflow and
// the special-value verdicts.
import Testing
@testable import Audit
import Kernels
import Reference

@Suite("Error measures")
struct ErrorMeasureTests {
    /// v = anchor + offset · spacing.
    func v(_ rounded: Double, _ offset: Double) -> ReferenceValue {
        ReferenceValue(rounded: rounded, ulpOffset: offset)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let computed: Double
        let rounded: Double
        let offset: Double
        let ulps: Double
        var testDescription: String { name }
    }

    @Test(
        "fractional ULP error",
        arguments: [
            Case(name: "correctly rounded, v = 1 + ulp/4", computed: 1, rounded: 1, offset: 0.25, ulps: 0.25),
            Case(name: "one ulp up from the rounding", computed: (1.0).nextUp, rounded: 1, offset: 0.25, ulps: 0.75),
            Case(
                name: "across the binade at 1: 1/4 ulp above plus one 2^-53 step below", computed: (1.0).nextDown,
                rounded: 1, offset: 0.25, ulps: 1.25),
            Case(
                name: "v just below 1 (offset in the lower binade's spacing), c two steps up", computed: 1 + 0x1p-51,
                rounded: 1, offset: -0.5, ulps: 2.5),
            Case(
                name: "subnormals: 3 + 0.1 spacings vs 5 spacings", computed: 5 * 0x1p-1074, rounded: 3 * 0x1p-1074,
                offset: 0.1, ulps: 1.9),
            Case(
                name: "across zero: v = 0.3 · 2^-1074, c = -2^-1074", computed: -0x1p-1074, rounded: 0, offset: 0.3,
                ulps: 1.3),
            Case(
                name: "smallest normal against the largest subnormal", computed: 0x1p-1022,
                rounded: 0x1p-1022 - 0x1p-1074, offset: 0, ulps: 1),
            Case(name: "negative values mirror", computed: -(1.0).nextUp, rounded: -1, offset: -0.25, ulps: 0.75),
            Case(name: "exact equality", computed: 0.1, rounded: 0.1, offset: 0, ulps: 0),
        ])
    func ulps(_ c: Case) {
        let e = ElementError(computed: c.computed, reference: v(c.rounded, c.offset))
        let computed = Binary64.hexString(c.computed), reference = v(c.rounded, c.offset)
        #expect(
            abs(e.ulps - c.ulps) < 1e-12,
            "\(c.name): computed \(computed), reference \(reference), expected \(c.ulps) ulps, observed \(e.ulps)")
        #expect(e.special == nil)
    }

    @Test("bits = log2(1 + ulps); relative and absolute errors")
    func bitsAndRelative() {
        let e = ElementError(computed: (1.0).nextUp.nextUp.nextUp, reference: v(1, 0))
        #expect(e.ulps == 3 && e.bits == 2, "3 ulps is 2 bits: \(e)")
        #expect(e.absolute == 3 * 0x1p-52 && e.relative == 3 * 0x1p-52)
        let half = ElementError(computed: 1, reference: v(1, 0.5))
        #expect(half.absolute == 0x1p-53, "v = 1 + 2^-53: \(half)")
        #expect(half.isCorrectlyRounded && abs(half.bits - 0.5849625007211562) < 1e-15)
        // The other neighbour is also half an ulp away, but it is not the rounded value: correct rounding
        // is decided by equality, so an offset known to 2^-24 ulp cannot tip it.
        let neighbour = ElementError(computed: (1.0).nextUp, reference: v(1, 0.5))
        #expect(neighbour.ulps == 0.5 && !neighbour.isCorrectlyRounded, "\(neighbour)")
        // Subnormal: v = 3.5 · 2^-1074, c = 0: relative error exactly 1, absolute 3.5 · 2^-1074 → 4 · 2^-1074
        // (rounded).
        let sub = ElementError(computed: 0, reference: v(4 * 0x1p-1074, -0.5))
        #expect(sub.relative == 1, "\(sub)")
        #expect(sub.ulps == 3.5)
        // v = 2^-53 tiny relative to c = 1: relative error 2^53 − 1.
        let far = ElementError(computed: 1, reference: v(0x1p-53, 0))
        #expect(far.relative == 0x1p53 - 1)
    }

    @Test("special-value verdicts are reported apart from accuracy")
    func specials() {
        #expect(ElementError(computed: .nan, reference: v(1, 0)).special == .nanForNumber)
        #expect(ElementError(computed: 1, reference: .undefined).special == .numberForNaN)
        #expect(ElementError(computed: .nan, reference: .undefined) == .zero)
        #expect(ElementError(computed: .infinity, reference: v(1, 0)).special == .infinityForFinite)
        #expect(
            ElementError(computed: -.infinity, reference: .infinity(negative: false)).special == .wrongSignOfInfinity)
        #expect(ElementError(computed: 0, reference: .infinity(negative: true)).special == .finiteForInfinity)
        #expect(ElementError(computed: -.infinity, reference: .infinity(negative: true)) == .zero)
        let zero = ElementError(computed: 0, reference: v(-0.0, -0.2))
        #expect(
            zero.special == .wrongSignOfZero && abs(zero.ulps - 0.2) < 1e-15,
            "+0 for a value that rounds to -0: \(zero)")
        // An exact value beyond the largest double that rounds to inf: finite output is 3 spacings short.
        let overflow = ElementError(computed: .greatestFiniteMagnitude, reference: v(.infinity, 3))
        #expect(overflow.special == .finiteForInfinity && overflow.ulps == 3, "\(overflow)")
        #expect(ElementError(computed: .infinity, reference: v(.infinity, 3)) == .zero, "inf is the correct rounding")
    }

    @Test("a vector's summary skips special elements")
    func vector() {
        let r = VectorError(computed: [(1.0).nextUp, .nan, 2], reference: [v(1, 0), v(1, 0), v(2, 0.25)])
        #expect(r.maxULPs == 1 && r.worstIndex == 0 && r.specials == [.nanForNumber])
    }
}

@Suite("Row syntax")
struct RowSyntaxTests {
    @Test("numbers in every notation Double(String) reads")
    func parses() throws {
        let row = try RowSyntax.parse("0x1.8p+1  -2.5e-3\tinf -inf nan 1e308 5e-324", labeled: false)
        #expect(row.label == nil)
        #expect(row.logits.count == 7 && row.logits[0] == 3 && row.logits[2] == .infinity && row.logits[4].isNaN)
        let labeled = try RowSyntax.parse(" 2: 0.5 1 -3", labeled: true)
        #expect(labeled == LabeledRow(label: 2, logits: [0.5, 1, -3]))
        #expect(try RowSyntax.parse("", labeled: false).logits.isEmpty)
    }

    @Test("malformed rows say what is wrong")
    func errors() {
        #expect(throws: RowSyntaxError.notANumber("1.5x", position: 2)) {
            try RowSyntax.parse("1 1.5x", labeled: false)
        }
        #expect(throws: RowSyntaxError.missingLabel) { try RowSyntax.parse("1 2", labeled: true) }
        #expect(throws: RowSyntaxError.badLabel("-1")) { try RowSyntax.parse("-1: 1 2", labeled: true) }
        #expect(throws: RowSyntaxError.badLabel("a")) { try RowSyntax.parse("a: 1 2", labeled: true) }
        #expect(throws: RowSyntaxError.unexpectedLabel) { try RowSyntax.parse("0: 1 2", labeled: false) }
    }

    @Test(
        "hex output matches Python's float.hex",
        arguments: [
            (1.0, "0x1.0000000000000p+0"), (2.718281828459045, "0x1.5bf0a8b145769p+1"), (-0.0, "-0x0.0p+0"),
            (0.0, "0x0.0p+0"), (5e-324, "0x0.0000000000001p-1022"), (1.7976931348623157e308, "0x1.fffffffffffffp+1023"),
            (0.1, "0x1.999999999999ap-4"), (-2.2250738585072014e-308, "-0x1.0000000000000p-1022"),
            (Double.infinity, "inf"),
            (-Double.infinity, "-inf"), (Double.nan, "nan"), (2.225073858507201e-308, "0x0.fffffffffffffp-1022"),
        ])
    func hex(_ pair: (Double, String)) {
        #expect(Binary64.hexString(pair.0) == pair.1)
        if pair.0.isFinite { #expect(Double(pair.1)!.bitPattern == pair.0.bitPattern, "Double(String) reads it back") }
    }
}
