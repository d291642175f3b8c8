// The hunt: an error-maximising search for one kernel's functions. Each function's budget is split among
// islands, independent searches seeded from (seed, kernel, function, island): an island first samples
// structured random rows (HuntMoves), then keeps its best rows and changes them by the moves, keeping what
// raises error / bound. Islands run in parallel and are merged in island order, so the result depends on
// the seed and the budget, not on the threads; with --shard K/N a process runs the islands whose index is
// K − 1 modulo N. A failure found is walked outward along each axis (FailingRanges) and shrunk.
import Dispatch
import Foundation
import Kernels
import Reference

public struct HuntConfiguration: Sendable {
    /// Evaluations per kernel × function unless told otherwise.
    public static let defaultEvaluations = 4_000
    /// The longest row the moves make (the functions' own caps apply: the Jacobian's 64, …): past the
    /// default audit's 16,384, so that flaws of long rows are within reach.
    public static let defaultMaxLength = 1 << 17
    public static let defaultIslands = 4

    public var seed: UInt64 = AuditConfiguration.defaultSeed
    public var evaluations = defaultEvaluations
    /// A wall-clock cap per kernel × function: the hunt stops early (and is then not reproducible).
    public var seconds: Double? = nil
    public var maxLength = defaultMaxLength
    public var islands = defaultIslands
    public var jobs = ProcessInfo.processInfo.activeProcessorCount
    /// Evaluations allowed for shrinking each reported row.
    public var shrinkBudget = 150
    /// Called with (done, total) kernel × function hunts.
    public var progress: (@Sendable (Int, Int) -> Void)? = nil
    /// Asked before each evaluation: true stops the hunt where it is (a worker past its restarts).
    public var stop: (@Sendable () -> Bool)? = nil

    public init() {}
}

/// One evaluated input.
public struct HuntSample: Sendable {
    /// The input as the kernel saw it (rounded to its storage format).
    public var input: AuditCase
    /// The largest error / bound (or / the ulp cap); infinity for a special value where the reference is
    /// finite (or the reverse).
    public var ratio: Double
    public var ulps: Double
    /// The failure of the most important kind (the bound, special values, then properties), when it failed.
    public var failure: CaseFailure?
    /// The output element with the largest ULP error.
    public var element: Int?
    /// When it was found: the evaluation's index in the merged order (island-interleaved).
    public var evaluation: Int
    /// The largest closed-form condition number of the function's outputs on the input (computed for the
    /// samples a hunt keeps, not for every evaluation: NaN until then).
    public var condition: Double

    public var failed: Bool { failure != nil }

    /// Ordered by error / bound, then ULPs.
    public func beats(_ other: HuntSample) -> Bool {
        ratio != other.ratio ? ratio > other.ratio : ulps > other.ulps
    }

    /// Whether only a property failed (the measured error is within the bound).
    var onlyPropertyFailed: Bool {
        if case .property = failure?.kind { return true }
        return false
    }

    /// Among failures: an error beyond the bound before a property alone, then by `beats`.
    func failsWorse(_ other: HuntSample) -> Bool {
        onlyPropertyFailed != other.onlyPropertyFailed ? !onlyPropertyFailed : beats(other)
    }
}

/// One island's search.
struct IslandOutcome: Sendable {
    var evaluations = 0
    var skipped = 0
    var best: HuntSample? = nil
    var bestULPs: HuntSample? = nil
    var worstFailure: HuntSample? = nil
    var firstFailure: Int? = nil
    /// (merged evaluation index, ratio) each time the island's best rose.
    var improvements: [(Int, Double)] = []
    var improvingMoves: [String: Int] = [:]
}

/// The hunt of one kernel's function.
public struct HuntTarget: Sendable {
    public let kernel: String
    public let function: AuditFunction
    public let bound: BoundFormula
    public let expectation: Expectation
    public var evaluations = 0
    /// Candidates the function does not take (or on which the reference declined), not counted as evaluations.
    public var skipped = 0
    /// The input with the largest error / bound.
    public var worst: HuntSample? = nil
    public var worstULPs: HuntSample? = nil
    /// The worst failing input (an error beyond the bound first, a property alone last): the one shrunk and
    /// walked.
    public var worstFailure: HuntSample? = nil
    /// The evaluation at which the first failure was found (nil: none).
    public var firstFailure: Int? = nil
    /// The largest error / bound so far, after each evaluation at which it rose.
    public var growth: [(evaluation: Int, ratio: Double)] = []
    /// Which moves made an island's best rise, and how often (random rows count as "random").
    public var improvingMoves: [(String, Int)] = []
    /// The worst failing input shrunk, and its failure there.
    public var shrunk: AuditCase? = nil
    public var shrunkDetail = ""
    public var ranges: [FailingRange] = []
    public var seconds = 0.0

    public var failed: Bool { worstFailure != nil }
}

