// The hunt's report: per kernel × function the worst input found (error / bound, ULPs, the bound, the
// condition number), the failing ranges with their shrunk edge rows, the moves that raised the error, and a
// figure of how the largest error grew over the budget; JSON beside it (schema "softmax-audit/hunt/1"), and
// for planted flaws the detection table. Pure functions of a HuntResult.
import Audit
import Foundation
import Kernels

/// What the default audit found on a kernel, for the detection table.
public struct DefaultRunFinding: Sendable {
    public let kernel: String
    /// The failing checks (kernel × function × class: kind), empty when it missed.
    public let failures: [String]
    public let cases: Int
    public let command: String

    public init(kernel: String, failures: [String], cases: Int, command: String) {
        self.kernel = kernel
        self.failures = failures
        self.cases = cases
        self.command = command
    }
}

public enum HuntReport {
    // MARK: - Markdown

    public static func markdown(
        _ r: HuntResult, _ run: RunDescription, title: String, defaultRun: [DefaultRunFinding]? = nil
    ) -> String {
        let c = r.configuration
        var md = "# Hunt: \(title)\n\n"
        md += "`\(run.command)`\n\n"
        md += "softmax-audit \(run.toolVersion), MPFR \(run.mpfrVersion). Seed \(c.seed); "
        md += "\(c.evaluations) evaluations per kernel × function in \(c.islands) islands"
        md += c.seconds.map { ", at most \(shortNumber($0)) s each (a time budget: not reproducible)" } ?? ""
        md += "; rows up to \(c.maxLength) logits (the functions' own caps apply).\n\n"
        md +=
            "An error-maximising search (docs/design.md#the-hunt): structured random rows, then moves on the best "
            + "rows — zooming exponents, shared offsets, the lead of the maximum, ties, lengths, the label, the "
            + "edges of exp, values one ulp from a power of two — keeping what raises error / bound. The bound is "
            + "the kernel's algorithm's in its format; κ is the closed-form condition number at the worst input "
            + "(Blanchard, Higham & Higham 2021): an error within the bound at a large κ is the problem's, not "
            + "the kernel's. A failure is walked outward along each axis to the range on which it persists.\n\n"
        if let defaultRun { md += detectionTable(r, defaultRun) }
        md += summaryTable(r)
        for t in r.targets where t.failed {
            md += failureSection(t, figure: figureFile(title: title, kernel: t.kernel))
        }
        let passing = r.targets.filter { !$0.failed }
        if !passing.isEmpty {
            md += "## Within the bound\n\n"
            md += "Every evaluated input of these functions stayed within its bound; the worst found:\n\n"
            var table = MarkdownTable([
                ("kernel", .left), ("function", .left), ("largest error / bound", .right), ("ulps", .right),
                ("κ", .right), ("worst input", .left),
            ])
            for t in passing {
                table.add([
                    t.kernel, t.function.rawValue, t.worst.map { shortNumber($0.ratio) } ?? "—",
                    t.worst.map { shortNumber($0.ulps) } ?? "—", t.worst.map { shortNumber($0.condition) } ?? "—",
                    t.worst.map { cell("`" + rowSummary($0.input, t.function) + "`") } ?? "—",
                ])
            }
            md += table.text + "\n"
        }
        return md
    }

    static func verdict(_ t: HuntTarget) -> String {
        switch (t.failed, t.expectation.isAccurate) {
        case (true, true): return "**fails**"
        case (true, false): return "fails (declared flaw)"
        case (false, true): return "within bound"
        case (false, false): return "flaw not found"
        }
    }

    static func summaryTable(_ r: HuntResult) -> String {
        var table = MarkdownTable([
            ("kernel", .left), ("function", .left), ("verdict", .left), ("largest error / bound", .right),
            ("max ulps", .right), ("κ there", .right), ("evaluations", .right), ("first failure at", .right),
        ])
        for t in r.targets {
            table.add([
                t.kernel, t.function.rawValue, verdict(t), t.worst.map { ratioText($0) } ?? "—",
                t.worstULPs.map { shortNumber($0.ulps) } ?? "—", t.worst.map { shortNumber($0.condition) } ?? "—",
                "\(t.evaluations)", t.firstFailure.map { "\($0 + 1)" } ?? "—",
            ])
        }
        let failing = r.targets.filter(\.failed).count
        return "## Summary\n\n\(r.targets.count) kernel × function hunts; \(failing) found a failure, "
            + "\(r.falseAlarms.count) of them on kernels declared accurate.\n\n" + table.text + "\n"
    }

