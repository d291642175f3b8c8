// The audit engine: every selected kernel's functions over every selected class's cases, checked
// against the certified reference, aggregated per kernel × function × class, the first failure of
// each kind shrunk. Cases are generated from (seed, class, index) and results merged in that order,
// so the result is the same whatever the number of jobs.
import Dispatch
import Foundation
import Kernels
import Reference

public struct AuditConfiguration: Sendable {
    public static let defaultSeed: UInt64 = 20_261_129
    public var seed: UInt64 = defaultSeed
    public var casesPerClass = 1000
    public var maxLength = 16384
    public var jobs = ProcessInfo.processInfo.activeProcessorCount
    public var kernels: [Kernel] = Kernel.all
    public var classes: [InputClass] = InputClass.all
    /// Candidate evaluations allowed per shrunk failure.
    public var shrinkBudget = 200
    /// The reference's path: the double-word fast path first (`.auto`) or MPFR only. Both give the same
    /// verdicts; only the header's fast-path figures and the run time differ.
    public var referencePath: FastPathMode = .auto
    /// Called with (done, total) as cases finish (from worker threads).
    public var progress: (@Sendable (Int, Int) -> Void)? = nil

    public init() {}

    /// The CI preset: fewer cases, shorter rows.
    public static var quick: AuditConfiguration {
        var c = AuditConfiguration()
        c.casesPerClass = 12
        c.maxLength = 512
        c.shrinkBudget = 120
        return c
    }
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
    public let kernel: String
    public let function: AuditFunction
    public let inputClass: String
    public var cases = 0
    public var elements = 0
    public var correctlyRounded = 0
    public var bitsSum = 0.0
    public var bitsCount = 0
    public var maxULPs = 0.0
    public var maxULPsCase: Int? = nil
    public var maxBoundRatio = 0.0
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
    public var failingCases: Int { failureCounts.values.reduce(0, +) }
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

/// Collects the per-item results from worker threads.
private final class ItemStore: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [[ItemOutcome]?]
    private var done = 0
    var workerSeconds = 0.0
    var referenceSeconds = 0.0
    init(count: Int) { items = Array(repeating: nil, count: count) }
    func store(_ i: Int, _ outcome: [ItemOutcome]) -> Int {
        lock.lock()
        defer { lock.unlock() }
        items[i] = outcome
        done += 1
        return done
    }
    func addTime(worker: Double, reference: Double) {
        lock.lock()
        workerSeconds += worker
        referenceSeconds += reference
        lock.unlock()
    }
    var all: [[ItemOutcome]] { items.map { $0 ?? [] } }
}

/// The compact outcome of one kernel × function on one case.
struct ItemOutcome: Sendable, Codable {
    let kernel: Int
    let function: AuditFunction
    let outcome: CaseOutcome
    var referenceError: String? = nil
    /// How the reference answered this function's call on the case (on the first kernel's outcome only).
    var referencePath: FastPathCounts? = nil
}

public enum AuditEngine {
    public static func run(_ configuration: AuditConfiguration) -> AuditResult {
        let start = ContinuousClock.now
        let (items, workers, reference) = evaluateItems(configuration, shard: nil)
        return assemble(configuration, items: items, start: start, workerSeconds: workers, referenceSeconds: reference)
    }

    /// Evaluates every case (or, with `shard` = (k, n), those whose index i has i mod n = k − 1), in
    /// parallel; returns the outcomes by case index (empty for cases of other shards).
    static func evaluateItems(_ configuration: AuditConfiguration, shard: (Int, Int)?) -> ([[ItemOutcome]], Double, Double) {
        let classes = configuration.classes
        let kernels = configuration.kernels
        let n = configuration.casesPerClass
        let total = classes.count * n
        let store = ItemStore(count: total)
        let mine = (0..<total).filter { shard == nil || $0 % shard!.1 == shard!.0 - 1 }
        let jobs = max(1, configuration.jobs)
        DispatchQueue.concurrentPerform(iterations: jobs) { worker in
            let checker = CaseChecker()
            checker.reference.fastPath = configuration.referencePath
            let workerStart = ContinuousClock.now
            var referenceTime = Duration.zero
            var position = worker
            while position < mine.count {
                let item = mine[position]
                let inputClass = classes[item / n]
                let c = inputClass.makeCase(seed: configuration.seed, index: item % n, maxLength: configuration.maxLength)
                let outcomes = evaluate(c, kernels, checker, referenceTime: &referenceTime)
                referenceTime += checker.takeBoundTime()
                let done = store.store(item, outcomes)
                configuration.progress?(done, mine.count)
                position += jobs
            }
            store.addTime(worker: seconds(ContinuousClock.now - workerStart), reference: seconds(referenceTime))
        }
        return (store.all, store.workerSeconds, store.referenceSeconds)
    }

