// Exhaustive sweeps of pairs: every pair (a, b) of float16 values through the kernels of two-logit
// softmax, logsumexp and cross-entropy that store float16, against the result correctly rounded in
// float16.
//
// The certified reference answers every pair without being called on every pair. For a fixed a each
// function is monotone in b (σ(a − b) and σ(b − a), log(e^a + e^b), softplus(b − a)), and rounding to
// nearest is monotone too, so when the correctly rounded outputs at two values of b agree bit for bit
// they hold for every b between: a bisection over the sorted values of b calls the reference only
// where an output changes. The error in ulps of an output that differs needs the exact value only to
// a fraction of an ulp; it comes from a binary64 evaluation, within 2^-28 of a float16 ulp (logsumexp
// near 0, where max + log1p(e^-|d|) cancels, is the worst case; the others are within 2^-37). Pairs with
// an infinite or NaN logit go to the reference one by one.
import Dispatch
import Foundation
import Kernels
import Reference

/// A run of failing pairs along one parameter of the pair.
public struct PairRange: Sendable, Equatable {
    /// The smallest and largest parameter value among the failing pairs of the run.
    public let lower: Double
    public let upper: Double
    public let failing: Int
    /// Pairs of the run's bins, failing or not: `failing == pairs` when every pair fails.
    public let pairs: Int
}

/// The pair with the largest error in ulps.
public struct PairWorst: Sendable, Equatable {
    public let a: Double
    public let b: Double
    public let output: [Double]
    public let reference: [Double]
}

/// One kernel's function over every pair of its storage format's values.
public struct PairSweepResult: Sendable {
    public let kernel: Kernel
    public let function: AuditFunction
    public let format: BinaryFormat
    public let pairs: Int
    /// Pairs of finite logits with an output that is not the correctly rounded value.
    public let misrounded: Int
    /// Pairs of finite logits whose error exceeds the bound, or with NaN or ±inf where the result is finite.
    public let failing: Int
    /// Pairs with an infinite or NaN logit whose output differs from the reference's limits.
    public let conventionDifferences: Int
    public let maxULPs: Double
    public let worst: PairWorst?
    public let maxBoundRatio: Double
    /// Maximal runs of a − b (binned by its float16 rounding) over which every pair fails.
    public let differenceRanges: [PairRange]
    /// Maximal runs of max(a, b) over which every pair fails.
    public let maximumRanges: [PairRange]
    /// The smallest and largest a − b of any failing pair.
    public let failingDifferences: PairRange?
}

/// A whole pair sweep: its results and what the reference did.
public struct PairSweepSummary: Sendable {
    public let results: [PairSweepResult]
    public let format: BinaryFormat
    /// Values of the format swept (both zeros, both infinities, one NaN); pairs are their square.
    public let values: Int
    /// Calls to the certified reference, per function.
    public let referenceCalls: [AuditFunction: Int]
}

public enum PairSweep {
    /// The functions of two logits a pair sweep covers (the cross-entropy with label 0, the target a).
    public static let functions: [AuditFunction] = [.softmax, .logSumExp, .crossEntropy]

    /// The format whose pairs are swept.
    public static let format = BinaryFormat.float16

    /// The kernels a pair sweep covers: those of the precision audit that store the format and compute
    /// one of the functions.
    public static var kernels: [Kernel] {
        Kernel.formatKernels.filter { k in
            k.precision.storage == format && functions.contains(where: k.implements)
        }
    }

    /// Sweeps every pair of values of `format` through each kernel's functions of `functions`, across
    /// `jobs` threads; `shard` (index, count) takes the pairs whose first logit has index ≡ index mod count.
    /// `values`, ascending as `Sweep.values` gives them, restricts the sweep to a subset (for tests).
    public static func run(
        _ kernels: [Kernel], jobs: Int, shard: (index: Int, count: Int) = (0, 1), values: [Double]? = nil
    ) -> PairSweepSummary {
        accumulate(kernels, jobs: jobs, shard: shard, values: values ?? Sweep.values(of: format)).summary()
    }

