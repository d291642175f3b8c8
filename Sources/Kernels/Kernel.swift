// An implementation under test: a named set of functions of the catalogue, each with the bound that
// judges it, and a declared expectation.
@_exported import Catalogue
import Formats

/// The formats a kernel works in: its inputs and outputs are values of `storage`, and it accumulates
/// (sums, and for mixed precision every intermediate) in `accumulator`.
public struct KernelPrecision: Sendable, Hashable {
    public var storage: BinaryFormat
    public var accumulator: BinaryFormat

    public init(storage: BinaryFormat = .double, accumulator: BinaryFormat = .double) {
        self.storage = storage
        self.accumulator = accumulator
    }

    public static let double = KernelPrecision()

    /// What the audit judges the kernel against: its storage, with the standard accumulator for it
    /// (binary64 for double storage, binary32 for the narrower formats, as mixed-precision kernels do).
    public var standard: KernelPrecision {
        KernelPrecision(storage: storage, accumulator: storage == .double ? .double : .float)
    }

    /// "float16", or "float16+float" when the accumulator differs.
    public var suffix: String { storage == accumulator ? storage.name : "\(storage.name)+\(accumulator.name)" }
}

/// What the audit should find for a kernel.
public enum Expectation: Sendable, Equatable {
    /// Meets its algorithm's error bound on every input class.
    case accurate
    /// Has a known flaw, named here, that the audit must detect.
    case flawed(String)

    public var isAccurate: Bool { self == .accurate }
}

/// A softmax-family implementation under test. It implements the functions its algorithm gives, each
/// judged by a declared bound (the standard stable algorithm's unless it says otherwise).
public struct Kernel: Sendable, Identifiable {
    /// Stable kebab-case name, used on the command line and in reports.
    public let name: String
    /// One line: the algorithm.
    public let summary: String
    public let expectation: Expectation
    /// The algorithm the kernel belongs to: its name without a format suffix (`softmax-shifted` for
    /// `softmax-shifted@float16+float`); the precision matrix groups kernels by it.
    public var algorithm: String

    /// The formats it works in (binary64 throughout unless set).
    public var precision = KernelPrecision.double

    /// The functions it implements, each with its body and its bound.
    public private(set) var implementations: [AuditFunction: Implementation] = [:]

    /// How the audit judges this kernel beyond its bounds (external workers' `--max-ulps` and
    /// `--strict-special-values`).
    public var judging = Judging()

    /// Told, before the engine evaluates a block of cases, which function each case will be asked on (in the
    /// order it will ask them), so that a kernel in another process can send them all at once.
    public var prefetch: (@Sendable ([(AuditFunction, AuditCase)]) -> Void)? = nil

    public struct Judging: Sendable, Equatable {
        /// A plain cap in ulps instead of the bounds.
        public var maxULPs: Double? = nil
        /// Special values that differ from the reference's convention fail, on any row.
        public var strictSpecialValues = false
        /// Each case is also judged against the textbook algorithm's bound (the second tier of the verdict).
        public var tiers = false

        public init() {}
    }

    public init(name: String, summary: String, expectation: Expectation, algorithm: String? = nil) {
        self.name = name
        self.summary = summary
        self.expectation = expectation
        self.algorithm = algorithm ?? name
    }

    public var id: String { name }

    /// Declares that the kernel implements `function` with `body`, judged by `bound` (by default the
    /// standard stable algorithm's bound for the function).
    /// - Precondition: `body` has the function's shape and `bound` is a bound of the function.
    public mutating func implement(
        _ function: AuditFunction, _ body: Implementation.Body,
        judgedBy bound: BoundFormula? = nil
    ) {
        precondition(body.fits(function.shape), "\(name): the body given for \(function.rawValue) has another shape")
        let bound = bound ?? BoundFormula.standard(for: function)
        precondition(bound.function == function, "\(name): \(bound.rawValue) is not a bound of \(function.rawValue)")
        implementations[function] = Implementation(body: body, bound: bound)
    }

    /// Judges an implemented function by another bound of that function (`external --bound`).
    public mutating func judge(_ function: AuditFunction, by bound: BoundFormula) {
        precondition(bound.function == function, "\(name): \(bound.rawValue) is not a bound of \(function.rawValue)")
        implementations[function]?.bound = bound
    }

    /// The functions this kernel implements, in catalogue order.
    public var functions: [AuditFunction] { AuditFunction.allCases.filter(implements) }

    public func implements(_ function: AuditFunction) -> Bool { implementations[function] != nil }

    /// The bound that judges the kernel's `function` (nil when it does not implement it).
    public func bound(for function: AuditFunction) -> BoundFormula? { implementations[function]?.bound }

    /// The kernel's output for `function` on a case, flattened row-major (nil when it does not
    /// implement the function).
    public func output(_ function: AuditFunction, on c: AuditCase) -> [Double]? {
        implementations[function]?.body.evaluate(c, function)
    }

    /// The output for a one-row case.
    public func output(_ function: AuditFunction, row: [Double], label: Int = 0) -> [Double]? {
        output(function, on: AuditCase(row, label: label))
    }

    /// The function as a map from a row and its label to the output, for functions of one row and
    /// a label at most (softmax, logsumexp, the cross-entropy, …); nil otherwise. Sweeps call it on
    /// every input without building a case.
    public func rowFunction(_ function: AuditFunction) -> (@Sendable ([Double], Int) -> [Double])? {
        switch implementations[function]?.body {
        case .perLogit(let f): return { x, _ in f(x) }
        case .scalar(let f): return { x, _ in [f(x)] }
        case .labeledScalar(let f): return { x, t in [f(x, t)] }
        case .labeledPerLogit(let f): return f
        default: return nil
        }
    }
}

