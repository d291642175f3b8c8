// The audit's Markdown report: a pure function of the result. An index (what was run, the verdicts,
// the summary by kernel × function, the classes), then a section per kernel with its per-class table,
// worst cases, shrunk counterexamples and ULP histogram.
import Audit
import Foundation
import Kernels
import Reference

public struct RunDescription: Sendable {
    public let command: String
    public let toolVersion: String
    public let mpfrVersion: String

    public init(command: String, toolVersion: String, mpfrVersion: String) {
        self.command = command
        self.toolVersion = toolVersion
        self.mpfrVersion = mpfrVersion
    }
}

public enum AuditMarkdown {
    public static func render(_ r: AuditResult, _ run: RunDescription) -> String {
        var md = header(r, run)
        md += verdictSection(r)
        md += summarySection(r)
        md += TierSection.markdown(r)
        md += PrecisionMatrix.section(r)
        md += classSection(r)
        for k in r.kernels { md += kernelSection(r, k) }
        return md
    }

    /// How the reference answered: the fast path's share and the fallbacks by class.
    static func referencePathSummary(_ r: AuditResult) -> String {
        let total = r.referencePath.reduce(FastPathCounts()) { $0 + $1.counts }
        let calls = total.fast + total.fallback + total.uncovered
        if total.fast + total.fallback == 0 {
            return
                "**Reference path.** The fast path was off for this run: MPFR answered all \(grouped(calls)) of the "
                + "reference's calls."
        }
        func share(_ k: Int, of n: Int) -> String { String(format: "%.1f%%", 100 * Double(k) / Double(max(n, 1))) }
        var text =
            "**Reference path.** Of the reference's \(grouped(calls)) calls, the fast path answered "
            + "\(grouped(total.fast)) "
            + "(\(share(total.fast, of: calls))), \(grouped(total.fallback)) (\(share(total.fallback, of: calls))) "
            + "fell back to MPFR "
            + "(a result within the fast path's error of a rounding boundary, an exact zero, a cancellation "
            + "deeper than its 106 bits, or an argument beyond its range; for the elementwise functions, those "
            + "elements alone), and \(grouped(total.uncovered)) (\(share(total.uncovered, of: calls))) went to "
            + "MPFR directly (what the fast path does not cover: KL and the cross-entropy with probability "
            + "targets, which a label on a −inf logit becomes, the weighted logsumexp, the framework loss's "
            + "gradient, and attention's functions). "
        let falling = r.referencePath.filter { $0.counts.fallback > 0 }
        if falling.isEmpty {
            text += "No class fell back."
        } else {
            text +=
                "Fallbacks by class: "
                + falling.map { c in
                    let covered = c.counts.fast + c.counts.fallback
                    return
                        "`\(c.inputClass)` \(grouped(c.counts.fallback)) of \(grouped(covered)) "
                        + "(\(share(c.counts.fallback, of: covered)))"
                }.joined(separator: ", ") + (falling.count < r.referencePath.count ? "; every other class none." : ".")
        }
        return text
    }

    /// For audits with kernels in other formats: how they are compared (empty otherwise).
    static func formatSentence(_ r: AuditResult) -> String {
        guard r.kernels.contains(where: { $0.precision != .double }) else { return "" }
        return
            "Kernels in float, float16 or bfloat16 take each case rounded to their storage format and are compared "
            + "with the "
            + "result correctly rounded to that format (rounded once from the exact value, never through binary64), "
            + "their ULP "
            + "errors in that format's ulps, their bounds the standard algorithm's with a float accumulator. "
    }

    /// 171492 as "171,492" (no locale: the report's bytes must not depend on the machine).
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    static func header(_ r: AuditResult, _ run: RunDescription) -> String {
        let functions = Set(r.cells.map(\.function)).count
        let scope =
            "\(r.kernels.count) kernels, \(functions) functions, \(r.classes.count) input classes × "
            + "\(r.casesPerClass) cases (\(grouped(r.rowsEvaluated)) cases in all), rows up to \(grouped(r.maxLength)) "
            + "logits, seed \(r.seed)"
        let precisions =
            "starting at \(SoftmaxReference.initialPrecision) bits, at most "
            + grouped(SoftmaxReference.defaultMaximumPrecision)
        return """
            <!-- Generated by `\(run.command)` (softmax-audit \(run.toolVersion)); do not edit. -->
            # SoftmaxAudit report

            **\(r.passed ? "PASSED" : "FAILED")**: \(scope).

            Every output element is compared with the correctly rounded result of the exact math, certified: a \
            double-word fast path
            with a proven error bound answers a row when that bound decides every element's rounding; otherwise MPFR \
            \(run.mpfrVersion)
            answers, evaluated with a rigorous error bound and re-evaluated at twice the precision until the rounding \
            is certain
            (Ziv's loop, \(precisions)). **ULP** errors are fractional (0.5 or less is correctly rounded); **p99** is \
            the 99th
            percentile of each case's largest error; **bits** is the mean of log2(1 + ulps). A case **fails** when the \
            error exceeds the
            algorithm's worst-case bound (for a flawed kernel, the bound of the standard stable algorithm), when it \
            gives NaN or inf
            where the result is finite, or when a reference-free property breaks. On rows with ±inf or NaN logits, a \
            different
            special value is a *convention difference* (the reference's convention is in the README), counted but not \
            failed — except a partly masked row (some logits −inf, the rest finite), whose softmax, log-softmax, \
            logsumexp and cross-entropy are judged as those of the row without the masked logits; attention's \
            functions judge their masks too, and a fully masked row by the convention its case states (NaN or \
            zeros).
            \(formatSentence(r))Regenerate with `\(run.command)`.

            \(referencePathSummary(r))


            """
    }

