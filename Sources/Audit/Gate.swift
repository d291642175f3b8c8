// The CI gate: which verdicts fail a run, and the summary of the failing cells.
import Kernels

/// A kind of verdict the gate can fail on (`--fail-on`).
public enum GateCheck: String, CaseIterable, Sendable {
    case bound, baseline, property, special

    /// Whether this check is the one that a failure of `kind` falls under.
    public func covers(_ kind: FailureKind) -> Bool {
        switch (self, kind) {
        case (.bound, .boundExceeded), (.bound, .textbookExceeded), (.property, .property), (.special, .specialValue):
            return true
        default: return false
        }
    }
}

extension AuditCell {
    /// "KIND in N cases (first: case #i, detail)", for the gate's lines and JUnit's failures.
    public func failureSummary(_ kind: FailureKind) -> String {
        let first = firstFailure[kind]!
        return "\(kind) in \(failureCounts[kind]!) cases (first: case #\(first.index), \(first.detail))"
    }
}

public struct GateOutcome: Sendable {
    /// One line per failing cell or missed flaw, naming the kernel, the function, the class and a row.
    public let failures: [String]
    public var passed: Bool { failures.isEmpty }
}

extension AuditResult {
    /// The gate over this run: accurate kernels' failures of the chosen kinds, baseline regressions (when
    /// `baseline` is chosen and a comparison is given), and flawed kernels whose flaw went unseen.
    public func gate(failOn: Set<GateCheck>, baseline: BaselineComparison?) -> GateOutcome {
        var lines: [String] = []
        let shrunkByKey = Dictionary(grouping: shrunk) {
            FailureKey(kernel: $0.kernel, function: $0.function, kind: $0.kind)
        }
        for k in kernels where k.expectation.isAccurate {
            for cell in cells(kernel: k.name) {
                for kind in cell.failureCounts.keys.sorted() where failOn.contains(where: { $0.covers(kind) }) {
                    var line = "\(cell.key): " + cell.failureSummary(kind)
                    if let s = shrunkByKey[FailureKey(kernel: k.name, function: cell.function, kind: kind)]?.first {
                        line += "; minimal row: \(s.minimal.decimalText(for: s.function))"
                    }
                    lines.append(line)
                }
            }
        }
        if failOn.contains(.baseline), let baseline {
            lines += baseline.regressions.map { "baseline exceeded: \($0.description)" }
        }
        for v in verdicts where v.status == .flawMissed {
            lines.append("\(v.kernel.name) is declared flawed but no check caught it")
        }
        return GateOutcome(failures: lines)
    }
}
