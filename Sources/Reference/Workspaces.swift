// The MPFR values each certified formula keeps between its steps, one workspace per formula, so that no
// formula can overwrite a value another one still needs (a one-sided limit handed to the Ziv loop, say,
// must stay untouched until the outputs are certified). A reference owns one of each and reuses them
// across rows: growing arrays keep their values, only their precision changes.
import MPFR

/// A growing list of reusable MPFR values.
final class MPFRValues {
    private var values: [MPFRFloat] = []

    /// The first n values (more may follow), each at `precision`.
    func prefix(_ n: Int, precision: Int) -> [MPFRFloat] {
        while values.count < n { values.append(MPFRFloat(precision: precision)) }
        for j in 0..<n { values[j].precision = precision }
        return values
    }

    /// Value j at `precision`.
    func value(_ j: Int, precision: Int) -> MPFRFloat {
        while values.count <= j { values.append(MPFRFloat(precision: precision)) }
        values[j].precision = precision
        return values[j]
    }
}

/// Attention's output: the products e_j v_j and their sum.
final class AttentionWorkspace {
    let products = MPFRValues()
    let numerator = MPFRFloat(precision: 64)
}

/// logsumexp: the one-sided limit y > m.
final class LogSumExpWorkspace {
    let maximum = MPFRFloat(precision: 64)
}

/// The cross-entropy of one row: the per-class terms of a probability target, a term of the anchor
/// being summed, and the anchor itself (the one-sided limit CE > A).
final class CrossEntropyWorkspace {
    let terms = MPFRValues()
    let anchorTerm = MPFRFloat(precision: 64)
    let anchor = MPFRFloat(precision: 64)
}

/// The mean loss of a batch: the rows' losses, one row's anchor, and their sum (the one-sided limit).
final class MeanCrossEntropyWorkspace {
    let losses = MPFRValues()
    let rowAnchor = MPFRFloat(precision: 64)
    let anchorSum = MPFRFloat(precision: 64)
}

/// The gradient: the target's sum, 1 − p_t's numerator, p_j and p_j Σq for a probability target, and
/// per element the one-sided limit.
final class GradientWorkspace {
    let complement = MPFRFloat(precision: 64)
    let probability = MPFRFloat(precision: 64)
    let product = MPFRFloat(precision: 64)
    /// Σw of the target, exact.
    let total = MPFRFloat(precision: 64)
    let limits = MPFRValues()
    /// The exact difference a − b of two doubles (rows settled by the special-value convention).
    let difference = MPFRFloat(precision: 64)
}

/// The Jacobian: p_i, 1 − p_i and the numerator of 1 − p_i.
final class JacobianWorkspace {
    let probabilities = MPFRValues()
    let complements = MPFRValues()
    let numerator = MPFRFloat(precision: 64)
}

/// The vector-Jacobian product: p_j, p_j v_j, c = ⟨p, v⟩ and v_i − c.
final class VectorJacobianProductWorkspace {
    let probabilities = MPFRValues()
    let products = MPFRValues()
    let mean = MPFRFloat(precision: 64)
    let difference = MPFRFloat(precision: 64)
}

/// The binary family: the argument −|x|, t = e^−|x|, 1 + t or log1p(t), and per element the one-sided
/// limit x.
final class BinaryFamilyWorkspace {
    let argument = MPFRFloat(precision: 64)
    let exponential = MPFRFloat(precision: 64)
    let logarithm = MPFRFloat(precision: 64)
    let limits = MPFRValues()
}

/// The paired functions: KL's q log q terms and their magnitudes and its cross-entropy; binary
/// cross-entropy's exact weights 1 − y and w·y; the weighted logsumexp's groups, their exact weights and
/// terms; per element the one-sided limit.
final class PairedWorkspace {
    let terms = MPFRValues()
    let magnitudes = MPFRValues()
    let crossEntropy = MPFRFloat(precision: 64)
    let entropy = MPFRFloat(precision: 64)
    let entropyMagnitude = MPFRFloat(precision: 64)
    let negatives = MPFRValues()
    let positives = MPFRValues()
    let weights = MPFRValues()
    let argument = MPFRFloat(precision: 64)
    let exponential = MPFRFloat(precision: 64)
    let logarithm = MPFRFloat(precision: 64)
    let first = MPFRFloat(precision: 64)
    let second = MPFRFloat(precision: 64)
    let sum = MPFRFloat(precision: 64)
    let magnitude = MPFRFloat(precision: 64)
    let limits = MPFRValues()
    /// The weighted logsumexp's other groups anchored at the second: their sign decides the limit.
    let restTerms = MPFRValues()
    let restMagnitudes = MPFRValues()
    let restSum = MPFRFloat(precision: 64)
    let restMagnitude = MPFRFloat(precision: 64)
}

/// The cross-entropy loss: the rows' losses, one row's terms, its weights' total, and the anchor sum
/// (the one-sided limit).
final class CrossEntropyLossWorkspace {
    let losses = MPFRValues()
    let terms = MPFRValues()
    let weightTotal = MPFRFloat(precision: 64)
    let anchorTerm = MPFRFloat(precision: 64)
    let anchorSum = MPFRFloat(precision: 64)
    /// The gradient: p_j, p_j ΣA, and per element the one-sided limit.
    let probability = MPFRFloat(precision: 64)
    let product = MPFRFloat(precision: 64)
    let limits = MPFRValues()
    /// The fast path's conversion of a weight to a double word (its low word).
    let conversion = MPFRFloat(precision: 64)
}

/// One workspace per formula.
final class Workspaces {
    let binary = BinaryFamilyWorkspace()
    let logSumExp = LogSumExpWorkspace()
    let crossEntropy = CrossEntropyWorkspace()
    let meanCrossEntropy = MeanCrossEntropyWorkspace()
    let crossEntropyLoss = CrossEntropyLossWorkspace()
    let gradient = GradientWorkspace()
    let jacobian = JacobianWorkspace()
    let vectorJacobianProduct = VectorJacobianProductWorkspace()
    let paired = PairedWorkspace()
    let attention = AttentionWorkspace()
}