    /// The kernels of each function, in `functions`' order.
    static func groups(_ kernels: [Kernel]) -> [(AuditFunction, [Kernel])] {
        functions.map { f in (f, kernels.filter { $0.implements(f) }) }.filter { !$0.1.isEmpty }
    }

    static func accumulate(
        _ kernels: [Kernel], jobs: Int, shard: (index: Int, count: Int), values: [Double]
    ) -> PairAccumulators {
        let groups = groups(kernels)
        let outer = Array(stride(from: shard.index, to: values.count, by: shard.count))
        let workers = max(1, min(jobs, outer.count))
        let slots = ResultSlots<PairAccumulators>(count: workers)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var job = PairAccumulators(groups, values: values)
            var i = worker
            while i < outer.count {
                job.sweep(first: outer[i])
                i += workers
            }
            slots.set(worker, job)
        }
        var total = slots.all[0]
        for other in slots.all.dropFirst() { total.merge(other) }
        return total
    }
}

/// Failures binned along one parameter: per bin, the pairs, the failing pairs and the extent of the
/// failing pairs' parameter.
struct PairBins: Sendable {
    var failing: [Int]
    var lower: [Double]
    var upper: [Double]

    init(count: Int) {
        failing = Array(repeating: 0, count: count)
        lower = Array(repeating: .infinity, count: count)
        upper = Array(repeating: -.infinity, count: count)
    }

    mutating func add(_ bin: Int, _ value: Double) {
        failing[bin] += 1
        lower[bin] = Self.lesser(lower[bin], value)
        upper[bin] = -Self.lesser(-upper[bin], -value)
    }

    mutating func merge(_ o: PairBins) {
        for i in failing.indices where o.failing[i] > 0 {
            failing[i] += o.failing[i]
            lower[i] = Self.lesser(lower[i], o.lower[i])
            upper[i] = -Self.lesser(-upper[i], -o.upper[i])
        }
    }

    /// The lesser value, −0 below +0, so that the extents do not depend on the order pairs were seen in.
    static func lesser(_ a: Double, _ b: Double) -> Double {
        a < b || (a == b && a.sign == .minus) ? a : b
    }

    /// Maximal runs of bins in which every pair fails (bins with no pairs neither extend nor break a run).
    func everyPairRuns(_ totals: [Int]) -> [PairRange] {
        var runs: [PairRange] = []
        var current: (lower: Double, upper: Double, failing: Int)? = nil
        for i in 0...failing.count {
            if i < failing.count && totals[i] == 0 { continue }
            if i < failing.count && failing[i] == totals[i] {
                let c = current ?? (lower[i], upper[i], 0)
                current = (c.lower, upper[i], c.failing + failing[i])
            } else if let c = current {
                runs.append(PairRange(lower: c.lower, upper: c.upper, failing: c.failing, pairs: c.failing))
                current = nil
            }
        }
        return runs
    }

    /// The extent of every failing pair.
    func hull() -> PairRange? {
        let count = failing.reduce(0, +)
        guard count > 0 else { return nil }
        return PairRange(lower: lower.min()!, upper: upper.max()!, failing: count, pairs: count)
    }
}

/// One kernel × function's counts, mergeable across jobs in any order with the same result.
struct PairCounts: Sendable {
    var misrounded = 0
    var failing = 0
    var conventions = 0
    var maxULPs = 0.0
    var maxRatio = 0.0
    /// The worst pair and its indices in the sweep's value order (ties go to the first pair).
    var worst: (index: (Int, Int), value: PairWorst)? = nil
    var differences: PairBins
    var maxima: PairBins

    init(bins: Int, values: Int) {
        differences = PairBins(count: bins)
        maxima = PairBins(count: values)
    }

    mutating func consider(_ ulps: Double, _ index: (Int, Int), _ make: () -> PairWorst) {
        guard ulps.isFinite else { return }
        if let w = worst, ulps < maxULPs || (ulps == maxULPs && (w.index.0, w.index.1) < index) { return }
        maxULPs = ulps
        worst = (index, make())
    }

