// The certified reference: for every row, the correctly rounded binary64 value of the exact
// softmax, log-softmax, logsumexp, cross-entropy, gradient, Jacobian or vector-Jacobian product.
//
// Rows with NaN or ±inf entries follow the convention in SpecialValues.swift (the README's table);
// finite rows go through the certified formulas in CertifiedFormulas.swift, each evaluated in MPFR
// with a rigorous error bound inside Ziv's loop (ZivLoop.swift) and rounded once (Certification.swift).
@_exported import Formats
import MPFR

/// The certified reference. Holds reusable MPFR workspace, so it is not `Sendable`: give each
/// thread its own instance (it sets MPFR's per-thread exponent range itself on every call).
public final class SoftmaxReference {
    /// The precision, in bits, at which Ziv's loop gives up with `ReferenceError.uncertified`.
    public let maximumPrecision: Int
    /// The working precision at which the last call certified all of its outputs.
    public internal(set) var lastPrecision = 0
    /// When set, every real result also carries its unrounded value to this many significant decimal
    /// digits (`ReferenceValue.decimal`), the precision raised until the error bound allows them.
    public var decimalDigits: Int? = nil

    let row = ShiftedExponentials()
    let candidates = Candidates()
    let certifier = Binary64Certifier()
    /// Each formula's intermediates, reused across rows.
    let workspaces = Workspaces()
    /// The double-word fast path's workspace (FastPath/).
    let fastRow = FastRow()
    /// The format results are rounded to (binary64 unless set): every value is the correctly rounded
    /// result in it, its offset and ULP errors in its ulps.
    public var format: BinaryFormat = .double {
        didSet { fastRow.format = format }
    }
    /// Whether to try the fast path first (`.auto`, the default) or use MPFR only.
    public var fastPath: FastPathMode = .auto
    /// Calls answered by the fast path, fallen back to MPFR, or not covered, since this instance began.
    public internal(set) var fastPathCounts = FastPathCounts()

    /// The precision limit of a reference made without one: 65,536 bits.
    public static let defaultMaximumPrecision = 1 << 16

    public init(maximumPrecision: Int = defaultMaximumPrecision) {
        precondition(maximumPrecision >= Self.initialPrecision)
        self.maximumPrecision = maximumPrecision
    }

    /// A sum or difference of two doubles is exact at this precision: their bits span at most 2^1023
    /// down to 2^-1074 (2098 bits).
    static let exactDoubleSumBits = 2200

    /// The MPFR library version the reference runs on.
    public static var mpfrVersion: String { MPFREnvironment.version }
}

@available(*, unavailable, message: "SoftmaxReference holds per-thread MPFR workspace; give each thread its own.")
extension SoftmaxReference: Sendable {}

// MARK: - Public functions

extension SoftmaxReference {
    /// softmax(x)_j = exp(x_j) / Σ_i exp(x_i), correctly rounded per element.
    func softmaxValues(_ x: [Double]) throws -> [ReferenceValue] {
        switch RowShape(x) {
        case .empty: throw ReferenceError.emptyRow
        case .containsNaN, .allMinusInfinity: return Array(repeating: .undefined, count: x.count)
        case .plusInfinities(let a):
            return x.indices.map { a.contains($0) ? (a.count == 1 ? .exactly(1) : .undefined) : .exactly(0) }
        case .finite(let kept):
            let values = try certifiedSoftmax(x.selecting(kept))
            return scatter(values, at: kept, count: x.count, filler: .exactly(0))
        }
    }

    /// log softmax(x)_j = x_j − logsumexp(x), correctly rounded per element.
    func logSoftmaxValues(_ x: [Double]) throws -> [ReferenceValue] {
        switch RowShape(x) {
        case .empty: throw ReferenceError.emptyRow
        case .containsNaN, .allMinusInfinity: return Array(repeating: .undefined, count: x.count)
        case .plusInfinities(let a):
            return x.indices.map {
                a.contains($0) ? (a.count == 1 ? .exactly(0) : .undefined) : .infinity(negative: true)
            }
        case .finite(let kept):
            let values = try certifiedLogSoftmax(x.selecting(kept))
            return scatter(values, at: kept, count: x.count, filler: .infinity(negative: true))
        }
    }

    /// logsumexp(x) = log Σ_i exp(x_i), correctly rounded (−inf for an empty row).
    func logSumExpValues(_ x: [Double]) throws -> ReferenceValue {
        switch RowShape(x) {
        case .empty, .allMinusInfinity: return .infinity(negative: true)
        case .containsNaN: return .undefined
        case .plusInfinities: return .infinity(negative: false)
        case .finite(let kept): return try certifiedLogSumExp(x.selecting(kept))
        }
    }

    /// Cross-entropy −log p_t (label) or −Σ q_i log p_i (distribution), correctly rounded.
    func crossEntropyValues(_ x: [Double], target: CrossEntropyTarget) throws -> ReferenceValue {
        switch try PreparedCrossEntropy(x, target) {
        case .special(let value): return value
        case .finite(let row, let target): return try certifiedCrossEntropy(row, target)
        }
    }

    /// The cross-entropy gradient with respect to the logits, p − onehot(t) or p·Σq − q, correctly
    /// rounded per element.
    func crossEntropyGradientValues(_ x: [Double], target: CrossEntropyTarget) throws -> [ReferenceValue] {
        try gradient(x, target, batchSize: 1)
    }

    /// The softmax Jacobian J_ij = ∂p_i/∂x_j = p_i (δ_ij − p_j), row-major, for a finite row.
    func jacobianValues(_ x: [Double]) throws -> [[ReferenceValue]] {
        try requireFinite(x, "logit")
        let flat = try certifiedJacobian(x)
        return (0..<x.count).map { i in Array(flat[(i * x.count)..<((i + 1) * x.count)]) }
    }

