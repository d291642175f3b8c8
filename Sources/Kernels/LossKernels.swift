// The cross-entropy loss with PyTorch's options (torch.nn.functional.cross_entropy), as code computes it:
//
//     class index:   (1 − ε) · nll + (ε/C) · smooth, with nll = Σ_i −w_y ℓ_iy and
//                    smooth = Σ_i −Σ_c w_c ℓ_ic over the rows not ignored, ℓ the log-softmax;
//                    mean divides both by D = Σ w_y of those rows
//     probabilities: Σ_i −Σ_c w_c ((1 − ε) q_ic + ε/C) ℓ_ic; mean divides by the number of rows
//
// The accurate form takes ℓ from the log1p log-softmax and forms each row as Σ_c a_c (−ℓ_c) with
// a_c = w_c ((1 − ε) t_c + ε/C), leaving out the terms whose weight is 0 (0 · log 0 = 0). The flawed forms:
// PyTorch's own composition, whose smoothing sum −Σ_c w_c ℓ_c overflows before it is scaled by ε/C when
// the logits spread beyond about 1e307; a hand-written label smoothing over log(softmax(x)), which is −inf
// wherever p underflows; and a mean over the rows of the batch instead of over the weights of the rows
// not ignored.
import Catalogue

enum Losses {
    /// How a row's loss is formed.
    enum Form {
        /// Σ_c a_c (−ℓ_c) from the shifted logits and L (`weightedLosses`): no overflow.
        case stable
        /// Σ_c a_c (−ℓ_c) with ℓ from a log-softmax function.
        case logProbabilities(@Sendable ([Double]) -> [Double])
        /// PyTorch's (1 − ε) nll + (ε/C) smooth for class indices (Σ_c a_c (−ℓ_c) for probabilities).
        case pytorch

        var isStable: Bool {
            if case .stable = self { return true }
            return false
        }
    }

    /// The loss of a batch in `form`; the mean divides by PyTorch's divisor, or (`overRows`) by the number
    /// of rows.
    static func crossEntropyLoss(_ b: CrossEntropyBatch, _ form: Form, overRows: Bool = false) -> [Double] {
        let o = b.options
        let C = Double(b.rows[0].count)
        // The stable form divides each weight by the mean's divisor first: every term is then at most the
        // result, so none overflows where the result does not. A zero divisor divides at the end: 0/0 = NaN
        // when every row is ignored, as PyTorch has it.
        let D = o.reduction == .mean ? (overRows ? Double(b.rows.count) : b.meanDivisor()) : 1
        let scale = form.isStable && D != 0 ? D : 1
        let losses = b.rows.enumerated().map { i, x -> Double in
            if b.isIgnored(i) { return 0 }
            switch (form, b.targets) {
            case (.stable, _):
                return weightedLosses(x, b.weights(row: i).map { $0 / scale })
            case (.logProbabilities(let logSoftmax), _):
                return negatedDot(b.weights(row: i), logSoftmax(x))
            case (.pytorch, .labels(let y)):
                let l = Shifted.logSoftmaxLog1p(x), t = y[i]
                var smooth = 0.0
                if o.labelSmoothing > 0 {
                    for c in x.indices where b.classWeight(c) != 0 { smooth -= b.classWeight(c) * l[c] }
                }
                let nll = b.classWeight(t) == 0 ? 0 : -b.classWeight(t) * l[t]
                return (1 - o.labelSmoothing) * nll + o.labelSmoothing / C * smooth
            case (.pytorch, .probabilities):
                return negatedDot(b.weights(row: i), Shifted.logSoftmaxLog1p(x))
            }
        }
        switch o.reduction {
        case .none: return losses
        case .sum: return [Summation.recursive(losses)]
        case .mean where form.isStable && D != 0: return [Summation.recursive(losses)]
        case .mean: return [Summation.recursive(losses) / D]
        }
    }

    /// −Σ_c a_c ℓ_c over the a_c != 0 (0 · log 0 = 0).
    private static func negatedDot(_ a: [Double], _ l: [Double]) -> Double {
        a.indices.reduce(0) { total, c in a[c] == 0 ? total : total - a[c] * l[c] }
    }

