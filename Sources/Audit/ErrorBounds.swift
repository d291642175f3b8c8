// Worst-case error bounds, per algorithm and output element, first order in u = 2^-53
// (derivations in docs/bounds.md).
//
// Each bound has the form |computed − exact| <= relative · |exact| + absolute. The relative parts are
// Blanchard, Higham & Higham (2021) for the shifted softmax and logsumexp, extended by the same
// first-order reasoning where a kernel differs; the assumptions, stated once:
//   - libm's exp, log and log1p are within 1 ulp (glibc documents this), so each call adds 2u of
//     relative error where the paper counts u;
//   - a rounded argument x − a adds u|x − a| of relative error to exp(x − a);
//   - recursive summation of n terms of one sign adds (n − 1)u;
//   - the absolute part, (n + 8) · 2^-1074, covers intermediate results that fall into the subnormal
//     range, where relative error guarantees give way to an absolute 2^-1075 per operation;
//   - a relative bound k·u is applied as expm1(k·u): relative errors compose as Π(1 + δ_i), and
//     |Π(1 + δ_i) − 1| <= exp(Σ|δ_i|) − 1, which is k·u to first order and stays rigorous when k·u is
//     not small (the division-free softmax at an offset of 1e16 has |y| u ≈ 1).
// Notation: n the row length, w = x_max − x_min (the spread; inf when it overflows), y = logsumexp(x),
// L = log1p(s) = y − x_max, a = x_max. The polynomials in n and w are the table below; the
// reference-free properties (Properties.swift) read their tolerances from the same table.
import Foundation
import Kernels
import Reference

/// A bound on one element: |computed − exact| <= relative · |exact| + absolute.
public struct ElementBound: Sendable, Equatable {
    public var relative: Double
    public var absolute: Double

    /// The bound's value for an exact value of magnitude |v|.
    public func allowance(_ magnitude: Double) -> Double { relative * magnitude + absolute }
}

/// k(n, w) = a·n + c + b·w units of u for a row of length n and spread w.
public struct BoundPolynomial: Sendable, Equatable, CustomStringConvertible {
    public let length: Double
    public let constant: Double
    public let spread: Double
    /// Whether w is added before the constant. Floating-point addition is not associative, so
    /// (n + w) + 4 and (n + 4) + w may differ in the last bit, and the reports print bounds in full:
    /// each polynomial is evaluated in the order its derivation writes it.
    let spreadFirst: Bool

    init(length: Double, constant: Double, spread: Double, spreadFirst: Bool = false) {
        self.length = length
        self.constant = constant
        self.spread = spread
        self.spreadFirst = spreadFirst
    }

    /// k(n, w) + extra (an allowance a property adds, such as 2u for libm's log n).
    public func units(n: Double, w: Double, plus extra: Double = 0) -> Double {
        spreadFirst ? length * n + spread * w + (constant + extra) : length * n + (constant + extra) + spread * w
    }

    public var description: String {
        func term(_ k: Double, _ x: String) -> String { k == 0 ? "" : k == 1 ? x : "\(Int(k))\(x)" }
        let parts = [term(length, "n"), "\(Int(constant))", term(spread, "w")]
        let ordered = spreadFirst ? [parts[0], parts[2], parts[1]] : parts
        return ordered.filter { !$0.isEmpty }.joined(separator: " + ")
    }
}

/// The units a bound is written in, for a kernel's formats: u_A = 2^-p of the accumulator for the
/// algorithm's k·u, and when the storage format is narrower one more rounding, u_S, for the stored
/// result; the absolute floor counts the accumulator's smallest subnormal per operation and the
/// storage's once. For binary64 throughout these are u = 2^-53 and (n + 8) · 2^-1074.
struct Units: Sendable {
    let storage: Double
    let accumulator: Double
    let storageQuantum: Double
    let accumulatorQuantum: Double
    let mixed: Bool
    /// 1/Ω for the accumulator's largest finite value Ω: what e^−x's overflow leaves of σ(x) at most.
    let reciprocalOverflow: Double

    /// Roundings the absolute floor allows beyond one per element (docs/bounds.md, "Assumptions").
    static let floorOperations = 8.0