    mutating func merge(_ o: PairCounts) {
        misrounded += o.misrounded
        failing += o.failing
        conventions += o.conventions
        maxRatio = max(maxRatio, o.maxRatio)
        if let w = o.worst { consider(o.maxULPs, w.index) { w.value } }
        differences.merge(o.differences)
        maxima.merge(o.maxima)
    }
}

/// A job's share of a pair sweep. Each job owns its accumulators and their reference; after the job they
/// are only read, to be merged.
struct PairAccumulators: @unchecked Sendable {
    let groups: [(AuditFunction, [Kernel])]
    let values: [Double]
    /// The finite values are values[finite].
    let finite: Range<Int>
    var counts: [[PairCounts]]
    /// Pairs per bin of a − b and of max(a, b), finite pairs only.
    var differenceTotals: [Int]
    var maximumTotals: [Int]
    var referenceCalls: [Int]
    /// Pairs swept.
    var pairs = 0
    let reference = SoftmaxReference()
    /// Each kernel's function of a row, and the index of its bound formula and units in `judges` (kernels
    /// judged alike share a bound per pair).
    let rowFunctions: [[@Sendable ([Double], Int) -> [Double]]]
    let judgeIndex: [[Int]]
    let judges: [(formula: BoundFormula, units: Units)]
    /// Buffers reused from pair to pair: the reference's outputs per b, each b's bin of a − b, the bisection's
    /// pending intervals, the bounds of a pair, and the row handed to the kernels.
    var rounded: [Double]
    var bins: [Int]
    var pending: [(Int, Int)] = []
    var bounds: [ElementBound?]
    var row = [0.0, 0.0]

    /// Bins of a − b: its float16 rounding's ordinal, ±inf included.
    static let differenceBins = 2 * Int(PairSweep.format.ordinal(.infinity)) + 1

    init(_ groups: [(AuditFunction, [Kernel])], values: [Double]) {
        self.groups = groups
        self.values = values
        let first = values.firstIndex { $0.isFinite }!, last = values.lastIndex { $0.isFinite }!
        finite = first..<(last + 1)
        counts = groups.map { g in
            g.1.map { _ in PairCounts(bins: Self.differenceBins, values: values.count) }
        }
        differenceTotals = Array(repeating: 0, count: Self.differenceBins)
        maximumTotals = Array(repeating: 0, count: values.count)
        referenceCalls = Array(repeating: 0, count: groups.count)
        reference.format = PairSweep.format
        rowFunctions = groups.map { f, kernels in kernels.map { $0.rowFunction(f)! } }
        var judges: [(formula: BoundFormula, units: Units, storage: KernelPrecision)] = []
        judgeIndex = groups.map { f, kernels in
            kernels.map { k in
                let formula = k.bound(for: f)!, precision = k.precision.standard
                if let i = judges.firstIndex(where: { $0.formula == formula && $0.storage == precision }) { return i }
                judges.append((formula, Units(precision), precision))
                return judges.count - 1
            }
        }
        self.judges = judges.map { ($0.formula, $0.units) }
        rounded = Array(repeating: .nan, count: 2 * values.count)
        bins = Array(repeating: 0, count: values.count)
        bounds = Array(repeating: nil, count: judges.count)
    }

    static func differenceBin(_ d: Double) -> Int {
        Int(PairSweep.format.ordinal(PairSweep.format.round(d))) + differenceBins / 2
    }

    /// Every pair (values[ia], b).
    mutating func sweep(first ia: Int) {
        let a = values[ia]
        pairs += values.count
        if a.isFinite {
            for ib in finite {
                bins[ib] = Self.differenceBin(a - values[ib])
                differenceTotals[bins[ib]] += 1
                maximumTotals[max(ia, ib)] += 1
            }
        }
        for g in groups.indices {
            if a.isFinite { roundedOutputs(g, a) }
            for ib in values.indices {
                if a.isFinite && values[ib].isFinite {
                    finitePair(g, ia, ib)
                } else {
                    specialPair(g, a, values[ib])
                }
            }
        }
    }