    /// The gradient (p_j Σa − a_j)/D per row (D = 1 for none and sum), each weight divided by D first;
    /// `labelWeightOnly`: the flawed w_y (p − t')/D, t' = (1 − ε) onehot(y) + ε/C, which leaves the other
    /// classes' weights out of the smoothing term.
    static func crossEntropyLossGradient(_ b: CrossEntropyBatch, labelWeightOnly: Bool = false) -> [[Double]] {
        let o = b.options
        let C = Double(b.rows[0].count)
        let D = o.reduction == .mean ? b.meanDivisor() : 1
        return b.rows.enumerated().map { i, x in
            if b.isIgnored(i) { return Array(repeating: 0, count: x.count) }
            if D == 0 { return Array(repeating: .nan, count: x.count) }
            let a: [Double]
            if labelWeightOnly, case .labels(let y) = b.targets {
                a = x.indices.map { c in
                    b.classWeight(y[i]) * ((c == y[i] ? 1 - o.labelSmoothing : 0) + o.labelSmoothing / C) / D
                }
            } else {
                a = b.weights(row: i).map { $0 / D }
            }
            let p = Shifted.softmax(x)
            let total = Summation.recursive(a)
            return x.indices.map { j in p[j] * total - a[j] }
        }
    }

    /// Σ_c a_c (−ℓ_c) = Σ_c a_c ((m − x_c) + L), L = log1p(s), over a_c != 0; where m − x_c overflows
    /// (a spread beyond the largest double), a_c m − a_c x_c, whose terms do not overflow for a_c <= 1.
    static func weightedLosses(_ x: [Double], _ a: [Double]) -> Double {
        let (m, k, e) = Shifted.exponentials(x)
        let L = LibM.log1p(Shifted.tailSum(e, skipping: k))
        var total = 0.0
        for c in x.indices where a[c] != 0 {
            let d = m - x[c]
            total += d.isInfinite && x[c].isFinite ? a[c] * m - a[c] * x[c] + a[c] * L : a[c] * (d + L)
        }
        return total
    }

    /// log(softmax(x)): −inf wherever p underflows.
    static func logOfSoftmax(_ x: [Double]) -> [Double] { Shifted.softmax(x).map(LibM.log) }
}

extension Kernel {
    static let lossKernels: [Kernel] = {
        var accurate = Kernel(
            name: "cross-entropy-loss-log1p",
            summary: "F.cross_entropy's loss as sum of a_c (-log-softmax_c), a_c = w_c ((1 - eps) t_c + eps/C), "
                + "over the log1p log-softmax; ignore_index and the three reductions.", expectation: .accurate)
        accurate.implement(.crossEntropyLoss, .loss { Losses.crossEntropyLoss($0, .stable) })
        accurate.implement(.crossEntropyLossGradient, .lossGradient { Losses.crossEntropyLossGradient($0) })

        var labelWeight = Kernel(
            name: "cross-entropy-loss-gradient-label-weight",
            summary: "The loss's gradient as w_y (p - t') / D, t' = (1 - eps) onehot(y) + eps/C.",
            expectation: .flawed(
                "scales the whole row by the label's weight, so with class weights and label smoothing the other "
                    + "classes' weights are lost: p sum(a) - a is not w_y (p - t')"))
        labelWeight.implement(
            .crossEntropyLossGradient, .lossGradient { Losses.crossEntropyLossGradient($0, labelWeightOnly: true) })

        var composed = Kernel(
            name: "cross-entropy-loss-pytorch",
            summary: "PyTorch's composition (LossNLL.cpp): (1 - eps) nll + eps/C smooth, smooth = -sum of w_c "
                + "log-softmax_c, over the log1p log-softmax.",
            expectation: .flawed(
                "the smoothing sum -sum w_c log p_c overflows to inf before its scaling by eps/C once the logits "
                    + "spread beyond about 1e307, where the loss is finite"))
        composed.implement(
            .crossEntropyLoss,
            .loss { Losses.crossEntropyLoss($0, .pytorch) })

        var logOfSoftmax = Kernel(
            name: "cross-entropy-loss-log-of-softmax",
            summary: "Hand-written label smoothing: -sum of the smoothed target times log(softmax(x)).",
            expectation: .flawed(
                "log(softmax(x)) is -inf where p underflows (a logit 745 below the maximum), and label smoothing puts "
                    + "weight on every class: the loss is inf where it is finite"))
        logOfSoftmax.implement(
            .crossEntropyLoss, .loss { Losses.crossEntropyLoss($0, .logProbabilities(Losses.logOfSoftmax)) })

        var overRows = Kernel(
            name: "cross-entropy-loss-mean-over-rows",
            summary: "The weighted loss's mean taken over the batch's rows, ignored ones included.",
            expectation: .flawed(
                "divides by the number of rows instead of the summed weights of the rows not ignored: off by their "
                    + "ratio with class weights or ignored rows, and 0 instead of NaN when every row is ignored"))
        overRows.implement(
            .crossEntropyLoss,
            .loss { Losses.crossEntropyLoss($0, .stable, overRows: true) })

        return [accurate, composed, logOfSoftmax, overRows, labelWeight]
    }()
}