    init(_ p: KernelPrecision) {
        storage = Double(sign: .plus, exponent: -p.storage.precision, significand: 1)
        accumulator = Double(sign: .plus, exponent: -p.accumulator.precision, significand: 1)
        storageQuantum = Double(sign: .plus, exponent: p.storage.quantumExponent, significand: 1)
        accumulatorQuantum = Double(sign: .plus, exponent: p.accumulator.quantumExponent, significand: 1)
        mixed = p.storage != p.accumulator
        reciprocalOverflow = 1 / p.accumulator.greatestFiniteMagnitude
    }

    static let double = Units(.double)

    /// expm1(k u_A), times (1 + u_S) for a narrower store.
    func relative(_ k: Double) -> Double {
        let r = Foundation.expm1(k * accumulator)
        return mixed ? (1 + storage) * (1 + r) - 1 : r
    }

    /// The absolute part of every bound: the accumulator's smallest subnormal per operation, and the
    /// storage's once for a narrower store.
    func floor(_ n: Double) -> Double {
        (n + Self.floorOperations) * accumulatorQuantum + (mixed ? storageQuantum : 0)
    }
}

/// Facts about a row that the bounds use.
struct RowFacts {
    let n: Double
    let spread: Double
    let max: Double
    let y: Double
    let l: Double

    init(_ x: [Double], logSumExp y: Double = 0) {
        n = Double(x.count)
        let top = x.max()!, bottom = x.min()!
        max = top
        spread = top - bottom
        self.y = y
        l = Swift.max(0, y - top)
    }
}

enum ErrorBounds {
    // MARK: - The table of polynomials, in units of u (docs/bounds.md derives each)

    /// Shifted softmax by division: BHH's n + 2 + 2w with libm's exp at 1 ulp.
    static let shiftedSoftmax = BoundPolynomial(length: 1, constant: 4, spread: 2)
    /// Online softmax: up to n rescalings by exp(m_old − m_new), Σ|Δm| <= w.
    static let onlineSoftmax = BoundPolynomial(length: 5, constant: 5, spread: 3)
    /// L = log1p(s), relatively; times L it is logsumexp's absolute error.
    static let logTail = BoundPolynomial(length: 1, constant: 4, spread: 1, spreadFirst: true)
    /// Log-softmax (x_j − a) − L: two terms of one sign.
    static let logSoftmax = BoundPolynomial(length: 1, constant: 6, spread: 1)
    /// Cross-entropy (a − x_t) + L: two non-negative terms.
    static let crossEntropy = BoundPolynomial(length: 1, constant: 6, spread: 1)
    /// The gradient at the label, −(S − e_t)/S: S − e_t >= S/2 at most doubles S's and e_t's errors.
    static let gradientAtLabel = BoundPolynomial(length: 2, constant: 8, spread: 4)
    /// The batch gradient: the row's bounds and one division.
    static let batchGradientAtLabel = BoundPolynomial(length: 2, constant: 9, spread: 4)
    static let batchGradientElsewhere = BoundPolynomial(length: 1, constant: 5, spread: 2)
    /// The Jacobian: a product of two softmax-accurate values and one rounding.
    static let jacobian = BoundPolynomial(length: 2, constant: 10, spread: 4)

    /// The binary family by sign (sigmoid, log-sigmoid, softplus): exp 2u, 1 + t or log1p 2u, the last
    /// step u, whatever the row (docs/bounds.md).
    static let elementwise = 5.0

    /// σ'(x) = t/(1 + t)^2: exp 2u, 1 + t 2u, the square 5u, the quotient 8u (docs/bounds.md).
    static let sigmoidGradient = 8.0

    /// An element of the binary family: `elementwise` units, and the floor of one element's few
    /// operations (not the row's: each element is computed alone).
    static func elementwiseBound(_ units: Units, units k: Double = elementwise) -> ElementBound {
        ElementBound(relative: units.relative(k), absolute: units.floor(1))
    }

