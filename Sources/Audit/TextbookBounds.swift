// The textbook algorithms' bounds, the second tier of an external or native audit's verdict.
//
// The standard bounds (ErrorBounds.swift) are the best-known algorithms': relative per element, such as
// log1p(s) for log-softmax. The algorithms most code uses are only absolutely stable, such as log(Σe) for
// log-softmax and p − onehot for the gradient: on dominant logits they fail the best-known bound by design.
// Each textbook bound is the best-known bound plus the absolute error the textbook algorithm adds
// (docs/bounds.md, "The textbook tier"), so an implementation within it is as good as its textbook algorithm
// allows, and one beyond it has a flaw no declared algorithm explains.
import Foundation
import Formats
import Kernels
import Reference

/// The usual algorithm of a function and the absolute error it adds to the best-known bound.
public struct TextbookAlgorithm: Sendable {
    /// The algorithm, as code writes it.
    public let algorithm: String
    /// What it adds to the best-known bound, in words ("absolutely: (n + 1 + w)u").
    public let allowance: String

    /// The textbook algorithm of f, or nil when the best-known algorithm is also the textbook one.
    public static func of(_ f: AuditFunction) -> TextbookAlgorithm? {
        let logOfSum = "absolutely stable: + (n + 1 + w)u absolutely, the error of log Σ e^(x − max)"
        switch f {
        case .logSoftmax: return .init(algorithm: "(x − max) − log Σ e^(x − max)", allowance: logOfSum)
        case .logSumExp: return .init(algorithm: "max + log Σ e^(x − max)", allowance: logOfSum)
        case .crossEntropy:
            return .init(algorithm: "−log_softmax(x)[t], by log Σ e^(x − max)", allowance: logOfSum)
        case .crossEntropyGradient:
            return .init(
                algorithm: "softmax(x) − onehot(t)",
                allowance: "absolutely stable at the label: + the softmax bound (n + 4 + 2w)u absolutely")
        case .crossEntropyLoss:
            return .init(
                algorithm: "Σ a (−log_softmax), by log Σ e^(x − max)",
                allowance: "absolutely stable: + (n + 1 + w)u per row times its weights Σ a, over the divisor")
        case .klDivergence:
            return .init(
                algorithm: "Σ q (log q − log_softmax(x)), by log Σ e^(x − max)",
                allowance: "absolutely stable: + (n + 1 + w)u Σ q")
        case .sigmoid, .softplusGradient:
            return .init(
                algorithm: "1 / (1 + e^−x)",
                allowance: "+ 1/Ω absolutely (Ω the format's largest value): 0 once e^−x overflows")
        case .logSigmoid, .softplus:
            return .init(
                algorithm: f == .softplus ? "log(1 + e^(βx)) / β" : "−log(1 + e^−x)",
                allowance: "absolutely stable: + 3u absolutely (over β for softplus), the rounding of 1 + e^±x")
        case .sigmoidGradient:
            return .init(algorithm: "σ(x)(1 − σ(x))", allowance: "absolutely stable: + 6u + 1/Ω absolutely")
        case .logSigmoidGradient:
            return .init(algorithm: "1 − σ(x)", allowance: "absolutely stable: + 6u absolutely")
        case .binaryCrossEntropy:
            return .init(
                algorithm: "(1 − y) x + (1 + (w − 1) y)(log(1 + e^−|x|) + max(−x, 0))",
                allowance: "absolutely stable: + 4u (1 + |y|)(1 + w)(1 + |x|) absolutely")
        case .binaryCrossEntropyGradient:
            return .init(
                algorithm: "(1 + (w − 1) y) σ(x) − w y",
                allowance: "absolutely stable: + 7u (1 + |y|)(1 + w) absolutely")
        default: return nil
        }
    }
}

