// The paired functions and the cross-entropy loss in the formats ML kernels run in: inputs, paired
// vectors and options stored in float, float16 or bfloat16, every operation computed in the compute
// format (the same, or float) and rounded to it, the results stored, as FormatKernels.swift does for the
// softmax family. The algorithms are PairedKernels.swift's and LossKernels.swift's accurate forms, step
// for step; one more flawed form lives only here: label smoothing that sums the stored log-probabilities
// in the storage format (transformers#10674).

/// The paired functions and the loss with storage S and compute format A.
struct FormatPaired: Sendable {
    let s: FormatArithmetic
    let a: FormatArithmetic
    let shifted: FormatShifted
    let binary: FormatBinary

    init(_ precision: KernelPrecision) {
        s = FormatArithmetic(format: precision.storage)
        a = FormatArithmetic(format: precision.accumulator)
        shifted = FormatShifted(precision)
        binary = FormatBinary(precision)
    }

    /// Σ_{q_i > 0} q_i (log q_i − ℓ_i) with ℓ_i = (x_i − m) − L in A.
    func klDivergence(_ x: [Double], _ q: [Double]) -> Double {
        let (m, k, e) = shifted.exponentials(x)
        let l = shifted.logTail(e, skipping: k)
        var total = 0.0
        for i in x.indices where q[i] > 0 {
            let d = a.sub(x[i], m)
            let weighted = d.isInfinite && x[i].isFinite ? a.sub(a.mul(q[i], x[i]), a.mul(q[i], m)) : a.mul(q[i], d)
            total = a.add(total, a.add(a.sub(a.mul(q[i], a.log(q[i])), weighted), a.mul(q[i], l)))
        }
        return s.round(total)
    }

    /// p·Σq − q with p and Σq in A.
    func klDivergenceGradient(_ x: [Double], _ q: [Double]) -> [Double] {
        let p = probabilities(x)
        var total = 0.0
        for v in q { total = a.add(total, v) }
        return x.indices.map { s.round(a.sub(a.mul(p[$0], total), q[$0])) }
    }

    /// The shifted softmax in A, not stored.
    func probabilities(_ x: [Double]) -> [Double] {
        let (_, _, e) = shifted.exponentials(x)
        var total = 0.0
        for v in e { total = a.add(total, v) }
        return e.map { a.div($0, total) }
    }

    func binaryCrossEntropy(_ x: [Double], _ y: [Double], _ o: LossOptions) -> [Double] {
        x.indices.map { j in
            let wa = a.sub(1, y[j]), wb = a.mul(o.posWeight, y[j])
            let positive = wa == 0 ? 0 : a.mul(wa, binary.computedSoftplus(x[j]))
            let negative = wb == 0 ? 0 : a.mul(wb, binary.computedSoftplus(-x[j]))
            return s.round(a.add(positive, negative))
        }
    }

    func binaryCrossEntropyGradient(_ x: [Double], _ y: [Double], _ o: LossOptions) -> [Double] {
        x.indices.map { j in
            let positive = a.mul(a.sub(1, y[j]), binary.computedSigmoid(x[j]))
            return s.round(a.sub(positive, a.mul(a.mul(o.posWeight, y[j]), binary.computedSigmoid(-x[j]))))
        }
    }

    /// m + log|Σ b_i e^(x_i − m)| with m the largest x_i whose b_i ≠ 0, and the sign of the sum.
    func weightedLogSumExp(_ x: [Double], _ b: [Double]) -> (value: Double, sign: Double) {
        let live = x.indices.filter { b[$0] != 0 }
        guard let m = live.map({ x[$0] }).max() else { return (-.infinity, 0) }
        var t = 0.0
        if m.isInfinite {
            // No finite shift: the sum as it stands (±inf, NaN, or 0 for an all −inf row).
            for i in live { t = a.add(t, a.mul(b[i], a.exp(x[i]))) }
            return (s.round(a.log(t.magnitude)), t == 0 ? 0 : (t > 0 ? 1 : (t < 0 ? -1 : .nan)))
        }
        for i in live { t = a.add(t, a.mul(b[i], a.exp(a.sub(x[i], m)))) }
        let sign: Double = t > 0 ? 1 : (t < 0 ? -1 : (t == 0 ? 0 : .nan))
        return (s.round(a.add(m, a.log(t.magnitude))), sign)
    }

