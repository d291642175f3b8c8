// Closed-form condition numbers (Blanchard, Higham & Higham 2021, §2), so that a hunt does not mistake an
// ill-conditioned input for a bad kernel: a large error where κ is large is what any backward-stable code
// gives. Relative perturbations |δx_i| ≤ ε|x_i| of the logits change
//   logsumexp by Σ_i p_i x_i δ_i: κ_lse = Σ_i p_i |x_i| / |lse(x)|;
//   log p_j by Σ_i (δ_ij − p_i) x_i δ_i: the absolute condition c_j = |x_j|(1 − p_j) + Σ_{i≠j} p_i |x_i|,
//   which is also p_j's relative condition; log p_j's relative one is c_j / |log p_j|;
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
            let t = Terms(x)
            return relative(t.contributions.reduce(0, +), t.logSumExp)
        case .softmax, .jacobian, .vectorJacobianProduct, .crossEntropyGradient, .batchCrossEntropyGradient,
            .klDivergenceGradient, .crossEntropyLossGradient:
            return Terms(x).conditions.max() ?? 0
        case .logSoftmax:
            let t = Terms(x)
            return zip(t.conditions, t.logP).map { relative($0, $1) }.max() ?? 0
        case .crossEntropy, .batchCrossEntropy, .klDivergence, .crossEntropyLoss:
            return c.rows.indices.map { b -> Double in
                let t = Terms(c.rows[b])
                let label = min(max(0, c.labels[b]), c.rows[b].count - 1)
                return relative(t.conditions[label], t.logP[label])
            }.max() ?? 0
        case .sigmoid, .sigmoidGradient, .logSigmoidGradient, .softplusGradient:
            return x.map { $0.magnitude * sigma(-$0) }.max() ?? 0
        case .logSigmoid:
            return x.map { relative($0.magnitude * sigma(-$0), logSigma($0)) }.max() ?? 0
        case .softplus, .binaryCrossEntropy, .binaryCrossEntropyGradient:
            return x.map { relative($0.magnitude * sigma($0), -logSigma(-$0)) }.max() ?? 0
        case .scaledSoftmax, .scaledLogSumExp, .attentionOutput, .attentionStates:
            // Those of the scores z = s·x + b over the unmasked keys (the sink left out).
            let o = AuditFunction.attentionOptions(c)
            let z = x.indices.filter { !o.isMasked($0, x) }.map { o.scale * x[$0] + o.bias($0) }
            guard !z.isEmpty, z.allSatisfy(\.isFinite) else { return 0 }
            let t = Terms(z)
            if f == .scaledLogSumExp { return relative(t.contributions.reduce(0, +), t.logSumExp) }
            return t.conditions.max() ?? 0
        }
    }

    /// A row's softmax without cancellation: with m the maximum at k, e_i = e^(x_i − m), s = Σ_{i≠k} e_i,
    /// p_i = e_i / (1 + s), log p_i = (x_i − m) − log1p(s), 1 − p_k = s / (1 + s).
    struct Terms {
        let p, logP, complement, magnitudes: [Double]
        let logSumExp: Double
        /// p_i |x_i|.
        let contributions: [Double]

        init(_ x: [Double]) {
            var k = 0
            for i in x.indices where x[i] > x[k] { k = i }
            let m = x[k]
            let e = x.map { Foundation.exp($0 - m) }
            var s = 0.0
            for i in e.indices where i != k { s += e[i] }
            let l = Foundation.log1p(s)
            p = e.map { $0 / (1 + s) }
            logP = x.map { ($0 - m) - l }
            complement = x.indices.map { $0 == k ? s / (1 + s) : 1 - e[$0] / (1 + s) }
            logSumExp = m + l
            magnitudes = x.map(\.magnitude)
            contributions = zip(p, magnitudes).map { $0 * $1 }
        }

        /// c_j = |x_j|(1 − p_j) + Σ_{i≠j} p_i |x_i|, for every j in O(n): the two largest contributions are added
        /// apart from the rest, so that leaving out a dominant one does not cancel.
        var conditions: [Double] {
            let a = contributions
            var first = 0, second = a.count > 1 ? 1 : 0
            if a.count > 1 && a[second] > a[first] { swap(&first, &second) }
            for i in a.indices.dropFirst(2) where a[i] > a[second] {
                if a[i] > a[first] {
                    second = first
                    first = i
                } else {
                    second = i
                }
            }
            var rest = 0.0
            for i in a.indices where i != first && i != second { rest += a[i] }
            return a.indices.map { j in
                var others = j == first || j == second ? rest : max(0, rest - a[j])
                if j != first { others += a[first] }
                if j != second && second != first { others += a[second] }
                return magnitudes[j] * complement[j] + others
            }
        }
    }

    static func relative(_ absolute: Double, _ value: Double) -> Double {
        value == 0 ? (absolute == 0 ? 0 : .infinity) : absolute / value.magnitude
    }

    static func sigma(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }
    static func logSigma(_ x: Double) -> Double { x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x)) }
}
