// The checks of one kernel's function on one case: error against the certified reference, the
// algorithm's bound, special values, and the reference-free properties.
import Kernels
import Reference

/// Which check failed; also the key under which failures are shrunk and reported.
public enum FailureKind: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Measured error above the algorithm's bound on a finite row.
    case boundExceeded
    /// NaN or inf where the result is finite (or the reverse) on a row of finite logits.
    case specialValue(SpecialValueVerdict)
    /// Measured error above the textbook algorithm's bound too (judged for kernels with tiers only).
    case textbookExceeded
    /// A reference-free property.
    case property(Property)

    public var description: String {
        switch self {
        case .boundExceeded: return "bound exceeded"
        case .specialValue(let v): return "special value: \(v.rawValue)"
        case .textbookExceeded: return "beyond the textbook bound"
        case .property(let p): return "property: \(p.rawValue)"
        }
    }

    var order: Int {
        switch self {
        case .boundExceeded: return 0
        case .specialValue(let v): return 1 + SpecialValueVerdict.allCases.firstIndex(of: v)!
        case .textbookExceeded: return 50
        case .property(let p): return 100 + Property.allCases.firstIndex(of: p)!
        }
    }

    public static func < (a: Self, b: Self) -> Bool { a.order < b.order }
}

/// One failure on one case, with what was seen.
public struct CaseFailure: Sendable, Equatable, Codable {
    public let kind: FailureKind
    public let detail: String
}

/// The outcome of one kernel × function × case.
public struct CaseOutcome: Sendable {
    /// Largest ULP error among elements without a special-value verdict, and where.
    public var maxULPs: Double = 0
    public var worstElement: Int? = nil
    public var elements = 0
    public var correctlyRounded = 0
    public var bitsSum = 0.0
    /// Largest measured error / bound allowance (finite rows).
    public var maxBoundRatio = 0.0
    /// Largest measured error / the textbook algorithm's bound, for kernels judged in tiers (finite rows).
    public var maxTextbookRatio = 0.0
    /// Special-value verdicts on rows with non-finite logits: convention differences, not failures.
    public var conventionDifferences = 0
    /// Zeros of the wrong sign (reported, not failed: both zeros compare equal).
    public var wrongSignZeros = 0
    public var failures: [CaseFailure] = []
    /// The computed output and the reference, kept for the report's worst cases.
    public var output: [Double] = []
    public var reference: [ReferenceValue] = []
    /// Finite per-element ULP errors by histogram bin (ULPBins), and how many there are.
    public var histogram = [Int](repeating: 0, count: ULPBins.count)
    public var finiteULPCount = 0
    /// The case's row length (for the error-against-bound figure).
    public var rowLength = 0
}

/// Runs the checks, sharing the reference values and bounds of a case across kernels.
public final class CaseChecker {
    let reference: SoftmaxReference
    private var boundCache: [BoundKey: [ElementBound]] = [:]
    private struct BoundKey: Hashable {
        let formula: BoundFormula
        let precision: KernelPrecision
    }
    private var cachedCase: AuditCase? = nil
    /// The row's order for the order properties, sorted once per row.
    private let rowOrder = RowOrder()
    /// Time spent evaluating bounds (which ask the reference for logsumexp, p and the VJP).
    private var boundTime = Duration.zero

    /// The bound-evaluation time since the last call.
    func takeBoundTime() -> Duration {
        defer { boundTime = .zero }
        return boundTime
    }

    public init(reference: SoftmaxReference = SoftmaxReference()) { self.reference = reference }