    /// Outputs per pair of group g's function: two for softmax, one otherwise.
    func width(_ g: Int) -> Int { groups[g].0 == .softmax ? 2 : 1 }

    /// Fills `rounded` with the reference's outputs in the format for (a, b), every finite b, by bisection.
    mutating func roundedOutputs(_ g: Int, _ a: Double) {
        let f = groups[g].0, m = width(g)
        func evaluate(_ ib: Int) {
            referenceCalls[g] += 1
            // A pair of finite logits has a finite row and a valid label: the reference does not throw.
            let values = try! f.reference(reference, on: AuditCase([a, self.values[ib]], label: 0))
            for j in 0..<m { rounded[ib * m + j] = values[j].rounded }
        }
        func same(_ x: Int, _ y: Int) -> Bool {
            (0..<m).allSatisfy { rounded[x * m + $0].bitPattern == rounded[y * m + $0].bitPattern }
        }
        pending.removeAll(keepingCapacity: true)
        pending.append((finite.lowerBound, finite.upperBound - 1))
        evaluate(finite.lowerBound)
        evaluate(finite.upperBound - 1)
        while let (lo, hi) = pending.popLast() {
            if same(lo, hi) {
                for i in (lo + 1)..<hi {
                    for j in 0..<m { rounded[i * m + j] = rounded[lo * m + j] }
                }
            } else if hi - lo > 1 {
                let mid = (lo + hi) / 2
                evaluate(mid)
                pending.append((mid, hi))
                pending.append((lo, mid))
            }
        }
    }

    /// The exact outputs of f at (a, b) in binary64 (within 2^-28 of a float16 ulp; the second only for
    /// softmax), and l = logsumexp − max.
    @inline(__always)
    static func approximate(_ f: AuditFunction, _ a: Double, _ b: Double) -> (Double, Double, l: Double) {
        let d = a - b  // exact: float16 values are multiples of 2^-24 below 2^17
        let e = Foundation.exp(-d.magnitude)
        let l = Foundation.log1p(e)
        switch f {
        case .softmax:
            let larger = 1 / (1 + e), smaller = e / (1 + e)
            return d >= 0 ? (larger, smaller, l) : (smaller, larger, l)
        case .logSumExp: return (max(a, b) + l, 0, l)
        default: return (max(-d, 0) + l, 0, l)  // −log σ(d) = softplus(−d)
        }
    }

    /// Φ(v) − Φ(anchor) in the format's ulps, for v within an ulp of the rounded value.
    static func offset(_ v: Double, from rounded: Double) -> Double {
        let format = PairSweep.format
        let top = format.greatestFiniteMagnitude
        let anchor = rounded.isInfinite ? (rounded < 0 ? -top : top) : rounded
        var u = format.ulp(anchor)
        let powerOfTwo = anchor != 0 && anchor.significandBitPattern == 0
        if v.magnitude < anchor.magnitude && powerOfTwo && Int(anchor.exponent) > format.minExponent { u /= 2 }
        return (v - anchor) / u
    }