    /// Softplus with β ≠ 1, softplus(y)/β with y = βx rounded: that rounding's u|y| magnified by the
    /// condition number y σ(y)/softplus(y) (below 1 for y > 0, about |y| for y << 0), the elementwise 5u and
    /// the division's u; its gradient σ(y), whose condition number in y is |y| σ(−y) (docs/bounds.md).
    private static func softplusBetaBounds(
        _ x: [Double], beta: Double, gradient: Bool, _ units: Units
    ) -> [ElementBound] {
        x.map { xj in
            let y = beta * xj
            // σ(y) and σ(−y) by sign, so that no exponential overflows.
            let e = Foundation.exp(-y.magnitude)
            let s = y >= 0 ? 1 / (1 + e) : e / (1 + e), t = y >= 0 ? e / (1 + e) : 1 / (1 + e)
            let softplus = y > 0 ? y + Foundation.log1p(Foundation.exp(-y)) : Foundation.log1p(Foundation.exp(y))
            var condition = y == 0 ? 0 : (gradient ? y.magnitude * t : y.magnitude * s / softplus)
            if !condition.isFinite { condition = .infinity }
            // A subnormal softplus(y) carries an absolute error of the floor, which the division by β magnifies.
            let bound = elementwiseBound(units, units: elementwise + (gradient ? 0 : 1) + condition * magnitudeSlack)
            return gradient
                ? bound : ElementBound(relative: bound.relative, absolute: bound.absolute * max(1, 1 / beta))
        }
    }

    /// The VJP's factor ε_p + (n + 2)u, in units of u: the softmax bound, the n roundings of ⟨p, v⟩ and
    /// two more (v_i − ⟨p, v⟩ and the product); the absolute bound is p_i times it times (max|v| + |r_i|).
    static func vectorJacobianProductFactor(n: Double, w: Double) -> Double {
        shiftedSoftmax.units(n: n, w: w) + n + 2
    }

    /// The pairwise sum's depth ⌈log2 n⌉ (0 for n = 1) in place of the recursive sum's n − 1.
    static func pairwiseSoftmax(count: Int, w: Double) -> Double {
        let depth = Double(Int.bitWidth - (count - 1).leadingZeroBitCount)
        return depth + 5 + 2 * w
    }

    /// Kahan's compensated sum: 2u + O(n u²) for the sum in place of (n − 1)u.
    static func compensatedSoftmax(n: Double, w: Double, u: Double) -> Double { 7 + 2 * w + n * n * u }

    /// The division-free softmax exp(x_j − ỹ): ỹ's absolute error u|y| + (n + w + 4) L u, the argument's
    /// u|x_j − y|, exp's 2u.
    static func divisionFreeSoftmax(_ x: Double, _ facts: RowFacts) -> Double {
        facts.y.magnitude + (x - facts.y).magnitude + 2 + product(logTail.units(n: facts.n, w: facts.spread), facts.l)
    }

    /// a · b, with 0 · inf = 0 (an infinite spread times a zero term contributes nothing).
    static func product(_ a: Double, _ b: Double) -> Double { a == 0 || b == 0 ? 0 : a * b }

    /// The VJP bound's own evaluation (p, ⟨p, v⟩ and r_i rounded in binary64) is covered by this factor.
    static let vectorJacobianProductSlack = 1.01

    // MARK: - Per-element bounds

    /// The standard algorithms' bound on every element for a row of n logits with spread w and l =
    /// logsumexp − max (from the row's facts alone): the shifted softmax, logsumexp and the cross-entropy;
    /// nil for another formula.
    static func rowBound(_ formula: BoundFormula, n: Double, w: Double, l: Double, units: Units) -> ElementBound? {
        switch formula {
        case .shiftedSoftmax:
            return ElementBound(relative: units.relative(shiftedSoftmax.units(n: n, w: w)), absolute: units.floor(n))
        case .log1pLogSumExp:
            let tail = product(units.relative(logTail.units(n: n, w: w)), l)
            return ElementBound(relative: finalRounding(units), absolute: tail + units.floor(n))
        case .log1pCrossEntropy:
            return ElementBound(relative: units.relative(crossEntropy.units(n: n, w: w)), absolute: units.floor(n))
        default: return nil
        }
    }

