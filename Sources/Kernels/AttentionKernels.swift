// Attention's softmax under test: the scores z_j = s·x_j + b_j of the unmasked keys and a sink, their
// softmax, logsumexp and output o = Σ p_j v_j, as the two-pass kernel, the online one, FlashAttention's
// blocked forward and flash-decoding's split-K combine compute them, and as the flawed forms that shipped.
// One implementation serves binary64 and the narrow formats: storage S for inputs and outputs, every
// operation rounded to the accumulator A (FormatArithmetic; binary64's rounding is the identity).
//
// The accurate kernels form the scores prescaled by 2^-t, t chosen so that no score overflows A (a power of
// two is exact), and scale back each difference z_j − max, which is <= 0: where it overflows it is −inf and
// its exponential the 0 it should be. Without that, a temperature of 2^-126 on a logit of 4 makes s·x = inf
// in float and the row NaN; the flawed kernels form s·x + b as it comes.
import Formats

/// A partial state of a row: the (prescaled) maximum m, ℓ = Σ e^(z_j − m) and a = Σ e^(z_j − m) v_j; the
/// empty state (−inf, 0, 0) is the merge's neutral element.
struct AttentionState: Sendable {
    var m = -Double.infinity
    var l = 0.0
    var a = 0.0
}

/// A normalized partial state, as flash-decoding's splits return it: o = a/ℓ and lse = m + log ℓ (prescaled
/// like the scores: the row's lse is lse · 2^t).
struct AttentionOutputState: Sendable {
    var o = 0.0
    var lse = -Double.infinity
}

/// A row's terms: the unmasked keys' scores in A, then the sink's, with their values (the sink's is 0).
struct AttentionTerms: Sendable {
    /// The kept positions, in order.
    var keys: [Int] = []
    /// The scores ẑ_j, prescaled: z_j = ẑ_j · 2^t.
    var z: [Double] = []
    var v: [Double] = []
    var t = 0
    /// The term ranges of the row's blocks (block k: the kept keys in positions ⌊k n/B⌋ ..< ⌊(k+1) n/B⌋),
    /// then the sink's alone.
    var blocks: [Range<Int>] = []

    var isEmpty: Bool { z.isEmpty }
}

/// Attention's kernels with storage S and accumulator A.
struct AttentionArithmetic: Sendable {
    let s: FormatArithmetic
    let a: FormatArithmetic

    init(_ precision: KernelPrecision) {
        s = FormatArithmetic(format: precision.storage)
        a = FormatArithmetic(format: precision.accumulator)
    }

    /// x · 2^t in A, one rounding (2^t itself may lie beyond binary64 for a prescaling past 2^1023).
    @inline(__always) func scaled(_ x: Double, _ t: Int) -> Double {
        t == 0 ? x : a.round(Double(sign: .plus, exponent: t, significand: x))
    }

    /// The terms, prescaled when `guarded` (the accurate kernels), formed as they come otherwise.
    func terms(_ x: [Double], _ o: AttentionOptions, guarded: Bool = true) -> AttentionTerms {
        var r = AttentionTerms()
        r.keys = x.indices.filter { !o.isMasked($0, x) }
        if guarded {
            // 2^e > |s x_j| + |b_j| (e >= 0), read from the exponents so that binary64 itself cannot overflow.
            var e = 0
            for j in r.keys {
                let product = o.scale == 0 || x[j] == 0 || !x[j].isFinite ? 0 : o.scale.exponent + x[j].exponent + 2
                let bias = o.bias(j) == 0 || !o.bias(j).isFinite ? 0 : o.bias(j).exponent + 1
                e = max(e, max(product, bias) + 1)
            }
            r.t = max(0, e - (a.format.maxExponent - 1))
        }
        let scale = a.round(scaled(o.scale, -r.t))
        let values = o.values(count: x.count)
        for j in r.keys {
            r.z.append(a.add(a.mul(scale, x[j]), scaled(o.bias(j), -r.t)))
            r.v.append(values[j])
        }
        var start = 0
        for k in 0..<o.blocks {
            let end = AttentionOptions.block(k, of: o.blocks, count: x.count).upperBound
            var stop = start
            while stop < r.keys.count && r.keys[stop] < end { stop += 1 }
            r.blocks.append(start..<stop)
            start = stop
        }
        if let sink = o.sink, sink > -.infinity {
            r.blocks.append(r.z.count..<(r.z.count + 1))
            r.z.append(scaled(sink, -r.t))
            r.v.append(0)
        }
        return r
    }

