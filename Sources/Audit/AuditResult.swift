// What an audit produces: one aggregate per kernel × function × input class (a cell), the shrunk
// failures, the worst cases, and how the reference answered.
import Kernels
import Reference

/// The key of a cell: kernel × function × input class, by name.
public struct CellKey: Hashable, Sendable, CustomStringConvertible {
    public let kernel: String
    public let function: AuditFunction
    public let inputClass: String

    public init(kernel: String, function: AuditFunction, inputClass: String) {
        self.kernel = kernel
        self.function = function
        self.inputClass = inputClass
    }

    /// "kernel × function × class", as the gate and the baseline name a cell.
    public var description: String { "\(kernel) × \(function.rawValue) × \(inputClass)" }
}

/// A check of one kernel's function, over every class: the key under which failures are shrunk.
public struct FailureKey: Hashable, Sendable {
    public let kernel: String
    public let function: AuditFunction
    public let kind: FailureKind
}

/// Histogram bins of ULP errors: [0, 0.5], (0.5, 1], (1, 2], (2, 4], …, (2^29, 2^30], above.
public enum ULPBins {
    public static let count = 33
    public static func index(_ ulps: Double) -> Int {
        if ulps <= 0.5 { return 0 }
        if !(ulps <= 0x1p30) { return count - 1 }
        return 1 + Int(ulps.exponent) + (ulps.significandBitPattern == 0 ? 0 : 1)
    }
    public static func label(_ i: Int) -> String {
        switch i {
        case 0: return "≤ 0.5"
        case 1: return "≤ 1"
        case count - 1: return "> 2^30"
        default: return "≤ 2^\(i - 1)"
        }
    }
}

/// The aggregate of one kernel × function × class.
public struct AuditCell: Sendable {
    public let key: CellKey
    public var kernel: String { key.kernel }
    public var function: AuditFunction { key.function }
    public var inputClass: String { key.inputClass }
    public var cases = 0
    public var elements = 0
    public var correctlyRounded = 0
    public var bitsSum = 0.0
    public var bitsCount = 0
    public var maxULPs = 0.0
    public var maxULPsCase: Int? = nil
    public var maxBoundRatio = 0.0
    /// The largest error / the textbook algorithm's bound (kernels judged in tiers).
    public var maxTextbookRatio = 0.0
    public var caseMaxULPs: [Double] = []
    public var histogram = [Int](repeating: 0, count: ULPBins.count)
    /// The largest measured error / bound among cases of length 2^b to 2^(b+1) − 1, b = 0…20 (−1 where none).
    public var maxBoundRatioByLength = [Double](repeating: -1, count: 21)
    public var failureCounts: [FailureKind: Int] = [:]
    /// The first failing case index and detail of each kind.
    public var firstFailure: [FailureKind: (index: Int, detail: String)] = [:]
    public var conventionDifferences = 0
    public var wrongSignZeros = 0

    public var meanBits: Double { bitsCount == 0 ? 0 : bitsSum / Double(bitsCount) }
    /// The 99th percentile of the per-case maximum ULP error (nearest rank).
    public var p99: Double {
        guard !caseMaxULPs.isEmpty else { return 0 }
        let sorted = caseMaxULPs.sorted()
        return sorted[min(sorted.count - 1, Int((0.99 * Double(sorted.count)).rounded(.up)) - 1)]
    }
    /// Failing cases by check (a case beyond the textbook bound is counted once, as its bound failure).
    public var failingCases: Int { failureCounts.filter { $0.key != .textbookExceeded }.values.reduce(0, +) }

    public init(_ key: CellKey) { self.key = key }

    public init(kernel: String, function: AuditFunction, inputClass: String) {
        self.init(CellKey(kernel: kernel, function: function, inputClass: inputClass))
    }
}

/// A shrunk failure.
public struct ShrunkFailure: Sendable {
    public let kernel: String
    public let function: AuditFunction
    public let kind: FailureKind
    public let inputClass: String
    public let caseIndex: Int
    public let detail: String
    public let original: AuditCase
    public let minimal: AuditCase
    public let minimalDetail: String
    public let evaluations: Int
}

/// One of a kernel's worst cases, recomputed for the report.
public struct WorstCase: Sendable {
    public let kernel: String
    public let function: AuditFunction
    public let inputClass: String
    public let caseIndex: Int
    public let input: AuditCase
    public let element: Int
    public let computed: Double
    public let reference: ReferenceValue
    public let ulps: Double
}

public struct AuditResult: Sendable {
    public let seed: UInt64
    public let casesPerClass: Int
    public let maxLength: Int
    public let kernels: [Kernel]
    public let classes: [InputClass]
    public let cells: [AuditCell]
    public let shrunk: [ShrunkFailure]
    public let worst: [WorstCase]
    /// Reference errors (uncertified rows), which make the run fail.
    public let referenceErrors: [String]
    public let rowsEvaluated: Int
    /// How the reference answered the cases' calls, per class in class order.
    public let referencePath: [(inputClass: String, counts: FastPathCounts)]
    /// Where the time went (not in the reports, which must not depend on the machine).
    public let timing: AuditTiming

    public func cells(kernel: String) -> [AuditCell] { cells.filter { $0.kernel == kernel } }
}

/// Seconds spent: the whole run, the case evaluations summed over workers, and the certified
/// reference's part of those.
public struct AuditTiming: Sendable {
    public var wall = 0.0
    public var workers = 0.0
    public var reference = 0.0
    public var shrinking = 0.0
}