    /// Per-element bounds for a finite case. `reference` gives the exact values where a bound needs them.
    static func bounds(
        _ formula: BoundFormula, case c: AuditCase, reference r: SoftmaxReference,
        units: Units = .double
    ) throws -> [ElementBound] {
        let x = c.row
        let facts = RowFacts(x, logSumExp: try r.logSumExp(x).rounded)
        let n = facts.n, w = facts.spread
        // A relative bound of k units (expm1(k u), inf when k is) with the absolute floor.
        let rel: (Double) -> ElementBound = { ElementBound(relative: units.relative($0), absolute: units.floor(n)) }
        func repeated(_ k: Double, _ count: Int = x.count) -> [ElementBound] { Array(repeating: rel(k), count: count) }
        switch formula {
        case .shiftedSoftmax, .log1pLogSumExp, .log1pCrossEntropy:
            let bound = rowBound(formula, n: n, w: w, l: facts.l, units: units)!
            return formula == .shiftedSoftmax ? Array(repeating: bound, count: x.count) : [bound]
        case .pairwiseSoftmax: return repeated(pairwiseSoftmax(count: x.count, w: w))
        case .compensatedSoftmax: return repeated(compensatedSoftmax(n: n, w: w, u: units.accumulator))
        case .divisionFreeSoftmax: return x.map { rel(divisionFreeSoftmax($0, facts)) }
        case .onlineSoftmax: return repeated(onlineSoftmax.units(n: n, w: w))
        case .log1pLogSoftmax: return repeated(logSoftmax.units(n: n, w: w))
        case .complementGradient:
            let atLabel = rel(gradientAtLabel.units(n: n, w: w)), elsewhere = rel(shiftedSoftmax.units(n: n, w: w))
            return x.indices.map { $0 == c.label ? atLabel : elsewhere }
        case .meanCrossEntropy:
            let worst = c.rows.map { row -> Double in
                let f = RowFacts(row)
                return crossEntropy.units(n: f.n, w: f.spread)
            }.max()!
            return [rel(worst + Double(c.rows.count) + 1)]
        case .batchGradient:
            return zip(c.rows, c.labels).flatMap { row, t -> [ElementBound] in
                let f = RowFacts(row)
                let atLabel = rel(batchGradientAtLabel.units(n: f.n, w: f.spread))
                let elsewhere = rel(batchGradientElsewhere.units(n: f.n, w: f.spread))
                return row.indices.map { $0 == t ? atLabel : elsewhere }
            }
        case .jacobian: return repeated(jacobian.units(n: n, w: w), x.count * x.count)
        case .vectorJacobianProduct: return try vectorJacobianProductBounds(x, facts, reference: r, units: units)
        case .log1pSoftplus where c.options.beta != 1, .sigmoidSoftplusGradient where c.options.beta != 1:
            return softplusBetaBounds(x, beta: c.options.beta, gradient: formula == .sigmoidSoftplusGradient, units)
        case .stableSigmoid, .log1pLogSigmoid, .log1pSoftplus, .complementLogSigmoidGradient, .sigmoidSoftplusGradient:
            return Array(repeating: elementwiseBound(units), count: x.count)
        case .stableSigmoidGradient:
            return Array(repeating: elementwiseBound(units, units: sigmoidGradient), count: x.count)
        case .logSoftmaxKLDivergence: return [try klDivergenceBound(c, facts, reference: r, units: units)]
        case .distributionGradient: return try distributionGradientBounds(c, facts, reference: r, units: units)
        case .softplusBinaryCrossEntropy:
            // A softplus or sigmoid in the subnormal range is off by up to the floor, times its weight 1 − y or w y.
            let bound = elementwiseBound(units, units: binaryCrossEntropy)
            return Array(
                repeating: ElementBound(relative: bound.relative, absolute: bound.absolute * (1 + c.options.posWeight)),
                count: x.count)
        case .sigmoidBinaryCrossEntropyGradient: return binaryCrossEntropyGradientBounds(c, units: units)
        case .weightedLogSumExp: return weightedLogSumExpBounds(c, units: units)
        case .weightedCrossEntropyLoss:
            let B = c.rows.count
            let worst = c.rows.map { row -> Double in
                let f = RowFacts(row)
                return crossEntropyLoss(n: f.n, w: f.spread, rows: B)
            }.max()!
            return Array(repeating: rel(worst), count: AuditFunction.crossEntropyLoss.shape.outputCount(c))
        case .weightedCrossEntropyLossGradient: return try crossEntropyLossGradientBounds(c, reference: r, units: units)
        case .blockedScaledSoftmax, .onlineScaledSoftmax, .blockedScaledLogSumExp, .onlineScaledLogSumExp,
            .blockedAttentionOutput, .onlineAttentionOutput:
            return try attentionBounds(formula, c, reference: r, units: units)
        case .blockStates:
            // Each block's logsumexp and output by the two-pass bounds of the block alone (no merge); an empty
            // block's (−inf, 0) exactly.
            let o = AuditFunction.attentionOptions(c)
            var bounds: [ElementBound] = []
            for k in 0..<o.blocks {
                let range = AttentionOptions.block(k, of: o.blocks, count: c.row.count)
                guard !range.isEmpty else {
                    bounds += Array(repeating: ElementBound(relative: 0, absolute: 0), count: 2)
                    continue
                }
                var block = AuditCase(Array(c.row[range]), label: 0)
                block.options.attention = o.block(range, count: c.row.count)
                block.format = c.format
                bounds += try attentionBounds(.blockedScaledLogSumExp, block, reference: r, units: units)
                bounds += try attentionBounds(.blockedAttentionOutput, block, reference: r, units: units)
            }
            return bounds
        }
    }