    /// e^((ẑ − m̂) 2^t) in A; 0 for an empty maximum.
    @inline(__always) func weight(_ z: Double, _ m: Double, _ t: Int) -> Double {
        m == -.infinity ? 0 : a.exp(scaled(a.sub(z, m), t))
    }

    /// The state of terms `range` by two passes: their maximum, then the sums.
    func state(_ r: AttentionTerms, _ range: Range<Int>) -> AttentionState {
        var st = AttentionState()
        for j in range { st.m = max(st.m, r.z[j]) }
        for j in range {
            let e = weight(r.z[j], st.m, r.t)
            st.l = a.add(st.l, e)
            st.a = a.add(st.a, a.mul(e, r.v[j]))
        }
        return st
    }

    /// x and y merged: m = max, each side's sums times e^((m_side − m) 2^t); the empty state is neutral.
    func merge(_ x: AttentionState, _ y: AttentionState, _ t: Int) -> AttentionState {
        let m = max(x.m, y.m)
        guard m > -.infinity else { return AttentionState() }
        let alpha = weight(x.m, m, t), beta = weight(y.m, m, t)
        return AttentionState(
            m: m, l: a.add(a.mul(alpha, x.l), a.mul(beta, y.l)), a: a.add(a.mul(alpha, x.a), a.mul(beta, y.a)))
    }

    /// The row's state from its term ranges merged left to right.
    func state(_ r: AttentionTerms, ranges: [Range<Int>]) -> AttentionState {
        ranges.reduce(AttentionState()) { merge($0, state(r, $1), r.t) }
    }

    /// How a kernel splits the row: one range (two passes), one per term (online), or the blocks.
    enum Split: Sendable {
        case twoPass, online, blocked

        func ranges(_ r: AttentionTerms) -> [Range<Int>] {
            switch self {
            case .twoPass: return [0..<r.z.count]
            case .online: return r.z.indices.map { $0..<($0 + 1) }
            case .blocked: return r.blocks
            }
        }
    }

    // MARK: - Outputs from the row's state

    func softmax(_ x: [Double], _ o: AttentionOptions, _ split: Split) -> [Double] {
        let r = terms(x, o)
        guard !r.isEmpty else { return Array(repeating: o.fullyMasked == .zeros ? 0 : .nan, count: x.count) }
        let st = state(r, ranges: split.ranges(r))
        var p = Array(repeating: 0.0, count: x.count)
        for (i, j) in r.keys.enumerated() { p[j] = s.round(a.div(weight(r.z[i], st.m, r.t), st.l)) }
        return p
    }

    /// m 2^t + log ℓ; −inf for the empty state.
    func logSumExp(_ st: AttentionState, _ t: Int) -> Double {
        st.m == -.infinity ? -.infinity : a.add(scaled(st.m, t), a.log(st.l))
    }

    func logSumExp(_ x: [Double], _ o: AttentionOptions, _ split: Split) -> Double {
        let r = terms(x, o)
        return s.round(logSumExp(state(r, ranges: split.ranges(r)), r.t))
    }

    func output(_ x: [Double], _ o: AttentionOptions, _ split: Split) -> Double {
        let r = terms(x, o)
        guard !r.isEmpty else { return o.fullyMasked == .zeros ? 0 : .nan }
        let st = state(r, ranges: split.ranges(r))
        return s.round(a.div(st.a, st.l))
    }

    // MARK: - Split-K: normalized states per block, combined at once

    /// Each block's (o_k, lse_k), the empty block's (0, lse of the empty state: −inf, or `emptyLSE`).
    func splitStates(_ r: AttentionTerms, emptyLSE: Double = -.infinity) -> [AttentionOutputState] {
        r.blocks.map { range in
            let st = state(r, range)
            guard st.m > -.infinity else { return AttentionOutputState(o: 0, lse: emptyLSE) }
            return AttentionOutputState(o: a.div(st.a, st.l), lse: a.add(st.m, scaled(a.log(st.l), -r.t)))
        }
    }

