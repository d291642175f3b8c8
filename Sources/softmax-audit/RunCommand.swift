// `softmax-audit run` (the default): the audit of every kernel over random and adversarial rows,
// written under Reports/ (or --output), with exit status 1 when a verdict fails.
import ArgumentParser
import Audit
import Foundation
import Kernels
import Reference
import Report

/// The options that choose what an audit runs (shared by `run` and `baseline`).
struct AuditOptions: ParsableArguments {
    @Option(help: "The seed of the case generators (the same seed gives the same reports).")
    var seed: UInt64 = AuditConfiguration.defaultSeed

    @Option(help: "Worker threads (default: every core). Results do not depend on it.")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Cases per input class (default 1000; 12 with --quick).")
    var cases: Int?

    @Option(name: .customLong("max-length"), help: "The longest row generated, 1 to 1000000 (default 16384; 512 with --quick).")
    var maxLength: Int?

    @Option(help: "Comma-separated kernel names to audit (default: all; see `softmax-audit list`).")
    var kernels: String?

    @Option(help: "Comma-separated input class names (default: all; see `softmax-audit list --classes`).")
    var classes: String?

    @Flag(help: "The CI preset: 12 cases per class, rows up to 512 logits.")
    var quick = false

    @Flag(help: "The precision audit: the kernels in float, float16 and bfloat16 (`softmax-audit list --formats`) over the precision classes (`list --classes --formats`), 100 cases per class, rows up to 8192 logits; reports under Reports/precision unless --output says otherwise.")
    var precision = false

