// Gradients and the softmax Jacobian.
//
// The cross-entropy gradient is p − onehot(t). At the label, p_t − 1 cancels when p_t is near 1;
// forming 1 − p_t as Σ_{j≠t} e_j / S instead (for t ≠ k, S − e_t loses at most a bit since
// e_t <= 1 <= S − e_t; for t = k it is s) keeps relative accuracy. The Jacobian's diagonal
// p_i (1 − p_i) uses the same complement; the VJP is p ⊙ (v − ⟨p, v⟩), whose subtraction is the
// problem's own conditioning (its error is bounded relative to max|v|, not to the result).

enum Gradient {
    /// Σ_{j≠i} e_j / S for every i, with S = Σ e_j.
    static func complements(_ e: [Double], _ k: Int, _ total: Double) -> [Double] {
        let s = Shifted.tailSum(e, skipping: k)
        return e.indices.map { i in (i == k ? s : total - e[i]) / total }
    }

    static func complementGradient(_ x: [Double], _ t: Int) -> [Double] {
        let (_, k, e) = Shifted.exponentials(x)
        let total = Summation.recursive(e)
        var g = e.map { $0 / total }
        let s = t == k ? Shifted.tailSum(e, skipping: k) : total - e[t]
        g[t] = -(s / total)
        return g
    }

    static func onehotGradient(_ x: [Double], _ t: Int) -> [Double] {
        var g = Shifted.softmax(x)
        g[t] -= 1
        return g
    }

    static func jacobian(_ x: [Double]) -> [[Double]] {
        let (_, k, e) = Shifted.exponentials(x)
        let total = Summation.recursive(e)
        let p = e.map { $0 / total }
        let q = complements(e, k, total)
        return x.indices.map { i in x.indices.map { j in i == j ? p[i] * q[i] : -(p[i] * p[j]) } }
    }

    static func vectorJacobianProduct(_ x: [Double], _ v: [Double]) -> [Double] {
        let p = Shifted.softmax(x)
        var dot = 0.0
        for j in x.indices { dot += p[j] * v[j] }
        return x.indices.map { p[$0] * (v[$0] - dot) }
    }
}

extension Kernel {
    static let gradientKernels: [Kernel] = {
        var complement = Kernel(
            name: "gradient-complement",
            summary: "p - onehot(t) with p_t - 1 formed as -(sum of the other exp(x - max)) / sum; batch divides by m.",
            expectation: .accurate)
        complement.implement(.crossEntropyGradient, .labeledPerLogit(Gradient.complementGradient))
        complement.implement(
            .batchCrossEntropyGradient,
            .batchPerLogit { rows, labels in
                zip(rows, labels).map { row, t in Gradient.complementGradient(row, t).map { $0 / Double(rows.count) } }
            })

        var onehot = Kernel(
            name: "gradient-onehot", summary: "The usual p - onehot(t) from the shifted softmax.",
            expectation: .flawed(
                "p_t - 1 cancels as p_t -> 1: relative error ~u/(1 - p_t), and -0.0 or 0 once 1 - p_t < 2^-54"))
        onehot.implement(.crossEntropyGradient, .labeledPerLogit(Gradient.onehotGradient))

        var backward = Kernel(
            name: "softmax-backward",
            summary:
                "Jacobian p_i (delta_ij - p_j) with p_i (1 - p_i) from the complement; the usual VJP p * (v - <p, "
                + "v>), whose error is bounded relative to max|v| (v - <p, v> cancels: the problem's own "
                + "conditioning).",
            expectation: .accurate)
        backward.implement(.jacobian, .perPair(Gradient.jacobian))
        backward.implement(.vectorJacobianProduct, .perLogitWithVector(Gradient.vectorJacobianProduct))

        return [complement, onehot, backward]
    }()

    /// Every built-in kernel: the tutorial's first, then the accurate algorithms and the usual ones, then
    /// the binary family.
    public static let all: [Kernel] =
        seedKernels + accurateKernels + gradientKernels + binaryKernels + pairedKernels
        + lossKernels + attentionKernels

    /// The kernel with this name (binary64 or one of the format kernels), if any.
    public static func named(_ name: String) -> Kernel? { (all + formatKernels + planted).first { $0.name == name } }
}