    /// The combine: M = max lse_k, w_k = e^(lse_k − M) (0 for an empty state), o = Σ w_k o_k / Σ w_k, lse =
    /// M + log Σ w_k, unscaled; no state but empty ones gives the empty state.
    func combine(_ states: [AttentionOutputState], _ t: Int) -> AttentionOutputState {
        let top = states.map(\.lse).max() ?? -.infinity
        guard top > -.infinity else { return AttentionOutputState() }
        var total = 0.0, weighted = 0.0
        for st in states {
            let w = weight(st.lse, top, t)
            total = a.add(total, w)
            weighted = a.add(weighted, a.mul(w, st.o))
        }
        return AttentionOutputState(o: a.div(weighted, total), lse: a.add(scaled(top, t), a.log(total)))
    }

    /// Merges states pairwise left to right as the buggy merge kernels did: e^(lse − max) with no guard, so
    /// two empty states give e^(−inf − (−inf)) = NaN (flashinfer#4051, vLLM PR #39148).
    func naiveMerge(_ states: [AttentionOutputState], _ t: Int) -> AttentionOutputState {
        guard var total = states.first else { return AttentionOutputState() }
        for st in states.dropFirst() {
            let m = max(total.lse, st.lse)
            let wx = a.exp(scaled(a.sub(total.lse, m), t)), wy = a.exp(scaled(a.sub(st.lse, m), t))
            let w = a.add(wx, wy)
            total = AttentionOutputState(
                o: a.div(a.add(a.mul(wx, total.o), a.mul(wy, st.o)), w), lse: a.add(m, scaled(a.log(w), -t)))
        }
        return AttentionOutputState(o: total.o, lse: scaled(total.lse, t))
    }

    /// The split-K result of a row: the combined state of its blocks (the sink one more state).
    func splitK(
        _ x: [Double], _ o: AttentionOptions, emptyLSE: Double = -.infinity, naive: Bool = false
    )
        -> AttentionOutputState
    {
        let r = terms(x, o)
        let states = splitStates(r, emptyLSE: emptyLSE)
        var combined = naive ? naiveMerge(states, r.t) : combine(states, r.t)
        // No term at all: the empty state, whose output is the convention's.
        if r.isEmpty && !naive { combined.o = o.fullyMasked == .zeros ? 0 : .nan }
        return AttentionOutputState(o: s.round(combined.o), lse: s.round(combined.lse))
    }

    /// Each block's (lse_k, o_k) over its kept keys, the sink left out, each block prescaled for itself as a
    /// split computes it alone; an empty block's (`emptyLSE`, 0).
    func blockStates(_ x: [Double], _ o: AttentionOptions, emptyLSE: Double = -.infinity) -> [Double] {
        var states: [Double] = []
        for k in 0..<o.blocks {
            let range = AttentionOptions.block(k, of: o.blocks, count: x.count)
            let r = terms(Array(x[range]), o.block(range, count: x.count))
            let st = state(r, 0..<r.z.count)
            guard st.m > -.infinity else {
                states += [emptyLSE, 0]
                continue
            }
            states += [s.round(logSumExp(st, r.t)), s.round(a.div(st.a, st.l))]
        }
        return states
    }

    // MARK: - The flawed forms

    /// Masking by adding S's lowest finite value to the score in S (tensorflow PR #59657: float16's −65504),
    /// every key kept: a fully masked row is softmax(x), not its convention, and in float16 the sum overflows.
    func maskConstantSoftmax(_ x: [Double], _ o: AttentionOptions) -> [Double] {
        let (z, _) = constantMaskedScores(x, o)
        let m = z.max() ?? -.infinity
        let e = z.map { weight($0, m, 0) }
        let total = e.reduce(0) { a.add($0, $1) }
        return x.indices.map { s.round(a.div(e[$0], total)) }
    }

    func maskConstantOutput(_ x: [Double], _ o: AttentionOptions) -> Double {
        let (z, v) = constantMaskedScores(x, o)
        let m = z.max() ?? -.infinity
        var total = 0.0, weighted = 0.0
        for (zj, vj) in zip(z, v) {
            let e = weight(zj, m, 0)
            total = a.add(total, e)
            weighted = a.add(weighted, a.mul(e, vj))
        }
        return s.round(a.div(weighted, total))
    }

