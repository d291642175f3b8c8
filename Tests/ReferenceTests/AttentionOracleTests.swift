// Attention's functions against mpmath at 5,000 bits from the exact scores s·x + b (`oracle.py attention`):
// scales from 2^-10 to 2^10 and temperatures that overflow s·x, ALiBi biases, masks (some, all but one, all),
// −inf in the bias or the logits, sinks that dominate, values that cancel to exactly zero, and bit patterns.
import Catalogue
import Foundation
import Formats
import Testing
@testable import Reference

@Suite("Reference: attention's functions against the oracle")
struct AttentionOracleTests {
    struct Line: Sendable {
        let line: Int
        let x: [Double]
        let options: AttentionOptions
        let softmax: [Double]
        let logSumExp: Double
        let output: Double
    }

    static func optional(_ field: String) -> [Double]? { field == "-" ? nil : FixtureRecord.values(field) }

    static let lines: [Line] = FixtureRecord.all("oracle-attention").map { r in
        let options = AttentionOptions(
            scale: Double(r.fields[1])!, bias: optional(r.fields[2]), masked: optional(r.fields[3])?.map { $0 == 1 },
            sink: r.fields[4] == "-" ? nil : Double(r.fields[4])!, values: r.values(5),
            fullyMasked: FullyMaskedRow(rawValue: r.fields[6])!)
        return Line(
            line: r.line, x: r.values(0), options: options, softmax: r.values(7), logSumExp: r.values(8)[0],
            output: r.values(9)[0])
    }

    @Test("the scaled softmax, logsumexp and output agree bit for bit with mpmath")
    func agreement() throws {
        #expect(Self.lines.count >= 300, "the fixture holds \(Self.lines.count) lines")
        let r = SoftmaxReference()
        var mismatches: [String] = []
        func compare(_ l: Line, _ name: String, _ expected: [Double], _ observed: [ReferenceValue]) {
            for (i, (e, o)) in zip(expected, observed).enumerated()
            where e.bitPattern != o.rounded.bitPattern && !(e.isNaN && o.rounded.isNaN) {
                mismatches.append(
                    "line \(l.line) \(name)[\(i)] x \(l.x.prefix(4)): expected \(Binary64.hexString(e)), "
                        + "observed \(Binary64.hexString(o.rounded))")
            }
        }
        for l in Self.lines {
            compare(l, "scaled-softmax", l.softmax, try r.scaledSoftmax(l.x, l.options))
            compare(l, "scaled-logsumexp", [l.logSumExp], [try r.scaledLogSumExp(l.x, l.options)])
            compare(l, "attention-output", [l.output], [try r.attentionOutput(l.x, l.options)])
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(mismatches.prefix(10).joined(separator: "\n"))")
    }

    @Test("a merge of partial states is the row's: the empty state (-inf, 0) is neutral, two empty states stay empty")
    func neutralElement() throws {
        let r = SoftmaxReference()
        // (o, lse) states merged: lse = logsumexp(lse_k), o = Σ softmax(lse)_k o_k; an empty state weighs 0.
        let merged = try r.attentionOutput([-.infinity, 0.5, -.infinity], AttentionOptions(values: [7, 3, -2]))
        #expect(merged.rounded == 3, "merging with empty states: \(merged.rounded), expected 3")
        let empty = try r.scaledLogSumExp([-.infinity, -.infinity], AttentionOptions())
        #expect(empty.rounded == -.infinity, "two empty states: lse \(empty.rounded), expected -inf")
        let two = try r.scaledLogSumExp([0, 0], AttentionOptions())
        #expect(two.rounded == Foundation.log(2.0), "logaddexp(0, 0) = \(two.rounded), expected log 2")
    }

    @Test("each block's state is the block's logsumexp and output, the sink left out; an empty block's is (-inf, 0)")
    func states() throws {
        let r = SoftmaxReference()
        for l in Self.lines where l.x.count >= 3 {
            var o = l.options
            o.blocks = l.x.count + 2  // some blocks empty
            let states = try r.attentionStates(l.x, o)
            for k in 0..<o.blocks {
                let range = AttentionOptions.block(k, of: o.blocks, count: l.x.count)
                let keys = Array(l.x[range]), block = o.block(range, count: l.x.count)
                let lse = range.isEmpty ? -.infinity : try r.scaledLogSumExp(keys, block).rounded
                let out = range.isEmpty ? 0 : try r.attentionOutput(keys, block).rounded
                #expect(
                    states[2 * k].rounded.bitPattern == lse.bitPattern
                        && states[2 * k + 1].rounded.bitPattern == out.bitPattern,
                    """
                    line \(l.line), block \(k) of \(o.blocks): \
                    (\(states[2 * k].rounded), \(states[2 * k + 1].rounded)), expected (\(lse), \(out))
                    """)
            }
        }
        #expect(throws: ReferenceError.self) { try r.attentionStates([1, 2], AttentionOptions(blocks: 0)) }
    }

    @Test(
        "an output on a rounding midpoint, pushed off it by a term too far below for any precision, rounds to its side")
    func midpointPushedByAFarTerm() throws {
        let r = SoftmaxReference()
        let mid = 0x1.0000000000001p0  // the tied keys' mean is 1 + 2^-53, a midpoint
        let cases: [([Double], AttentionOptions, Double)] = [
            ([0, 0, -1e5], AttentionOptions(values: [1, mid, 0]), 1),  // the far value below: just below
            ([0, 0, -1e5], AttentionOptions(values: [1, mid, 5]), mid),  // above: just above
            ([0, 0], AttentionOptions(sink: -1e300, values: [1, mid]), 1),  // a far sink (value 0): below
            ([0, 0, -1, -1], AttentionOptions(values: [1, mid, 1, mid]), 1),  // exactly the midpoint: ties to even
        ]
        for (x, o, expected) in cases {
            let value = try r.attentionOutput(x, o).rounded
            #expect(value == expected, "x \(x), v \(o.values!): \(Binary64.hexString(value)), expected \(expected)")
        }
        // A sink alone, in float16: its logit rounded once to the format.
        r.format = .float16
        let sink = try r.scaledLogSumExp([1, 2], AttentionOptions(masked: [true, true], sink: 0x1.0000000001p0))
        #expect(sink.rounded == 1, "a sink-only logsumexp in float16: \(sink.rounded)")
    }

    @Test("options of the wrong length and a non-finite scale are refused")
    func invalidOptions() {
        let r = SoftmaxReference()
        #expect(throws: ReferenceError.self) { try r.scaledSoftmax([1, 2], AttentionOptions(bias: [1])) }
        #expect(throws: ReferenceError.self) { try r.attentionOutput([1, 2], AttentionOptions(values: [1, .nan])) }
        #expect(throws: ReferenceError.self) { try r.scaledLogSumExp([1], AttentionOptions(scale: .infinity)) }
    }
}
