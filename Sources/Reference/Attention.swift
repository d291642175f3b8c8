// Attention's softmax: the certified softmax, logsumexp and output of the exact scores z_j = s·x_j + b_j
// over the unmasked keys, with a sink's logit in the denominator (docs/design.md, "Attention").
//
// The scores are formed exactly: s·x_j + b_j with one fused multiply-add at `exactScoreBits`, which holds
// any product of two doubles plus a double (2^2048 down to 2^-2148), so a temperature that makes s·x
// overflow binary64 is no concern of the reference. The sink is one more term of the row, with no output
// and no value. The row of terms then goes through ShiftedExponentials as any row does:
//
//     p_j = e_j / S                          rel <= 16η, as the softmax
//     y   = z_max + L                        as logsumexp, with the one-sided limit y > z_max
//     o   = N / S,  N = Σ_j e_j v_j          abs <= 8η M + 10η |o|,  M = max|v_j|
//
// (e_j v_j carries 3η of e_j's and the product's, the sum η|Ñ| on top of Σ 3η e_j |v_j| <= 3η S M, and the
// division S's 6η and its own η.) N may cancel: it is exactly zero when every group of equal scores has
// Σ v_j = 0 (Lindemann–Weierstrass, as for the vector-Jacobian product), which is decided first, and a
// nonzero N too small for the bound takes its sign from the group expansion.
//
// Special inputs: a NaN or +inf logit or bias, or a NaN sink, makes every output undefined; a −inf logit or
// bias masks its key, as the mask does. With no key left and no sink, the softmax and the output follow
// the options' convention (NaN or zeros) and logsumexp is −inf (log 0: the merge's neutral element).
// A +inf sink leaves probabilities and output 0 and logsumexp +inf.
import Catalogue
import MPFR

extension SoftmaxReference {
    /// Bits that hold s·x + b exactly for doubles s, x and b (the product's bits span 2^2048 down to
    /// 2^-2148, a double's 2^1024 down to 2^-1074), with room.
    static let exactScoreBits = 4300

    /// softmax(s·x + b)_j over the unmasked keys (a sink in the denominator), 0 at masked keys.
    public func scaledSoftmax(_ x: [Double], _ o: AttentionOptions) throws -> [ReferenceValue] {
        let row = try AttentionTerms(x, o, format: format)
        switch row.kind {
        case .undefined: return Array(repeating: .undefined, count: x.count)
        case .noKeys(let sinkOnly):
            let fill: ReferenceValue = sinkOnly || o.fullyMasked == .zeros ? .exactly(0) : .undefined
            return tagged(Array(repeating: fill, count: x.count))
        case .sinkDominates: return tagged(Array(repeating: .exactly(0), count: x.count))
        case .terms(let z):
            uncoveredCall()
            let kept = row.kept
            let values = try certified(.scaledSoftmax, count: kept.count) { c in
                self.row.evaluate(scores: z, precision: c.precision)
                c.underflowExponent = self.row.underflowErrorExponent
                for j in 0..<kept.count {
                    let v = c.values[j]
                    let ternary = v.divide(self.row.e[j], self.row.S)
                    c.record(j, exact: ternary == 0 && self.row.eExact[j] && self.row.SExact, sign: 1, (16, v))
                }
            }
            return tagged(scatter(values, at: kept, count: x.count, filler: .exactly(0)))
        }
    }

    /// log(e^sink + Σ_j e^(s·x_j + b_j)) over the unmasked keys; −inf when there are none and no sink.
    public func scaledLogSumExp(_ x: [Double], _ o: AttentionOptions) throws -> ReferenceValue {
        let row = try AttentionTerms(x, o, format: format)
        switch row.kind {
        case .undefined: return .undefined
        case .noKeys(let sinkOnly):
            guard sinkOnly, let sink = o.sink else { return .infinity(negative: true) }
            return try exactly(.scaledLogSumExp, MPFRFloat(sink))
        case .sinkDominates: return .infinity(negative: false)
        case .terms(let z):
            uncoveredCall()
            let top = z.max { $0.compare($1) < 0 }!
            return try certified(.scaledLogSumExp, count: 1) { c in
                self.row.evaluate(scores: z, precision: c.precision)
                c.underflowExponent = self.row.underflowErrorExponent
                let v = c.values[0]
                let ternary = v.add(self.row.L, top)
                c.record(
                    0, exact: ternary == 0 && self.row.LExact, sign: top.sign >= 0 ? 1 : 0, (14, self.row.L), (2, v))
                // y > z_max when there are two terms or more.
                if z.count > 1 { c.limit(0, top, upper: false) }
            }[0].tagged(format)
        }
    }