    /// Attention's units K = n + 4 + 3w + 3B + 10A for n terms (the unmasked keys and the sink) of spread w,
    /// B blocks (one per key online) and A = max_j (|s x_j| + |b_j|): the shifted softmax's n + 4 + 2w, each
    /// merge's rescaling e^(m_old − m_new) (3u and the argument's u|Δm|, Σ|Δm| <= w), and the scores' two
    /// roundings, 2uA, in each d_j and in the maximum, numerator and denominator (docs/bounds.md, "Attention").
    static func attentionUnits(n: Double, w: Double, blocks: Double, a: Double) -> Double {
        let k = n + 4 + 3 * w + 3 * blocks + 10 * a
        return k.isNaN ? .infinity : k
    }

    /// Attention's bounds (AttentionBoundFacts: K over the live terms): a live key's p_j within K u relatively, a
    /// dead key's within the floor, a masked key's exactly 0; logsumexp within (K + n)u absolutely (log turns S's
    /// relative error into an absolute one, log S <= log n), the maximum's two roundings 2u A_top, and its
    /// rounding; the output within (K + n + 2)u Σ p_j |v_j| absolutely (the sum of e_j v_j and the division) and
    /// its rounding, or 2 max|v| once that factor reaches 1.
    private static func attentionBounds(
        _ formula: BoundFormula, _ c: AuditCase, reference r: SoftmaxReference, units: Units
    ) throws -> [ElementBound] {
        let x = c.row, o = AuditFunction.attentionOptions(c)
        let exact = ElementBound(relative: 0, absolute: 0)
        guard let facts = AttentionBoundFacts(c, units: units) else {
            return Array(repeating: exact, count: formula.function.shape.outputCount(c))
        }
        let n = facts.n
        let k = facts.units(blocks: formula.isOnline ? n : Double(min(o.blocks, max(1, facts.kept.count))))
        if formula.function == .scaledSoftmax {
            let bound = ElementBound(relative: units.relative(k), absolute: units.floor(n))
            let dead = ElementBound(relative: 0, absolute: units.floor(n))
            let isKept = Set(facts.kept)
            return x.indices.map { isKept.contains($0) ? (facts.live.contains($0) ? bound : dead) : exact }
        }
        // The absolute parts are the accumulator's: a narrower store rounds the result once, relatively.
        let accumulated: (Double) -> Double = { Foundation.expm1($0 * units.accumulator) }
        switch formula.function {
        case .scaledLogSumExp:
            let absolute = accumulated(k + n) + 2 * units.accumulator * facts.top + units.floor(n)
            return [ElementBound(relative: finalRounding(units), absolute: absolute)]
        default:
            let v = o.values(count: x.count)
            let p = try r.scaledSoftmax(x, o).map(\.rounded)
            let weighted = facts.kept.reduce(0.0) { $0 + p[$1] * v[$1].magnitude }
            let largest = v.map(\.magnitude).max() ?? 0
            // Past a relative error of 1 the first-order bound says nothing (a key of p_j = 0 may get 1/2): the
            // output is a convex combination of v either way, within 2 max|v|.
            let factor = accumulated(k + n + 2)
            let spread = factor < 1 ? product(factor, weighted) * magnitudeSlack : 2 * largest
            // The accumulator's subnormal floor per operation scales with v; the store's rounds the result once.
            let floor = (n + Units.floorOperations) * units.accumulatorQuantum * largest + units.storageQuantum
            return [ElementBound(relative: finalRounding(units), absolute: spread + floor)]
        }
    }