    /// The vector-Jacobian product Jᵀv = p ⊙ (v − ⟨p, v⟩) for a finite row and a finite v.
    func vectorJacobianProductValues(_ x: [Double], _ v: [Double]) throws -> [ReferenceValue] {
        try requireFinite(x, "logit")
        guard v.count == x.count else {
            throw ReferenceError.targetLengthMismatch(targetCount: v.count, rowCount: x.count)
        }
        try requireFinite(v, "vector")
        return try certifiedVectorJacobianProduct(x, v)
    }

    /// Mean-reduced cross-entropy over a batch: (1/B) Σ_b CE(x_b, t_b), correctly rounded.
    func meanCrossEntropyValues(_ rows: [[Double]], targets: [CrossEntropyTarget]) throws -> ReferenceValue {
        guard !rows.isEmpty, rows.count == targets.count else {
            throw ReferenceError.batchShapeMismatch(rows: rows.count, targets: targets.count)
        }
        let prepared = try zip(rows, targets).map { try PreparedCrossEntropy($0, $1) }
        var specials: [ReferenceValue] = []
        var finite: [([Double], CrossEntropyTarget)] = []
        for p in prepared {
            switch p {
            case .special(let value): specials.append(value)
            case .finite(let row, let target): finite.append((row, target))
            }
        }
        if specials.contains(where: { $0.kind == .undefined }) { return .undefined }
        if specials.contains(where: { $0.kind == .infinity }) { return .infinity(negative: false) }
        // Remaining special rows have an exact zero loss; they count in B but add nothing.
        return try certifiedMeanCrossEntropy(finite, batchSize: rows.count)
    }

    /// The tutorial's batch gradient done right: per-row p − onehot(t) (or p·Σq − q) divided by the
    /// batch size B, correctly rounded per element.
    func batchCrossEntropyGradientValues(_ rows: [[Double]], targets: [CrossEntropyTarget]) throws -> [[ReferenceValue]]
    {
        guard !rows.isEmpty, rows.count == targets.count else {
            throw ReferenceError.batchShapeMismatch(rows: rows.count, targets: targets.count)
        }
        return try zip(rows, targets).map { try gradient($0, $1, batchSize: rows.count) }
    }

    // MARK: - Helpers

    func scatter(_ values: [ReferenceValue], at kept: [Int], count: Int, filler: ReferenceValue) -> [ReferenceValue] {
        if kept.count == count { return values }
        var out = Array(repeating: filler, count: count)
        for (value, index) in zip(values, kept) { out[index] = value }
        return out
    }

    func requireFinite(_ x: [Double], _ what: String) throws {
        if x.isEmpty { throw ReferenceError.emptyRow }
        if let i = x.firstIndex(where: { !$0.isFinite }) {
            throw ReferenceError.nonFiniteInput(what: what, index: i, value: x[i])
        }
    }
}

// MARK: - The public functions: the values above, marked with the format they were rounded to.

extension SoftmaxReference {
    /// softmax(x)_j = exp(x_j) / Σ_i exp(x_i), correctly rounded per element.
    public func softmax(_ x: [Double]) throws -> [ReferenceValue] { try tagged(softmaxValues(x)) }

    /// log softmax(x)_j = x_j − logsumexp(x), correctly rounded per element.
    public func logSoftmax(_ x: [Double]) throws -> [ReferenceValue] { try tagged(logSoftmaxValues(x)) }

    /// logsumexp(x) = log Σ_i exp(x_i), correctly rounded (−inf for an empty row).
    public func logSumExp(_ x: [Double]) throws -> ReferenceValue { try logSumExpValues(x).tagged(format) }

    /// Cross-entropy −log p_t (label) or −Σ q_i log p_i (distribution), correctly rounded.
    public func crossEntropy(_ x: [Double], target: CrossEntropyTarget) throws -> ReferenceValue {
        try crossEntropyValues(x, target: target).tagged(format)
    }

    /// The cross-entropy gradient p − onehot(t) or p·Σq − q, correctly rounded per element.
    public func crossEntropyGradient(_ x: [Double], target: CrossEntropyTarget) throws -> [ReferenceValue] {
        try tagged(crossEntropyGradientValues(x, target: target))
    }

    /// The softmax Jacobian J_ij = p_i (δ_ij − p_j), row-major, for a finite row.
    public func jacobian(_ x: [Double]) throws -> [[ReferenceValue]] { try jacobianValues(x).map(tagged) }

    /// The vector-Jacobian product Jᵀv = p ⊙ (v − ⟨p, v⟩) for a finite row and a finite v.
    public func vectorJacobianProduct(_ x: [Double], _ v: [Double]) throws -> [ReferenceValue] {
        try tagged(vectorJacobianProductValues(x, v))
    }

    /// Mean-reduced cross-entropy over a batch: (1/B) Σ_b CE(x_b, t_b), correctly rounded.
    public func meanCrossEntropy(_ rows: [[Double]], targets: [CrossEntropyTarget]) throws -> ReferenceValue {
        try meanCrossEntropyValues(rows, targets: targets).tagged(format)
    }

    /// Per-row p − onehot(t) (or p·Σq − q) divided by the batch size B, correctly rounded per element.
    public func batchCrossEntropyGradient(
        _ rows: [[Double]], targets: [CrossEntropyTarget]
    ) throws -> [[ReferenceValue]] { try batchCrossEntropyGradientValues(rows, targets: targets).map(tagged) }

    func tagged(_ values: [ReferenceValue]) -> [ReferenceValue] {
        format == .double ? values : values.map { $0.tagged(format) }
    }
}
