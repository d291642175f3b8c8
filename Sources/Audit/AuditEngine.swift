// The audit engine: every selected kernel's functions over every selected class's cases, checked
// against the certified reference, aggregated per kernel × function × class, the first failure of
// each kind shrunk. Cases are generated from (seed, class, index) and results merged in that order,
// so the result is the same whatever the number of jobs.
import Dispatch
import Foundation
import Kernels
import Reference

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
    /// The kernel's position in the configuration's list.
    let kernelIndex: Int
    let function: AuditFunction
    let outcome: CaseOutcome
    var referenceError: String? = nil
    /// How the reference answered this function's call on the case (on the first kernel's outcome only).
    var referencePath: FastPathCounts? = nil

    enum CodingKeys: String, CodingKey {
        case kernelIndex = "kernel", function, outcome, referenceError, referencePath
    }
}

public enum AuditEngine {
    /// Audits the configuration's kernels over its classes.
    /// - Precondition: kernel names are distinct, and so are class names (cells are keyed by them).
    public static func run(_ configuration: AuditConfiguration) -> AuditResult {
        precondition(
            Set(configuration.kernels.map(\.name)).count == configuration.kernels.count,
            "two kernels of the configuration have one name")
        precondition(
            Set(configuration.classes.map(\.name)).count == configuration.classes.count,
            "two classes of the configuration have one name")
        let start = ContinuousClock.now
        let (items, workers, reference) = evaluateItems(configuration, shard: nil)
        return assemble(configuration, items: items, start: start, workerSeconds: workers, referenceSeconds: reference)
    }