    /// Checks kernel k's function f on case c against `expected` (the reference for f on c).
    public func check(
        _ k: Kernel, _ f: AuditFunction, _ c: AuditCase, expected: [ReferenceValue]
    ) throws -> CaseOutcome? {
        guard let output = k.output(f, on: c), let formula = k.bound(for: f) else { return nil }
        if cachedCase != c {
            boundCache = [:]
            cachedCase = c
        }
        var outcome = CaseOutcome()
        outcome.rowLength = c.row.count
        outcome.output = output
        outcome.reference = expected
        guard output.count == expected.count else {
            outcome.failures.append(
                CaseFailure(
                    kind: .specialValue(.nanForNumber),
                    detail: "the kernel returned \(output.count) values, the reference \(expected.count)"))
            return outcome
        }
        // A masked row is judged on its unmasked part, the masked positions exactly (MaskedRows.swift).
        let mask = MaskedRow(f, c)
        let judged = mask?.unmasked ?? c
        let judgedExpected = mask?.unmaskedValues(expected, count: c.row.count) ?? expected
        let n = c.row.count, perLogit = expected.count == n
        // The masked positions are judged exactly: 0 (or −inf for log-softmax), with no allowance.
        let exact = ElementBound(relative: 0, absolute: 0)
        let bounds = try elementBounds(formula, k.precision.standard, judged, judgedExpected).map {
            mask?.wholeRow($0, count: n, perLogit: perLogit, masked: exact) ?? $0
        }
        var textbook: [Double]? = nil
        if k.judging.tiers, k.judging.maxULPs == nil, bounds != nil {
            let algorithm = try ErrorBounds.textbookAllowances(
                f, case: judged, reference: reference, units: ErrorBounds.textbookUnits(f, k.precision.standard))
            let stored = try ErrorBounds.storedIntermediateAllowances(
                f, case: judged, expected: judgedExpected, reference: reference, precision: k.precision.standard)
            if let algorithm, let stored {
                textbook = zip(algorithm, stored).map { $0 + $1 }
            } else {
                textbook = algorithm ?? stored
            }
            textbook = textbook.map { mask?.wholeRow($0, count: n, perLogit: perLogit, masked: 0) ?? $0 }
        }
        measure(k, c, output, expected, bounds, formula, textbook: textbook, masked: mask != nil, into: &outcome)
        // The softmax bound that judges this kernel, for the tolerances of the softmax properties.
        var softmaxBound = PropertyTolerances.standardSoftmax(c.row, Units(k.precision.standard))
        if f == .softmax, let bounds { softmaxBound = bounds.map(\.relative).max() ?? softmaxBound }
        for p in Properties.failures(k, f, c, output: output, softmaxBound: softmaxBound, order: rowOrder)
            + Properties.metamorphicFailures(k, f, c, output: output, softmaxBound: softmaxBound)
        {
            outcome.failures.append(CaseFailure(kind: .property(p.property), detail: p.detail))
        }
        return outcome
    }

    /// The per-element bounds of `formula` on a finite case whose reference is finite (nil otherwise; a masked
    /// row's unmasked part is such a case), shared by the kernels of one precision.
    private func elementBounds(
        _ formula: BoundFormula, _ precision: KernelPrecision, _ c: AuditCase,
        _ expected: [ReferenceValue]
    ) throws -> [ElementBound]? {
        // Attention's rows may mask keys with −inf logits; any other non-finite input is a convention case.
        let judged = formula.function.shape.isAttention ? !formula.function.isConventionCase(c) : c.isFinite
        // The partial states' empty blocks are (−inf, 0) exactly, judged with no allowance.
        let states = formula.function == .attentionStates
        // (A block's logsumexp that overflows the format is judged too: by its own block's bound.)
        let measurable: (ReferenceValue) -> Bool = {
            ($0.kind == .real && ($0.rounded.isFinite || states)) || (states && $0.kind == .infinity)
        }
        guard judged && expected.allSatisfy(measurable) else {
            return nil
        }
        let key = BoundKey(formula: formula, precision: precision)
        if let cached = boundCache[key] { return cached }
        let clock = ContinuousClock.now
        let bounds = try ErrorBounds.bounds(formula, case: c, reference: reference, units: Units(precision))
        boundTime += ContinuousClock.now - clock
        boundCache[key] = bounds
        return bounds
    }