    @Option(name: .customLong("reference-path"),
            help: "auto: the reference's double-word fast path first, MPFR when it does not certify (default); mpfr: MPFR only (the same results, slower).")
    var referencePath: FastPathMode = .auto

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
        if precision {
            return try select(kernels, all: Kernel.formatKernels, named: { name in Kernel.formatKernels.first { $0.name == name } },
                              option: "--kernels", what: "format kernel", listing: "softmax-audit list --formats")
        }
        return try select(kernels, all: Kernel.all, named: { name in Kernel.all.first { $0.name == name } },
                          option: "--kernels", what: "kernel", listing: "softmax-audit list (with --precision: list --formats)")
    }

    func selectedClasses() throws -> [InputClass] {
        if precision {
            return try select(classes, all: InputClass.precision, named: InputClass.precisionNamed, option: "--classes",
                              what: "precision class", listing: "softmax-audit list --classes --formats")
        }
        return try select(classes, all: InputClass.all, named: InputClass.named, option: "--classes", what: "input class",
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

    /// The arguments that reproduce this configuration (after the subcommand's name).
    var reproduction: String {
        var parts: [String] = []
        if precision { parts.append("--precision") }
        if quick { parts.append("--quick") }
        if seed != AuditConfiguration.defaultSeed { parts.append("--seed \(seed)") }
        if let cases { parts.append("--cases \(cases)") }
        if let maxLength { parts.append("--max-length \(maxLength)") }
        if let kernels { parts.append("--kernels \(kernels)") }
        if let classes { parts.append("--classes \(classes)") }
        if referencePath != .auto { parts.append("--reference-path \(referencePath.rawValue)") }
        return parts.joined(separator: " ")
    }

    /// Runs the audit, with a progress bar on a terminal.
    func runAudit() throws -> AuditResult { AuditEngine.run(try configuration()) }

    /// The engine's configuration for these options (with a progress bar on a terminal).
    func configuration() throws -> AuditConfiguration {
        var configuration = quick ? AuditConfiguration.quick : AuditConfiguration()
        if precision {
            configuration.casesPerClass = quick ? 12 : 100
            configuration.maxLength = quick ? 512 : 8192
        }
        configuration.seed = seed
        configuration.jobs = jobs
        if let cases { configuration.casesPerClass = cases }
        if let maxLength { configuration.maxLength = maxLength }
        configuration.kernels = try selectedKernels()
        configuration.classes = try selectedClasses()
        configuration.referencePath = referencePath
        let bar = ProgressBar()
        if bar.isActive {
            configuration.progress = { @Sendable done, total in
                bar.update(done, total)
                if done == total { bar.finish() }
            }
        }
        return configuration
    }
}

extension GateCheck: ExpressibleByArgument {}

/// Where the reports go and what fails the gate (shared by `run` and `merge`).
struct GateOptions: ParsableArguments {
    @Option(help: "Directory for the reports.")
    var output: String = "Reports"

    @Flag(inversion: .prefixedNo, help: "Fail (exit 1) on the verdicts chosen by --fail-on.")
    var gate = true

    @Option(name: .customLong("fail-on"), help: "Comma-separated verdicts that fail the gate: bound, baseline, property, special (default: all).")
    var failOn: String = "bound,baseline,property,special"

    @Option(help: "The baseline file (sections per configuration).")
    var baseline: String = "Reports/baseline.json"

    @Option(help: "Also write JUnit XML here: one test case per kernel × function × class.")
    var junit: String?

    func validate() throws { _ = try failOnChecks() }

    func failOnChecks() throws -> Set<GateCheck> {
        Set(try failOn.split(separator: ",").map { name in
            guard let check = GateCheck(rawValue: String(name)) else {
                throw ValidationError("--fail-on: '\(name)' is not one of bound, baseline, property, special.")
            }
            return check
        })
    }

    /// Writes the reports (and JUnit, and GitHub's step summary), compares with the baseline and applies
    /// the gate: exit status 1 with the failing cells on standard error.
    func finish(_ result: AuditResult, command: String, jobs: Int, stem: String = "audit", extra: String = "") throws {
        let description = RunDescription(command: command, toolVersion: softmaxAuditVersion, mpfrVersion: SoftmaxReference.mpfrVersion)
        var files: [(String, String)] = [
            ("\(stem).md", AuditMarkdown.render(result, description) + extra),
            ("\(stem).json", try AuditJSON.render(result, description)),
        ]
        for k in result.kernels {
            files.append(("figures/\(k.name).svg", Histogram.svg(result, kernel: k.name)))
            files.append(("figures/\(k.name)-bound.svg", BoundFigure.svg(result, kernel: k.name)))
        }
        for figure in PrecisionMatrix.figures(result) {
            files.append(figure)
        }
        do {
            for (name, text) in files { try writeAtomically(text, to: output + "/" + name) }
        } catch {
            throw failure(1, "cannot write the reports under '\(output)': \(error.localizedDescription)")
        }
        let good = result.verdicts.filter(\.isGood).count
        let t = result.timing
        print("Wrote \(output)/\(stem).md (\(result.rowsEvaluated) cases, \(result.kernels.count) kernels): \(good) of \(result.kernels.count) verdicts as declared.")
        if t.workers > 0 {
            print("Time: \(String(format: "%.1f", t.wall)) s with \(jobs) job\(jobs == 1 ? "" : "s"), \(Int((Double(result.rowsEvaluated) / t.wall).rounded())) cases/s; the reference took \(Int((100 * t.reference / t.workers).rounded()))% of the case evaluation, shrinking and worst cases \(String(format: "%.1f", t.shrinking)) s.")
        }
        let comparison = try compareWithBaseline(result, command: command)
        let checks = try failOnChecks()
        let outcome = result.gate(failOn: checks, baseline: comparison)
        if let junit {
            do {
                try writeAtomically(JUnit.render(result, failOn: checks, baseline: comparison), to: junit)
            } catch {
                throw failure(1, "cannot write the JUnit file '\(junit)': \(error.localizedDescription)")
            }
        }
        if let summary = ProcessInfo.processInfo.environment["GITHUB_STEP_SUMMARY"], !summary.isEmpty {
            appendToFile(StepSummary.render(result, description, gateFailures: gate ? outcome.failures : []), path: summary)
        }
        guard gate else { return }
        if !outcome.passed {
            printError("softmax-audit: the gate failed on \(outcome.failures.count) cell(s):")
            for line in outcome.failures { printError("  " + line) }
            throw ExitCode(1)
        }
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
            print("Baseline: \(baseline) has no section for `\(command)`; `softmax-audit baseline --update` with the same options adds one.")
            return nil
        }
        let comparison = result.compare(with: section)
        print("Baseline: \(comparison.regressions.count) regression(s), \(comparison.improvements.count) improvement(s), \(comparison.unrecorded.count) new cell(s).")
        for c in comparison.improvements { print("  improved: \(c.description)") }
        for c in comparison.regressions { print("  worse: \(c.description)") }
        return comparison
    }
}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Audit the kernels against the certified reference and write the reports (the default).",
        discussion: """
            With the gate on (the default), exit status 1 when a kernel declared accurate fails a check \
            chosen by --fail-on, when a cell's max ULP is above the baseline of this configuration, or \
            when a declared flaw goes undetected; the failing cells are listed on standard error. 2 for \
            bad usage. With --shard K/N, only every N-th case is run and its raw outcomes written to \
            OUTPUT/shard-K-of-N.json, for `softmax-audit merge`.
            """)

    @OptionGroup var options: AuditOptions
    @OptionGroup var gateOptions: GateOptions

    @Option(help: "Run shard K of N (1-based): the cases whose index is K-1 modulo N.")
    var shard: String?

    func parsedShard() throws -> (Int, Int)? {
        guard let shard else { return nil }
        let parts = shard.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[1] >= 1, (1...parts[1]).contains(parts[0]) else {
            throw ValidationError("--shard must be K/N with 1 <= K <= N (got '\(shard)').")
        }
        return (parts[0], parts[1])
    }

    func validate() throws { _ = try parsedShard() }

    func run() throws {
        let command = ["softmax-audit run", options.reproduction].filter { !$0.isEmpty }.joined(separator: " ")
        if let (k, n) = try parsedShard() {
            let file = AuditEngine.runShard(try options.configuration(), shard: k, of: n, command: command)
            let path = gateOptions.output + "/shard-\(k)-of-\(n).json"
            do {
                try writeAtomically(try file.encoded(), to: path)
            } catch {
                throw failure(1, "run: cannot write '\(path)': \(error.localizedDescription)")
            }
            print("Wrote \(path); `softmax-audit merge` joins the \(n) shards into the reports.")
            return
        }
        var gate = gateOptions
        if options.precision && gate.output == "Reports" { gate.output = "Reports/precision" }
        try gate.finish(try options.runAudit(), command: command, jobs: options.jobs)
    }
}

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the shards of one configuration into the reports an unsharded run writes (byte for byte).")

    @Argument(help: "The shard files (shard-K-of-N.json), all N of them.")
    var shards: [String]

    @OptionGroup var gateOptions: GateOptions

    @Option(help: "Worker threads for shrinking.")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        var files: [(path: String, file: ShardFile)] = []
        for path in shards {
            do {
                files.append((path, try ShardFile.load(path)))
            } catch let error as ShardError {
                throw failure(2, "merge: \(error).")
            } catch {
                throw failure(2, "merge: cannot read the shard '\(path)': \(error.localizedDescription)")
            }
        }
        let (result, command): (AuditResult, String)
        do {
            (result, command) = try AuditEngine.merge(files, jobs: max(1, jobs))
        } catch {
            throw failure(2, "merge: \(error).")
        }
        try gateOptions.finish(result, command: command, jobs: jobs)
    }
}

