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
