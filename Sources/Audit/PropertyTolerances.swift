// The tolerances of the reference-free properties, each derived from the bounds of ErrorBounds.swift:
// a property compares two computed quantities that are each within their bound of one exact value, so
// its tolerance is the sum of the two bounds (plus the checker's own rounding, 2u for its compensated
// sum, and 2u for libm's log n where the exact value is log n). PropertyToleranceTests ties each one
// to the bound it comes from on rows where both are evaluated.
import Kernels

/// The tolerances of the properties on one row, in the units of a kernel's formats.
struct PropertyTolerances {
    let units: Units
    /// The row's length and spread.
    let n: Double
    let w: Double

    init(_ precision: KernelPrecision, _ x: [Double]) {
        units = Units(precision)
        n = Double(x.count)
        w = Properties.spread(x)
    }

    /// u of the storage format: a correctly rounded value's relative error (1/n, and the checker's sums).
    var u: Double { units.storage }

    /// The absolute floor of one element's bound.
    var floor: Double { units.floor(n) }

    /// The standard softmax bound, relative: what judges a softmax that declares no other.
    static func standardSoftmax(_ x: [Double], _ units: Units) -> Double {
        units.relative(ErrorBounds.shiftedSoftmax.units(n: Double(x.count), w: Properties.spread(x)))
    }

    /// |Σ p̃ − 1|: Σ p̃ = Σ p (1 + δ_j) with |δ_j| <= the softmax bound, so |Σ p̃ − 1| <= that bound;
    /// 2u for the checker's sum, and n floors for elements with an absolute error in the subnormal range.
    func probabilitySum(softmaxBound: Double) -> Double { softmaxBound + 2 * u + n * floor }

    /// A uniform row's p against 1/n: the softmax bound, and u for 1/n, correctly rounded.
    func uniformProbability(softmaxBound: Double) -> Double { softmaxBound + u }

    /// A uniform row's log-softmax against −log n (and its loss against log n): the log-softmax bound at
    /// w = 0, and 2u for libm's log n.
    var uniformLogarithm: Double { units.relative(ErrorBounds.logSoftmax.units(n: n, w: 0, plus: 2)) }

    /// The loss against −log-softmax at the label: both within their bounds of one exact value.
    var lossAgainstLogSoftmax: Double {
        units.relative(ErrorBounds.crossEntropy.units(n: n, w: w))
            + units.relative(ErrorBounds.logSoftmax.units(n: n, w: w))
    }

    /// |Σ_j g̃_j| of a gradient row, whose exact sum is 0: every element is within the bound at the label
    /// (the larger) of its exact value, so |Σ g̃| <= bound · Σ|g̃|; 2u for the checker's sum; n floors.
    func gradientSum(_ row: [Double], magnitudes: Double) -> Double {
        let atLabel = ErrorBounds.gradientAtLabel.units(n: n, w: Properties.spread(row), plus: 2)
        return Self.scaled(units.relative(atLabel), magnitudes) + n * floor
    }

    /// The VJP against the kernel's own Jᵀv: each Jacobian element within the Jacobian bound (so Jᵀv
    /// within that times Σ_k |J_ki v_k|, and M floors per element); the VJP element within
    /// p_i (ε_p + (n + 2)u)(M + |r_i|) + u|w_i| <= 3M (ε_p + (n + 2)u) + 2uM, since p_i <= 1 and |r_i| <= 2M.
    func vectorJacobianProduct(jacobianTerms: Double, vector v: [Double]) -> Double {
        let m = v.map(\.magnitude).max() ?? 0
        let jacobian = Self.scaled(units.relative(ErrorBounds.jacobian.units(n: n, w: w)), jacobianTerms)
        let factor = units.relative(ErrorBounds.vectorJacobianProductFactor(n: n, w: w))
        let product =
            Self.scaled(factor, 3 * m) * ErrorBounds.vectorJacobianProductSlack
            + ErrorBounds.finalRounding(units) * 2 * m
        return jacobian + product + (n * m + 1) * floor
    }

    /// The tolerance of the metamorphic properties (shift, reversal): both sides within the function's
    /// bound of the same exact value, so twice the bound; nil for the functions they do not apply to.
    func metamorphic(_ f: AuditFunction, softmaxBound: Double) -> Double? {
        switch f {
        case .softmax: return 2 * softmaxBound
        case .logSoftmax: return 2 * units.relative(ErrorBounds.logSoftmax.units(n: n, w: w))
        case .crossEntropy: return 2 * units.relative(ErrorBounds.crossEntropy.units(n: n, w: w))
        case .crossEntropyGradient: return 2 * units.relative(ErrorBounds.gradientAtLabel.units(n: n, w: w))
        case .logSumExp, .batchCrossEntropy, .batchCrossEntropyGradient, .jacobian, .vectorJacobianProduct, .sigmoid,
            .logSigmoid, .softplus, .sigmoidGradient, .logSigmoidGradient, .softplusGradient, .klDivergence,
            .klDivergenceGradient, .binaryCrossEntropy, .binaryCrossEntropyGradient, .weightedLogSumExp,
            .crossEntropyLoss, .crossEntropyLossGradient, .scaledSoftmax, .scaledLogSumExp, .attentionOutput,
            .attentionStates:
            return nil
        }
    }

    /// k · scale, 0 when the scale is 0 (so an infinite k does not make NaN).
    static func scaled(_ k: Double, _ scale: Double) -> Double { scale == 0 ? 0 : k * scale }
}
