// An implementation under test: a named set of Double functions with a declared expectation.
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

/// A softmax-family implementation under test. Each function is optional: a kernel implements the
/// ones its algorithm gives.
public struct Kernel: Sendable, Identifiable {
    /// Stable kebab-case name, used on the command line and in reports.
    public let name: String
    /// One line: the algorithm.
    public let summary: String
    public let expectation: Expectation

    public var softmax: (@Sendable ([Double]) -> [Double])? = nil
    public var logSoftmax: (@Sendable ([Double]) -> [Double])? = nil
    public var logSumExp: (@Sendable ([Double]) -> Double)? = nil
    /// Cross-entropy of one row with a 0-based label.
    public var crossEntropy: (@Sendable ([Double], Int) -> Double)? = nil
    /// The gradient of the cross-entropy with respect to one row's logits.
    public var crossEntropyGradient: (@Sendable ([Double], Int) -> [Double])? = nil
    /// Mean cross-entropy over a batch of rows (all of one length) with one label per row.
    public var batchCrossEntropy: (@Sendable ([[Double]], [Int]) -> Double)? = nil
    /// The batch gradient, divided by the batch size.
    public var batchCrossEntropyGradient: (@Sendable ([[Double]], [Int]) -> [[Double]])? = nil
    /// The softmax Jacobian J_ij = p_i (δ_ij − p_j).
    public var jacobian: (@Sendable ([Double]) -> [[Double]])? = nil
    /// The vector-Jacobian product p ⊙ (v − ⟨p, v⟩).
    public var vectorJacobianProduct: (@Sendable ([Double], [Double]) -> [Double])? = nil

    /// The formats it works in (binary64 throughout unless set).
    public var precision = KernelPrecision.double

    /// How the audit judges this kernel, when not by its algorithm's bound (external workers'
    /// `--bound`, `--max-ulps`, `--strict-special-values`).
    public var judging = Judging()

    public struct Judging: Sendable, Equatable {
        /// Per function name, the identifier of another declared algorithm's bound.
        public var bounds: [String: String] = [:]
        /// A plain cap in ulps instead of a bound.
        public var maxULPs: Double? = nil
        /// Special values that differ from the reference's convention fail, on any row.
        public var strictSpecialValues = false

        public init() {}
    }

    public init(name: String, summary: String, expectation: Expectation) {
        self.name = name
        self.summary = summary
        self.expectation = expectation
    }

    public var id: String { name }

    /// The names of the functions this kernel implements, in a fixed order.
    public var functionNames: [String] {
        var names: [String] = []
        if softmax != nil { names.append("softmax") }
        if logSoftmax != nil { names.append("log-softmax") }
        if logSumExp != nil { names.append("logsumexp") }
        if crossEntropy != nil { names.append("cross-entropy") }
        if crossEntropyGradient != nil { names.append("cross-entropy-gradient") }
        if batchCrossEntropy != nil { names.append("batch-cross-entropy") }
        if batchCrossEntropyGradient != nil { names.append("batch-cross-entropy-gradient") }
        if jacobian != nil { names.append("jacobian") }
        if vectorJacobianProduct != nil { names.append("vector-jacobian-product") }
        return names
    }
}