    /// Every key's score s·x_j + b_j, plus S's lowest finite value in S where masked, and the sink's.
    private func constantMaskedScores(_ x: [Double], _ o: AttentionOptions) -> ([Double], [Double]) {
        let lowest = -s.format.greatestFiniteMagnitude
        let values = o.values(count: x.count)
        var z = x.indices.map { j -> Double in
            let score = a.add(a.mul(o.scale, x[j]), o.bias(j))
            return (o.masked?[j] ?? false) ? s.add(s.round(score), lowest) : score
        }
        var v = values
        if let sink = o.sink {
            z.append(sink)
            v.append(0)
        }
        return (z, v)
    }

    /// The scale applied after the exponential: e_j = exp(x_j − max x)^s · exp(b_j − max b), equal to
    /// e^(z_j − max z) in exact arithmetic, but exp's rounding is raised to the power s and an exponential that
    /// underflowed before the power stays 0.
    func scaleAfterExpSoftmax(_ x: [Double], _ o: AttentionOptions) -> [Double] {
        let keys = x.indices.filter { !o.isMasked($0, x) }
        guard !keys.isEmpty || o.sink != nil else {
            return Array(repeating: o.fullyMasked == .zeros ? 0 : .nan, count: x.count)
        }
        let mx = keys.map { x[$0] }.max() ?? 0, mb = keys.map { o.bias($0) }.max() ?? 0
        var e = Array(repeating: 0.0, count: x.count)
        var total = 0.0
        for j in keys {
            let power = a.round(LibM.pow(a.exp(a.sub(x[j], mx)), o.scale))
            e[j] = a.mul(power, a.exp(a.sub(o.bias(j), mb)))
            total = a.add(total, e[j])
        }
        if let sink = o.sink { total = a.add(total, a.exp(a.sub(a.sub(sink, a.mul(o.scale, mx)), mb))) }
        return x.indices.map { s.round(a.div(e[$0], total)) }
    }

    /// The two-pass output with each probability cast to `cast` before the product with v (P in bfloat16
    /// before the PV matmul).
    func castProbabilityOutput(_ x: [Double], _ o: AttentionOptions, cast: BinaryFormat) -> Double {
        let r = terms(x, o)
        guard !r.isEmpty else { return o.fullyMasked == .zeros ? 0 : .nan }
        let st = state(r, r.z.indices)
        var total = 0.0
        for j in r.z.indices { total = a.add(total, a.mul(cast.round(a.div(weight(r.z[j], st.m, r.t), st.l)), r.v[j])) }
        return s.round(total)
    }
}

extension Kernel {
    /// Attention's kernels in binary64 and in each format of the precision audit.
    static let attentionKernels: [Kernel] = attentionKernels(.double)
    static let formatAttentionKernels: [Kernel] = formatPrecisions.flatMap(attentionKernels)