    /// Aggregates the outcomes of every case (in case order, so the sums do not depend on the threads or
    /// the shards), then shrinks the failures and recomputes the worst cases.
    static func assemble(_ configuration: AuditConfiguration, items: [[ItemOutcome]], start: ContinuousClock.Instant,
                         workerSeconds: Double, referenceSeconds: Double) -> AuditResult
    {
        let classes = configuration.classes
        let kernels = configuration.kernels
        let n = configuration.casesPerClass
        let shrinkStart = ContinuousClock.now
        var cells: [String: AuditCell] = [:]
        var referenceErrors: [String] = []
        var rows = 0
        var paths = [FastPathCounts](repeating: FastPathCounts(), count: classes.count)
        for (item, outcomes) in items.enumerated() {
            let className = classes[item / n].name
            let index = item % n
            rows += 1
            for o in outcomes {
                if let counts = o.referencePath { paths[item / n] = paths[item / n] + counts }
                if let e = o.referenceError {
                    referenceErrors.append("\(className) case \(index), \(o.function.rawValue): \(e)")
                    continue
                }
                let key = "\(o.kernel)|\(o.function.rawValue)|\(className)"
                var cell = cells[key] ?? AuditCell(kernel: kernels[o.kernel].name, function: o.function, inputClass: className)
                merge(o.outcome, index: index, into: &cell)
                cells[key] = cell
            }
        }
        // Cells in report order: kernel, function, class.
        var ordered: [AuditCell] = []
        for (ki, k) in kernels.enumerated() {
            for f in AuditFunction.allCases where f.isImplemented(by: k) {
                for cls in classes {
                    if let cell = cells["\(ki)|\(f.rawValue)|\(cls.name)"] { ordered.append(cell) }
                }
            }
        }
        let shrunk = shrinkFailures(ordered, configuration)
        let worst = worstCases(ordered, configuration)
        let timing = AuditTiming(
            wall: seconds(ContinuousClock.now - start), workers: workerSeconds, reference: referenceSeconds,
            shrinking: seconds(ContinuousClock.now - shrinkStart))
        return AuditResult(
            seed: configuration.seed, casesPerClass: n, maxLength: configuration.maxLength, kernels: kernels, classes: classes,
            cells: ordered, shrunk: shrunk, worst: worst, referenceErrors: referenceErrors, rowsEvaluated: rows,
            referencePath: zip(classes, paths).map { ($0.name, $1) }, timing: timing)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    static func evaluate(_ c: AuditCase, _ kernels: [Kernel], _ checker: CaseChecker, referenceTime: inout Duration) -> [ItemOutcome] {
        var out: [ItemOutcome] = []
        // Kernels see the case in their storage format and are judged against the reference in it.
        var formats: [BinaryFormat] = []
        for k in kernels where !formats.contains(k.precision.storage) { formats.append(k.precision.storage) }
        for format in formats {
            let cf = c.rounded(to: format)
            checker.reference.format = format
            defer { checker.reference.format = .double }
            for f in AuditFunction.allCases where f.applies(to: cf) {
                let users = kernels.indices.filter { f.isImplemented(by: kernels[$0]) && kernels[$0].precision.storage == format }
                guard !users.isEmpty else { continue }
                let expected: [ReferenceValue]
                let clock = ContinuousClock.now
                let countsBefore = checker.reference.fastPathCounts
                do {
                    expected = try f.reference(checker.reference, on: cf)
                    referenceTime += ContinuousClock.now - clock
                } catch {
                    out.append(ItemOutcome(kernel: users[0], function: f, outcome: CaseOutcome(), referenceError: "\(error)",
                                           referencePath: checker.reference.fastPathCounts - countsBefore))
                    continue
                }
                let counts = checker.reference.fastPathCounts - countsBefore
                for ki in users {
                    do {
                        if var outcome = try checker.check(kernels[ki], f, cf, expected: expected) {
                            outcome.output = []
                            outcome.reference = []
                            out.append(ItemOutcome(kernel: ki, function: f, outcome: outcome, referencePath: ki == users[0] ? counts : nil))
                        }
                    } catch {
                        out.append(ItemOutcome(kernel: ki, function: f, outcome: CaseOutcome(), referenceError: "\(error)",
                                               referencePath: ki == users[0] ? counts : nil))
                    }
                }
            }
        }
        return out
    }

    static func merge(_ o: CaseOutcome, index: Int, into cell: inout AuditCell) {
        cell.cases += 1
        cell.elements += o.elements
        cell.correctlyRounded += o.correctlyRounded
        cell.bitsSum += o.bitsSum
        cell.bitsCount += o.finiteULPCount
        if o.maxULPs > cell.maxULPs || cell.maxULPsCase == nil {
            cell.maxULPs = o.maxULPs
            cell.maxULPsCase = index
        }
        cell.maxBoundRatio = max(cell.maxBoundRatio, o.maxBoundRatio)
        let bucket = min(20, Int.bitWidth - 1 - max(1, o.rowLength).leadingZeroBitCount)
        cell.maxBoundRatioByLength[bucket] = max(cell.maxBoundRatioByLength[bucket], o.maxBoundRatio)
        cell.caseMaxULPs.append(o.maxULPs)
        for (bin, count) in o.histogram.enumerated() { cell.histogram[bin] += count }
        cell.conventionDifferences += o.conventionDifferences
        cell.wrongSignZeros += o.wrongSignZeros
        for failure in o.failures {
            cell.failureCounts[failure.kind, default: 0] += 1
            if cell.firstFailure[failure.kind] == nil { cell.firstFailure[failure.kind] = (index, failure.detail) }
        }
    }

    /// Shrinks the first failing case of each kernel × function × kind (in class order).
    static func shrinkFailures(_ cells: [AuditCell], _ configuration: AuditConfiguration) -> [ShrunkFailure] {
        struct Job { let cell: AuditCell; let kind: FailureKind; let index: Int; let detail: String }
        var jobs: [Job] = []
        var seen = Set<String>()
        for cell in cells {
            for kind in cell.firstFailure.keys.sorted() {
                let key = "\(cell.kernel)|\(cell.function.rawValue)|\(kind)"
                guard !seen.contains(key), let first = cell.firstFailure[kind] else { continue }
                seen.insert(key)
                jobs.append(Job(cell: cell, kind: kind, index: first.index, detail: first.detail))
            }
        }
        let work = jobs
        let results = ResultSlots<ShrunkFailure>(count: work.count)
        let workers = max(1, configuration.jobs)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let checker = CaseChecker()
            let shrinker = Shrinker(checker: checker, budget: configuration.shrinkBudget)
            var j = worker
            while j < work.count {
                let job = work[j]
                let k = configuration.kernels.first { $0.name == job.cell.kernel }!
                let cls = configuration.classes.first { $0.name == job.cell.inputClass }!
                let c = cls.makeCase(seed: configuration.seed, index: job.index, maxLength: configuration.maxLength)
                let r = shrinker.shrink(k, job.cell.function, job.kind, c)
                let detail = minimalDetail(checker, k, job.cell.function, job.kind, r.minimal)
                results.set(j, ShrunkFailure(
                    kernel: k.name, function: job.cell.function, kind: job.kind, inputClass: cls.name, caseIndex: job.index,
                    detail: job.detail, original: c, minimal: r.minimal, minimalDetail: detail, evaluations: r.evaluations))
                j += workers
            }
        }
        return results.all
    }