    /// Measures every element against the reference: ULP errors, the histogram, special values, and
    /// the largest error / bound (or / the cap in ulps), failing the case above 1.
    private func measure(
        _ k: Kernel, _ c: AuditCase, _ output: [Double], _ expected: [ReferenceValue],
        _ bounds: [ElementBound]?, _ formula: BoundFormula, textbook: [Double]? = nil, masked: Bool = false,
        into outcome: inout CaseOutcome
    ) {
        var worstRatioIndex: Int? = nil, worstTextbookIndex: Int? = nil
        // Whether special values here are conventions, once per case (not per element: rows are long).
        var conventionCase: Bool? = nil
        for (i, (computed, exact)) in zip(output, expected).enumerated() {
            let e = ElementError(computed: computed, reference: exact)
            outcome.elements += 1
            if let verdict = e.special, verdict != .wrongSignOfZero {
                if conventionCase == nil { conventionCase = !masked && formula.function.isConventionCase(c) }
                if conventionCase == false || k.judging.strictSpecialValues {
                    if !outcome.failures.contains(where: { $0.kind == .specialValue(verdict) }) {
                        outcome.failures.append(
                            CaseFailure(
                                kind: .specialValue(verdict),
                                detail: "element \(i): \(Binary64.hexString(computed)) where the reference is \(exact)")
                        )
                    }
                } else {
                    outcome.conventionDifferences += 1
                }
                continue
            }
            if e.special == .wrongSignOfZero { outcome.wrongSignZeros += 1 }
            if e.isCorrectlyRounded || (e.special == .wrongSignOfZero && e.equalsRounded) {
                outcome.correctlyRounded += 1
            }
            if e.ulps.isFinite {
                outcome.histogram[ULPBins.index(e.ulps)] += 1
                outcome.finiteULPCount += 1
                outcome.bitsSum += e.bits
            }
            if e.ulps > outcome.maxULPs || outcome.worstElement == nil {
                outcome.maxULPs = e.ulps
                outcome.worstElement = i
            }
            let ratio: Double
            if let cap = k.judging.maxULPs {
                ratio = e.ulps.isFinite ? e.ulps / cap : 0  // a plain cap instead of a bound
            } else if let bounds {
                ratio = e.absolute == 0 ? 0 : e.absolute / bounds[i].allowance(exact.rounded.magnitude)
            } else {
                continue
            }
            if ratio > outcome.maxBoundRatio {
                outcome.maxBoundRatio = ratio
                worstRatioIndex = i
            }
            // Without a textbook algorithm of its own, a function's textbook bound is its best-known one.
            if k.judging.tiers, k.judging.maxULPs == nil, let bounds {
                let allowance = bounds[i].allowance(exact.rounded.magnitude) + (textbook?[i] ?? 0)
                let textbookRatio = e.absolute == 0 ? 0 : e.absolute / allowance
                if textbookRatio > outcome.maxTextbookRatio {
                    outcome.maxTextbookRatio = textbookRatio
                    worstTextbookIndex = i
                }
            }
        }
        if outcome.maxBoundRatio > 1, let i = worstRatioIndex {
            let what = k.judging.maxULPs.map { "cap of \(shortNumber($0)) ulps" } ?? "\(formula.rawValue) bound"
            let ratio = shortNumber(outcome.maxBoundRatio), ulps = shortNumber(outcome.maxULPs)
            outcome.failures.append(
                CaseFailure(
                    kind: .boundExceeded,
                    detail: "element \(i): error \(ratio) times the \(what) (\(ulps) ulps)"))
        }
        if outcome.maxTextbookRatio > 1, let i = worstTextbookIndex {
            let what = TextbookAlgorithm.of(formula.function).map { "textbook \($0.algorithm)" } ?? formula.rawValue
            outcome.failures.append(
                CaseFailure(
                    kind: .textbookExceeded,
                    detail: "element \(i): error \(shortNumber(outcome.maxTextbookRatio)) times the \(what) bound"))
        }
    }

    /// The failure kinds of k's f on c (computing the reference), for the shrinker.
    func failureKinds(_ k: Kernel, _ f: AuditFunction, _ c: AuditCase) -> Set<FailureKind> {
        guard f.applies(to: c), let (cf, expected) = try? f.expected(for: k, on: c, reference: reference),
            let outcome = try? check(k, f, cf, expected: expected)
        else { return [] }
        return Set(outcome.failures.map(\.kind))
    }
}

/// Three significant digits.
public func shortNumber(_ x: Double) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x < 0 ? "-inf" : "inf" }
    if x == 0 { return "0" }
    let m = x.magnitude
    if m >= 0.001 && m < 1e6 {
        var s = String(format3(x))
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }
    return scientific(x)
}
