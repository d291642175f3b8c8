// `softmax-audit run` (the default): the audit of every kernel over random and adversarial rows,
// written under Reports/ (or --output), with exit status 1 when a verdict fails.
import ArgumentParser
import Audit
import Foundation
import Kernels
import Reference
import Report

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Audit the kernels against the certified reference and write the reports (the default).",
        discussion: """
            Exit status 0 when every kernel declared accurate met its checks and every declared flaw was \
            detected; 1 otherwise (naming which); 2 for bad usage.
            """)

    @Option(help: "The seed of the case generators (the same seed gives the same reports).")
    var seed: UInt64 = AuditConfiguration.defaultSeed

    @Option(help: "Worker threads (default: every core). Results do not depend on it.")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Cases per input class (default 200; 12 with --quick).")
    var cases: Int?

    @Option(name: .customLong("max-length"), help: "The longest row generated, 1 to 1000000 (default 4096; 512 with --quick).")
    var maxLength: Int?

    @Option(help: "Comma-separated kernel names to audit (default: all; see `softmax-audit list`).")
    var kernels: String?

    @Option(help: "Comma-separated input class names (default: all; see `softmax-audit list --classes`).")
    var classes: String?

    @Flag(help: "The CI preset: 12 cases per class, rows up to 512 logits.")
    var quick = false

    @Option(help: "Directory for the reports.")
    var output: String = "Reports"

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1 (got \(jobs)).") }
        if let cases, cases < 1 { throw ValidationError("--cases must be at least 1 (got \(cases)).") }
        if let maxLength, !(1...1_000_000).contains(maxLength) {
            throw ValidationError("--max-length must be between 1 and 1000000 (got \(maxLength)).")
        }
        _ = try selectedKernels()
        _ = try selectedClasses()
    }

    func selectedKernels() throws -> [Kernel] {
        try select(kernels, all: Kernel.all, named: Kernel.named, option: "--kernels", what: "kernel", listing: "softmax-audit list")
    }

    func selectedClasses() throws -> [InputClass] {
        try select(classes, all: InputClass.all, named: InputClass.named, option: "--classes", what: "input class",
                   listing: "softmax-audit list --classes")
    }

    /// The items a comma-separated option names, or all of them when it is absent.
    private func select<T>(_ names: String?, all: [T], named: (String) -> T?, option: String, what: String, listing: String) throws -> [T] {
        guard let names else { return all }
        return try names.split(separator: ",").map { name in
            guard let item = named(String(name)) else {
                throw ValidationError("\(option): there is no \(what) '\(name)'; `\(listing)` prints the names.")
            }
            return item
        }
    }

    /// The command line that reproduces this run, for the report's header.
    var reproduction: String {
        var parts = ["softmax-audit run"]
        if quick { parts.append("--quick") }
        if seed != AuditConfiguration.defaultSeed { parts.append("--seed \(seed)") }
        if let cases { parts.append("--cases \(cases)") }
        if let maxLength { parts.append("--max-length \(maxLength)") }
        if let kernels { parts.append("--kernels \(kernels)") }
        if let classes { parts.append("--classes \(classes)") }
        return parts.joined(separator: " ")
    }

    func run() throws {
        var configuration = quick ? AuditConfiguration.quick : AuditConfiguration()
        configuration.seed = seed
        configuration.jobs = jobs
        if let cases { configuration.casesPerClass = cases }
        if let maxLength { configuration.maxLength = maxLength }
        configuration.kernels = try selectedKernels()
        configuration.classes = try selectedClasses()
        let bar = ProgressBar()
        if bar.isActive {
            configuration.progress = { @Sendable done, total in bar.update(done, total) }
        }

        let result = AuditEngine.run(configuration)
        bar.finish()

        let description = RunDescription(command: reproduction, toolVersion: softmaxAuditVersion, mpfrVersion: SoftmaxReference.mpfrVersion)
        var files: [(String, String)] = [
            ("audit.md", AuditMarkdown.render(result, description)),
            ("audit.json", try AuditJSON.render(result, description)),
        ]
        for k in result.kernels { files.append(("figures/\(k.name).svg", Histogram.svg(result, kernel: k.name))) }
        do {
            for (name, text) in files { try writeAtomically(text, to: output + "/" + name) }
        } catch {
            throw failure(1, "run: cannot write the reports under '\(output)': \(error.localizedDescription)")
        }
        let good = result.verdicts.filter(\.isGood).count
        let t = result.timing
        print("Wrote \(output)/audit.md (\(result.rowsEvaluated) cases, \(result.kernels.count) kernels): \(good) of \(result.kernels.count) verdicts as declared.")
        print("Time: \(String(format: "%.1f", t.wall)) s with \(jobs) jobs, \(Int((Double(result.rowsEvaluated) / t.wall).rounded())) cases/s; the reference took \(Int((100 * t.reference / max(t.workers, 1e-9)).rounded()))% of the case evaluation, shrinking and worst cases \(String(format: "%.1f", t.shrinking)) s.")
        if !result.passed {
            for problem in result.problems { printError("softmax-audit: " + problem + ".") }
            throw ExitCode(1)
        }
    }
}

let softmaxAuditVersion = "0.2.0"

/// Writes a file through a temporary beside it and a rename, so a reader never sees half a report.
func writeAtomically(_ text: String, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial")
    try Data(text.utf8).write(to: temporary)
    if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
    try FileManager.default.moveItem(at: temporary, to: url)
}
