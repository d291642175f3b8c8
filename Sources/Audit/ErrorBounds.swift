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
// L = log1p(s) = y − x_max, a = x_max.
//
//   softmax, shifted, by division      rel (n + 4 + 2w) u          [BHH: n + 2 + 2w]
//     … summed pairwise                rel (⌈log2 n⌉ + 5 + 2w) u   (γ_{⌈log2 n⌉} for the sum instead of γ_{n−1})
//     … summed with Kahan's method     rel (7 + 2w + n² u) u       (2u + O(n u²) for the sum)
//   softmax, division-free exp(x − y)  rel (|y| + |x_j − y| + 2 + (n + w + 4) L) u
//   softmax, online (one pass)         rel (5n + 5 + 3w) u: the running sum is rescaled up to n times
//                                      by exp(m_old − m_new), each rescaling adding 3u + u|Δm|, Σ|Δm| <= w
//   log-softmax (x_j − a) − L          rel (n + 6 + w) u: two terms of one sign, L to (n + w + 4) u
//   logsumexp a + L                    abs (|y| + (n + w + 4) L) u
//   cross-entropy (a − x_t) + L        rel (n + 6 + w) u
//   gradient, complement at the label  rel (2n + 8 + 4w) u; elsewhere as softmax
//   batch forms                        the rows' worst bound plus (m + 1) u for the mean or the division
//   Jacobian                           rel (2n + 10 + 4w) u (two softmax values and one product)
//   vector-Jacobian product            abs p_i (ε_p + (n + 2) u)(M + |r_i|) + u|w_i|, with ε_p the
//                                      softmax bound, M = max|v|, r_i = v_i − ⟨p, v⟩: the subtraction is
//                                      the problem's own conditioning, so the bound is relative to M
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

/// The algorithm whose bound judges a kernel's function.
public enum BoundFormula: String, Sendable, Codable {
    case shiftedSoftmax = "shifted softmax, by division"
    case pairwiseSoftmax = "shifted softmax, pairwise sum"
    case compensatedSoftmax = "shifted softmax, compensated sum"
    case divisionFreeSoftmax = "division-free softmax"
    case onlineSoftmax = "online softmax"
    case log1pLogSoftmax = "log-softmax, (x - max) - log1p(s)"
    case log1pLogSumExp = "logsumexp, max + log1p(s)"
    case log1pCrossEntropy = "cross-entropy, (max - x_t) + log1p(s)"
    case complementGradient = "gradient, 1 - p_t as a sum"
    case meanCrossEntropy = "mean cross-entropy"
    case batchGradient = "batch gradient"
    case jacobian = "Jacobian"
    case vectorJacobianProduct = "vector-Jacobian product"

    /// The standard stable algorithm's bound for a function: what judges a flawed kernel.
    public static func standard(for f: AuditFunction) -> BoundFormula {
        switch f {
        case .softmax: return .shiftedSoftmax
        case .logSoftmax: return .log1pLogSoftmax
        case .logSumExp: return .log1pLogSumExp
        case .crossEntropy: return .log1pCrossEntropy
        case .crossEntropyGradient: return .complementGradient
        case .batchCrossEntropy: return .meanCrossEntropy
        case .batchCrossEntropyGradient: return .batchGradient
        case .jacobian: return .jacobian
        case .vectorJacobianProduct: return .vectorJacobianProduct
        }
    }

    /// The identifiers `--bound` takes.
    public var identifier: String {
        switch self {
        case .shiftedSoftmax: return "shifted-softmax"
        case .pairwiseSoftmax: return "pairwise-softmax"
        case .compensatedSoftmax: return "kahan-softmax"
        case .divisionFreeSoftmax: return "division-free-softmax"
        case .onlineSoftmax: return "online-softmax"
        case .log1pLogSoftmax: return "log1p-log-softmax"
        case .log1pLogSumExp: return "log1p-logsumexp"
        case .log1pCrossEntropy: return "log1p-cross-entropy"
        case .complementGradient: return "complement-gradient"
        case .meanCrossEntropy: return "mean-cross-entropy"
        case .batchGradient: return "batch-gradient"
        case .jacobian: return "jacobian"
        case .vectorJacobianProduct: return "vector-jacobian-product"
        }
    }

    public static let all: [BoundFormula] = [
        .shiftedSoftmax, .pairwiseSoftmax, .compensatedSoftmax, .divisionFreeSoftmax, .onlineSoftmax, .log1pLogSoftmax,
        .log1pLogSumExp, .log1pCrossEntropy, .complementGradient, .meanCrossEntropy, .batchGradient, .jacobian, .vectorJacobianProduct,
    ]

    /// The function whose outputs this bound is about.
    public var function: AuditFunction {
        switch self {
        case .shiftedSoftmax, .pairwiseSoftmax, .compensatedSoftmax, .divisionFreeSoftmax, .onlineSoftmax: return .softmax
        case .log1pLogSoftmax: return .logSoftmax
        case .log1pLogSumExp: return .logSumExp
        case .log1pCrossEntropy: return .crossEntropy
        case .complementGradient: return .crossEntropyGradient
        case .meanCrossEntropy: return .batchCrossEntropy
        case .batchGradient: return .batchCrossEntropyGradient
        case .jacobian: return .jacobian
        case .vectorJacobianProduct: return .vectorJacobianProduct
        }
    }