    /// The error / bound, or the special value that made it infinite.
    static func ratioText(_ s: HuntSample) -> String {
        if s.ratio.isInfinite, let f = s.failure, case .specialValue = f.kind { return "\(f.kind)" }
        return shortNumber(s.ratio)
    }

    static func detectionTable(_ r: HuntResult, _ defaultRun: [DefaultRunFinding]) -> String {
        var md = "## Detection: planted flaws × the default run × the hunt\n\n"
        md += "Each kernel below is accurate except in a narrow region (`softmax-audit list --planted`). "
        md += "The default run is the audit's own configuration on the kernel; the hunt is the configuration "
        md += "above. The ranges are the narrow ones the hunt walked to (the full list is in each function's section): "
        md += "each should bracket the planted region.\n\n"
        var table = MarkdownTable([
            ("kernel", .left), ("planted flaw", .left), ("default run", .left), ("hunt", .left),
            ("failing ranges found", .left),
        ])
        for k in r.kernels {
            guard case .flawed(let flaw) = k.expectation else { continue }
            let found = defaultRun.first { $0.kernel == k.name }
            let defaultText =
                found.map {
                    $0.failures.isEmpty
                        ? "missed (\($0.cases) cases)"
                        : "**detected**: " + $0.failures.prefix(3).joined(separator: "; ")
                } ?? "—"
            let mine = r.targets.filter { $0.kernel == k.name }
            let hunted = mine.filter(\.failed)
            let huntText =
                hunted.isEmpty
                ? "**missed** (\(mine.map(\.evaluations).reduce(0, +)) evaluations)"
                : hunted.map { t in
                    "found: \(t.function.rawValue) at evaluation \((t.firstFailure ?? 0) + 1) of \(t.evaluations)"
                }.joined(separator: "; ")
            var ranges: [String] = []
            for t in hunted {
                for r in t.ranges where r.isNarrow && !ranges.contains(r.text) { ranges.append(r.text) }
            }
            table.add(
                [k.name, flaw, defaultText, huntText, ranges.isEmpty ? "—" : ranges.joined(separator: "; ")]
                    .map(cell))
        }
        return md + table.text + "\n"
    }

    static func failureSection(_ t: HuntTarget, figure: String) -> String {
        guard let w = t.worstFailure else { return "" }
        var md = "## \(t.kernel) · \(t.function.rawValue)\n\n"
        md += "Judged by the \(t.bound.rawValue) bound. "
        md += "First failure at evaluation \((t.firstFailure ?? 0) + 1) of \(t.evaluations).\n\n"
        md += "- **Worst failing input** (found at evaluation \(w.evaluation + 1)): error / bound \(ratioText(w)), "
        md += "\(shortNumber(w.ulps)) ulps, κ = \(shortNumber(w.condition)): `\(rowSummary(w.input, t.function))`\n"
        if let f = w.failure { md += "  - \(f.kind): \(f.detail)\n" }
        if let b = t.worst, b.beats(w) {
            md += "- **Largest error / bound**: \(ratioText(b)), \(shortNumber(b.ulps)) ulps, κ = "
            md += "\(shortNumber(b.condition)): `\(rowSummary(b.input, t.function))`\n"
        }
        if let u = t.worstULPs, u.ulps > w.ulps {
            md += "- **Largest ULP error**: \(shortNumber(u.ulps)) ulps, error / bound \(ratioText(u)), κ = "
            md += "\(shortNumber(u.condition)): `\(rowSummary(u.input, t.function))`\n"
        }
        if let s = t.shrunk {
            md += "- **Shrunk**: `\(rowSummary(s, t.function))`"
            md += t.shrunkDetail.isEmpty ? "\n" : " — \(t.shrunkDetail)\n"
            if Kernel.named(t.kernel) != nil && s.rows.reduce(0, { $0 + $1.count }) <= 64 {
                md += "  - `softmax-audit check \(t.kernel) --function \(t.function.rawValue) --row "
                md += "'\(s.decimalText(for: t.function))'`\n"
            }
        }
        md += "\n"
        if !t.ranges.isEmpty {
            var table = MarkdownTable(["axis", "fails for", "shrunk row at the low end", "at the high end"])
            for range in t.ranges {
                table.add([
                    range.axis.rawValue, range.text,
                    range.lowEdge.map { cell("`" + rowSummary($0, t.function) + "`") }
                        ?? (range.lowOpen ? "(axis end)" : "—"),
                    range.highEdge.map { cell("`" + rowSummary($0, t.function) + "`") }
                        ?? (range.highOpen ? "(axis end)" : "—"),
                ])
            }
            md += "Failing ranges (each axis walked from the worst input, the others held):\n\n" + table.text + "\n"
        }
        let moves = t.improvingMoves.prefix(6).map { "\($0.0) ×\($0.1)" }.joined(separator: ", ")
        md += "Moves that raised an island's best: \(moves).\n\n"
        md += "![growth](\(figure))\n\n"
        return md
    }

