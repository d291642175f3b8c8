// The paired functions as code ships them: the accurate forms, and the flawed forms frameworks and
// tutorials write, each with the thread it comes from.
//
//     KL(q ‖ p)       Σ_{q_i > 0} q_i (log q_i − ℓ_i), ℓ the log1p log-softmax; gradient p·Σq − q
//     BCE with logits (1 − y) softplus(x) + w y softplus(−x) from the stable softplus; gradient
//                     (1 − y) σ(x) − w y σ(−x) from the stable sigmoid
//     weighted LSE    m + log|Σ b_i e^(x_i − m)| with m the largest x_i whose b_i ≠ 0
//
// The flawed forms: log(softmax(x)) in place of log-softmax (−inf once p_i underflows); q · log q without
// the 0 · log 0 rule (NaN at q_i = 0); PyTorch's (1 − y) x − (1 + (w − 1) y) log σ(x), which cancels for
// x ≪ 0 at y = 0, and its gradient (1 + (w − 1) y) σ(x) − w y, which cancels as σ(x) → 1;
// −(w y log σ(x) + (1 − y) log(1 − σ(x))) as textbooks write it (log 0 once σ saturates); a logsumexp
// that takes the maximum over every x_i, b_i = 0 included (jax#5370: −inf for [−1000, −2] with b = [1, 0]).

enum Paired {
    // MARK: KL divergence

    /// q_i (log q_i − ℓ_i) with ℓ_i = (x_i − a) − L; where x_i − a overflows (a spread beyond the largest
    /// double), q_i x_i − q_i a, whose terms have opposite signs and do not overflow for q_i <= 1.
    static func klDivergence(_ x: [Double], _ q: [Double]) -> Double {
        let (a, k, e) = Shifted.exponentials(x)
        let l = LibM.log1p(Shifted.tailSum(e, skipping: k))
        var total = 0.0
        for i in x.indices where q[i] > 0 {
            let d = x[i] - a
            let weighted = d.isInfinite && x[i].isFinite ? q[i] * x[i] - q[i] * a : q[i] * d
            total += q[i] * LibM.log(q[i]) - weighted + q[i] * l
        }
        return total
    }

    /// p·Σq − q, the derivative of KL(q ‖ softmax(x)).
    static func klDivergenceGradient(_ x: [Double], _ q: [Double]) -> [Double] {
        let p = Shifted.softmax(x)
        let total = Summation.recursive(q)
        return x.indices.map { p[$0] * total - q[$0] }
    }

    /// log(softmax(x)) in place of log-softmax.
    static func klOfLogSoftmax(_ x: [Double], _ q: [Double]) -> Double {
        let p = Shifted.softmax(x)
        var total = 0.0
        for i in x.indices where q[i] > 0 { total += q[i] * (LibM.log(q[i]) - LibM.log(p[i])) }
        return total
    }

    /// q · log q − q · ℓ over every i, q_i = 0 included.
    static func klWithoutZeroRule(_ x: [Double], _ q: [Double]) -> Double {
        let l = Shifted.logSoftmaxLog1p(x)
        var total = 0.0
        for i in x.indices { total += q[i] * LibM.log(q[i]) - q[i] * l[i] }
        return total
    }

    // MARK: Binary cross-entropy with logits

    static func binaryCrossEntropy(_ x: [Double], _ y: [Double], _ o: LossOptions) -> [Double] {
        x.indices.map { j in
            let a = 1 - y[j], b = o.posWeight * y[j]
            // Each softplus term only with a nonzero weight: 0 · inf is 0 here, as in the definition.
            let positive = a == 0 ? 0 : a * Binary.softplus(x[j])
            let negative = b == 0 ? 0 : b * Binary.softplus(-x[j])
            return positive + negative
        }
    }

    static func binaryCrossEntropyGradient(_ x: [Double], _ y: [Double], _ o: LossOptions) -> [Double] {
        x.indices.map { j in (1 - y[j]) * Binary.sigmoid(x[j]) - o.posWeight * y[j] * Binary.sigmoid(-x[j]) }
    }

    /// PyTorch's binary_cross_entropy_with_logits: (1 − y) x − (1 + (w − 1) y) log σ(x).
    static func pytorchBinaryCrossEntropy(_ x: [Double], _ y: [Double], _ o: LossOptions) -> [Double] {
        x.indices.map { j in
            let logWeight = 1 + (o.posWeight - 1) * y[j]
            return (1 - y[j]) * x[j] - logWeight * Binary.logSigmoid(x[j])
        }
    }

    /// Its gradient: (1 + (w − 1) y) σ(x) − w y.
    static func pytorchBinaryCrossEntropyGradient(_ x: [Double], _ y: [Double], _ o: LossOptions) -> [Double] {
        x.indices.map { j in (1 + (o.posWeight - 1) * y[j]) * Binary.sigmoid(x[j]) - o.posWeight * y[j] }
    }

    /// −(w y log σ(x) + (1 − y) log(1 − σ(x))).
    static func naiveBinaryCrossEntropy(_ x: [Double], _ y: [Double], _ o: LossOptions) -> [Double] {
        x.indices.map { j in
            let s = Binary.naiveSigmoid(x[j])
            return -(o.posWeight * y[j] * LibM.log(s) + (1 - y[j]) * LibM.log(1 - s))
        }
    }

    // MARK: Weighted logsumexp