struct BaselineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline",
        abstract: "Record (--update) or check the baseline of a configuration.",
        discussion: """
            Runs the audit with the given options. With --update, replaces the configuration's section of             the baseline file with the run's max ULP per kernel × function × class — refused (exit 1) when             a kernel declared accurate exceeds its algorithm's bound somewhere (the cap). Without it, prints             the comparison and exits 1 on a regression.
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
            do { baseline = try BaselineFile.load(file) } catch { throw failure(2, "baseline: cannot read '\(file)': \(error)") }
        }
        if update {
            let violations = result.capViolations
            if !violations.isEmpty { throw failure(1, "baseline: \(BaselineError.capExceeded(violations)).") }
            let command = ["softmax-audit run", options.reproduction].filter { !$0.isEmpty }.joined(separator: " ")
            do {
                try writeAtomically(try baseline.updated(with: result, command: command).encoded(), to: file)
            } catch {
                throw failure(1, "baseline: cannot write '\(file)': \(error.localizedDescription)")
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
        print("\(comparison.regressions.count) regression(s), \(comparison.improvements.count) improvement(s), \(comparison.unrecorded.count) new cell(s).")
        if !comparison.regressions.isEmpty { throw ExitCode(1) }
    }
}

let softmaxAuditVersion = "0.3.0"

/// Appends text to a file (GitHub's step summary), creating it if needed; a failure is reported, not fatal.
func appendToFile(_ text: String, path: String) {
    guard let handle = FileHandle(forWritingAtPath: path) ?? {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        return FileHandle(forWritingAtPath: path)
    }() else {
        printError("softmax-audit: cannot append the summary to '\(path)'.")
        return
    }
    handle.seekToEndOfFile()
    handle.write(Data(text.utf8))
    handle.closeFile()
}

/// Writes a file through a temporary beside it and a rename, so a reader never sees half a report.
func writeAtomically(_ text: String, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial")
    try Data(text.utf8).write(to: temporary)
    if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
    try FileManager.default.moveItem(at: temporary, to: url)
}
