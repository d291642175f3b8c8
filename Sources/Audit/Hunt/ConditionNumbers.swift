// Closed-form condition numbers (Blanchard, Higham & Higham 2021, §2), so that a hunt does not mistake an
// ill-conditioned input for a bad kernel: a large error where κ is large is what any backward-stable code
// gives. Relative perturbations |δx_i| ≤ ε|x_i| of the logits change
//   logsumexp by Σ_i p_i x_i δ_i: κ_lse = Σ_i p_i |x_i| / |lse(x)|;
//   log p_j by Σ_i (δ_ij − p_i) x_i δ_i: the absolute condition c_j = |x_j|(1 − p_j) + Σ_{i≠j} p_i |x_i|, which is
//   also p_j's relative condition; log p_j's relative one is c_j / |log p_j|;
//   the binary family elementwise: σ by |x| σ(−x), log σ by |x| σ(−x) / |log σ(x)|, softplus by
//   |x| σ(x) / softplus(x).
// They are evaluated in binary64 for the report (three significant digits are what it prints).
import Foundation

public enum ConditionNumbers {
    /// The largest condition number of f's outputs on c (1 where no closed form is given: the gradients'
    /// cancelling forms are judged by absolute bounds that already carry their conditioning).
    public static func largest(_ f: AuditFunction, _ c: AuditCase) -> Double {
        guard c.isFinite, let x = c.rows.first, !x.isEmpty else { return .nan }
        switch f {
        case .logSumExp, .weightedLogSumExp:
            let (p, lse) = softmax(x)
            let numerator = zip(p, x).reduce(0) { $0 + $1.0 * $1.1.magnitude }
            return lse == 0 ? (numerator == 0 ? 0 : .infinity) : numerator / lse.magnitude
        case .softmax, .jacobian, .vectorJacobianProduct, .crossEntropyGradient, .batchCrossEntropyGradient,
            .klDivergenceGradient, .crossEntropyLossGradient:
            let (p, _) = softmax(x)
            return softmaxConditions(x, p).max() ?? 0
        case .logSoftmax:
            let (p, lse) = softmax(x)
            return zip(softmaxConditions(x, p), x).map { relative($0, $1 - lse) }.max() ?? 0
        case .crossEntropy, .batchCrossEntropy, .klDivergence, .crossEntropyLoss:
            return c.rows.indices.map { b -> Double in
                let row = c.rows[b]
                let t = min(max(0, c.labels[b]), row.count - 1)
                let (p, lse) = softmax(row)
                return relative(softmaxConditions(row, p)[t], row[t] - lse)
            }.max() ?? 0
        case .sigmoid, .sigmoidGradient, .logSigmoidGradient, .softplusGradient:
            return x.map { $0.magnitude * sigma(-$0) }.max() ?? 0
        case .logSigmoid:
            return x.map { relative($0.magnitude * sigma(-$0), logSigma($0)) }.max() ?? 0
        case .softplus, .binaryCrossEntropy, .binaryCrossEntropyGradient:
            return x.map { relative($0.magnitude * sigma($0), -logSigma(-$0)) }.max() ?? 0
        }
    }

    /// c_j = |x_j|(1 − p_j) + Σ_{i≠j} p_i |x_i|, for every j from one sum T = Σ_i p_i |x_i| (O(n)).
    static func softmaxConditions(_ x: [Double], _ p: [Double]) -> [Double] {
        let total = zip(p, x).reduce(0) { $0 + $1.0 * $1.1.magnitude }
        return x.indices.map { j in x[j].magnitude * (1 - p[j]) + max(0, total - p[j] * x[j].magnitude) }
    }

    static func relative(_ absolute: Double, _ value: Double) -> Double {
        value == 0 ? (absolute == 0 ? 0 : .infinity) : absolute / value.magnitude
    }

    /// p and logsumexp in binary64, shifted by the maximum.
    static func softmax(_ x: [Double]) -> ([Double], Double) {
        let m = x.max()!
        let e = x.map { exp($0 - m) }
        let s = e.reduce(0, +)
        return (e.map { $0 / s }, m + log(s))
    }

    static func sigma(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }
    static func logSigma(_ x: Double) -> Double { x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x)) }
}
