// The accurate algorithms, beside which the tutorial's code is judged.
//
// Notation: a = max_i x_i at index k, e_i = exp(x_i − a) (so e_k = 1), s = Σ_{i≠k} e_i, S = 1 + s.
// - Shifted softmax by division: p_i = e_i / S (Blanchard, Higham & Higham 2021, §3), with S summed
//   left to right, pairwise, or with Kahan's compensation.
// - Algorithm 4.1 of the same paper: logsumexp = a + log1p(s); log-softmax x_i − a − log1p(s).
// - Division-free softmax: p_i = exp(x_i − logsumexp(x)).
// - Online softmax (Milakov & Gimelshein 2018, Algorithm 3): one pass keeping a running maximum m
//   and a running sum d rescaled by exp(m_old − m_new) when the maximum grows.
// - The usual log-softmax x_i − a − log(S), which loses s once it is below u (flawed on purpose).
// - Cross-entropy as (a − x_t) + log1p(s): two non-negative terms, no cancellation.
// - Cross-entropy as logsumexp − x_t (flawed on purpose: it cancels as p_t → 1).

enum Shifted {
    /// (a, k, e): the maximum, its first index and the shifted exponentials.
    static func exponentials(_ x: [Double]) -> (Double, Int, [Double]) {
        var k = 0
        for i in x.indices where x[i] > x[k] { k = i }
        let a = x[k]
        return (a, k, x.map { LibM.exp($0 - a) })
    }

    static func softmax(_ x: [Double]) -> [Double] {
        let (_, _, e) = exponentials(x)
        let total = Summation.recursive(e)
        return e.map { $0 / total }
    }

    static func softmaxPairwise(_ x: [Double]) -> [Double] {
        let (_, _, e) = exponentials(x)
        let total = Summation.pairwise(e[...])
        return e.map { $0 / total }
    }

    static func softmaxCompensated(_ x: [Double]) -> [Double] {
        let (_, _, e) = exponentials(x)
        let total = Summation.compensated(e)
        return e.map { $0 / total }
    }

    /// s = Σ_{i≠k} e_i.
    static func tailSum(_ e: [Double], skipping k: Int) -> Double {
        var s = 0.0
        for i in e.indices where i != k { s += e[i] }
        return s
    }

    static func logSumExpLog1p(_ x: [Double]) -> Double {
        let (a, k, e) = exponentials(x)
        return a + LibM.log1p(tailSum(e, skipping: k))
    }

    static func logSoftmaxLog1p(_ x: [Double]) -> [Double] {
        let (a, k, e) = exponentials(x)
        let l = LibM.log1p(tailSum(e, skipping: k))
        return x.map { ($0 - a) - l }
    }

    static func softmaxDivisionFree(_ x: [Double]) -> [Double] {
        let y = logSumExpLog1p(x)
        return x.map { LibM.exp($0 - y) }
    }

    static func onlineSoftmax(_ x: [Double]) -> [Double] {
        var m = -Double.infinity
        var d = 0.0
        for v in x {
            let next = max(m, v)
            // Masked (−inf) logits before the first finite one leave the state empty: −inf − (−inf) is NaN.
            if next == -.infinity { continue }
            d = d * LibM.exp(m - next) + LibM.exp(v - next)
            m = next
        }
        return x.map { LibM.exp($0 - m) / d }
    }

    static func logSoftmaxLog(_ x: [Double]) -> [Double] {
        let (a, _, e) = exponentials(x)
        let l = LibM.log(Summation.recursive(e))
        return x.map { $0 - a - l }
    }

    static func logSumExpLog(_ x: [Double]) -> Double {
        let (a, _, e) = exponentials(x)
        return a + LibM.log(Summation.recursive(e))
    }

    static func crossEntropyLog1p(_ x: [Double], _ t: Int) -> Double {
        let (a, k, e) = exponentials(x)
        return (a - x[t]) + LibM.log1p(tailSum(e, skipping: k))
    }

