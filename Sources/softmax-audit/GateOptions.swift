// Where the reports go and what fails the gate (shared by `run`, `merge` and `external`), and the
// end of every audit command: the reports written, the baseline compared, the gate applied.
import ArgumentParser
import Audit
import Foundation
import Kernels
import Reference
import Report

struct GateOptions: ParsableArguments {
    @Option(help: "Directory for the reports.")
    var output: String = "Reports"

    @Flag(inversion: .prefixedNo, help: "Fail (exit 1) on the verdicts chosen by --fail-on.")
    var gate = true

    @Option(name: .customLong("fail-on"), help: "Comma-separated verdicts that fail the gate (default: all).")
    var failOn = NameList<GateCheck>(GateCheck.allCases)

    @Option(help: "The baseline file (sections per configuration).")
    var baseline: String = "Reports/baseline.json"

    @Option(help: "Also write JUnit XML here: one test case per kernel × function × class.")
    var junit: String?

    var checks: Set<GateCheck> { Set(failOn.items) }

    func validate() throws {
        for (name, value) in [("--output", output), ("--baseline", baseline), ("--junit", junit)] where value == "" {
            throw ValidationError("\(name) is empty: give a path (an unset variable expands to nothing).")
        }
    }

    /// Writes the reports (and JUnit, and GitHub's step summary), compares with the baseline and applies
    /// the gate: exit status 1 with the failing cells on standard error.
    func finish(_ result: AuditResult, command: String, jobs: Int, stem: String = "audit", extra: String = "") throws {
        let description = RunDescription(
            command: command, toolVersion: softmaxAuditVersion,
            mpfrVersion: SoftmaxReference.mpfrVersion)
        try Self.writeReports(result, description, stem: stem, extra: extra, under: output)
        printSummary(result, jobs: jobs, stem: stem)
        let comparison = try compareWithBaseline(result, command: command)
        let outcome = result.gate(failOn: checks, baseline: comparison)
        if let junit {
            do {
                try writeAtomically(JUnit.render(result, failOn: checks, baseline: comparison), to: junit)
            } catch {
                throw failure(ExitStatus.cannotWrite, "cannot write the JUnit file '\(junit)': \(error).")
            }
        }
        if let summary = ProcessInfo.processInfo.environment["GITHUB_STEP_SUMMARY"], !summary.isEmpty {
            appendToFile(
                StepSummary.render(result, description, gateFailures: gate ? outcome.failures : []), path: summary)
        }
        guard gate else { return }
        if !outcome.passed {
            printError("softmax-audit: the gate failed on \(outcome.failures.count) cell(s):")
            for line in outcome.failures { printError("  " + line) }
            throw ExitCode(1)
        }
    }

    /// The Markdown and JSON reports and the figures, under `output`.
    static func writeReports(
        _ result: AuditResult, _ description: RunDescription, stem: String, extra: String, under output: String
    ) throws {
        var files: [(String, String)] = [
            ("\(stem).md", AuditMarkdown.render(result, description) + extra),
            ("\(stem).json", try AuditJSON.render(result, description)),
        ]
        for k in result.kernels {
            files.append(("figures/\(k.name).svg", Histogram.svg(result, kernel: k.name)))
            files.append(("figures/\(k.name)-bound.svg", BoundFigure.svg(result, kernel: k.name)))
        }
        files += PrecisionMatrix.figures(result)
        do {
            try ReportFiles.write(files, under: output)
        } catch {
            throw failure(ExitStatus.cannotWrite, "cannot write the reports under '\(output)': \(error).")
        }
    }

    /// What was written, and where the time went.
    private func printSummary(_ result: AuditResult, jobs: Int, stem: String) {
        let good = result.verdicts.filter(\.isGood).count
        let kernels = result.kernels.count
        print(
            "Wrote \(output)/\(stem).md (\(result.rowsEvaluated) cases, \(kernels) kernels): "
                + "\(good) of \(kernels) verdicts as declared.")
        let t = result.timing
        guard t.workers > 0 else { return }
        let rate = Int((Double(result.rowsEvaluated) / t.wall).rounded())
        let referenceShare = Int((100 * t.reference / t.workers).rounded())
        print(
            "Time: \(String(format: "%.1f", t.wall)) s with \(jobs) job\(jobs == 1 ? "" : "s"), \(rate) cases/s; "
                + "the reference took \(referenceShare)% of the case evaluation, shrinking and worst cases "
                + "\(String(format: "%.1f", t.shrinking)) s.")
    }

    /// Compares with the baseline section of this configuration, printing regressions and improvements.
    func compareWithBaseline(_ result: AuditResult, command: String) throws -> BaselineComparison? {
        let file: BaselineFile
        do {
            file = try BaselineFile.load(baseline)
        } catch let error as CocoaError where error.code == .fileReadNoSuchFile {
            print("Baseline: \(baseline) does not exist; `softmax-audit baseline --update` writes it.")
            return nil
        } catch {
            throw failure(2, "cannot read the baseline '\(baseline)': \(error)")
        }
        guard let section = file.section(for: result) else {
            print(
                "Baseline: \(baseline) has no section for `\(command)`; "
                    + "`softmax-audit baseline --update` with the same options adds one.")
            return nil
        }
        let comparison = result.compare(with: section)
        print(
            "Baseline: \(comparison.regressions.count) regression(s), \(comparison.improvements.count) improvement(s), "
                + "\(comparison.unrecorded.count) new cell(s).")
        for c in comparison.improvements { print("  improved: \(c.description)") }
        for c in comparison.regressions { print("  worse: \(c.description)") }
        return comparison
    }
}