    static func weightedLogSumExp(_ x: [Double], _ b: [Double]) -> (value: Double, sign: Double) {
        let live = x.indices.filter { b[$0] != 0 }
        guard let m = live.map({ x[$0] }).max() else { return (-.infinity, 0) }
        return logOfSum(x, b, maximum: m)
    }

    /// The maximum taken over every logit, whatever its weight.
    static func weightedLogSumExpIgnoringWeights(_ x: [Double], _ b: [Double]) -> (value: Double, sign: Double) {
        logOfSum(x, b, maximum: x.max()!)
    }

    private static func logOfSum(_ x: [Double], _ b: [Double], maximum m: Double) -> (value: Double, sign: Double) {
        if m == .infinity || m == -.infinity {
            // No finite shift: the sum as it stands (±inf, NaN, or 0 for an all −inf row).
            let s = Summation.recursive(x.indices.map { b[$0] == 0 ? 0 : b[$0] * LibM.exp(x[$0]) })
            return (LibM.log(s.magnitude), s == 0 ? 0 : (s > 0 ? 1 : (s < 0 ? -1 : .nan)))
        }
        var t = 0.0
        for i in x.indices where b[i] != 0 { t += b[i] * LibM.exp(x[i] - m) }
        let sign: Double = t > 0 ? 1 : (t < 0 ? -1 : (t == 0 ? 0 : .nan))
        return (m + LibM.log(t.magnitude), sign)
    }
}

extension Kernel {
    static let pairedKernels: [Kernel] = {
        var kl = Kernel(
            name: "kl-log-softmax",
            summary: "KL as sum of q (log q - log-softmax) over q > 0, log1p log-softmax; "
                + "gradient p sum(q) - q.", expectation: .accurate)
        kl.implement(.klDivergence, .pairedScalar { x, q, _ in Paired.klDivergence(x, q) })
        kl.implement(.klDivergenceGradient, .pairedPerLogit { x, q, _ in Paired.klDivergenceGradient(x, q) })

        var klOfSoftmax = Kernel(
            name: "kl-log-of-softmax", summary: "KL with log(softmax(x)) in place of log-softmax.",
            expectation: .flawed("p_i underflows to 0 for logits 745 below the maximum, so log p_i = -inf and KL = inf")
        )
        klOfSoftmax.implement(.klDivergence, .pairedScalar { x, q, _ in Paired.klOfLogSoftmax(x, q) })

        var klNaive = Kernel(
            name: "kl-without-zero-rule", summary: "KL as sum of q log q - q log-softmax over every i.",
            expectation: .flawed("q_i = 0 gives 0 * log 0 = 0 * -inf = NaN, the 0 * -inf of optax#896"))
        klNaive.implement(.klDivergence, .pairedScalar { x, q, _ in Paired.klWithoutZeroRule(x, q) })

        var bce = Kernel(
            name: "bce-with-logits-stable",
            summary: "(1 - y) softplus(x) + w y softplus(-x) from the stable softplus; gradient (1 - y) sigma(x) - "
                + "w y sigma(-x).", expectation: .accurate)
        bce.implement(.binaryCrossEntropy, .pairedPerLogit(Paired.binaryCrossEntropy))
        bce.implement(.binaryCrossEntropyGradient, .pairedPerLogit(Paired.binaryCrossEntropyGradient))

        var pytorch = Kernel(
            name: "bce-with-logits-pytorch",
            summary: "PyTorch's (1 - y) x - (1 + (w - 1) y) log sigmoid(x); gradient (1 + (w - 1) y) sigma(x) - w y.",
            expectation: .flawed(
                "for x << 0 and y = 0, x - log sigma(x) cancels: the loss e^x becomes 0; the gradient's sigma(x) - "
                    + "w y cancels as sigma(x) -> 1, giving 0 above x = 36.7 where it is -e^-x"))
        pytorch.implement(.binaryCrossEntropy, .pairedPerLogit(Paired.pytorchBinaryCrossEntropy))
        pytorch.implement(.binaryCrossEntropyGradient, .pairedPerLogit(Paired.pytorchBinaryCrossEntropyGradient))

        var naiveBCE = Kernel(
            name: "bce-naive", summary: "-(w y log sigma(x) + (1 - y) log(1 - sigma(x))) with sigma = 1/(1 + exp(-x)).",
            expectation: .flawed(
                "1 - sigma(x) rounds to 0 above x = 36.7 and sigma(x) underflows below -745: log 0 = -inf, so the "
                    + "loss is inf or NaN (pytorch#13773, pytorch#135359)"))
        naiveBCE.implement(.binaryCrossEntropy, .pairedPerLogit(Paired.naiveBinaryCrossEntropy))

        var lse = Kernel(
            name: "weighted-logsumexp-stable",
            summary: "m + log|sum b exp(x - m)| with m the largest x whose b is not 0; the sign of the sum.",
            expectation: .accurate)
        lse.implement(.weightedLogSumExp, .pairedValueAndSign(Paired.weightedLogSumExp))

        var ignoring = Kernel(
            name: "weighted-logsumexp-max-ignoring-b",
            summary: "m + log|sum b exp(x - m)| with m the largest x whatever its weight.",
            expectation: .flawed(
                "with b = 0 on a maximum far above the rest, every weighted term underflows: -inf for "
                    + "logsumexp([-1000, -2], b=[1, 0]) = -1000 (jax#5370)"))
        ignoring.implement(.weightedLogSumExp, .pairedValueAndSign(Paired.weightedLogSumExpIgnoringWeights))

        return [kl, klOfSoftmax, klNaive, bce, pytorch, naiveBCE, lse, ignoring]
    }()
}