    /// A table cell's text with its pipes escaped (a flaw's |x_j|, a paired row's bar).
    static func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }

    /// A case in one line: the whole row up to 24 logits, else its length, maximum, lead, label and first logits.
    static func rowSummary(_ c: AuditCase, _ f: AuditFunction) -> String {
        let total = c.rows.reduce(0) { $0 + $1.count }
        if total <= 24 { return c.decimalText(for: f) }
        let x = c.row
        let k = x.indices.max { x[$0] < x[$1] } ?? 0
        let head = x.prefix(6).map(RowSyntax.decimal).joined(separator: " ")
        var s =
            (c.rows.count > 1 ? "\(c.rows.count) rows of " : "")
            + "n = \(x.count), max \(RowSyntax.decimal(x[k])) at \(k)"
        if f.shape.takesLabel { s += ", label \(c.label)" }
        return s + ": \(head) …"
    }

    // MARK: - Figure

    /// The growth figure's path under the output: figures/hunt-TITLE-KERNEL.svg (hunt-KERNEL.svg when the report
    /// is the kernel's own).
    public static func figureFile(title: String, kernel: String) -> String {
        "figures/hunt-" + (title == kernel ? kernel : "\(title)-\(kernel)") + ".svg"
    }

    /// How the largest error / bound grew over the evaluations, one line per function of the kernel.
    public static func growthSVG(_ r: HuntResult, kernel: String) -> String {
        let targets = r.targets.filter { $0.kernel == kernel }
        let left = 60, top = 30, width = 420, height = 220
        let yMin = -6.0, yMax = 6.0
        let budget = max(2, targets.map(\.evaluations).max() ?? 2)
        func x(_ evaluation: Int) -> Int {
            left + Int((log(Double(evaluation + 1)) / log(Double(budget))) * Double(width))
        }
        func y(_ ratio: Double) -> Int {
            let l = ratio <= 0 ? yMin : (ratio.isInfinite ? yMax : min(yMax, max(yMin, log10(ratio))))
            return top + Int(((yMax - l) / (yMax - yMin) * Double(height)).rounded())
        }
        let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
        var s =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(left + width + 220)\" "
            + "height=\"\(top + height + 50)\" font-family=\"sans-serif\" font-size=\"10\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(left)\" y=\"16\" font-size=\"12\">\(kernel): largest error / bound over the hunt "
        s += "(log scales; 1 = the bound; a failure of another kind at the top)</text>\n"
        for e in stride(from: Int(yMin), through: Int(yMax), by: 2) {
            let yy = y(pow(10, Double(e)))
            s += "<line x1=\"\(left)\" y1=\"\(yy)\" x2=\"\(left + width)\" y2=\"\(yy)\" "
            s += "stroke=\"\(e == 0 ? "#000" : "#ddd")\"\(e == 0 ? " stroke-dasharray=\"4 3\"" : "")/>\n"
            s += "<text x=\"\(left - 4)\" y=\"\(yy + 3)\" text-anchor=\"end\">1e\(e)</text>\n"
        }
        var tick = 1
        while tick <= budget {
            s += "<text x=\"\(x(tick - 1))\" y=\"\(top + height + 14)\" text-anchor=\"middle\">\(tick)</text>\n"
            tick *= 10
        }
        s += "<text x=\"\(left + width / 2)\" y=\"\(top + height + 30)\" text-anchor=\"middle\">evaluations</text>\n"
        for (i, t) in targets.enumerated() {
            let color = colors[i % colors.count]
            var points: [String] = []
            var previous: Int? = nil
            for (evaluation, ratio) in t.growth {
                if let previous { points.append("\(x(evaluation)),\(previous)") }
                points.append("\(x(evaluation)),\(y(ratio))")
                previous = y(ratio)
            }
            if let previous { points.append("\(x(t.evaluations)),\(previous)") }
            if points.count > 1 {
                s += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\"/>\n"
            }
            s += "<text x=\"\(left + width + 12)\" y=\"\(top + 12 + 14 * i)\" fill=\"\(color)\">"
            s += "\(t.function.rawValue)</text>\n"
        }
        return s + "</svg>\n"
    }

    // MARK: - JSON

    struct Document: Encodable {
        let schema = "softmax-audit/hunt/1"
        let tool, mpfr, command: String
        let seed: UInt64
        let evaluations, islands, maxLength: Int
        let seconds: Double?
        let targets: [Target]
        let detection: [Detection]?
    }
    struct Target: Encodable {
        let kernel, function, bound, expectation: String
        let failed: Bool
        let evaluations, skipped: Int
        let firstFailure: Int?
        let worst, worstFailure, largestULPs: Sample?
        let shrunk: String?
        let shrunkDetail: String
        let ranges: [Range]
        let growth: [[Double]]
        let moves: [String: Int]
    }
    struct Sample: Encodable {
        let ratio, ulps, condition: Double
        let evaluation, length: Int
        let failure: String?
        let input: String
    }
    struct Range: Encodable {
        let axis, text: String
        let low, high: Double
        let lowOpen, highOpen: Bool
        let lowEdge, highEdge: String?
    }
    struct Detection: Encodable {
        let kernel: String
        let defaultRunFailures: [String]
        let defaultRunCases: Int
    }

    /// A row for the JSON: exact hexadecimal text up to 4,096 logits, else the summary.
    static func exactText(_ c: AuditCase, _ f: AuditFunction) -> String {
        c.rows.reduce(0) { $0 + $1.count } <= 4096 ? c.text(for: f) : rowSummary(c, f)
    }

    public static func json(
        _ r: HuntResult, _ run: RunDescription, defaultRun: [DefaultRunFinding]? = nil
    ) throws
        -> String
    {
        func sample(_ s: HuntSample?, _ f: AuditFunction) -> Sample? {
            s.map {
                Sample(
                    ratio: $0.ratio, ulps: $0.ulps, condition: $0.condition, evaluation: $0.evaluation,
                    length: $0.input.row.count, failure: $0.failure.map { "\($0.kind): \($0.detail)" },
                    input: exactText($0.input, f))
            }
        }
        let targets = r.targets.map { t in
            Target(
                kernel: t.kernel, function: t.function.rawValue, bound: t.bound.rawValue,
                expectation: t.expectation.isAccurate ? "accurate" : "flawed", failed: t.failed,
                evaluations: t.evaluations, skipped: t.skipped, firstFailure: t.firstFailure,
                worst: sample(t.worst, t.function), worstFailure: sample(t.worstFailure, t.function),
                largestULPs: sample(t.worstULPs, t.function),
                shrunk: t.shrunk.map { exactText($0, t.function) }, shrunkDetail: t.shrunkDetail,
                ranges: t.ranges.map {
                    Range(
                        axis: $0.axis.rawValue, text: $0.text, low: $0.low, high: $0.high, lowOpen: $0.lowOpen,
                        highOpen: $0.highOpen,
                        lowEdge: $0.lowEdge.map { exactText($0, t.function) },
                        highEdge: $0.highEdge.map { exactText($0, t.function) })
                },
                growth: t.growth.map { [Double($0.evaluation), $0.ratio] },
                moves: Dictionary(uniqueKeysWithValues: t.improvingMoves))
        }
        let c = r.configuration
        return try JSONFiles.text(
            Document(
                tool: run.toolVersion, mpfr: run.mpfrVersion, command: run.command, seed: c.seed,
                evaluations: c.evaluations, islands: c.islands, maxLength: c.maxLength, seconds: c.seconds,
                targets: targets,
                detection: defaultRun?.map {
                    Detection(kernel: $0.kernel, defaultRunFailures: $0.failures, defaultRunCases: $0.cases)
                }))
    }
}