    /// The bound that judges kernel k's function f: one chosen for the kernel (`--bound`), else its own
    /// algorithm's when it is declared accurate (some are looser than the standard), else the standard one.
    public static func judging(_ k: Kernel, _ f: AuditFunction) -> BoundFormula {
        if let chosen = k.judging.bounds[f.rawValue], let formula = all.first(where: { $0.identifier == chosen }) { return formula }
        switch (k.name, f) {
        case ("softmax-division-free", .softmax): return .divisionFreeSoftmax
        case ("softmax-online", .softmax): return .onlineSoftmax
        case ("softmax-pairwise", .softmax): return .pairwiseSoftmax
        case ("softmax-kahan", .softmax): return .compensatedSoftmax
        default: return standard(for: f)
        }
    }
}

/// Facts about a row that the bounds use.
struct RowFacts {
    let n: Double
    let spread: Double
    let max: Double
    let y: Double
    let l: Double

    init(_ x: [Double], logSumExp y: Double) {
        n = Double(x.count)
        let top = x.max()!, bottom = x.min()!
        max = top
        spread = top - bottom
        self.y = y
        l = Swift.max(0, y - top)
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

    init(_ p: KernelPrecision) {
        storage = Double(sign: .plus, exponent: -p.storage.precision, significand: 1)
        accumulator = Double(sign: .plus, exponent: -p.accumulator.precision, significand: 1)
        storageQuantum = Double(sign: .plus, exponent: p.storage.quantumExponent, significand: 1)
        accumulatorQuantum = Double(sign: .plus, exponent: p.accumulator.quantumExponent, significand: 1)
        mixed = p.storage != p.accumulator
    }

    static let double = Units(.double)

    /// expm1(k u_A), times (1 + u_S) for a narrower store.
    func relative(_ k: Double) -> Double {
        let r = Foundation.expm1(k * accumulator)
        return mixed ? (1 + storage) * (1 + r) - 1 : r
    }

    func floor(_ n: Double) -> Double { (n + 8) * accumulatorQuantum + (mixed ? storageQuantum : 0) }
}

enum ErrorBounds {
    /// a · b, with 0 · inf = 0 (an infinite spread times a zero term contributes nothing).
    static func product(_ a: Double, _ b: Double) -> Double { a == 0 || b == 0 ? 0 : a * b }

    /// Per-element bounds for a finite case. `reference` gives the exact values where a bound needs them.
    static func bounds(_ formula: BoundFormula, case c: AuditCase, reference r: SoftmaxReference,
                       units: Units = .double) throws -> [ElementBound] {
        // The kernel's units (binary64's unless it works in another format): relative(k) is expm1(k u),
        // the rigorous form of a k-unit relative bound (inf when k is); floor(n) the absolute part.
        func relative(_ k: Double) -> Double { units.relative(k) }
        func floor(_ n: Double) -> Double { units.floor(n) }
        let u = units.accumulator
        // The result's own rounding: u, or with a narrower store, the accumulator's and the store's.
        let finalRounding = units.mixed ? units.relative(1) : u
        let x = c.row
        let facts = RowFacts(x, logSumExp: try r.logSumExp(x).rounded)
        let n = facts.n, w = facts.spread
        let rel: (Double) -> ElementBound = { ElementBound(relative: relative($0), absolute: floor(n)) }
        let softmax = n + 4 + 2 * w
        switch formula {
        case .shiftedSoftmax: return Array(repeating: rel(softmax), count: x.count)
        case .pairwiseSoftmax:
            let depth = Double(Int.bitWidth - (x.count - 1).leadingZeroBitCount)  // ⌈log2 n⌉ (0 for n = 1)
            return Array(repeating: rel(depth + 5 + 2 * w), count: x.count)
        case .compensatedSoftmax: return Array(repeating: rel(7 + 2 * w + n * n * u), count: x.count)
        case .divisionFreeSoftmax:
            return x.map { rel(facts.y.magnitude + ($0 - facts.y).magnitude + 2 + product(n + w + 4, facts.l)) }
        case .onlineSoftmax: return Array(repeating: rel(5 * n + 5 + 3 * w), count: x.count)
        case .log1pLogSoftmax: return Array(repeating: rel(n + 6 + w), count: x.count)
        case .log1pLogSumExp:
            return [ElementBound(relative: finalRounding, absolute: product(relative(n + w + 4), facts.l) + floor(n))]
        case .log1pCrossEntropy: return [rel(n + 6 + w)]
        case .complementGradient:
            return x.indices.map { $0 == c.label ? rel(2 * n + 8 + 4 * w) : rel(softmax) }
        case .meanCrossEntropy:
            let worst = c.rows.map { row -> Double in
                let f = RowFacts(row, logSumExp: 0)
                return f.n + 6 + f.spread
            }.max()!
            return [rel(worst + Double(c.rows.count) + 1)]
        case .batchGradient:
            return zip(c.rows, c.labels).flatMap { row, t -> [ElementBound] in
                let f = RowFacts(row, logSumExp: 0)
                return row.indices.map { $0 == t ? rel(2 * f.n + 9 + 4 * f.spread) : rel(f.n + 5 + 2 * f.spread) }
            }
        case .jacobian: return Array(repeating: rel(2 * n + 10 + 4 * w), count: x.count * x.count)
        case .vectorJacobianProduct:
            let v = AuditFunction.vjpVector(x.count)
            let p = try r.softmax(x).map(\.rounded)
            let m = v.map(\.magnitude).max() ?? 0
            let dot = zip(p, v).map(*).reduce(0, +)
            // (1.01 covers the rounding of p, ⟨p, v⟩ and r_i used to evaluate the bound itself.)
            return x.indices.map { i in
                let ri = (v[i] - dot).magnitude
                return ElementBound(relative: finalRounding, absolute: p[i] * relative(softmax + n + 2) * (m + ri) * 1.01 + floor(n))
            }
        }
    }
}
