// `softmax-audit baseline [--update]`: records or checks the baseline of a configuration, as glibc's
// libm-test-ulps: the largest ULP error per kernel × function × class, with the bound as a cap.
import ArgumentParser
import Audit
import Foundation

struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Record (--update) or check the baseline of a configuration.",
        discussion: """
            Runs the audit with the given options. With --update, replaces the configuration's section of \
            the baseline file with the run's max ULP per kernel × function × class — refused (exit 1) when \
            a kernel declared accurate exceeds its algorithm's bound somewhere (the cap). Without it, prints \
            the comparison and exits 1 on a regression.
            """)

    @OptionGroup var options: AuditOptions

    @Flag(help: "Rewrite this configuration's section from the run.")
    var update = false

    @Option(help: "The baseline file.")
    var file: String = "Reports/baseline.json"

    func run() throws {
        let result = try options.runAudit()
        var baseline = BaselineFile()
        if FileManager.default.fileExists(atPath: file) {
            do { baseline = try BaselineFile.load(file) } catch {
                throw failure(2, "baseline: cannot read '\(file)': \(error)")
            }
        }
        if update {
            let violations = result.capViolations
            if !violations.isEmpty { throw failure(1, "baseline: \(BaselineError.capExceeded(violations)).") }
            let command = ["softmax-audit run", options.reproduction].filter { !$0.isEmpty }.joined(separator: " ")
            do {
                try writeAtomically(try baseline.updated(with: result, command: command).encoded(), to: file)
            } catch {
                throw failure(ExitStatus.cannotWrite, "baseline: cannot write '\(file)': \(error).")
            }
            print("Wrote the baseline of `\(command)` (\(result.cells.count) cells) to \(file).")
            return
        }
        guard let section = baseline.section(for: result) else {
            throw failure(1, "baseline: '\(file)' has no section for this configuration; run with --update to add one.")
        }
        let comparison = result.compare(with: section)
        for c in comparison.improvements { print("improved: \(c.description)") }
        for c in comparison.regressions { print("worse: \(c.description)") }
        print(
            "\(comparison.regressions.count) regression(s), \(comparison.improvements.count) improvement(s), "
                + "\(comparison.unrecorded.count) new cell(s).")
        if !comparison.regressions.isEmpty { throw ExitCode(1) }
    }
}