    /// (p_j Σa − a_j)/D per element: p_j the shifted softmax's (n + 4 + 2w)u, Σa of weights four roundings
    /// each and n − 1 sums, the product one, D's B − 1 sums and the division one: ((2n + 8 + 2w) + B)u
    /// p_j Σa / D; a_j's own four roundings, D's and the division (4 + B)u a_j / D; absolutely (the
    /// difference cancels at the optimum), and the result's rounding.
    private static func crossEntropyLossGradientBounds(
        _ c: AuditCase, reference r: SoftmaxReference, units: Units
    ) throws -> [ElementBound] {
        let batch = AuditFunction.crossEntropyBatch(c)
        let B = Double(c.rows.count)
        let D = batch.options.reduction == .mean ? batch.meanDivisor() : 1
        var bounds: [ElementBound] = []
        for (i, x) in c.rows.enumerated() {
            guard !batch.isIgnored(i) else {
                bounds += Array(repeating: ElementBound(relative: 0, absolute: units.floor(1)), count: x.count)
                continue
            }
            let a = batch.weights(row: i)
            let total = a.reduce(0, +)
            let f = RowFacts(x)
            let p = try r.softmax(x).map(\.rounded)
            let k1 = units.relative(2 * f.n + 8 + 2 * f.spread + B), k2 = units.relative(4 + B)
            bounds += x.indices.map { j in
                ElementBound(
                    relative: finalRounding(units),
                    absolute: (product(k1 * p[j], total) + k2 * a[j]) / D * magnitudeSlack + units.floor(f.n))
            }
        }
        return bounds
    }

    /// The cross-entropy loss, Σ_i Σ_c a_ic (−log p_ic) over a divisor, every term >= 0: each −log p_ic the
    /// cross-entropy's (n + 6 + w)u, each weight a_ic = w_c ((1 − ε) t_ic + ε/C) four roundings and its
    /// product one, the sum over C classes n − 1, over B rows B − 1, the divisor's sum of B weights B − 1
    /// and the division one: (2n + 10 + w + 2B)u, relatively (docs/bounds.md).
    static func crossEntropyLoss(n: Double, w: Double, rows B: Int) -> Double {
        crossEntropy.units(n: n, w: w) + n + 4 + 2 * Double(B)
    }

    /// Binary cross-entropy (a + b) log1p(t) + a|x|: a = 1 − y and b = w y one rounding each, their sum one,
    /// log1p(t) 4u as in the binary family, the products and the sum one each (docs/bounds.md).
    static let binaryCrossEntropy = 8.0

    /// How far the bounds' own binary64 evaluations (magnitudes from rounded references) may fall short.
    static let magnitudeSlack = 1.01

    /// KL = Σ q_i (log q_i − ℓ_i) with ℓ the log1p log-softmax: each term carries 2u|log q_i| + k u|ℓ_i| and
    /// two roundings, and the sum (n − 1)u of Σ|terms|: (k + n + 3)u Σ q_i (|log q_i| + |ℓ_i|), absolutely.
    private static func klDivergenceBound(
        _ c: AuditCase, _ facts: RowFacts, reference r: SoftmaxReference, units: Units
    ) throws -> ElementBound {
        let q = AuditFunction.klDivergence.pair(c)
        let l = try r.logSoftmax(c.row).map(\.rounded)
        var magnitude = 0.0
        for i in q.indices where q[i] > 0 { magnitude += q[i] * (Foundation.log(q[i]).magnitude + l[i].magnitude) }
        let k = logSoftmax.units(n: facts.n, w: facts.spread) + facts.n + 3
        return ElementBound(
            relative: finalRounding(units),
            absolute: units.relative(k) * magnitude * magnitudeSlack + units.floor(facts.n))
    }

