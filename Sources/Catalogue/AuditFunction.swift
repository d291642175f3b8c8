// The one list of the functions SoftmaxAudit measures. Everything else is derived from it: what a
// kernel implements (Kernel.implementations), the reference evaluated for each (Audit's
// AuditFunction+Reference.swift), the bound that judges it (BoundFormula.standard), the functions of
// `softmax-audit reference` and of the process protocol (ReferenceFunction), and the reports' order.
// A new function is one case here; the switches over it that have no `default` fail to compile until
// each says what the function is (docs/design.md, "Adding a function").

/// A function of a case: a single-row function, a batch function, or the backward pass.
public enum AuditFunction: String, CaseIterable, Sendable, Codable, Comparable {
    case softmax
    case logSoftmax = "log-softmax"
    case logSumExp = "logsumexp"
    case crossEntropy = "cross-entropy"
    case crossEntropyGradient = "cross-entropy-gradient"
    case batchCrossEntropy = "batch-cross-entropy"
    case batchCrossEntropyGradient = "batch-cross-entropy-gradient"
    case jacobian
    case vectorJacobianProduct = "vector-jacobian-product"
    case sigmoid
    case logSigmoid = "log-sigmoid"
    case softplus
    case sigmoidGradient = "sigmoid-gradient"
    case logSigmoidGradient = "log-sigmoid-gradient"
    case softplusGradient = "softplus-gradient"
    case klDivergence = "kl-divergence"
    case klDivergenceGradient = "kl-divergence-gradient"
    case binaryCrossEntropy = "binary-cross-entropy"
    case binaryCrossEntropyGradient = "binary-cross-entropy-gradient"
    case weightedLogSumExp = "weighted-logsumexp"
    case crossEntropyLoss = "cross-entropy-loss"
    case crossEntropyLossGradient = "cross-entropy-loss-gradient"
    case scaledSoftmax = "scaled-softmax"
    case scaledLogSumExp = "scaled-logsumexp"
    case attentionOutput = "attention-output"
    case attentionStates = "attention-states"

    public static func < (a: Self, b: Self) -> Bool { a.order < b.order }

    private var order: Int { Self.allCases.firstIndex(of: self)! }

    /// What the function takes and gives: the signature of its kernels and of its reference.
    public var shape: FunctionShape {
        switch self {
        case .softmax, .logSoftmax: return .perLogit
        case .logSumExp: return .scalar
        case .crossEntropy: return .labeledScalar
        case .crossEntropyGradient: return .labeledPerLogit
        case .batchCrossEntropy: return .batchScalar
        case .batchCrossEntropyGradient: return .batchPerLogit
        case .jacobian: return .perPair
        case .vectorJacobianProduct: return .perLogitWithVector
        case .sigmoid, .logSigmoid, .softplus, .sigmoidGradient, .logSigmoidGradient, .softplusGradient:
            return .perLogit
        case .klDivergence: return .pairedScalar
        case .klDivergenceGradient, .binaryCrossEntropy, .binaryCrossEntropyGradient: return .pairedPerLogit
        case .weightedLogSumExp: return .pairedValueAndSign
        case .crossEntropyLoss: return .lossValues
        case .crossEntropyLossGradient: return .lossGradient
        case .scaledSoftmax: return .attentionPerLogit
        case .scaledLogSumExp, .attentionOutput: return .attentionScalar
        case .attentionStates: return .attentionStates
        }
    }