    // MARK: The loss

    /// The mean's divisor in A (1 for none and sum).
    func divisor(_ b: CrossEntropyBatch) -> Double {
        b.options.reduction == .mean ? b.meanDivisor(in: a.format) : 1
    }

    /// The stable form: each weight divided by D first, Σ_c a_c ((m − x_c) + L) per row in A.
    func crossEntropyLoss(_ b: CrossEntropyBatch) -> [Double] {
        let D = divisor(b)
        let scale = D != 0 ? D : 1
        let losses = b.rows.indices.map { i -> Double in
            if b.isIgnored(i) { return 0 }
            return weightedLoss(b.rows[i], b.weights(row: i, in: a.format).map { a.div($0, scale) })
        }
        return reduce(losses, b, divisor: D == 0 ? D : 1)
    }

    /// Σ_c a_c (−ℓ_c) over a_c != 0, with −ℓ_c = (m − x_c) + L; where m − x_c overflows A,
    /// a_c m − a_c x_c.
    func weightedLoss(_ x: [Double], _ w: [Double]) -> Double {
        let (m, k, e) = shifted.exponentials(x)
        let L = shifted.logTail(e, skipping: k)
        var total = 0.0
        for c in x.indices where w[c] != 0 {
            let d = a.sub(m, x[c])
            let term =
                d.isInfinite && x[c].isFinite
                ? a.add(a.sub(a.mul(w[c], m), a.mul(w[c], x[c])), a.mul(w[c], L)) : a.mul(w[c], a.add(d, L))
            total = a.add(total, term)
        }
        return total
    }

    /// The reduction in A, stored: none, the sum, or the sum divided by `divisor`.
    func reduce(_ losses: [Double], _ b: CrossEntropyBatch, divisor: Double) -> [Double] {
        if b.options.reduction == .none { return losses.map(s.round) }
        var total = 0.0
        for v in losses { total = a.add(total, v) }
        return [s.round(b.options.reduction == .mean ? a.div(total, divisor) : total)]
    }

    /// (p_j Σa − a_j)/D per row, each weight divided by D first.
    func crossEntropyLossGradient(_ b: CrossEntropyBatch) -> [[Double]] {
        let D = divisor(b)
        return b.rows.indices.map { i in
            let x = b.rows[i]
            if b.isIgnored(i) { return Array(repeating: 0, count: x.count) }
            if D == 0 { return Array(repeating: .nan, count: x.count) }
            let w = b.weights(row: i, in: a.format).map { a.div($0, D) }
            let p = probabilities(x)
            var total = 0.0
            for v in w { total = a.add(total, v) }
            return x.indices.map { j in s.round(a.sub(a.mul(p[j], total), w[j])) }
        }
    }

    /// Label smoothing as a training loop writes it: the log-probabilities computed in A and stored in S,
    /// the smoothing term −Σ_c w_c ℓ_c summed in S, then (1 − ε) nll + (ε/C) smooth in A. A float16 sum
    /// overflows past 65504 and a bfloat16 one stops growing once its ulp passes twice the terms.
    func storageSmoothingLoss(_ b: CrossEntropyBatch) -> [Double] {
        let o = b.options
        let D = divisor(b)
        let losses = b.rows.indices.map { i -> Double in
            if b.isIgnored(i) { return 0 }
            let x = b.rows[i]
            let l = shifted.logSoftmax(x)
            guard case .labels(let y) = b.targets else {
                return weightedStoredLoss(b.weights(row: i, in: a.format), l)
            }
            let C = Double(x.count)
            var smooth = 0.0
            if o.labelSmoothing > 0 {
                for c in x.indices where b.classWeight(c) != 0 { smooth = s.sub(smooth, s.mul(b.classWeight(c), l[c])) }
            }
            let t = y[i]
            let nll = b.classWeight(t) == 0 ? 0 : -a.mul(b.classWeight(t), l[t])
            return a.add(a.mul(a.sub(1, o.labelSmoothing), nll), a.mul(a.div(o.labelSmoothing, C), smooth))
        }
        return reduce(losses, b, divisor: D)
    }

