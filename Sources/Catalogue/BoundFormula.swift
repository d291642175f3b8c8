// The algorithms whose worst-case error bounds judge kernels: each is about one function, and each
// function has a standard one, the bound of the standard stable algorithm, which judges any kernel
// that declares no other (and every flawed kernel). The polynomials themselves are evaluated by the
// Audit module (ErrorBounds.swift), derived in docs/bounds.md.

/// The algorithm whose bound judges a kernel's function.
public enum BoundFormula: String, CaseIterable, Sendable, Codable {
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
    case stableSigmoid = "sigmoid, 1/(1 + exp(-x)) or exp(x)/(1 + exp(x)) by sign"
    case log1pLogSigmoid = "log-sigmoid, -log1p(exp(-x)) or x - log1p(exp(x)) by sign"
    case log1pSoftplus = "softplus, log1p(exp(x)) or x + log1p(exp(-x)) by sign"
    case stableSigmoidGradient = "sigmoid gradient, t/(1 + t)^2 with t = exp(-|x|)"
    case complementLogSigmoidGradient = "log-sigmoid gradient, sigmoid(-x) by sign"
    case sigmoidSoftplusGradient = "softplus gradient, sigmoid(x) by sign"
    case logSoftmaxKLDivergence = "KL divergence, sum of q (log q - log-softmax)"
    case distributionGradient = "KL gradient, p sum(q) - q"
    case softplusBinaryCrossEntropy = "binary cross-entropy, w y softplus(-x) + (1 - y) softplus(x)"
    case sigmoidBinaryCrossEntropyGradient = "binary cross-entropy gradient, (1 - y) sigma(x) - w y sigma(-x)"
    case weightedLogSumExp = "weighted logsumexp, m + log|sum b exp(x - m)| with m the max where b != 0"
    case weightedCrossEntropyLoss = "cross-entropy loss, sum of weighted targets times log1p cross-entropies"
    case weightedCrossEntropyLossGradient = "cross-entropy loss gradient, (p sum(a) - a) / D per row"
    case blockedScaledSoftmax = "scaled softmax, shifted in B blocks merged by rescaling"
    case onlineScaledSoftmax = "scaled softmax, online"
    case blockedScaledLogSumExp = "scaled logsumexp, max + log of the blocks' rescaled sums"
    case onlineScaledLogSumExp = "scaled logsumexp, online"
    case blockedAttentionOutput = "attention output, the blocks' rescaled sums of e v over their sums of e"
    case onlineAttentionOutput = "attention output, online"
    case blockStates = "attention's partial states, two passes per block"

    /// The standard stable algorithm's bound for a function.
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
        case .sigmoid: return .stableSigmoid
        case .logSigmoid: return .log1pLogSigmoid
        case .softplus: return .log1pSoftplus
        case .sigmoidGradient: return .stableSigmoidGradient
        case .logSigmoidGradient: return .complementLogSigmoidGradient
        case .softplusGradient: return .sigmoidSoftplusGradient
        case .klDivergence: return .logSoftmaxKLDivergence
        case .klDivergenceGradient: return .distributionGradient
        case .binaryCrossEntropy: return .softplusBinaryCrossEntropy
        case .binaryCrossEntropyGradient: return .sigmoidBinaryCrossEntropyGradient
        case .weightedLogSumExp: return .weightedLogSumExp
        case .crossEntropyLoss: return .weightedCrossEntropyLoss
        case .crossEntropyLossGradient: return .weightedCrossEntropyLossGradient
        case .scaledSoftmax: return .blockedScaledSoftmax
        case .scaledLogSumExp: return .blockedScaledLogSumExp
        case .attentionOutput: return .blockedAttentionOutput
        case .attentionStates: return .blockStates
        }
    }

    /// The function whose outputs this bound is about.
    public var function: AuditFunction {
        switch self {
        case .shiftedSoftmax, .pairwiseSoftmax, .compensatedSoftmax, .divisionFreeSoftmax, .onlineSoftmax:
            return .softmax
        case .log1pLogSoftmax: return .logSoftmax
        case .log1pLogSumExp: return .logSumExp
        case .log1pCrossEntropy: return .crossEntropy
        case .complementGradient: return .crossEntropyGradient
        case .meanCrossEntropy: return .batchCrossEntropy
        case .batchGradient: return .batchCrossEntropyGradient
        case .jacobian: return .jacobian
        case .vectorJacobianProduct: return .vectorJacobianProduct
        case .stableSigmoid: return .sigmoid
        case .log1pLogSigmoid: return .logSigmoid
        case .log1pSoftplus: return .softplus
        case .stableSigmoidGradient: return .sigmoidGradient
        case .complementLogSigmoidGradient: return .logSigmoidGradient
        case .sigmoidSoftplusGradient: return .softplusGradient
        case .logSoftmaxKLDivergence: return .klDivergence
        case .distributionGradient: return .klDivergenceGradient
        case .softplusBinaryCrossEntropy: return .binaryCrossEntropy
        case .sigmoidBinaryCrossEntropyGradient: return .binaryCrossEntropyGradient
        case .weightedLogSumExp: return .weightedLogSumExp
        case .weightedCrossEntropyLoss: return .crossEntropyLoss
        case .weightedCrossEntropyLossGradient: return .crossEntropyLossGradient
        case .blockedScaledSoftmax, .onlineScaledSoftmax: return .scaledSoftmax
        case .blockedScaledLogSumExp, .onlineScaledLogSumExp: return .scaledLogSumExp
        case .blockedAttentionOutput, .onlineAttentionOutput: return .attentionOutput
        case .blockStates: return .attentionStates
        }
    }

    /// The identifier `softmax-audit external --bound` takes.
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
        case .stableSigmoid: return "stable-sigmoid"
        case .log1pLogSigmoid: return "log1p-log-sigmoid"
        case .log1pSoftplus: return "log1p-softplus"
        case .stableSigmoidGradient: return "stable-sigmoid-gradient"
        case .complementLogSigmoidGradient: return "complement-log-sigmoid-gradient"
        case .sigmoidSoftplusGradient: return "sigmoid-softplus-gradient"
        case .logSoftmaxKLDivergence: return "log-softmax-kl-divergence"
        case .distributionGradient: return "distribution-gradient"
        case .softplusBinaryCrossEntropy: return "softplus-binary-cross-entropy"
        case .sigmoidBinaryCrossEntropyGradient: return "sigmoid-binary-cross-entropy-gradient"
        case .weightedLogSumExp: return "weighted-logsumexp"
        case .weightedCrossEntropyLoss: return "weighted-cross-entropy-loss"
        case .weightedCrossEntropyLossGradient: return "weighted-cross-entropy-loss-gradient"
        case .blockedScaledSoftmax: return "blocked-scaled-softmax"
        case .onlineScaledSoftmax: return "online-scaled-softmax"
        case .blockedScaledLogSumExp: return "blocked-scaled-logsumexp"
        case .onlineScaledLogSumExp: return "online-scaled-logsumexp"
        case .blockedAttentionOutput: return "blocked-attention-output"
        case .onlineAttentionOutput: return "online-attention-output"
        case .blockStates: return "block-states"
        }
    }

    /// Whether the bound is of an online algorithm, which rescales once per key (attention's).
    public var isOnline: Bool {
        self == .onlineScaledSoftmax || self == .onlineScaledLogSumExp || self == .onlineAttentionOutput
    }

    /// The bound with this identifier, if any.
    public init?(identifier: String) {
        guard let formula = Self.allCases.first(where: { $0.identifier == identifier }) else { return nil }
        self = formula
    }
}
