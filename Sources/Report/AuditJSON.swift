// The audit's numbers as JSON, beside the Markdown (schema "softmax-audit/audit/1"): keys sorted and
// floating-point values written by Foundation's encoder, so the bytes are stable for the same result.
import Audit
import Kernels
import Foundation
import Reference

public enum AuditJSON {
    struct Document: Encodable {
        let schema = "softmax-audit/audit/1"
        let tool: String
        let mpfr: String
        let command: String
        let seed: UInt64
        let casesPerClass: Int
        let maxLength: Int
        let passed: Bool
        let verdicts: [Verdict]
        let cells: [Cell]
        let counterexamples: [Counterexample]
        let worstCases: [Worst]
        let referenceErrors: [String]
        let referencePath: [PathCounts]
        /// The two-tier verdicts of kernels judged in tiers (external and native audits); absent otherwise.
        let tiers: [Tier]?
    }
    struct Tier: Encodable {
        let kernel, function, tier: String
        let maxErrorOverBound, maxErrorOverTextbookBound: Double
        let textbookAlgorithm: String?
        let beyond: [String: Int]
    }
    /// How the reference answered a class's calls: fast path, fallback to MPFR, MPFR-only function.
    struct PathCounts: Encodable {
        let inputClass: String
        let fast, fallback, mpfrOnly: Int
    }
    struct Worst: Encodable {
        let kernel, function, inputClass: String
        let caseIndex, element: Int
        let input, output, reference: String
        let ulps: Double
    }
    struct Verdict: Encodable {
        let kernel: String
        let expectation: String
        let verdict: String
        let failures: [String: Int]
    }
    struct Cell: Encodable {
        let kernel, function, inputClass: String
        let cases, elements, correctlyRounded: Int
        let maxULPs, p99ULPs, meanBits, maxErrorOverBound: Double
        let maxULPsCase: Int?
        let failures: [String: Int]
        let conventionDifferences, wrongSignZeros: Int
        let histogram: [Int]
        let maxErrorOverBoundByLength: [Double]
    }
    struct Counterexample: Encodable {
        let kernel, function, check, inputClass: String
        let caseIndex: Int
        let minimalRow: String
        let detail: String
        let originalLength: Int
        let evaluations: Int
    }

    public static func render(_ r: AuditResult, _ run: RunDescription) throws -> String {
        let document = Document(
            tool: run.toolVersion, mpfr: run.mpfrVersion, command: run.command, seed: r.seed,
            casesPerClass: r.casesPerClass,
            maxLength: r.maxLength, passed: r.passed,
            verdicts: r.verdicts.map { v in
                Verdict(
                    kernel: v.kernel.name, expectation: AuditMarkdown.expectation(v.kernel), verdict: v.status.rawValue,
                    failures: Dictionary(uniqueKeysWithValues: v.failures.map { ("\($0.key)", $0.value) }))
            },
            cells: r.cells.map { c in
                Cell(
                    kernel: c.kernel, function: c.function.rawValue, inputClass: c.inputClass, cases: c.cases,
                    elements: c.elements,
                    correctlyRounded: c.correctlyRounded, maxULPs: c.maxULPs, p99ULPs: c.p99, meanBits: c.meanBits,
                    maxErrorOverBound: c.maxBoundRatio, maxULPsCase: c.maxULPsCase,
                    failures: Dictionary(uniqueKeysWithValues: c.failureCounts.map { ("\($0.key)", $0.value) }),
                    conventionDifferences: c.conventionDifferences, wrongSignZeros: c.wrongSignZeros,
                    histogram: c.histogram,
                    maxErrorOverBoundByLength: c.maxBoundRatioByLength)
            },
            counterexamples: r.shrunk.map { s in
                Counterexample(
                    kernel: s.kernel, function: s.function.rawValue, check: "\(s.kind)", inputClass: s.inputClass,
                    caseIndex: s.caseIndex, minimalRow: s.minimal.text(for: s.function), detail: s.minimalDetail,
                    originalLength: s.original.row.count, evaluations: s.evaluations)
            },
            worstCases: r.worst.map { w in
                Worst(
                    kernel: w.kernel, function: w.function.rawValue, inputClass: w.inputClass, caseIndex: w.caseIndex,
                    element: w.element,
                    input: w.input.text(for: w.function), output: Binary64.hexString(w.computed),
                    reference: Binary64.hexString(w.reference.rounded), ulps: w.ulps)
            },
            referenceErrors: r.referenceErrors,
            referencePath: r.referencePath.map {
                PathCounts(
                    inputClass: $0.inputClass, fast: $0.counts.fast, fallback: $0.counts.fallback,
                    mpfrOnly: $0.counts.uncovered)
            },
            tiers: tiers(r))
        return try JSONFiles.text(document)
    }

    static func tiers(_ r: AuditResult) -> [Tier]? {
        let tiers = r.kernels.flatMap { k in
            r.tiers(kernel: k).map { t in
                Tier(
                    kernel: k.name, function: t.function.rawValue, tier: t.tier.rawValue,
                    maxErrorOverBound: t.maxBoundRatio, maxErrorOverTextbookBound: t.maxTextbookRatio,
                    textbookAlgorithm: TextbookAlgorithm.of(t.function)?.algorithm,
                    beyond: Dictionary(uniqueKeysWithValues: t.beyond.map { ("\($0.key)", $0.value) }))
            }
        }
        return tiers.isEmpty ? nil : tiers
    }
}