    /// −Σ_c a_c ℓ_c in A over a_c != 0.
    func weightedStoredLoss(_ w: [Double], _ l: [Double]) -> Double {
        var total = 0.0
        for c in w.indices where w[c] != 0 { total = a.sub(total, a.mul(w[c], l[c])) }
        return total
    }
}

extension Kernel {
    /// The paired functions and the loss in every storage and compute format of the precision audit.
    static let formatPairedKernels: [Kernel] = formatPrecisions.flatMap { precision -> [Kernel] in
        let f = FormatPaired(precision)
        let compute = precision.accumulator.name, storage = precision.storage.name
        func kernel(_ family: String, _ summary: String, _ flaw: String?) -> Kernel {
            .inFormat(family, precision, summary: summary, flaw: flaw)
        }
        let computeFlaw =
            precision.computesNarrow
            ? "computes in \(compute): every step and every running sum rounds to its precision, several of its ulps"
            : nil

        var kl = kernel(
            "kl-log-softmax", "KL as sum of q (log q - log-softmax) over q > 0 in \(compute); gradient p sum(q) - q.",
            computeFlaw)
        kl.implement(.klDivergence, .pairedScalar { x, q, _ in f.klDivergence(x, q) })
        kl.implement(.klDivergenceGradient, .pairedPerLogit { x, q, _ in f.klDivergenceGradient(x, q) })

        var bce = kernel(
            "bce-with-logits-stable",
            "(1 - y) softplus(x) + w y softplus(-x) in \(compute), stored in \(storage); gradient from the sigmoid.",
            computeFlaw)
        bce.implement(.binaryCrossEntropy, .pairedPerLogit(f.binaryCrossEntropy))
        bce.implement(.binaryCrossEntropyGradient, .pairedPerLogit(f.binaryCrossEntropyGradient))

        var lse = kernel(
            "weighted-logsumexp-stable",
            "m + log|sum b exp(x - m)| in \(compute), m the largest x whose b is not 0; the sign of the sum.",
            computeFlaw)
        lse.implement(.weightedLogSumExp, .pairedValueAndSign(f.weightedLogSumExp))

        var loss = kernel(
            "cross-entropy-loss-log1p",
            "F.cross_entropy's loss as sum of a_c (-log-softmax_c) in \(compute), stored in \(storage); its gradient.",
            computeFlaw)
        loss.implement(.crossEntropyLoss, .loss(f.crossEntropyLoss))
        loss.implement(.crossEntropyLossGradient, .lossGradient(f.crossEntropyLossGradient))

        var kernels = [kl, bce, lse, loss]
        if precision.storage != .float {
            var smoothing = kernel(
                "cross-entropy-loss-smoothing-in-storage",
                "Label smoothing over log-probabilities stored in \(storage) and summed in \(storage), the rest in "
                    + "\(compute).",
                "the smoothing sum of -log p rounds to \(storage) at each of its C terms (several ulps on any row); "
                    + (precision.storage == .float16
                        ? "over a vocabulary it overflows float16 past 65504: inf where the loss is finite"
                        : "over a vocabulary it stops growing once its ulp passes twice the terms, losing most of "
                            + "the smoothing term") + " (transformers#10674)")
            smoothing.implement(.crossEntropyLoss, .loss(f.storageSmoothingLoss))
            kernels.append(smoothing)
        }
        return kernels
    }
}