    static func verdictSection(_ r: AuditResult) -> String {
        var table = MarkdownTable(["kernel", "expectation", "verdict", "failing cases by check"])
        for v in r.verdicts {
            let kinds = v.failures.keys.sorted().map { "\($0): \(v.failures[$0]!)" }.joined(separator: "; ")
            table.add([
                "[`\(v.kernel.name)`](#\(v.kernel.name))", expectation(v.kernel), "**\(v.status.rawValue)**",
                kinds.isEmpty ? "—" : kinds,
            ])
        }
        var md = "## Verdicts\n\n" + table.text
        if !r.referenceErrors.isEmpty {
            md +=
                "\n\(r.referenceErrors.count) case(s) skipped because the reference could not certify them within its "
                + "precision limit (it declines rather than guess): " + r.referenceErrors.joined(separator: "; ") + "\n"
        }
        return md + "\n"
    }

    static func summarySection(_ r: AuditResult) -> String {
        var table = MarkdownTable([
            ("kernel", .left), ("function", .left), ("cases", .right), ("max ULP", .right), ("worst class", .left),
            ("p99", .right), ("mean bits", .right), ("correctly rounded", .right), ("max error / bound", .right),
            ("failing cases", .right), ("verdict", .left),
        ])
        for k in r.kernels {
            for f in AuditFunction.allCases {
                let cells = r.cells(kernel: k.name).filter { $0.function == f }
                guard !cells.isEmpty else { continue }
                let worst = cells.max { $0.maxULPs < $1.maxULPs }!
                let elements = cells.map(\.elements).reduce(0, +)
                let correct = cells.map(\.correctlyRounded).reduce(0, +)
                let bits = cells.map(\.bitsSum).reduce(0, +) / Double(max(1, cells.map(\.bitsCount).reduce(0, +)))
                let failing = cells.map(\.failingCases).reduce(0, +)
                table.add([
                    "`\(k.name)`", f.rawValue, "\(cells.map(\.cases).reduce(0, +))", num(worst.maxULPs),
                    worst.maxULPs > 0.5 ? worst.inputClass : "—", num(percentile99(cells.flatMap(\.caseMaxULPs))),
                    num(bits),
                    percent(correct, elements), num(cells.map(\.maxBoundRatio).max() ?? 0), "\(failing)",
                    verdict(k, failing),
                ])
            }
        }
        return "## Summary by kernel and function\n\n" + table.text + "\n"
    }

    static func classSection(_ r: AuditResult) -> String {
        var table = MarkdownTable(["class", "what", "from"])
        for c in r.classes { table.add(["`\(c.name)`", c.summary, c.source ?? "random"]) }
        return "## Input classes\n\n" + table.text + "\n"
    }

    static func kernelSection(_ r: AuditResult, _ k: Kernel) -> String {
        let verdict = r.verdicts.first { $0.kernel.name == k.name }!
        var md =
            "<a id=\"\(k.name)\"></a>\n## `\(k.name)` — \(verdict.status.rawValue)\n\n"
            + "\(k.summary) Expectation: \(expectation(k)).\n\n"
        md += "![ULP errors of \(k.name) per class](figures/\(k.name).svg)\n\n"
        md += "![Largest error / bound of \(k.name) by row length](figures/\(k.name)-bound.svg)\n\n"
        md += "<details><summary>By input class</summary>\n\n" + classTable(r, k).text + "\n</details>\n\n"
        let worst = worstCaseTable(r, k)
        if !worst.isEmpty {
            md +=
                "**Worst cases** (largest ULP error per function; the input in hex, long rows cut — `audit.json` has "
                + "them whole):\n\n" + worst.text + "\n"
        }
        let shrunk = shrunkTable(r, k)
        if !shrunk.isEmpty {
            md +=
                "**Shrunk counterexamples** (the first failure of each check, shrunk to a minimal row; re-run one with "
                + "`softmax-audit check \(k.name) --function FUNCTION --row \"ROW\"`):\n\n" + shrunk.text + "\n"
        }
        return md
    }