    /// The formula, in one line, for listings and help.
    public var formula: String {
        switch self {
        case .softmax: return "p_j = exp(x_j) / sum_i exp(x_i)"
        case .logSoftmax: return "log p_j = x_j - logsumexp(x)"
        case .logSumExp: return "log sum_i exp(x_i)"
        case .crossEntropy: return "-log p_t for a 0-based label t"
        case .crossEntropyGradient: return "p - onehot(t)"
        case .batchCrossEntropy: return "the mean of -log p_t over a batch of rows"
        case .batchCrossEntropyGradient: return "(p - onehot(t)) / B per row of a batch of B rows"
        case .jacobian: return "J_ij = p_i (delta_ij - p_j), row-major"
        case .vectorJacobianProduct: return "J^T v = p * (v - <p, v>)"
        case .sigmoid: return "sigma(x) = 1 / (1 + exp(-x)), elementwise"
        case .logSigmoid: return "log sigma(x) = -log1p(exp(-x)), elementwise"
        case .softplus: return "log1p(exp(x)) = -log sigma(-x), elementwise"
        case .sigmoidGradient: return "sigma'(x) = sigma(x) sigma(-x), elementwise"
        case .logSigmoidGradient: return "(log sigma)'(x) = sigma(-x) = 1 - sigma(x), elementwise"
        case .softplusGradient: return "softplus'(x) = sigma(x), elementwise"
        case .klDivergence: return "KL(q || p) = sum_i q_i (log q_i - log p_i), 0 log 0 = 0, for a target q"
        case .klDivergenceGradient: return "p * sum(q) - q, the derivative of KL(q || softmax(x))"
        case .binaryCrossEntropy:
            return "w y softplus(-x) + (1 - y) softplus(x) for targets y in [0, 1], w = pos_weight, elementwise"
        case .binaryCrossEntropyGradient: return "(1 - y) sigma(x) - w y sigma(-x), elementwise"
        case .weightedLogSumExp: return "log|sum_i b_i exp(x_i)| and its sign (+1, -1, or 0 for a zero sum)"
        case .crossEntropyLoss:
            return "F.cross_entropy(x, y, weight, ignore_index, label_smoothing, reduction) over a batch"
        case .crossEntropyLossGradient:
            return "the cross-entropy loss's gradient, (p sum(a) - a) / (C D) per row (of the rows' sum for none)"
        case .scaledSoftmax:
            return "softmax(s x + b) over the unmasked keys, a sink's exp in the denominator, masked keys 0"
        case .scaledLogSumExp: return "log(exp(sink) + sum over unmasked keys of exp(s x_j + b_j)), -inf for none"
        case .attentionOutput: return "o = sum_j softmax(s x + b)_j v_j for one value column v"
        case .attentionStates:
            return "(lse_k, o_k) of each block k of the row's keys (no sink), (-inf, 0) for an empty block"
        }
    }

    /// Whether a case of this function is a batch of rows.
    public var isBatch: Bool { shape.isBatch }

    /// Rows longer than this skip the Jacobian (n² outputs).
    public static let jacobianMaxLength = 64

    /// Rows longer than this skip the elementwise functions: their accuracy does not depend on the row's
    /// length, so longer rows would add time, not coverage.
    public static let elementwiseMaxLength = 1024

    /// Rows longer than this skip KL, its gradient, the weighted logsumexp, and the cross-entropy loss and
    /// its gradient unless the case is made for the loss (`smoothing-vocabulary` reaches 262,144 classes):
    /// their reference runs on MPFR alone (no fast path yet), and the loss's class measures the length.
    public static let mpfrOnlyMaxLength = 1024

    /// Whether the function acts on each logit alone (the binary family).
    public var isElementwise: Bool {
        switch self {
        case .sigmoid, .logSigmoid, .softplus, .sigmoidGradient, .logSigmoidGradient, .softplusGradient,
            .binaryCrossEntropy, .binaryCrossEntropyGradient:
            return true
        case .softmax, .logSoftmax, .logSumExp, .crossEntropy, .crossEntropyGradient, .batchCrossEntropy,
            .batchCrossEntropyGradient, .jacobian, .vectorJacobianProduct, .klDivergence, .klDivergenceGradient,
            .weightedLogSumExp, .crossEntropyLoss, .crossEntropyLossGradient, .scaledSoftmax, .scaledLogSumExp,
            .attentionOutput, .attentionStates:
            return false
        }
    }

    /// Whether the function is measured on this case.
    public func applies(to c: AuditCase) -> Bool {
        // The loss takes a batch of any size, with class-index targets or the case's paired vectors as
        // probability targets.
        if shape == .lossValues || shape == .lossGradient {
            guard c.options.attention == nil else { return false }
            return c.options.crossEntropy != nil || c.row.count <= Self.mpfrOnlyMaxLength
        }
        // A case with the loss's own options is made for the loss (its labels may be ignore_index); one with
        // attention's options for attention, which takes any row up to the MPFR-only length.
        if c.options.crossEntropy != nil { return false }
        if shape.isAttention { return !c.isBatch && c.pairs == nil && c.row.count <= Self.mpfrOnlyMaxLength }
        if c.options.attention != nil { return false }
        // A case that carries paired vectors is made for the paired functions.
        if isBatch != c.isBatch || (c.pairs != nil && !shape.takesPair) { return false }
        switch self {
        case .jacobian: return c.row.count <= Self.jacobianMaxLength && c.isFinite
        case .vectorJacobianProduct: return c.isFinite
        case .sigmoid, .logSigmoid, .softplus, .sigmoidGradient, .logSigmoidGradient, .softplusGradient,
            .binaryCrossEntropy, .binaryCrossEntropyGradient:
            return c.row.count <= Self.elementwiseMaxLength
        case .klDivergence, .klDivergenceGradient, .weightedLogSumExp:
            return c.row.count <= Self.mpfrOnlyMaxLength
        case .softmax, .logSoftmax, .logSumExp, .crossEntropy, .crossEntropyGradient, .batchCrossEntropy,
            .batchCrossEntropyGradient, .crossEntropyLoss, .crossEntropyLossGradient, .scaledSoftmax, .scaledLogSumExp,
            .attentionOutput, .attentionStates:
            return true
        }
    }

