// JUnit XML: one test case per kernel × function × input class, as every CI shows it. A cell fails
// when the gate would fail it (an accurate kernel's failing check, a baseline regression); a flawed
// kernel whose flaw went unseen gets a failing test case of its own.
import Audit
import Kernels

public enum JUnit {
    public static func render(_ r: AuditResult, failOn: Set<GateCheck>, baseline: BaselineComparison?) -> String {
        var regressions: [CellKey: BaselineComparison.Change] = [:]
        if failOn.contains(.baseline), let baseline {
            for c in baseline.regressions { regressions[c.cell] = c }
        }
        var cases: [String] = []
        var failures = 0
        for cell in r.cells {
            let k = r.kernels.first { $0.name == cell.kernel }!
            var messages: [String] = []
            if k.expectation.isAccurate {
                for kind in cell.failureCounts.keys.sorted() where failOn.contains(where: { $0.covers(kind) }) {
                    messages.append(cell.failureSummary(kind))
                }
            }
            if let c = regressions[cell.key] {
                messages.append("baseline exceeded: \(c.description)")
            }
            var xml =
                "    <testcase classname=\"\(escape(cell.kernel)).\(escape(cell.function.rawValue))\" "
                + "name=\"\(escape(cell.inputClass))\" time=\"0\">"
            if messages.isEmpty {
                xml +=
                    "<system-out>\(cell.cases) cases, max ULP \(shortNumber(cell.maxULPs)), max error / bound "
                    + "\(shortNumber(cell.maxBoundRatio))</system-out></testcase>"
            } else {
                failures += 1
                xml +=
                    "<failure message=\"\(escape(messages[0]))\" "
                    + "type=\"\(k.name)\">\(escape(messages.joined(separator: "\n")))</failure></testcase>"
            }
            cases.append(xml)
        }
        for v in r.verdicts where v.status == .flawMissed {
            failures += 1
            cases.append(
                "    <testcase classname=\"\(escape(v.kernel.name))\" name=\"flaw detected\" time=\"0\"><failure "
                    + "message=\"declared flawed but no check caught it\" type=\"flaw missed\"/></testcase>"
            )
        }
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuites name="softmax-audit" tests="\(cases.count)" failures="\(failures)" errors="0">
              <testsuite name="softmax-audit seed \(r.seed)" tests="\(cases.count)" failures="\(failures)" \
            errors="0" skipped="0" time="0">
            \(cases.joined(separator: "\n"))
              </testsuite>
            </testsuites>

            """
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}

/// The summary appended to GitHub's step summary ($GITHUB_STEP_SUMMARY): the verdicts and the summary table.
public enum StepSummary {
    /// The gate's failing cells listed in the summary (the rest are counted).
    static let linesListed = 20

    public static func render(_ r: AuditResult, _ run: RunDescription, gateFailures: [String]) -> String {
        let outcome = gateFailures.isEmpty ? "gate passed" : "gate FAILED on \(gateFailures.count) cell(s)"
        var md = "## SoftmaxAudit: \(outcome)\n\n"
        for line in gateFailures.prefix(linesListed) { md += "- \(line)\n" }
        if gateFailures.count > linesListed {
            md += "- … \(gateFailures.count - linesListed) more (see the job log)\n"
        }
        if !gateFailures.isEmpty { md += "\n" }
        md += AuditMarkdown.verdictSection(r) + AuditMarkdown.summarySection(r)
        return md
    }
}