    /// One row per function × class of a kernel.
    static func classTable(_ r: AuditResult, _ k: Kernel) -> MarkdownTable {
        var table = MarkdownTable([
            ("function", .left), ("class", .left), ("cases", .right), ("max ULP (case)", .right), ("p99", .right),
            ("mean bits", .right), ("correctly rounded", .right), ("max error / bound", .right), ("failures", .left),
            ("convention differences", .right), ("−0/+0", .right), ("verdict", .left),
        ])
        for cell in r.cells(kernel: k.name) {
            let failures = cell.failureCounts.keys.sorted().map { "\($0): \(cell.failureCounts[$0]!)" }.joined(
                separator: "; ")
            let worstCase = cell.maxULPsCase.map { " (#\($0))" } ?? ""
            table.add([
                cell.function.rawValue, "`\(cell.inputClass)`", "\(cell.cases)", num(cell.maxULPs) + worstCase,
                num(cell.p99),
                num(cell.meanBits), percent(cell.correctlyRounded, cell.elements), num(cell.maxBoundRatio),
                failures.isEmpty ? "—" : failures, "\(cell.conventionDifferences)", "\(cell.wrongSignZeros)",
                Self.verdict(k, cell.failingCases),
            ])
        }
        return table
    }

    /// The largest ULP error of each of a kernel's functions, with its input.
    static func worstCaseTable(_ r: AuditResult, _ k: Kernel) -> MarkdownTable {
        var table = MarkdownTable([
            ("function", .left), ("class", .left), ("input", .left), ("element", .right), ("output", .left),
            ("reference", .left), ("ULP", .right),
        ])
        for w in r.worst where w.kernel == k.name {
            table.add([
                w.function.rawValue, "`\(w.inputClass)` #\(w.caseIndex)", inputText(w.input, w.function),
                "\(w.element)",
                "`\(Binary64.hexString(w.computed))`", "`\(Binary64.hexString(w.reference.rounded))`", num(w.ulps),
            ])
        }
        return table
    }

    /// The shrunk first failure of each of a kernel's checks.
    static func shrunkTable(_ r: AuditResult, _ k: Kernel) -> MarkdownTable {
        var table = MarkdownTable(["function", "check", "minimal row", "what it shows", "from"])
        for s in r.shrunk where s.kernel == k.name {
            let batch = s.original.isBatch ? " × \(s.original.rows.count) rows" : ""
            table.add([
                s.function.rawValue, "\(s.kind)", "`\(escape(s.minimal.decimalText(for: s.function)))`",
                escape(s.minimalDetail),
                "`\(s.inputClass)` #\(s.caseIndex), \(s.original.row.count) logits\(batch)",
            ])
        }
        return table
    }

    // MARK: - Formatting

    /// A cell's verdict: an accurate kernel passes or fails; a flawed kernel's flaw is caught here or not.
    static func verdict(_ k: Kernel, _ failing: Int) -> String {
        k.expectation.isAccurate ? (failing == 0 ? "pass" : "**FAIL**") : (failing == 0 ? "—" : "flaw caught")
    }

    static func expectation(_ k: Kernel) -> String {
        switch k.expectation {
        case .accurate: return "accurate"
        case .flawed(let flaw): return "flawed — " + flaw
        }
    }

    static func inputText(_ c: AuditCase, _ f: AuditFunction) -> String {
        let text = escape(c.text(for: f).replacingNewlines)
        if text.count <= 120 { return "`\(text)`" }
        return "`\(text.prefix(100))…` (\(c.row.count) logits\(c.isBatch ? " × \(c.rows.count) rows" : ""))"
    }

    static func escape(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }

    static func num(_ x: Double) -> String { shortNumber(x) }

    static func percent(_ a: Int, _ b: Int) -> String {
        guard b > 0 else { return "—" }
        if a == b { return "100%" }
        let p = 100 * Double(a) / Double(b)
        return shortNumber(min(p, 99.9)) + "%"
    }

    static func percentile99(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((0.99 * Double(sorted.count)).rounded(.up)) - 1)]
    }
}

extension String {
    var replacingNewlines: String { replacingOccurrences(of: "\n", with: " ⏎ ") }
}