public struct HuntResult: Sendable {
    public let configuration: HuntConfiguration
    public let kernels: [Kernel]
    public let targets: [HuntTarget]
    public let seconds: Double
    /// Each target's index among every kernel × function of the hunt (all of them unless sharded).
    public var indices: [Int] = []

    /// The accurate kernels' functions that the hunt made fail.
    public var falseAlarms: [HuntTarget] { targets.filter { $0.expectation.isAccurate && $0.failed } }
}

public enum Hunt {
    /// Hunts every function of every kernel (or those in `functions`); with `shard` (K, N), only the
    /// kernel × function targets whose index is K − 1 modulo N.
    public static func run(
        _ kernels: [Kernel], functions: [AuditFunction]? = nil, shard: (Int, Int)? = nil,
        _ configuration: HuntConfiguration
    ) -> HuntResult {
        let start = ContinuousClock.now
        var jobs: [(Int, Kernel, AuditFunction)] = []
        var index = 0
        for k in kernels {
            for f in k.functions where functions?.contains(f) ?? true {
                if shard.map({ index % $0.1 == $0.0 - 1 }) ?? true { jobs.append((index, k, f)) }
                index += 1
            }
        }
        var targets: [HuntTarget] = []
        for (i, (_, k, f)) in jobs.enumerated() where !(configuration.stop?() ?? false) {
            targets.append(hunt(k, f, configuration))
            configuration.progress?(i + 1, jobs.count)
        }
        var result = HuntResult(
            configuration: configuration, kernels: kernels, targets: targets,
            seconds: AuditEngine.seconds(ContinuousClock.now - start))
        result.indices = jobs.map(\.0)
        return result
    }