/// One function of a kernel: its body and the bound that judges it.
public struct Implementation: Sendable {
    public let body: Body
    public fileprivate(set) var bound: BoundFormula

    /// The body of a function, in the shape the function has (`AuditFunction.shape`).
    public enum Body: Sendable {
        /// One row to one value per logit (softmax, log-softmax).
        case perLogit(@Sendable ([Double]) -> [Double])
        /// The same with the case's options (softplus's β and PyTorch's threshold).
        case perLogitWithOptions(@Sendable ([Double], LossOptions) -> [Double])
        /// One row to one value (logsumexp).
        case scalar(@Sendable ([Double]) -> Double)
        /// One row and a 0-based label to one value (cross-entropy).
        case labeledScalar(@Sendable ([Double], Int) -> Double)
        /// One row and a 0-based label to one value per logit (the cross-entropy gradient).
        case labeledPerLogit(@Sendable ([Double], Int) -> [Double])
        /// A batch of rows of one length and their labels to one value (the mean loss).
        case batchScalar(@Sendable ([[Double]], [Int]) -> Double)
        /// A batch and its labels to one row of values per row (the batch gradient).
        case batchPerLogit(@Sendable ([[Double]], [Int]) -> [[Double]])
        /// One row to an n × n matrix (the Jacobian).
        case perPair(@Sendable ([Double]) -> [[Double]])
        /// One row and a vector of its length to one value per logit (the vector-Jacobian product).
        case perLogitWithVector(@Sendable ([Double], [Double]) -> [Double])
        /// One row, its paired vector and the options to one value (KL divergence).
        case pairedScalar(@Sendable ([Double], [Double], LossOptions) -> Double)
        /// One row, its paired vector and the options to one value per logit (binary cross-entropy).
        case pairedPerLogit(@Sendable ([Double], [Double], LossOptions) -> [Double])
        /// One row and its paired vector to a value and its sign (the weighted logsumexp).
        case pairedValueAndSign(@Sendable ([Double], [Double]) -> (value: Double, sign: Double))
        /// A batch with its targets and options to the loss's values (`AuditFunction.crossEntropyBatch`).
        case loss(@Sendable (CrossEntropyBatch) -> [Double])
        /// A batch with its targets and options to one value per logit of every row (the loss's gradient).
        case lossGradient(@Sendable (CrossEntropyBatch) -> [[Double]])
        /// One row with attention's options to one value per key (the scaled softmax).
        case attentionPerLogit(@Sendable ([Double], AttentionOptions) -> [Double])
        /// One row with attention's options to one value (the scaled logsumexp, the output).
        case attentionScalar(@Sendable ([Double], AttentionOptions) -> Double)
        /// One row with attention's options to each block's (lse, o) (the partial states).
        case attentionStates(@Sendable ([Double], AttentionOptions) -> [Double])
        /// Any function, from the whole case, flattened as the reference is (an external worker).
        case general(@Sendable (AuditCase) -> [Double])

        /// The shape of the function the body computes (nil for `general`, which fits any).
        var shape: FunctionShape? {
            switch self {
            case .perLogit, .perLogitWithOptions: return .perLogit
            case .scalar: return .scalar
            case .labeledScalar: return .labeledScalar
            case .labeledPerLogit: return .labeledPerLogit
            case .batchScalar: return .batchScalar
            case .batchPerLogit: return .batchPerLogit
            case .perPair: return .perPair
            case .perLogitWithVector: return .perLogitWithVector
            case .pairedScalar: return .pairedScalar
            case .pairedPerLogit: return .pairedPerLogit
            case .pairedValueAndSign: return .pairedValueAndSign
            case .loss: return .lossValues
            case .lossGradient: return .lossGradient
            case .attentionPerLogit: return .attentionPerLogit
            case .attentionScalar: return .attentionScalar
            case .attentionStates: return .attentionStates
            case .general: return nil
            }
        }

        /// Whether the body has this shape.
        func fits(_ shape: FunctionShape) -> Bool { self.shape.map { $0 == shape } ?? true }

        /// The body's output on a case, flattened row-major; `function` gives the paired vector.
        func evaluate(_ c: AuditCase, _ function: AuditFunction) -> [Double] {
            switch self {
            case .perLogit(let f): return f(c.row)
            case .perLogitWithOptions(let f): return f(c.row, c.options)
            case .scalar(let f): return [f(c.row)]
            case .labeledScalar(let f): return [f(c.row, c.label)]
            case .labeledPerLogit(let f): return f(c.row, c.label)
            case .batchScalar(let f): return [f(c.rows, c.labels)]
            case .batchPerLogit(let f): return f(c.rows, c.labels).flatMap { $0 }
            case .perPair(let f): return f(c.row).flatMap { $0 }
            case .perLogitWithVector(let f): return f(c.row, AuditFunction.vjpVector(c.row.count))
            case .pairedScalar(let f): return [f(c.row, function.pair(c), c.options)]
            case .pairedPerLogit(let f): return f(c.row, function.pair(c), c.options)
            case .pairedValueAndSign(let f):
                let (value, sign) = f(c.row, function.pair(c))
                return [value, sign]
            case .loss(let f): return f(AuditFunction.crossEntropyBatch(c))
            case .lossGradient(let f): return f(AuditFunction.crossEntropyBatch(c)).flatMap { $0 }
            case .attentionPerLogit(let f): return f(c.row, AuditFunction.attentionOptions(c))
            case .attentionScalar(let f): return [f(c.row, AuditFunction.attentionOptions(c))]
            case .attentionStates(let f): return f(c.row, AuditFunction.attentionOptions(c))
            case .general(let f): return f(c)
            }
        }
    }
}