    /// The attention functions' options for a case: its own, or derived from it — the scale 1/√80 (a
    /// head dimension whose scale is inexact, so that s·x_j rounds) and 1, 2, 3 or 7 blocks by the row's
    /// length — so that every input class reaches the attention functions.
    public static func attentionOptions(_ c: AuditCase) -> AttentionOptions {
        if let o = c.options.attention { return o }
        let blocks = [1, 2, 3, 7][c.row.count % 4]
        return AttentionOptions(scale: derivedAttentionScale, blocks: blocks).rounded(c.format.round)
    }

    /// 1/√80, the derived cases' scale.
    public static let derivedAttentionScale = 1 / Double(80).squareRoot()

    /// The cross-entropy loss's options for a case: its own, or derived from it — class weights 1, 1/2,
    /// 2, 1/4 by position, label smoothing 0.1, and the reduction none, sum or mean by the row's length —
    /// so that every input class reaches the options.
    public static func crossEntropyOptions(_ c: AuditCase) -> CrossEntropyOptions {
        if let o = c.options.crossEntropy { return o }
        let reductions: [LossReduction] = [.none, .sum, .mean]
        return CrossEntropyOptions(
            classWeights: (0..<c.row.count).map { [1, 0.5, 2, 0.25][$0 % 4] }, labelSmoothing: 0.1,
            reduction: reductions[c.row.count % reductions.count]
        ).rounded(to: c.format)
    }

    /// Whether a different special value on this case is a convention difference rather than a failure:
    /// rows with ±inf or NaN logits (for attention, inputs other than finite values and −inf masks), and the
    /// loss's mean over a zero total weight (every row ignored, or weightless), which PyTorch makes 0/0 = NaN and
    /// other code 0.
    public func isConventionCase(_ c: AuditCase) -> Bool {
        if shape.isAttention { return !Self.attentionOptions(c).isJudged(c.row) }
        if !c.isFinite { return true }
        guard self == .crossEntropyLoss || self == .crossEntropyLossGradient else { return false }
        let b = Self.crossEntropyBatch(c)
        guard b.options.reduction == .mean, case .labels(let y) = b.targets else { return false }
        return y.indices.allSatisfy { b.isIgnored($0) || (b.options.classWeights?[y[$0]] ?? 1) == 0 }
    }

    /// The cross-entropy loss's input for a case: its rows with class-index targets, or with its paired
    /// vectors as probability targets.
    public static func crossEntropyBatch(_ c: AuditCase) -> CrossEntropyBatch {
        CrossEntropyBatch(
            rows: c.rows, targets: c.pairs.map { .probabilities($0) } ?? .labels(c.labels),
            options: crossEntropyOptions(c))
    }

    /// What the paired vector is to this function, for messages and listings (nil for unpaired functions).
    public var pairName: String? {
        switch self {
        case .klDivergence, .klDivergenceGradient: return "target q"
        case .binaryCrossEntropy, .binaryCrossEntropyGradient: return "targets y"
        case .weightedLogSumExp: return "weights b"
        default: return nil
        }
    }

    /// The paired vector of row j of a case: the case's own, or one derived from the row's length, so
    /// that every input class reaches the paired functions and reproduces.
    public func pair(_ c: AuditCase, row j: Int = 0) -> [Double] {
        if let pairs = c.pairs { return pairs[j] }
        return Self.derivedPair(for: self, count: c.rows[j].count).map(c.format.round)
    }

    /// The derived vector: for KL a target from the weights 1, 0, 3, 2 by position over their sum (zeros
    /// included, for the 0 · log 0 rule); for binary cross-entropy the targets 0, 3/4, 1/4, 1, 1/2 by
    /// position; for logsumexp the weights 1, 1/2, 2, 0 by position (b >= 0, the common case, with zeros).
    public static func derivedPair(for f: AuditFunction, count n: Int) -> [Double] {
        switch f {
        case .klDivergence, .klDivergenceGradient:
            let w = (0..<n).map { Double((3 * $0 + 1) % 4) }
            let total = w.reduce(0, +)
            return w.map { $0 / total }
        case .binaryCrossEntropy, .binaryCrossEntropyGradient:
            return (0..<n).map { Double((3 * $0) % 5) / 4 }
        case .weightedLogSumExp:
            return (0..<n).map { [1, 0.5, 2, 0][$0 % 4] }
        default:
            return []
        }
    }

    /// The vector the VJP is applied to: small integers fixed by position, so cases reproduce.
    public static func vjpVector(_ n: Int) -> [Double] { (0..<n).map { Double(($0 * 7) % 5) - 2 } }
}