    /// Hunts one function of one kernel: the islands, then the ranges and the shrunk row of a failure.
    public static func hunt(_ k: Kernel, _ f: AuditFunction, _ configuration: HuntConfiguration) -> HuntTarget {
        let start = ContinuousClock.now
        let islands = max(1, configuration.islands)
        let space = HuntSpace(
            function: f, format: k.precision.storage, maxLength: configuration.maxLength, seed: configuration.seed)
        let outcomes = ResultSlots<IslandOutcome>(count: islands)
        let deadline = configuration.seconds.map { ContinuousClock.now + .milliseconds(Int($0 * 1000)) }
        let workers = max(1, min(configuration.jobs, islands))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let checker = CaseChecker()
            var island = worker
            while island < islands {
                let share = configuration.evaluations / islands + (island < configuration.evaluations % islands ? 1 : 0)
                outcomes.set(
                    island,
                    search(
                        k, f, space, island: island, of: islands, budget: share, seed: configuration.seed,
                        deadline: deadline, stop: configuration.stop, checker: checker))
                island += workers
            }
        }
        var target = merge(outcomes.all, kernel: k, function: f)
        if configuration.stop?() ?? false {
            target.seconds = AuditEngine.seconds(ContinuousClock.now - start)
            return target
        }
        if let worst = target.worstFailure, let failure = worst.failure {
            // Shrunk first, so that the walks start from the simplest failing row (one trigger, not several).
            let checker = CaseChecker()
            let shrinker = Shrinker(checker: checker, budget: configuration.shrinkBudget)
            // Without a shared offset when it still fails: a row at 2^52 quantizes the lead to integers.
            let centred = HuntMoves.withMaximum(worst.input, at: 0)
            let centredFails = centred != worst.input && checker.failureKinds(k, f, centred).contains(failure.kind)
            let minimal = shrinker.shrink(k, f, failure.kind, centredFails ? centred : worst.input).minimal
            target.shrunk = minimal
            target.shrunkDetail = AuditEngine.minimalDetail(checker, k, f, failure.kind, minimal)
            let start = evaluate(k, f, minimal, checker: checker, index: 0) ?? worst
            let walk = FailingRanges(kernel: k, function: f, kind: failure.kind, space: space, checker: checker)
            target.ranges = walk.ranges(around: start)
            for i in target.ranges.indices {
                let range = target.ranges[i]
                target.ranges[i].lowEdge = range.lowEdge.map {
                    shrinker.shrink(k, f, failure.kind, $0, keep: range.keeps($0)).minimal
                }
                target.ranges[i].highEdge = range.highEdge.map {
                    shrinker.shrink(k, f, failure.kind, $0, keep: range.keeps($0)).minimal
                }
            }
        }
        target.seconds = AuditEngine.seconds(ContinuousClock.now - start)
        return target
    }

    /// Elite rows an island keeps.
    static let eliteSize = 8
    /// The share of an island's budget spent on random rows before any move, and the chance of a random row
    /// afterwards.
    static let exploreFirst = 0.25
    static let exploreLater = 0.4

    static func search(
        _ k: Kernel, _ f: AuditFunction, _ space: HuntSpace, island: Int, of islands: Int, budget: Int,
        seed: UInt64, deadline: ContinuousClock.Instant?, stop: (@Sendable () -> Bool)?, checker: CaseChecker
    ) -> IslandOutcome {
        var rng = AuditRandom(seed: seed, stream: "hunt \(k.name) \(f.rawValue)", index: island)
        var outcome = IslandOutcome()
        var elite: [HuntSample] = []
        var attempts = 0
        var draws = 0
        while outcome.evaluations < budget && attempts < budget * 4 {
            if let deadline, ContinuousClock.now > deadline { break }
            if stop?() ?? false { break }
            attempts += 1
            let explore =
                Double(outcome.evaluations) < Double(budget) * exploreFirst || elite.isEmpty
                || rng.unit() < exploreLater
            let candidate: AuditCase
            var moves: [HuntMoves.Move] = []
            if explore {
                draws += 1
                candidate = HuntMoves.randomCase(space, &rng, draw: draws * islands + island)
            } else {
                let parent = elite[min(rng.int(0...(elite.count - 1)), rng.int(0...(elite.count - 1)))]
                (candidate, moves) = HuntMoves.mutate(parent.input, space, &rng)
            }
            let index = outcome.evaluations * islands + island
            guard let sample = evaluate(k, f, candidate, checker: checker, index: index) else {
                outcome.skipped += 1
                continue
            }
            outcome.evaluations += 1
            if sample.failed && outcome.firstFailure == nil { outcome.firstFailure = index }
            if sample.failed && (outcome.worstFailure.map(sample.failsWorse) ?? true) { outcome.worstFailure = sample }
            if outcome.bestULPs.map({ sample.ulps > $0.ulps }) ?? true { outcome.bestULPs = sample }
            if outcome.best.map(sample.beats) ?? true {
                outcome.best = sample
                outcome.improvements.append((index, sample.ratio))
                let name = moves.isEmpty ? "random" : moves.map(\.rawValue).joined(separator: "+")
                outcome.improvingMoves[name, default: 0] += 1
            }
            if elite.count < eliteSize || sample.beats(elite[elite.count - 1]) {
                if !elite.contains(where: { $0.input == sample.input }) {
                    elite.append(sample)
                    elite.sort { $0.beats($1) }
                    if elite.count > eliteSize { elite.removeLast() }
                }
            }
        }
        return outcome
    }

    /// Checks k's f on a case; nil when the function does not take it or the reference declined.
    static func evaluate(
        _ k: Kernel, _ f: AuditFunction, _ c: AuditCase, checker: CaseChecker, index: Int
    ) -> HuntSample? {
        guard f.applies(to: c), let (cf, expected) = try? f.expected(for: k, on: c, reference: checker.reference),
            f.applies(to: cf), let o = try? checker.check(k, f, cf, expected: expected)
        else { return nil }
        let failure = o.failures.min { $0.kind < $1.kind }
        let special = o.failures.contains { if case .specialValue = $0.kind { return true } else { return false } }
        let ratio = special ? .infinity : o.maxBoundRatio
        return HuntSample(
            input: cf, ratio: ratio, ulps: o.maxULPs, failure: failure, element: o.worstElement, evaluation: index,
            condition: .nan)
    }

    /// The islands' outcomes as one target: the best over islands (the earlier evaluation on a tie), the
    /// growth in the merged order.
    static func merge(_ islands: [IslandOutcome], kernel k: Kernel, function f: AuditFunction) -> HuntTarget {
        var target = HuntTarget(
            kernel: k.name, function: f, bound: k.bound(for: f) ?? BoundFormula.standard(for: f),
            expectation: k.expectation)
        var moves: [String: Int] = [:]
        var improvements: [(Int, Double)] = []
        for o in islands {
            target.evaluations += o.evaluations
            target.skipped += o.skipped
            if let b = o.best,
                target.worst.map({ b.beats($0) || (!$0.beats(b) && b.evaluation < $0.evaluation) }) ?? true
            {
                target.worst = b
            }
            if let b = o.bestULPs, target.worstULPs.map({ b.ulps > $0.ulps }) ?? true { target.worstULPs = b }
            if let b = o.worstFailure, target.worstFailure.map({ b.failsWorse($0) }) ?? true { target.worstFailure = b }
            if let first = o.firstFailure { target.firstFailure = min(target.firstFailure ?? first, first) }
            improvements += o.improvements
            for (name, count) in o.improvingMoves { moves[name, default: 0] += count }
        }
        // The condition numbers of the samples reported, once each.
        if let s = target.worst { target.worst?.condition = ConditionNumbers.largest(f, s.input) }
        if let s = target.worstULPs { target.worstULPs?.condition = ConditionNumbers.largest(f, s.input) }
        if let s = target.worstFailure { target.worstFailure?.condition = ConditionNumbers.largest(f, s.input) }
        var best = -1.0
        for (index, ratio) in improvements.sorted(by: { $0.0 < $1.0 }) where ratio > best {
            best = ratio
            target.growth.append((index, ratio))
        }
        target.improvingMoves = moves.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { ($0.key, $0.value) }
        return target
    }
}
