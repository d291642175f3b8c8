// What a run concludes: each accurate kernel met its checks, each flawed kernel's flaw was detected.
import Kernels

public struct KernelVerdict: Sendable {
    public enum Status: String, Sendable {
        case passed = "passed"
        case failed = "FAILED"
        case flawDetected = "flaw detected"
        case flawMissed = "FLAW MISSED"
    }

    public let kernel: Kernel
    public let status: Status
    /// Failing cases by kind, over all functions and classes.
    public let failures: [FailureKind: Int]

    public var isGood: Bool { status == .passed || status == .flawDetected }
}

extension AuditResult {
    public var verdicts: [KernelVerdict] {
        kernels.map { k in
            var failures: [FailureKind: Int] = [:]
            for cell in cells(kernel: k.name) {
                for (kind, count) in cell.failureCounts { failures[kind, default: 0] += count }
            }
            let status: KernelVerdict.Status =
                k.expectation.isAccurate
                ? (failures.isEmpty ? .passed : .failed) : (failures.isEmpty ? .flawMissed : .flawDetected)
            return KernelVerdict(kernel: k, status: status, failures: failures)
        }
    }

    /// Whether the run passes: every verdict as declared. (Cases the reference could not certify are
    /// skipped and listed in the report, not failed: a reference that declines is not a kernel's fault.)
    public var passed: Bool { verdicts.allSatisfy(\.isGood) }

    /// One sentence per problem, for the exit message.
    public var problems: [String] {
        var out: [String] = []
        for v in verdicts where !v.isGood {
            if v.status == .failed {
                let kinds = v.failures.keys.sorted().map { "\($0) (\(v.failures[$0]!) cases)" }.joined(separator: ", ")
                out.append("\(v.kernel.name) is declared accurate but failed: \(kinds)")
            } else {
                out.append("\(v.kernel.name) is declared flawed (\(flawText(v.kernel))) but no check caught it")
            }
        }
        return out
    }

    private func flawText(_ k: Kernel) -> String {
        if case .flawed(let text) = k.expectation { return text }
        return ""
    }
}

/// The second verdict of a kernel judged in tiers (external and native audits), per function.
public enum VerdictTier: String, Sendable, Codable {
    /// Within the best-known algorithm's bound, with no special value or property failing.
    case bestKnown = "best-known"
    /// Not within the best-known bound (or a property failed), but within the textbook algorithm's bound.
    case textbook = "textbook"
    /// Worse than any declared algorithm: beyond the textbook bound, or NaN or inf where the result is finite.
    case beyond = "beyond"
}

/// A function's two verdicts, over every class.
public struct FunctionTier: Sendable {
    public let function: AuditFunction
    public let tier: VerdictTier
    public let maxBoundRatio: Double
    public let maxTextbookRatio: Double
    /// The failures that place the function beyond the textbook tier, by kind, with their case counts.
    public let beyond: [FailureKind: Int]
}

extension AuditResult {
    /// The tiers of kernel k's functions, in catalogue order; empty for a kernel not judged in tiers.
    public func tiers(kernel k: Kernel) -> [FunctionTier] {
        // A plain cap in ulps (--max-ulps) judges nothing against the bounds: no tiers then.
        guard k.judging.tiers, k.judging.maxULPs == nil else { return [] }
        return AuditFunction.allCases.compactMap { f in
            let mine = cells(kernel: k.name).filter { $0.function == f }
            guard !mine.isEmpty else { return nil }
            var counts: [FailureKind: Int] = [:]
            for cell in mine { for (kind, n) in cell.failureCounts { counts[kind, default: 0] += n } }
            let beyond = counts.filter {
                if case .specialValue = $0.key { return true }
                return $0.key == .textbookExceeded
            }
            let tier: VerdictTier = counts.isEmpty ? .bestKnown : beyond.isEmpty ? .textbook : .beyond
            return FunctionTier(
                function: f, tier: tier, maxBoundRatio: mine.map(\.maxBoundRatio).max() ?? 0,
                maxTextbookRatio: mine.map(\.maxTextbookRatio).max() ?? 0, beyond: beyond)
        }
    }
}