extension ErrorBounds {
    /// The units of f's textbook allowance in a kernel's standard precision. A reduction accumulates in the
    /// standard accumulator (binary32 for the narrow formats, as frameworks' kernels do: a sum in the narrow
    /// format itself is beyond the textbook tier). An elementwise function may hold its intermediate values in
    /// the storage format, as code computing in the tensor's dtype and autograd's saved outputs do.
    static func textbookUnits(_ f: AuditFunction, _ p: KernelPrecision) -> Units {
        switch f {
        case .sigmoid, .logSigmoid, .softplus, .sigmoidGradient, .logSigmoidGradient, .softplusGradient,
            .binaryCrossEntropy, .binaryCrossEntropyGradient:
            return Units(KernelPrecision(storage: p.storage, accumulator: p.storage))
        default: return Units(p)
        }
    }

    /// The absolute error a textbook algorithm adds to each output element of f on a finite case (docs/bounds.md),
    /// or nil when the textbook algorithm is the best-known one.
    static func textbookAllowances(
        _ f: AuditFunction, case c: AuditCase, reference r: SoftmaxReference, units: Units
    ) throws -> [Double]? {
        let x = c.row
        let count = f.shape.outputCount(c)
        switch f {
        case .logSoftmax, .logSumExp, .crossEntropy:
            return Array(repeating: logOfSum(RowFacts(x), units), count: count)
        case .crossEntropyGradient:
            let f = RowFacts(x)
            let atLabel = units.relative(shiftedSoftmax.units(n: f.n, w: f.spread))
            return x.indices.map { $0 == c.label ? atLabel : 0 }
        case .crossEntropyLoss: return crossEntropyLossAllowances(c) { logOfSum(RowFacts($0), units) }
        case .klDivergence:
            let q = f.pair(c).filter { $0 > 0 }.reduce(0, +)
            return [product(logOfSum(RowFacts(x), units), q) * magnitudeSlack]
        case .sigmoid, .softplusGradient: return Array(repeating: units.reciprocalOverflow, count: count)
        case .logSigmoid: return Array(repeating: onePlusRounding(units), count: count)
        case .softplus: return Array(repeating: onePlusRounding(units) / min(1, c.options.beta), count: count)
        case .sigmoidGradient: return Array(repeating: units.relative(6) + units.reciprocalOverflow, count: count)
        case .logSigmoidGradient: return Array(repeating: units.relative(6), count: count)
        case .binaryCrossEntropy, .binaryCrossEntropyGradient:
            let y = f.pair(c), w = c.options.posWeight
            return x.indices.map { j in
                let weights = (1 + y[j].magnitude) * (1 + w)
                return f == .binaryCrossEntropy
                    ? units.relative(4) * weights * (1 + x[j].magnitude) : units.relative(7) * weights
            }
        default: return nil
        }
    }

    /// |log(S(1 + ε)) − log S| for |ε| <= (n + 1 + w)u: S = Σ e^(x_i − max) carries exp's 2u, the argument's
    /// u w and the sum's (n − 1)u, and log turns that relative error into an absolute one, −log(1 − |ε|) at
    /// worst (inf once |ε| reaches 1).
    static func logOfSum(_ facts: RowFacts, _ units: Units) -> Double {
        let e = units.relative(facts.n + 1 + facts.spread)
        return e >= 1 ? .infinity : -Foundation.log1p(-e)
    }

    /// log(1 + t) with 1 + t rounded (u) and t = e^±x within 2u: at most 3u of 1 + t, relatively, so
    /// −log(1 − 3u) absolutely.
    static func onePlusRounding(_ units: Units) -> Double { -Foundation.log1p(-units.relative(3)) }

    /// An absolute error of each row's log Σ e (`perRow`) times the row's weights Σ_c a_ic, summed for `sum`,
    /// over D for `mean`, per row for `none`; ignored rows add nothing.
    static func crossEntropyLossAllowances(_ c: AuditCase, perRow error: ([Double]) -> Double) -> [Double] {
        let batch = AuditFunction.crossEntropyBatch(c)
        let perRow = c.rows.indices.map { i -> Double in
            guard !batch.isIgnored(i) else { return 0 }
            let total = batch.weights(row: i).map(\.magnitude).reduce(0, +)
            return product(error(c.rows[i]), total) * magnitudeSlack
        }
        switch batch.options.reduction {
        case .none: return perRow
        case .sum: return [perRow.reduce(0, +)]
        case .mean: return [perRow.reduce(0, +) / batch.meanDivisor()]
        }
    }
}