    /// o = Σ_j softmax(s·x + b)_j v_j over the unmasked keys.
    public func attentionOutput(_ x: [Double], _ o: AttentionOptions) throws -> ReferenceValue {
        let row = try AttentionTerms(x, o, format: format)
        switch row.kind {
        case .undefined: return .undefined
        case .noKeys(let sinkOnly):
            return sinkOnly || o.fullyMasked == .zeros ? ReferenceValue.exactly(0).tagged(format) : .undefined
        case .sinkDominates: return ReferenceValue.exactly(0).tagged(format)
        case .terms(let z):
            uncoveredCall()
            // The sink, when there is one, is the last term: its value is 0.
            let v = row.kept.map { row.values[$0] } + (z.count > row.kept.count ? [0] : [])
            let groups = scoreGroups(z, v)
            let nonzero = groups.filter { !$0.coefficient.isZero }.map { ($0.logit, $0.coefficient) }
            // The top group's mean μ = Σ_top v / |top| is the output's limit as the other terms vanish: o − μ has
            // the sign of Σ_{G≠top} e^(z_G) (|top| Σ_G v − |G| Σ_top v), which the group expansion settles, and
            // o = μ exactly when every such coefficient is 0 (0 when every group's Σ v is). A dyadic μ may be a
            // midpoint.
            let top = groups[0]
            let mean = MPFRFloat(precision: Self.exactSumBits)
            let dyadicMean = mean.divide(top.coefficient, top.size) == 0
            let rest = groups.dropFirst().compactMap { g -> (logit: MPFRFloat, coefficient: MPFRFloat)? in
                let c = MPFRFloat(precision: Self.exactSumBits), t = MPFRFloat(precision: Self.exactSumBits)
                c.multiply(g.coefficient, top.size)
                t.multiply(top.coefficient, g.size)
                c.subtract(c, t)
                return c.isZero ? nil : (g.logit, c)
            }
            if rest.isEmpty && dyadicMean { return try exactly(.attentionOutput, mean) }
            let largest = MPFRFloat(v.map(\.magnitude).max() ?? 0)
            let products = workspaces.attention.products
            let numerator = workspaces.attention.numerator
            return try certified(.attentionOutput, count: 1) { c in
                let p = c.precision
                self.row.evaluate(scores: z, precision: p)
                c.underflowExponent = self.row.underflowErrorExponent
                let terms = products.prefix(z.count, precision: p)
                var exact = self.row.SExact
                for j in 0..<z.count {
                    exact = terms[j].multiply(self.row.e[j], v[j]) == 0 && exact && self.row.eExact[j]
                }
                numerator.precision = p
                exact = numerator.sum(terms, count: z.count) == 0 && exact
                let out = c.values[0]
                exact = out.divide(numerator, self.row.S) == 0 && exact
                let sign = p >= Self.groupExpansionPrecision ? expansionSign(nonzero, precision: p) : 0
                c.record(0, exact: exact, sign: sign, (8, largest), (10, out))
                // A μ on a rounding midpoint with the rest too small for this precision: o is on μ's side.
                if dyadicMean && p > Self.initialPrecision {
                    let side = expansionSign(rest, precision: p)
                    if side != 0 { c.limit(0, mean, upper: side < 0) }
                }
            }[0].tagged(format)
        }
    }

    /// Each block's state (lse_k, o_k) over its kept keys, the sink left out (a split-K kernel merges it as one
    /// state more): the scaled logsumexp and output of the block's keys, (−inf, 0) for a block with none.
    public func attentionStates(_ x: [Double], _ o: AttentionOptions) throws -> [ReferenceValue] {
        try AttentionTerms.validate(x, o)
        var states: [ReferenceValue] = []
        for k in 0..<o.blocks {
            let range = AttentionOptions.block(k, of: o.blocks, count: x.count)
            guard !range.isEmpty else {
                states += [.infinity(negative: true), ReferenceValue.exactly(0).tagged(format)]
                continue
            }
            let keys = Array(x[range]), options = o.block(range, count: x.count)
            states += [try scaledLogSumExp(keys, options), try attentionOutput(keys, options)]
        }
        return states
    }

