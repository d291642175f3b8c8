// What attention's bounds read from a case (docs/bounds.md, "Attention"): the terms (kept keys and the sink),
// which of them are live — their exponential can be seen in the accumulator even with the scores' rounding —
// and, over the live ones, the spread w and the size A of the scores.
//
// A term j is dead when d_j + δ_j < log(2^q / 2), 2^q the accumulator's smallest subnormal: with
// d_j = z_j − z_max and δ_j = u(|d_j| + 2|s x_j| + 2|b_j| + 2A_top) the most its rounded argument can move, its
// exponential is below half the smallest subnormal both exactly and as computed, so its probability is off by
// less than the floor, and it adds less than that to the sum. Only the live terms' rounding then matters: with
// one live term (the maximum) p_max = 1/(1 + the dead ones) whatever the size of its score, and a temperature
// that makes every other score fall out of exp's range leaves a one-hot row to be judged to the last bit.
import Foundation
import Kernels

struct AttentionBoundFacts {
    /// The kept keys, in order, and which of them are live.
    let kept: [Int]
    let live: Set<Int>
    /// The number of terms (kept keys and the sink).
    let n: Double
    /// Over the live terms: the spread, and max(|s x_j| + |b_j|) when two or more are live (0 for one: the
    /// maximum's d is exactly 0).
    let w: Double
    let a: Double
    /// |s x_k| + |b_k| of the maximum (0 when it is the sink): logsumexp's m carries its two roundings.
    let top: Double

    /// nil when the row has no term (the fully masked row's convention, judged exactly).
    init?(_ c: AuditCase, units: Units) {
        let x = c.row, o = AuditFunction.attentionOptions(c)
        kept = x.indices.filter { !o.isMasked($0, x) }
        let sink = o.sink.flatMap { $0 > -.infinity ? $0 : nil }
        n = Double(kept.count + (sink == nil ? 0 : 1))
        guard n > 0 else { return nil }
        // The scores prescaled by 2^-t so that binary64 holds them: 2^e > |s x_j| + |b_j| read from exponents.
        var e = sink.map { $0 == 0 ? 0 : $0.exponent + 1 } ?? 0
        for j in kept {
            let product = o.scale == 0 || x[j] == 0 ? 0 : o.scale.exponent + x[j].exponent + 2
            e = max(e, max(product, o.bias(j) == 0 ? 0 : o.bias(j).exponent + 1) + 1)
        }
        let t = max(0, e - 1020)
        // x · 2^-t and x · 2^t, one rounding each (2^t itself may lie beyond binary64).
        func down(_ v: Double) -> Double { Double(sign: .plus, exponent: -t, significand: v) }
        func up(_ v: Double) -> Double { Double(sign: .plus, exponent: t, significand: v) }
        // Term i: (prescaled score, prescaled |s x| + |b|, key or nil for the sink).
        var terms = kept.map { j in
            (
                down(o.scale) * x[j] + down(o.bias(j)),
                (down(o.scale) * x[j]).magnitude + down(o.bias(j)).magnitude, j
            )
        }.map { (score: $0.0, size: $0.1, key: Optional($0.2)) }
        if let sink { terms.append((score: down(sink), size: 0, key: nil)) }
        let k = terms.indices.max { terms[$0].score < terms[$1].score }!
        let topSize = terms[k].size
        // log(2^q / 2), taken as log 2^q − log 2: binary64's 2^-1075 itself is not a double.
        let threshold = Foundation.log(units.accumulatorQuantum) - Foundation.log(2.0)
        var liveTerms: [Int] = []
        var live: Set<Int> = []
        for (i, term) in terms.enumerated() {
            let d = term.score - terms[k].score
            let shift = units.accumulator * (d.magnitude + 2 * term.size + 2 * topSize)
            if i == k || up(d + shift) >= threshold {
                liveTerms.append(i)
                if let key = term.key { live.insert(key) }
            }
        }
        self.live = live
        let scores = liveTerms.map { terms[$0].score }
        w = up(scores.max()! - scores.min()!)
        a = liveTerms.count > 1 ? up(liveTerms.map { terms[$0].size }.max()!) : 0
        top = up(topSize)
    }

    /// K = n + 4 + 3w + 3B + 10A units for B merged blocks (ErrorBounds.attentionUnits).
    func units(blocks: Double) -> Double { ErrorBounds.attentionUnits(n: n, w: w, blocks: blocks, a: a) }
}
