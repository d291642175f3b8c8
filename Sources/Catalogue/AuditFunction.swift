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
        }
    }

    /// Whether a case of this function is a batch of rows.
    public var isBatch: Bool { shape.isBatch }

    /// Rows longer than this skip the Jacobian (n² outputs).
    public static let jacobianMaxLength = 64

    /// Rows longer than this skip the elementwise functions: their accuracy does not depend on the row's
    /// length, so longer rows would add time, not coverage.
    public static let elementwiseMaxLength = 1024

    /// Whether the function acts on each logit alone (the binary family).
    public var isElementwise: Bool {
        switch self {
        case .sigmoid, .logSigmoid, .softplus, .sigmoidGradient, .logSigmoidGradient, .softplusGradient: return true
        case .softmax, .logSoftmax, .logSumExp, .crossEntropy, .crossEntropyGradient, .batchCrossEntropy,
            .batchCrossEntropyGradient, .jacobian, .vectorJacobianProduct:
            return false
        }
    }

    /// Whether the function is measured on this case.
    public func applies(to c: AuditCase) -> Bool {
        if isBatch != c.isBatch { return false }
        switch self {
        case .jacobian: return c.row.count <= Self.jacobianMaxLength && c.isFinite
        case .vectorJacobianProduct: return c.isFinite
        case .sigmoid, .logSigmoid, .softplus, .sigmoidGradient, .logSigmoidGradient, .softplusGradient:
            return c.row.count <= Self.elementwiseMaxLength
        case .softmax, .logSoftmax, .logSumExp, .crossEntropy, .crossEntropyGradient, .batchCrossEntropy,
            .batchCrossEntropyGradient:
            return true
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

    public var isBatch: Bool {
        switch self {
        case .batchScalar, .batchPerLogit: return true
        case .perLogit, .scalar, .labeledScalar, .labeledPerLogit, .perPair, .perLogitWithVector: return false
        }
    }

    /// Whether a row of this shape starts with a class label and a colon (`2: 0.5 1 -3`).
    public var takesLabel: Bool {
        switch self {
        case .labeledScalar, .labeledPerLogit, .batchScalar, .batchPerLogit: return true
        case .perLogit, .scalar, .perPair, .perLogitWithVector: return false
        }
    }

    /// Whether the output is one value.
    public var isScalar: Bool {
        switch self {
        case .scalar, .labeledScalar, .batchScalar: return true
        case .perLogit, .labeledPerLogit, .batchPerLogit, .perPair, .perLogitWithVector: return false
        }
    }

    /// Whether the input is one row, with a label or not, and the output one value or one per logit:
    /// the functions `softmax-audit reference` and the process protocol take, one row per line.
    public var isRowFunction: Bool {
        switch self {
        case .perLogit, .scalar, .labeledScalar, .labeledPerLogit: return true
        case .batchScalar, .batchPerLogit, .perPair, .perLogitWithVector: return false
        }
    }

    /// How many values the function gives for a case.
    public func outputCount(_ c: AuditCase) -> Int {
        switch self {
        case .scalar, .labeledScalar, .batchScalar: return 1
        case .perLogit, .labeledPerLogit, .perLogitWithVector: return c.row.count
        case .batchPerLogit: return c.rows.count * c.row.count
        case .perPair: return c.row.count * c.row.count
        }
    }
}