    static func minimalDetail(_ checker: CaseChecker, _ k: Kernel, _ f: AuditFunction, _ kind: FailureKind, _ c: AuditCase) -> String {
        guard let (cf, expected) = try? f.expected(for: k, on: c, reference: checker.reference),
            let o = try? checker.check(k, f, cf, expected: expected) else { return "" }
        return o.failures.first { $0.kind == kind }?.detail ?? ""
    }

    /// The case with the largest ULP error of each kernel × function (over classes), recomputed.
    static func worstCases(_ cells: [AuditCell], _ configuration: AuditConfiguration) -> [WorstCase] {
        let checker = CaseChecker()
        var out: [WorstCase] = []
        var groups: [String: AuditCell] = [:]
        var order: [String] = []
        for cell in cells where cell.maxULPsCase != nil {
            let key = "\(cell.kernel)|\(cell.function.rawValue)"
            if groups[key] == nil { order.append(key) }
            if groups[key].map({ cell.maxULPs > $0.maxULPs }) ?? true { groups[key] = cell }
        }
        for key in order {
            let cell = groups[key]!
            let k = configuration.kernels.first { $0.name == cell.kernel }!
            let cls = configuration.classes.first { $0.name == cell.inputClass }!
            let c = cls.makeCase(seed: configuration.seed, index: cell.maxULPsCase!, maxLength: configuration.maxLength)
            guard let (cf, expected) = try? cell.function.expected(for: k, on: c, reference: checker.reference),
                let o = try? checker.check(k, cell.function, cf, expected: expected), let i = o.worstElement
            else { continue }
            out.append(WorstCase(kernel: k.name, function: cell.function, inputClass: cls.name, caseIndex: cell.maxULPsCase!, input: cf, element: i,
                                 computed: o.output[i], reference: o.reference[i], ulps: o.maxULPs))
        }
        return out
    }
}

/// Fixed slots filled from worker threads.
final class ResultSlots<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [T?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: T) {
        lock.lock()
        slots[i] = value
        lock.unlock()
    }
    var all: [T] { slots.compactMap { $0 } }
}