extension ErrorBounds {
    /// The intermediate results a framework stores in a narrow format on the way (x − max, the log of the sum,
    /// the saved softmax or log-softmax that autograd reads back, a loss's separate terms): at most three, each
    /// one rounding of the storage format.
    static let storedIntermediates = 3.0

    /// The absolute error stored intermediates add in a format narrower than binary64: 3u_S times the magnitude
    /// of the terms. A stored sum S adds u_S to log S absolutely: |result| + 1 for log-softmax, logsumexp and
    /// cross-entropy, Σ q (|log q| + |ℓ| + 1) for KL, |result| + Σa/D for the loss. A probability formed from a
    /// stored x − max or read back from a stored log-softmax ℓ, p_j = e^ℓ_j, is off by u_S|ℓ_j| p_j: p_j (1 +
    /// |ℓ_j|) for softmax, that + [j = t] for the gradient, p_j (1 + |ℓ_j|) Σq + q_j for KL's, (p_j (1 + |ℓ_j|)
    /// Σa + a_j)/D for the loss's. The result itself for the rest. Nil in binary64.
    static func storedIntermediateAllowances(
        _ f: AuditFunction, case c: AuditCase, expected: [ReferenceValue], reference r: SoftmaxReference,
        precision: KernelPrecision
    ) throws -> [Double]? {
        guard precision.storage != .double else { return nil }
        let k = Units(precision).storage * storedIntermediates * magnitudeSlack
        let x = c.row
        switch f {
        case .softmax:
            return try readBack(x, r).map { k * $0 }
        case .logSoftmax, .crossEntropy:
            return expected.map { k * ($0.rounded.magnitude + 1) }
        case .logSumExp:
            // max + L with L stored: u_S L, which |result| does not cover when max ≈ −L.
            let y = expected[0].rounded
            return [k * (y.magnitude + 1 + RowFacts(x, logSumExp: y).l)]
        case .crossEntropyGradient:
            let p = try readBack(x, r)
            return x.indices.map { k * (p[$0] + ($0 == c.label ? 1 : 0)) }
        case .klDivergenceGradient:
            let q = f.pair(c), p = try readBack(x, r)
            let total = q.reduce(0, +)
            return x.indices.map { k * (product(p[$0], total) + q[$0].magnitude) }
        case .klDivergence:
            let q = f.pair(c), l = try r.logSoftmax(x).map(\.rounded)
            var magnitude = 0.0
            for i in q.indices where q[i] > 0 {
                magnitude += q[i] * (Foundation.log(q[i]).magnitude + l[i].magnitude + 1)
            }
            return [k * magnitude]
        case .crossEntropyLoss:
            return crossEntropyLossAllowances(c, perRow: { _ in k }).enumerated().map { i, stored in
                k * expected[i].rounded.magnitude + stored
            }
        case .crossEntropyLossGradient:
            let batch = AuditFunction.crossEntropyBatch(c)
            let D = batch.options.reduction == .mean ? batch.meanDivisor() : 1
            return try c.rows.indices.flatMap { i -> [Double] in
                guard !batch.isIgnored(i) else { return Array(repeating: 0, count: c.rows[i].count) }
                let a = batch.weights(row: i), p = try readBack(c.rows[i], r)
                let total = a.reduce(0, +)
                return a.indices.map { j in k * (product(p[j], total) + a[j].magnitude) / D }
            }
        default: return expected.map { k * $0.rounded.magnitude }
        }
    }

    /// p_j (1 + |ℓ_j| + H) per element, H = Σ p_i |ℓ_i|: the probabilities, what reading them back from a stored
    /// log-softmax or forming them from a stored x − max adds (u_S |ℓ_j| relatively), and what the stored
    /// x_i − max do to their sum (u_S Σ p_i |x_i − max| <= u_S H relatively).
    private static func readBack(_ x: [Double], _ r: SoftmaxReference) throws -> [Double] {
        let p = try r.softmax(x).map(\.rounded), l = try r.logSoftmax(x).map(\.rounded)
        let entropy = zip(p, l).reduce(0) { $0 + product($1.0, $1.1.magnitude) }
        return zip(p, l).map { product($0, 1 + $1.magnitude + entropy) }
    }
}