    /// p_j Σq − q_j: p_j the shifted softmax's, Σq a recursive sum, the product and the difference one
    /// rounding each: (k + n + 1)u p_j Σq, absolutely, and the result's rounding.
    private static func distributionGradientBounds(
        _ c: AuditCase, _ facts: RowFacts, reference r: SoftmaxReference, units: Units
    ) throws -> [ElementBound] {
        let total = AuditFunction.klDivergenceGradient.pair(c).reduce(0, +)
        let p = try r.softmax(c.row).map(\.rounded)
        let factor = units.relative(shiftedSoftmax.units(n: facts.n, w: facts.spread) + facts.n + 1)
        return p.map { pj in
            ElementBound(
                relative: finalRounding(units),
                absolute: product(factor * pj * magnitudeSlack, total) + units.floor(facts.n))
        }
    }

    /// (1 − y) σ(x) − w y σ(−x): each σ 5u, each weight and product one rounding, the difference one:
    /// 7u (|A| + |B|) for the terms A and B, absolutely, and the result's rounding.
    private static func binaryCrossEntropyGradientBounds(_ c: AuditCase, units: Units) -> [ElementBound] {
        let y = AuditFunction.binaryCrossEntropyGradient.pair(c)
        let w = c.options.posWeight
        return c.row.indices.map { j in
            let x = c.row[j]
            let s = 1 / (1 + Foundation.exp(-x)), t = 1 / (1 + Foundation.exp(x))
            let terms = (1 - y[j]) * s + w * y[j] * t
            return ElementBound(
                relative: finalRounding(units),
                absolute: units.relative(elementwise + 2) * terms * magnitudeSlack + units.floor(1) * (1 + w))
        }
    }

    /// m + log|T| with T = Σ b_i e^(x_i − m) and m the largest x_i with b_i ≠ 0: each term carries the
    /// argument's u|x_i − m|, exp's 2u and the product's u, the sum (n − 1)u, so T is within (n + 3 + w)u
    /// Σ|b_i| e^(x_i − m), and log|T| within that over |T| (the conditioning κ, 1 when b >= 0) plus 2u of
    /// log's own. The sign is exact unless that error reaches |T|.
    private static func weightedLogSumExpBounds(_ c: AuditCase, units: Units) -> [ElementBound] {
        let x = c.row, b = AuditFunction.weightedLogSumExp.pair(c)
        let live = x.indices.filter { b[$0] != 0 && x[$0].isFinite }
        guard let m = live.map({ x[$0] }).max(), let low = live.map({ x[$0] }).min() else {
            return [ElementBound(relative: 0, absolute: units.floor(1)), ElementBound(relative: 0, absolute: 0)]
        }
        var total = 0.0, magnitude = 0.0
        for i in live {
            let e = Foundation.exp(x[i] - m)
            total += b[i] * e
            magnitude += b[i].magnitude * e
        }
        let k = units.relative(Double(live.count) + 3 + (m - low))
        let relativeT = total == 0 ? Double.infinity : k * magnitude / total.magnitude * magnitudeSlack
        let logT = total == 0 ? 0 : Foundation.log(total.magnitude).magnitude
        let value = ElementBound(
            relative: finalRounding(units),
            absolute: relativeT + units.relative(2) * logT * magnitudeSlack + units.floor(Double(live.count)))
        return [value, ElementBound(relative: 0, absolute: relativeT >= 1 ? 2 : 0)]
    }

    /// The result's own rounding: u, or with a narrower store, the accumulator's and the store's.
    static func finalRounding(_ units: Units) -> Double { units.mixed ? units.relative(1) : units.accumulator }

    /// p_i (ε_p + (n + 2) u)(M + |r_i|) + u|w_i| for each element, M = max|v|, r_i = v_i − ⟨p, v⟩.
    private static func vectorJacobianProductBounds(
        _ x: [Double], _ facts: RowFacts, reference r: SoftmaxReference,
        units: Units
    ) throws -> [ElementBound] {
        let v = AuditFunction.vjpVector(x.count)
        let p = try r.softmax(x).map(\.rounded)
        let m = v.map(\.magnitude).max() ?? 0
        let dot = zip(p, v).map(*).reduce(0, +)
        let factor = units.relative(vectorJacobianProductFactor(n: facts.n, w: facts.spread))
        return x.indices.map { i in
            let ri = (v[i] - dot).magnitude
            let absolute = p[i] * factor * (m + ri) * vectorJacobianProductSlack + units.floor(facts.n)
            return ElementBound(relative: finalRounding(units), absolute: absolute)
        }
    }
}