    /// Evaluates every case (or, with `shard` = (k, n), those whose index i has i mod n = k − 1), in
    /// parallel; returns the outcomes by case index (empty for cases of other shards).
    static func evaluateItems(
        _ configuration: AuditConfiguration, shard: (Int, Int)?
    ) -> ([[ItemOutcome]], Double, Double) {
        let classes = configuration.classes
        let kernels = configuration.kernels
        let n = configuration.casesPerClass
        let total = classes.count * n
        let store = ItemStore(count: total)
        let mine = (0..<total).filter { shard == nil || $0 % shard!.1 == shard!.0 - 1 }
        let jobs = max(1, configuration.jobs)
        let prefetching = kernels.contains { $0.prefetch != nil }
        @Sendable func makeCase(_ position: Int) -> AuditCase {
            let item = mine[position]
            return classes[item / n].makeCase(
                seed: configuration.seed, index: item % n, maxLength: configuration.maxLength)
        }
        DispatchQueue.concurrentPerform(iterations: jobs) { worker in
            let checker = CaseChecker()
            checker.reference.fastPath = configuration.referencePath
            let workerStart = ContinuousClock.now
            var referenceTime = Duration.zero
            var position = worker
            var block: [Int: AuditCase] = [:]  // the cases of the block told to the kernels that prefetch
            while position < mine.count {
                let item = mine[position]
                if prefetching && block[position] == nil {
                    block = nextBlock(from: position, step: jobs, count: mine.count, makeCase)
                    prefetch(block.keys.sorted().map { block[$0]! }, kernels)
                }
                let c = block.removeValue(forKey: position) ?? makeCase(position)
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
    static func assemble(
        _ configuration: AuditConfiguration, items: [[ItemOutcome]], start: ContinuousClock.Instant,
        workerSeconds: Double, referenceSeconds: Double
    ) -> AuditResult {
        let classes = configuration.classes
        let kernels = configuration.kernels
        let n = configuration.casesPerClass
        let shrinkStart = ContinuousClock.now
        var cells: [CellKey: AuditCell] = [:]
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
                let key = CellKey(kernel: kernels[o.kernelIndex].name, function: o.function, inputClass: className)
                // In place: a copy taken out of the dictionary would copy the cell's per-case arrays every case.
                merge(o.outcome, index: index, into: &cells[key, default: AuditCell(key)])
            }
        }
        // Cells in report order: kernel, function, class.
        var ordered: [AuditCell] = []
        for k in kernels {
            for f in k.functions {
                for cls in classes {
                    if let cell = cells[CellKey(kernel: k.name, function: f, inputClass: cls.name)] {
                        ordered.append(cell)
                    }
                }
            }
        }
        let shrunk = shrinkFailures(ordered, configuration)
        let worst = worstCases(ordered, configuration)
        let timing = AuditTiming(
            wall: seconds(ContinuousClock.now - start), workers: workerSeconds, reference: referenceSeconds,
            shrinking: seconds(ContinuousClock.now - shrinkStart))
        return AuditResult(
            seed: configuration.seed, casesPerClass: n, maxLength: configuration.maxLength, kernels: kernels,
            classes: classes,
            cells: ordered, shrunk: shrunk, worst: worst, referenceErrors: referenceErrors, rowsEvaluated: rows,
            referencePath: zip(classes, paths).map { ($0.name, $1) }, timing: timing)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// Cases a block of one job's positions holds at most, and logits.
    static let prefetchCases = 1_024
    static let prefetchLogits = 1 << 20

    /// The cases at positions from, from + step, … up to `prefetchCases` of them or `prefetchLogits` logits.
    static func nextBlock(
        from position: Int, step: Int, count: Int, _ makeCase: (Int) -> AuditCase
    ) -> [Int: AuditCase] {
        var block: [Int: AuditCase] = [:]
        var logits = 0
        var p = position
        while p < count && block.count < prefetchCases && logits < prefetchLogits {
            let c = makeCase(p)
            logits += c.rows.reduce(0) { $0 + $1.count }
            block[p] = c
            p += step
        }
        return block
    }

    /// Tells each kernel that prefetches every call its check of these cases will make, in the order the
    /// checks make them (as `evaluate` and `CaseChecker.check` do).
    static func prefetch(_ cases: [AuditCase], _ kernels: [Kernel]) {
        for k in kernels {
            guard let prefetch = k.prefetch else { continue }
            var calls: [(AuditFunction, AuditCase)] = []
            for c in cases {
                let cf = c.rounded(to: k.precision.storage)
                for f in k.functions where f.applies(to: cf) {
                    calls.append((f, cf))
                    calls += Properties.calls(k, f, cf)
                }
            }
            prefetch(calls)
        }
    }

    static func evaluate(
        _ c: AuditCase, _ kernels: [Kernel], _ checker: CaseChecker, referenceTime: inout Duration
    ) -> [ItemOutcome] {
        var out: [ItemOutcome] = []
        // Kernels see the case in their storage format and are judged against the reference in it.
        var formats: [BinaryFormat] = []
        for k in kernels where !formats.contains(k.precision.storage) { formats.append(k.precision.storage) }
        for format in formats {
            let cf = c.rounded(to: format)
            checker.reference.format = format
            defer { checker.reference.format = .double }
            for f in AuditFunction.allCases where f.applies(to: cf) {
                let users = kernels.indices.filter {
                    kernels[$0].implements(f) && kernels[$0].precision.storage == format
                }
                guard !users.isEmpty else { continue }
                let expected: [ReferenceValue]
                let clock = ContinuousClock.now
                let countsBefore = checker.reference.fastPathCounts
                do {
                    expected = try f.reference(checker.reference, on: cf)
                    referenceTime += ContinuousClock.now - clock
                } catch {
                    out.append(
                        ItemOutcome(
                            kernelIndex: users[0], function: f, outcome: CaseOutcome(), referenceError: "\(error)",
                            referencePath: checker.reference.fastPathCounts - countsBefore))
                    continue
                }
                let counts = checker.reference.fastPathCounts - countsBefore
                for ki in users {
                    do {
                        if var outcome = try checker.check(kernels[ki], f, cf, expected: expected) {
                            outcome.output = []
                            outcome.reference = []
                            out.append(
                                ItemOutcome(
                                    kernelIndex: ki, function: f, outcome: outcome,
                                    referencePath: ki == users[0] ? counts : nil))
                        }
                    } catch {
                        out.append(
                            ItemOutcome(
                                kernelIndex: ki, function: f, outcome: CaseOutcome(), referenceError: "\(error)",
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
        cell.maxTextbookRatio = max(cell.maxTextbookRatio, o.maxTextbookRatio)
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
        var seen = Set<FailureKey>()
        for cell in cells {
            for kind in cell.firstFailure.keys.sorted() {
                let key = FailureKey(kernel: cell.kernel, function: cell.function, kind: kind)
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
                results.set(
                    j,
                    ShrunkFailure(
                        kernel: k.name, function: job.cell.function, kind: job.kind, inputClass: cls.name,
                        caseIndex: job.index,
                        detail: job.detail, original: c, minimal: r.minimal, minimalDetail: detail,
                        evaluations: r.evaluations))
                j += workers
            }
        }
        return results.all
    }

    static func minimalDetail(
        _ checker: CaseChecker, _ k: Kernel, _ f: AuditFunction, _ kind: FailureKind, _ c: AuditCase
    ) -> String {
        guard let (cf, expected) = try? f.expected(for: k, on: c, reference: checker.reference),
            let o = try? checker.check(k, f, cf, expected: expected)
        else { return "" }
        return o.failures.first { $0.kind == kind }?.detail ?? ""
    }

    /// The case with the largest ULP error of each kernel × function (over classes), recomputed.
    static func worstCases(_ cells: [AuditCell], _ configuration: AuditConfiguration) -> [WorstCase] {
        let checker = CaseChecker()
        var out: [WorstCase] = []
        struct KernelFunction: Hashable { let kernel: String; let function: AuditFunction }
        var groups: [KernelFunction: AuditCell] = [:]
        var order: [KernelFunction] = []
        for cell in cells where cell.maxULPsCase != nil {
            let key = KernelFunction(kernel: cell.kernel, function: cell.function)
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
            out.append(
                WorstCase(
                    kernel: k.name, function: cell.function, inputClass: cls.name, caseIndex: cell.maxULPsCase!,
                    input: cf, element: i,
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