    static func crossEntropyLogSumExp(_ x: [Double], _ t: Int) -> Double {
        logSumExpLog1p(x) - x[t]
    }
}

extension Kernel {
    static let accurateKernels: [Kernel] = {
        var shifted = Kernel(
            name: "softmax-shifted", summary: "exp(x - max) / sum, by division (the standard stable softmax).",
            expectation: .accurate)
        shifted.implement(.softmax, .perLogit(Shifted.softmax))

        var pairwise = Kernel(
            name: "softmax-pairwise", summary: "exp(x - max) / sum with the sum formed pairwise (halving).",
            expectation: .accurate)
        pairwise.implement(.softmax, .perLogit(Shifted.softmaxPairwise), judgedBy: .pairwiseSoftmax)

        var compensated = Kernel(
            name: "softmax-kahan", summary: "exp(x - max) / sum with Kahan's compensated sum.",
            expectation: .accurate)
        compensated.implement(.softmax, .perLogit(Shifted.softmaxCompensated), judgedBy: .compensatedSoftmax)

        var log1p = Kernel(
            name: "logsumexp-log1p",
            summary:
                "Blanchard-Higham-Higham Algorithm 4.1: max + log1p(sum of the others' exp(x - max)); log-softmax "
                + "from it.",
            expectation: .accurate)
        log1p.implement(.logSumExp, .scalar(Shifted.logSumExpLog1p))
        log1p.implement(.logSoftmax, .perLogit(Shifted.logSoftmaxLog1p))

        var divisionFree = Kernel(
            name: "softmax-division-free", summary: "exp(x - logsumexp(x)) with Algorithm 4.1's logsumexp.",
            expectation: .accurate)
        divisionFree.implement(.softmax, .perLogit(Shifted.softmaxDivisionFree), judgedBy: .divisionFreeSoftmax)

        var online = Kernel(
            name: "softmax-online",
            summary: "Milakov-Gimelshein single-pass online softmax: running max and rescaled running sum.",
            expectation: .accurate)
        online.implement(.softmax, .perLogit(Shifted.onlineSoftmax), judgedBy: .onlineSoftmax)

        var usual = Kernel(
            name: "log-softmax-shifted",
            summary: "The usual x - max - log(sum of exp(x - max)), and max + log(sum) for logsumexp.",
            expectation: .flawed(
                "log(1 + s) drops s below 2^-53: log-softmax at a dominant logit is exactly 0 (pytorch#113708) and "
                    + "logsumexp loses s when max = 0"
            ))
        usual.implement(.logSoftmax, .perLogit(Shifted.logSoftmaxLog))
        usual.implement(.logSumExp, .scalar(Shifted.logSumExpLog))

        var crossEntropy = Kernel(
            name: "cross-entropy-log1p",
            summary:
                "(x_max - x_t) + log1p(s): two non-negative terms, per row; mean over a batch; log-softmax from the "
                + "same terms.",
            expectation: .accurate)
        crossEntropy.implement(.crossEntropy, .labeledScalar(Shifted.crossEntropyLog1p))
        crossEntropy.implement(.logSoftmax, .perLogit(Shifted.logSoftmaxLog1p))
        crossEntropy.implement(
            .batchCrossEntropy,
            .batchScalar { rows, labels in
                zip(rows, labels).map { Shifted.crossEntropyLog1p($0, $1) }.reduce(0, +) / Double(rows.count)
            })

        var viaLSE = Kernel(
            name: "cross-entropy-logsumexp", summary: "logsumexp(x) - x_t, the loss read off a log-softmax.",
            expectation: .flawed("logsumexp - x_t cancels as p_t -> 1: a loss of 1e-300 comes out 0"))
        viaLSE.implement(.crossEntropy, .labeledScalar(Shifted.crossEntropyLogSumExp))

        return [shifted, pairwise, compensated, log1p, divisionFree, online, usual, crossEntropy, viaLSE]
    }()
}