    /// An exact value of f rounded once to the reference's format.
    private func exactly(_ f: AuditFunction, _ value: MPFRFloat) throws -> ReferenceValue {
        try certified(f, count: 1) { c in
            c.values[0].precision = max(value.precision, Self.initialPrecision)
            c.values[0].set(value)
            c.recordExact(0)
        }[0].tagged(format)
    }

    /// The groups of equal scores, in decreasing order, each with the exact Σ v_j of its keys and their number.
    private func scoreGroups(
        _ z: [MPFRFloat], _ v: [Double]
    ) -> [(logit: MPFRFloat, coefficient: MPFRFloat, size: Int)] {
        let order = z.indices.sorted { a, b in
            let c = z[a].compare(z[b])
            return c > 0 || (c == 0 && a < b)
        }
        var groups: [(logit: MPFRFloat, coefficient: MPFRFloat, size: Int)] = []
        var start = 0
        while start < order.count {
            var end = start
            while end < order.count && z[order[end]].compare(z[order[start]]) == 0 { end += 1 }
            let sum = MPFRFloat(precision: Self.exactSumBits)
            sum.sum(order[start..<end].map { MPFRFloat(v[$0], precision: 53) })
            groups.append((z[order[start]], sum, end - start))
            start = end
        }
        return groups
    }
}

/// A row of attention prepared for the reference: the kept keys and the exact terms of the denominator.
struct AttentionTerms {
    enum Kind {
        /// A NaN or +inf logit or bias, or a NaN sink.
        case undefined
        /// No unmasked key; `sinkOnly` when a finite sink is the only term.
        case noKeys(sinkOnly: Bool)
        /// A +inf sink: every probability is 0.
        case sinkDominates
        /// The exact scores of the kept keys, in order, then the sink's logit when there is one.
        case terms([MPFRFloat])
    }

    let kind: Kind
    /// The unmasked keys, in order.
    let kept: [Int]
    let values: [Double]

    /// Refuses options that do not fit the row: lengths, a non-finite scale or value, a block count out of range.
    static func validate(_ x: [Double], _ o: AttentionOptions) throws {
        let n = x.count
        if x.isEmpty { throw ReferenceError.emptyRow }
        for (name, count) in [("bias", o.bias?.count), ("masked", o.masked?.count), ("v", o.values?.count)] {
            if let count, count != n { throw ReferenceError.attentionOptionLength(name: name, count: count, keys: n) }
        }
        guard o.scale.isFinite else { throw ReferenceError.invalidAttentionScale(o.scale) }
        guard (1...AttentionOptions.maximumBlocks).contains(o.blocks) else {
            throw ReferenceError.invalidBlocks(o.blocks)
        }
        let values = o.values(count: n)
        if let j = values.firstIndex(where: { !$0.isFinite }) {
            throw ReferenceError.nonFiniteInput(what: "v", index: j, value: values[j])
        }
    }

    init(_ x: [Double], _ o: AttentionOptions, format: BinaryFormat) throws {
        try Self.validate(x, o)
        values = o.values(count: x.count)
        kept = x.indices.filter { !o.isMasked($0, x) }
        let undefined =
            kept.contains { !x[$0].isFinite || !o.bias($0).isFinite } || o.sink.map { $0.isNaN } == true
        let sink = o.sink.flatMap { $0 == -.infinity ? nil : $0 }
        if undefined {
            kind = .undefined
        } else if sink == .infinity {
            kind = .sinkDominates
        } else if kept.isEmpty {
            kind = .noKeys(sinkOnly: sink != nil)
        } else {
            let s = MPFRFloat(o.scale)
            var z = kept.map { j -> MPFRFloat in
                let zj = MPFRFloat(precision: SoftmaxReference.exactScoreBits)
                zj.fusedMultiplyAdd(s, MPFRFloat(x[j]), MPFRFloat(o.bias(j)))
                zj.narrowToExact()
                return zj
            }
            if let sink { z.append(MPFRFloat(sink)) }
            kind = .terms(z)
        }
    }
}