/// What a function takes (one row, a row and a label, a batch, a row and a vector) and gives (one
/// value, one per logit, one per pair of logits), flattened row-major.
public enum FunctionShape: Sendable, Hashable {
    /// One row to one value per logit.
    case perLogit
    /// One row to one value.
    case scalar
    /// One row and a 0-based label to one value.
    case labeledScalar
    /// One row and a 0-based label to one value per logit.
    case labeledPerLogit
    /// A batch of rows of one length, a label each, to one value.
    case batchScalar
    /// A batch of rows of one length, a label each, to one value per logit of every row.
    case batchPerLogit
    /// One row to one value per pair of logits (n² values, row-major).
    case perPair
    /// One row and the vector `AuditFunction.vjpVector` to one value per logit.
    case perLogitWithVector
    /// One row and its paired vector (`AuditFunction.pair`) to one value.
    case pairedScalar
    /// One row and its paired vector to one value per logit.
    case pairedPerLogit
    /// One row and its paired vector to a value and its sign (+1, −1 or 0).
    case pairedValueAndSign
    /// A batch with targets and options (`AuditFunction.crossEntropyBatch`) to one loss per row
    /// (reduction none) or one value.
    case lossValues
    /// The same to one value per logit of every row.
    case lossGradient
    /// One row with attention's options (`AuditFunction.attentionOptions`) to one value per key.
    case attentionPerLogit
    /// The same to one value.
    case attentionScalar
    /// The same to two values per block (`AttentionOptions.blocks`).
    case attentionStates

    /// Whether the function is one of attention's, which take `AttentionOptions`.
    public var isAttention: Bool { self == .attentionPerLogit || self == .attentionScalar || self == .attentionStates }

    public var isBatch: Bool {
        switch self {
        case .batchScalar, .batchPerLogit: return true
        case .perLogit, .scalar, .labeledScalar, .labeledPerLogit, .perPair, .perLogitWithVector, .pairedScalar,
            .pairedPerLogit, .pairedValueAndSign, .lossValues, .lossGradient, .attentionPerLogit, .attentionScalar,
            .attentionStates:
            return false
        }
    }

    /// Whether a row of this shape carries a paired vector after a bar (`0.5 1 -3 | 0.2 0.3 0.5`).
    public var takesPair: Bool {
        switch self {
        case .pairedScalar, .pairedPerLogit, .pairedValueAndSign: return true
        case .perLogit, .scalar, .labeledScalar, .labeledPerLogit, .batchScalar, .batchPerLogit, .perPair,
            .perLogitWithVector, .lossValues, .lossGradient, .attentionPerLogit, .attentionScalar, .attentionStates:
            return false
        }
    }

    /// Whether a row of this shape starts with a class label and a colon (`2: 0.5 1 -3`).
    public var takesLabel: Bool {
        switch self {
        case .labeledScalar, .labeledPerLogit, .batchScalar, .batchPerLogit: return true
        case .perLogit, .scalar, .perPair, .perLogitWithVector, .pairedScalar, .pairedPerLogit, .pairedValueAndSign,
            .lossValues, .lossGradient, .attentionPerLogit, .attentionScalar, .attentionStates:
            return false
        }
    }

    /// Whether the output is one value.
    public var isScalar: Bool {
        switch self {
        case .scalar, .labeledScalar, .batchScalar, .pairedScalar, .attentionScalar: return true
        case .perLogit, .labeledPerLogit, .batchPerLogit, .perPair, .perLogitWithVector, .pairedPerLogit,
            .pairedValueAndSign, .lossValues, .lossGradient, .attentionPerLogit, .attentionStates:
            return false
        }
    }

    /// Whether the input is one row (with a label or a paired vector) and the output one value, one per
    /// logit, or a value and its sign: the functions `softmax-audit reference` and the process protocol
    /// take, one row per line.
    public var isRowFunction: Bool {
        switch self {
        case .perLogit, .scalar, .labeledScalar, .labeledPerLogit, .pairedScalar, .pairedPerLogit,
            .pairedValueAndSign, .attentionPerLogit, .attentionScalar, .attentionStates:
            return true
        case .batchScalar, .batchPerLogit, .perPair, .perLogitWithVector, .lossValues, .lossGradient: return false
        }
    }

    /// How many values the function gives for a case.
    public func outputCount(_ c: AuditCase) -> Int {
        switch self {
        case .scalar, .labeledScalar, .batchScalar, .pairedScalar, .attentionScalar: return 1
        case .pairedValueAndSign: return 2
        case .perLogit, .labeledPerLogit, .perLogitWithVector, .pairedPerLogit, .attentionPerLogit: return c.row.count
        case .batchPerLogit, .lossGradient: return c.rows.count * c.row.count
        case .lossValues: return AuditFunction.crossEntropyOptions(c).reduction == .none ? c.rows.count : 1
        case .perPair: return c.row.count * c.row.count
        case .attentionStates: return 2 * AuditFunction.attentionOptions(c).blocks
        }
    }
}