    /// Attention's kernels at one precision: four accurate algorithms, five flawed forms.
    static func attentionKernels(_ precision: KernelPrecision) -> [Kernel] {
        let f = AttentionArithmetic(precision)
        let narrow = precision.computesNarrow
        let accumulator = precision.accumulator.name
        func kernel(_ family: String, _ summary: String, _ flaw: String?) -> Kernel {
            precision == .double
                ? Kernel(name: family, summary: summary, expectation: flaw.map { .flawed($0) } ?? .accurate)
                : .inFormat(family, precision, summary: summary, flaw: flaw)
        }
        let narrowFlaw =
            narrow
            ? "scores and sums rounded to \(accumulator): each score carries 2^-\(precision.accumulator.precision) of "
                + "its size where a float accumulator carries 2^-24"
            : nil
        // The three functions of a kernel that splits the row as `split` says, judged by the bounds given.
        func splitting(_ name: String, _ summary: String, _ split: AttentionArithmetic.Split) -> Kernel {
            var k = kernel(name, summary, narrowFlaw)
            let online = split == .online
            k.implement(
                .scaledSoftmax, .attentionPerLogit { f.softmax($0, $1, split) },
                judgedBy: online ? .onlineScaledSoftmax : nil)
            k.implement(
                .scaledLogSumExp, .attentionScalar { f.logSumExp($0, $1, split) },
                judgedBy: online ? .onlineScaledLogSumExp : nil)
            k.implement(
                .attentionOutput, .attentionScalar { f.output($0, $1, split) },
                judgedBy: online ? .onlineAttentionOutput : nil)
            return k
        }
        let twoPass = splitting(
            "attention-two-pass",
            "Scores s x + b in \(accumulator) (prescaled against overflow), max, exp(z - max), the sums, then p, "
                + "max + log(sum) and sum(e v) / sum(e).", .twoPass)
        let online = splitting(
            "attention-online",
            "One pass: a running (max, sum, sum of e v) rescaled by exp(m_old - m_new) at each key; the empty "
                + "state neutral.", .online)
        let blocked = splitting(
            "attention-blocked",
            "FlashAttention's forward: two passes in each of the row's blocks, the blocks' (max, sum, sum of e v) "
                + "merged left to right by rescaling, the sink last.", .blocked)
        var splitK = kernel(
            "attention-split-k",
            "Flash-decoding: each block's (o, lse), an empty block's (0, -inf), combined at once with weights "
                + "exp(lse_k - max lse), an empty state weighing 0.", narrowFlaw)
        splitK.implement(.scaledLogSumExp, .attentionScalar { f.splitK($0, $1).lse })
        splitK.implement(.attentionOutput, .attentionScalar { f.splitK($0, $1).o })
        splitK.implement(.attentionStates, .attentionStates { f.blockStates($0, $1) })
        var mergeNaN = kernel(
            "attention-merge-nan",
            "Split-K merging the blocks' (o, lse) pairwise with exp(lse - max) unguarded.",
            "two empty states merge to exp(-inf - (-inf)) = NaN, which every later merge keeps (flashinfer#4051, "
                + "vLLM PR #39148)")
        mergeNaN.implement(.scaledLogSumExp, .attentionScalar { f.splitK($0, $1, naive: true).lse })
        mergeNaN.implement(.attentionOutput, .attentionScalar { f.splitK($0, $1, naive: true).o })
        var emptyInf = kernel(
            "attention-empty-lse-inf",
            "Split-K whose empty block returns lse = +inf, FlashAttention-2's sentinel.",
            "the empty block's +inf becomes the maximum and exp(inf - inf) = NaN (flash-attention PR #978)")
        emptyInf.implement(.scaledLogSumExp, .attentionScalar { f.splitK($0, $1, emptyLSE: .infinity).lse })
        emptyInf.implement(.attentionOutput, .attentionScalar { f.splitK($0, $1, emptyLSE: .infinity).o })
        emptyInf.implement(.attentionStates, .attentionStates { f.blockStates($0, $1, emptyLSE: .infinity) })
        var maskConstant = kernel(
            "attention-mask-constant",
            "Masks by adding \(precision.storage.name)'s lowest finite value to the score in "
                + "\(precision.storage.name).",
            "a fully masked row gives softmax(s x + b) instead of its convention, and a masked score below "
                + "-16 overflows float16 to -inf (tensorflow PR #59657)")
        maskConstant.implement(.scaledSoftmax, .attentionPerLogit(f.maskConstantSoftmax))
        maskConstant.implement(.attentionOutput, .attentionScalar(f.maskConstantOutput))
        var afterExp = kernel(
            "attention-scale-after-exp",
            "exp(x - max x)^s exp(b - max b): the scale applied after the exponential.",
            "exp's rounding is raised to the power s, and an exponential that underflowed stays 0 whatever s")
        afterExp.implement(.scaledSoftmax, .attentionPerLogit(f.scaleAfterExpSoftmax))
        let cast: BinaryFormat = .bfloat16
        var castP = kernel(
            "attention-p-\(cast.name)",
            "The two-pass output with each probability cast to \(cast.name) before the product with v.",
            "P in \(cast.name) carries 2^-\(cast.precision) of each probability, which a cancelling sum of p v "
                + "cannot absorb")
        castP.implement(.attentionOutput, .attentionScalar { f.castProbabilityOutput($0, $1, cast: cast) })
        return [twoPass, online, blocked, splitK, mergeNaN, emptyInf, maskConstant, afterExp, castP]
    }
}
