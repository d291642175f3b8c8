// Attention's properties that need no reference: the kernel compared with itself on a transformed case.
//
//   - split invariance: the row split into one block or into its own B, and the row reversed (keys, biases,
//     masks and values with it), give the same result: merging is associative and commutative;
//   - neutral element: n more keys, all masked, in B more blocks of their own (empty states merged in);
//   - mask = removal: a row with masked keys gives what the row without them gives.
//
// Each side is within the bound of the same exact value, so the tolerance is twice the bound, taken at its
// loosest (one block per term, the online algorithm's) so that it holds for any split.
import Foundation
import Kernels

enum AttentionProperties {
    /// The transformed cases, each with its property; `back` maps the transformed output to the case's keys.
    struct Transformed {
        let property: Property
        let what: String
        let c: AuditCase
        let back: @Sendable ([Double]) -> [Double]
    }

    static func transformed(_ f: AuditFunction, _ c: AuditCase) -> [Transformed] {
        // The partial states depend on the split by definition.
        guard !c.isBatch, f != .attentionStates, !f.isConventionCase(c) else { return [] }
        let x = c.row, n = x.count, o = AuditFunction.attentionOptions(c)
        let perKey = !f.shape.isScalar
        func with(_ row: [Double], _ options: AttentionOptions) -> AuditCase {
            var t = AuditCase(row, label: 0, options: LossOptions(attention: options))
            t.format = c.format
            return t
        }
        var out: [Transformed] = []
        var split = o
        split.blocks = o.blocks == 1 ? Swift.min(Swift.max(n, 1), 3) : 1
        out.append(
            Transformed(property: .splitInvariance, what: "split into \(split.blocks) block(s)", c: with(x, split)) {
                $0
            })
        var reversed = o
        reversed.bias = o.bias?.reversed()
        reversed.masked = o.masked?.reversed()
        reversed.values = o.values(count: n).reversed()
        out.append(
            Transformed(property: .splitInvariance, what: "reversed", c: with(x.reversed(), reversed)) {
                perKey ? $0.reversed() : $0
            })
        var padded = o
        padded.bias = o.bias.map { $0 + Array(repeating: 0, count: n) }
        padded.masked = (o.masked ?? Array(repeating: false, count: n)) + Array(repeating: true, count: n)
        padded.values = o.values(count: n) + Array(repeating: 0, count: n)
        padded.blocks = Swift.min(2 * o.blocks, AttentionOptions.maximumBlocks)
        if padded.blocks == 2 * o.blocks {
            out.append(
                Transformed(
                    property: .neutralElement, what: "\(n) masked keys in \(o.blocks) more block(s)",
                    c: with(x + Array(repeating: 0, count: n), padded)
                ) { perKey ? Array($0.prefix(n)) : $0 })
        }
        let kept = x.indices.filter { !o.isMasked($0, x) }
        if !kept.isEmpty && kept.count < n {
            var removed = o
            removed.bias = o.bias.map { b in kept.map { b[$0] } }
            removed.masked = nil
            removed.values = kept.map { o.values(count: n)[$0] }
            removed.blocks = 1
            out.append(
                Transformed(
                    property: .maskRemoval, what: "the \(n - kept.count) masked key(s) removed",
                    c: with(kept.map { x[$0] }, removed)
                ) { values in
                    guard perKey else { return values }
                    var full = Array(repeating: 0.0, count: n)
                    for (i, j) in kept.enumerated() { full[j] = values[i] }
                    return full
                })
        }
        return out
    }

    /// The properties of kernel k's attention function f that fail on case c.
    static func failures(_ k: Kernel, _ f: AuditFunction, _ c: AuditCase, output: [Double]) -> [PropertyFailure] {
        let cases = transformed(f, c)
        guard !cases.isEmpty else { return [] }
        let (relative, floor) = tolerance(k, f, c)
        var failures: [PropertyFailure] = []
        for t in cases where !failures.contains(where: { $0.property == t.property }) {
            guard let raw = k.output(f, on: t.c), raw.count == f.shape.outputCount(t.c) else { continue }
            let other = t.back(raw)
            if let i = Properties.close(output, other, relative: relative, floor: floor) {
                failures.append(
                    PropertyFailure(
                        property: t.property, detail: "element \(i) is \(output[i]), and \(other[i]) \(t.what)"))
            }
        }
        return failures
    }

    /// Twice the bound at one block per term: relative for the softmax, and for logsumexp and the output the
    /// final rounding relatively with the rest absolute (the output's with max|v| for Σ p|v|).
    static func tolerance(_ k: Kernel, _ f: AuditFunction, _ c: AuditCase) -> (relative: Double, floor: Double) {
        let units = Units(k.precision.standard)
        guard let facts = AttentionBoundFacts(c, units: units) else { return (0, 0) }
        let n = facts.n
        let accumulated = Foundation.expm1((facts.units(blocks: n) + n + 2) * units.accumulator)
        let floor = units.floor(n) + units.storageQuantum
        switch f {
        case .scaledSoftmax: return (2 * units.relative(facts.units(blocks: n)), 2 * floor)
        case .scaledLogSumExp:
            return (2 * ErrorBounds.finalRounding(units), 2 * (accumulated + 2 * units.accumulator * facts.top + floor))
        default:
            let largest = AuditFunction.attentionOptions(c).values(count: c.row.count).map(\.magnitude).max() ?? 0
            let spread = accumulated < 1 ? accumulated * largest : 2 * largest
            let absolute = spread * ErrorBounds.magnitudeSlack + floor * Swift.max(1, largest)
            return (2 * ErrorBounds.finalRounding(units), 2 * absolute)
        }
    }
}