    mutating func finitePair(_ g: Int, _ ia: Int, _ ib: Int) {
        let f = groups[g].0, m = width(g)
        let a = values[ia], b = values[ib]
        let (v0, v1, l) = Self.approximate(f, a, b)
        let w = (a - b).magnitude
        for j in judges.indices { bounds[j] = nil }
        row[0] = a
        row[1] = b
        for k in rowFunctions[g].indices {
            let output = rowFunctions[g][k](row, 0)
            let judge = judgeIndex[g][k]
            let bound =
                bounds[judge]
                ?? ErrorBounds.rowBound(judges[judge].formula, n: 2, w: w, l: l, units: judges[judge].units)!
            bounds[judge] = bound
            var worstULPs = 0.0, ratio = 0.0
            var wrong = false, fails = false, measured = false
            for j in 0..<m {
                let c = output[j], r = rounded[ib * m + j], exact = j == 0 ? v0 : v1
                let offset = Self.offset(exact, from: r)
                if c.bitPattern == r.bitPattern {
                    measured = true
                    if r.isFinite {
                        worstULPs = max(worstULPs, offset.magnitude)
                        ratio = max(ratio, (exact - r).magnitude / bound.allowance(r.magnitude))
                    }
                    continue
                }
                let e = ElementError(
                    computed: c, reference: ReferenceValue(rounded: r, ulpOffset: offset).tagged(PairSweep.format))
                if !e.isCorrectlyRounded { wrong = true }
                if let special = e.special, special != .wrongSignOfZero {
                    fails = true  // the pair's other outputs still count toward the largest error
                    continue
                }
                measured = true
                worstULPs = max(worstULPs, e.ulps)
                let q = e.absolute == 0 ? 0 : e.absolute / bound.allowance(r.magnitude)
                ratio = max(ratio, q)
                if q > 1 { fails = true }
            }
            if wrong { counts[g][k].misrounded += 1 }
            counts[g][k].maxRatio = max(counts[g][k].maxRatio, ratio)
            if measured && worstULPs >= counts[g][k].maxULPs {
                let reference = (0..<m).map { rounded[ib * m + $0] }
                counts[g][k].consider(worstULPs, (ia, ib)) {
                    PairWorst(a: a, b: b, output: output, reference: reference)
                }
            }
            if fails {
                counts[g][k].failing += 1
                counts[g][k].differences.add(bins[ib], a - b)
                counts[g][k].maxima.add(max(ia, ib), max(a, b))
            }
        }
    }

    /// A pair with an infinite or NaN logit: the reference's limits are a convention.
    mutating func specialPair(_ g: Int, _ a: Double, _ b: Double) {
        let (f, kernels) = groups[g]
        referenceCalls[g] += 1
        // Rows of infinities and NaNs are defined by the reference's conventions; it does not throw on them.
        let expected = try! f.reference(reference, on: AuditCase([a, b], label: 0))
        for k in kernels.indices {
            let output = rowFunctions[g][k]([a, b], 0)
            let same = zip(output, expected).allSatisfy { c, r in
                c.bitPattern == r.rounded.bitPattern || (c.isNaN && r.kind == .undefined)
            }
            if !same { counts[g][k].conventions += 1 }
        }
    }

    mutating func merge(_ o: PairAccumulators) {
        for g in counts.indices {
            for k in counts[g].indices { counts[g][k].merge(o.counts[g][k]) }
            referenceCalls[g] += o.referenceCalls[g]
        }
        pairs += o.pairs
        for i in differenceTotals.indices { differenceTotals[i] += o.differenceTotals[i] }
        for i in maximumTotals.indices { maximumTotals[i] += o.maximumTotals[i] }
    }

    func summary() -> PairSweepSummary {
        var results: [PairSweepResult] = []
        var calls: [AuditFunction: Int] = [:]
        for (g, (f, kernels)) in groups.enumerated() {
            calls[f] = referenceCalls[g]
            for (k, kernel) in kernels.enumerated() {
                let c = counts[g][k]
                results.append(
                    PairSweepResult(
                        kernel: kernel, function: f, format: PairSweep.format, pairs: pairs,
                        misrounded: c.misrounded, failing: c.failing, conventionDifferences: c.conventions,
                        maxULPs: c.maxULPs, worst: c.worst?.value, maxBoundRatio: c.maxRatio,
                        differenceRanges: c.differences.everyPairRuns(differenceTotals),
                        maximumRanges: c.maxima.everyPairRuns(maximumTotals),
                        failingDifferences: c.differences.hull()))
            }
        }
        return PairSweepSummary(
            results: results, format: PairSweep.format, values: values.count, referenceCalls: calls)
    }
}
