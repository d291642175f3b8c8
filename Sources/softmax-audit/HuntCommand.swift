// `softmax-audit hunt`: the error-maximising search (Audit/Hunt) for built-in kernels, the planted flaws,
// an external worker (`-- COMMAND`) or a native library (`--library PATH.so`), written to
// OUTPUT/hunt-NAME.md with JSON and figures beside it.
import ArgumentParser
import Audit
import Foundation
import Kernels
import Reference
import Report

/// The options of a hunt's budget, shared with `run --hunt`.
struct HuntBudgetOptions: ParsableArguments {
    @Option(help: "Evaluations per kernel × function (the same seed and budget give the same report).")
    var evaluations: Int = HuntConfiguration.defaultEvaluations

    @Option(help: "Also stop each kernel × function after this many seconds (the report is then not reproducible).")
    var seconds: Double?

    @Option(help: "Independent searches per kernel × function, run in parallel; the budget is split among them.")
    var islands: Int = HuntConfiguration.defaultIslands

    @Option(name: .customLong("hunt-max-length"), help: "The longest row the hunt makes (1 to 1000000).")
    var maxLength: Int = HuntConfiguration.defaultMaxLength

    static let evaluationsRange = 1...100_000_000
    static let islandsRange = 1...256

    func validate() throws {
        guard Self.evaluationsRange.contains(evaluations) else {
            throw ValidationError(
                "--evaluations must be between 1 and \(Self.evaluationsRange.upperBound) (got \(evaluations)).")
        }
        if let seconds, !(seconds > 0 && seconds <= 86_400) {
            throw ValidationError("--seconds must be positive and at most a day (got \(seconds)).")
        }
        guard Self.islandsRange.contains(islands) else {
            throw ValidationError("--islands must be between 1 and \(Self.islandsRange.upperBound) (got \(islands)).")
        }
        guard Limits.rowLength.contains(maxLength) else {
            throw ValidationError("--hunt-max-length must be between 1 and 1000000 (got \(maxLength)).")
        }
    }

    func configuration(seed: UInt64, jobs: Int) -> HuntConfiguration {
        var c = HuntConfiguration()
        c.seed = seed
        c.jobs = jobs
        c.evaluations = evaluations
        c.seconds = seconds
        c.islands = islands
        c.maxLength = maxLength
        return c
    }

    /// The arguments that reproduce the budget.
    var reproduction: String {
        var parts: [String] = []
        if evaluations != HuntConfiguration.defaultEvaluations { parts.append("--evaluations \(evaluations)") }
        if let seconds { parts.append("--seconds \(shortNumber(seconds))") }
        if islands != HuntConfiguration.defaultIslands { parts.append("--islands \(islands)") }
        if maxLength != HuntConfiguration.defaultMaxLength { parts.append("--hunt-max-length \(maxLength)") }
        return parts.joined(separator: " ")
    }
}

struct HuntCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hunt",
        abstract: "Search for the inputs with the largest error / bound, and the ranges on which a failure persists.",
        discussion: """
            Hunts built-in kernels (--kernels), the planted flaws with the default run beside them (--planted), \
            an external worker (--name NAME -- COMMAND) or a native library (--name NAME --library PATH.so). \
            Writes OUTPUT/hunt-NAME.md and .json, and figures/hunt-NAME-KERNEL.svg. Exit status 1 when a kernel \
            declared accurate (every worker is) fails, or a declared flaw is not found.
            """)

    @Option(help: "Comma-separated built-in kernels (`softmax-audit list`, `list --formats`, `list --planted`).")
    var kernels: NameList<KernelName>?

    @Flag(help: "Hunt every planted flaw and run the default audit on each: the detection table.")
    var planted = false

    @Flag(help: "Hunt every kernel declared accurate (binary64 and the formats): the false-alarm check.")
    var accurate = false

    @Option(help: "Comma-separated functions to hunt (default: every function of each kernel).")
    var functions: NameList<AuditFunction>?

    @Option(help: "The report's name (hunt-NAME.md); required for a worker or a library.")
    var name: String?

    @Option(help: "A shared library of C kernels to hunt (as `softmax-audit native` loads it).")
    var library: String?

    @Option(help: "A worker's or library's format, as `external --format`.")
    var format: BinaryFormat = .double

    @Option(help: "Seconds to wait for each worker answer.")
    var timeout: Double = 10

    @Option(help: "A worker's restarts after crashes and hangs; past them the hunt stops with exit status 4.")
    var restarts: Int = 20

    @Option(help: "The seed of the search.")
    var seed: UInt64 = AuditConfiguration.defaultSeed

    @Option(help: "Worker threads (default: every core). Results do not depend on it.")
    var jobs: Int = Limits.defaultJobs

    @OptionGroup var budget: HuntBudgetOptions

    @Option(help: "Directory for the reports.")
    var output: String = "Reports"

    @Flag(inversion: .prefixedNo, help: "Exit 1 when an accurate kernel fails or a planted flaw is not found.")
    var gate = true

    @Option(
        help:
            """
            Hunt shard K of N: the kernel × function targets whose index is K-1 modulo N, to \
            OUTPUT/hunt-NAME-shard-K-of-N.json.
            """
    )
    var shard: Shard?

    @Option(
        parsing: .upToNextOption,
        help: "Join the shard files of one hunt into its report (the same bytes as unsharded).")
    var merge: [String] = []

    @Argument(parsing: .postTerminator, help: "A worker command and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        try Limits.checkJobs(jobs)
        let sources = [kernels != nil, planted, accurate, !command.isEmpty, library != nil, !merge.isEmpty]
            .filter { $0 }.count
        guard sources == 1 else {
            throw ValidationError(
                "give one of --kernels, --planted, --accurate, --library, --merge or a worker command after --.")
        }
        if shard != nil && planted {
            throw ValidationError("--planted runs the default audits beside the hunt; shard it with --kernels instead.")
        }
        if !command.isEmpty || library != nil {
            guard let name, !name.isEmpty else {
                throw ValidationError("--name is required for a worker or a library: it names the report.")
            }
        }
        if let name { try Limits.checkName(name) }
        guard Limits.timeout.contains(timeout) else {
            throw ValidationError(
                "--timeout must be between \(Limits.timeout.lowerBound) and \(Limits.timeout.upperBound) s.")
        }
        if output.isEmpty { throw ValidationError("--output is empty: give a path.") }
    }

    func run() throws {
        // An output that cannot be written is said before the hunt, not after it.
        if (try? FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)) == nil
            || access(output, W_OK) != 0
        {
            throw failure(
                ExitStatus.cannotWrite, "hunt: cannot write the reports under '\(RowSyntax.visible(output))'.")
        }
        if !merge.isEmpty { return try mergeShards() }
        var worker: ExternalWorker? = nil
        defer { worker?.stop() }
        let hunted: [Kernel]
        let title: String
        var workerArguments = ""
        if let kernels {
            hunted = kernels.items.map(\.kernel)
            title = name ?? (hunted.count == 1 ? hunted[0].name : "kernels")
        } else if planted {
            hunted = Kernel.planted
            title = name ?? "planted"
        } else if accurate {
            hunted = (Kernel.all + Kernel.formatKernels).filter(\.expectation.isAccurate)
            title = name ?? "accurate"
        } else {
            let argv: [String]
            if let library {
                guard let executable = NativeCommand.executablePath() else {
                    throw failure(
                        ExitStatus.workerFailed, "hunt: cannot find this program's own path to start its child.")
                }
                guard access(library, R_OK) == 0 else {
                    throw failure(
                        ExitStatus.badInput, "hunt: --library '\(RowSyntax.visible(library))' is not a readable file.")
                }
                let path = library.hasPrefix("/") ? library : NativeCommand.currentDirectory() + "/" + library
                try NativeCommand.checkLoads(executable, path, as: library, timeout: timeout)
                argv = [executable, "serve-native", "--library", path]
                workerArguments = "--library \(library)"
            } else {
                argv = command
                workerArguments = "-- " + command.joined(separator: " ")
            }
            let w = ExternalWorker(command: argv, timeout: timeout, maximumRestarts: max(0, restarts))
            worker = w
            let (kernel, _) = ExternalKernel.make(
                name: name!, worker: w,
                functions: functions?.items.compactMap(ReferenceFunction.init) ?? ReferenceFunction.allCases,
                format: format)
            guard !kernel.functions.isEmpty, !w.hasGivenUp else {
                throw WorkerAuditOptions.answeredNothing(
                    reason: WorkerAuditOptions.whyNothing(w), argv, invocation: "hunt")
            }
            hunted = [kernel]
            title = name!
        }
        var configuration = budget.configuration(seed: seed, jobs: jobs)
        if let worker { configuration.stop = { @Sendable in worker.hasGivenUp } }
        let bar = ProgressBar()
        if bar.isActive {
            configuration.progress = { @Sendable done, total in
                bar.update(done, total)
                if done == total { bar.finish() }
            }
        }
        guard hunted.contains(where: { k in k.functions.contains { functions?.items.contains($0) ?? true } }) else {
            throw failure(
                ExitStatus.badInput,
                "hunt: no function of the kernels hunted is among --functions \(functions?.text ?? "").")
        }
        let result = Hunt.run(
            hunted, functions: functions?.items, shard: shard.map { ($0.index, $0.count) }, configuration)
        // A worker's crashes and hangs are part of the report; past its restarts its answers are not the kernel's.
        let extra = worker.map { w in "\n" + ExternalKernel.markdown(w, kernel: hunted[0], unsupported: []) } ?? ""
        let invocation = reproduction(workerArguments)
        if let shard {
            let file = HuntShardFile(
                command: invocation, title: title, shard: shard.index, of: shard.count, result: result)
            let path = output + "/hunt-\(title)-shard-\(shard.index)-of-\(shard.count).json"
            do {
                try ReportFiles.write(
                    [(String(path.dropFirst(output.count + 1)), try JSONFiles.text(file))], under: output)
            } catch {
                throw failure(ExitStatus.cannotWrite, "hunt: cannot write '\(path)': \(error).")
            }
            print("Wrote \(path); `softmax-audit hunt --merge` joins the \(shard.count) shards into the report.")
            return
        }
        var defaultRun: [DefaultRunFinding]? = nil
        if planted { defaultRun = try Self.defaultRuns(hunted, jobs: jobs) }
        try Self.write(result, title: title, command: invocation, output: output, defaultRun: defaultRun, extra: extra)
        Self.printSummary(result, title: title, output: output)
        if let worker, worker.hasGivenUp {
            throw failure(
                ExitStatus.workerFailed,
                "hunt: the worker crashed or hung past its \(restarts) restarts, so the hunt's later results are "
                    + "failed requests, not the kernel's; its problems are in \(output)/hunt-\(title).md.")
        }
        if gate { try Self.applyGate(result) }
    }

    /// Joins the shard files into the report of the whole hunt.
    private func mergeShards() throws {
        var files: [HuntShardFile] = []
        for path in merge {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw failure(ExitStatus.badInput, "hunt --merge: cannot read '\(RowSyntax.visible(path))'.")
            }
            guard let file = try? JSONFiles.decoder().decode(HuntShardFile.self, from: data),
                file.schema == HuntShardFile.schema
            else {
                throw failure(
                    ExitStatus.badInput,
                    "hunt --merge: '\(RowSyntax.visible(path))' is not a hunt shard file (`hunt --shard`).")
            }
            files.append(file)
        }
        let result: HuntResult
        do {
            result = try HuntShardFile.merge(files)
        } catch {
            throw failure(ExitStatus.badInput, "hunt --merge: \(error).")
        }
        let first = files[0]
        try Self.write(result, title: first.title, command: first.command, output: output, defaultRun: nil)
        Self.printSummary(result, title: first.title, output: output)
        if gate { try Self.applyGate(result) }
    }

    private func reproduction(_ workerArguments: String) -> String {
        var parts = ["softmax-audit hunt"]
        if let kernels { parts.append("--kernels \(kernels.text)") }
        if planted { parts.append("--planted") }
        if accurate { parts.append("--accurate") }
        if let name { parts.append("--name \(name)") }
        if let functions { parts.append("--functions \(functions.text)") }
        if format != .double { parts.append("--format \(format.name)") }
        if seed != AuditConfiguration.defaultSeed { parts.append("--seed \(seed)") }
        if !budget.reproduction.isEmpty { parts.append(budget.reproduction) }
        if !workerArguments.isEmpty { parts.append(workerArguments) }
        return parts.joined(separator: " ")
    }

    /// The default audit (binary64's, or the precision audit's for a format kernel) of each kernel alone.
    static func defaultRuns(_ kernels: [Kernel], jobs: Int) throws -> [DefaultRunFinding] {
        try kernels.map { k in
            var c = AuditConfiguration()
            let narrow = k.precision.storage != .double
            if narrow {
                c.casesPerClass = AuditOptions.precisionCases
                c.maxLength = AuditOptions.precisionMaxLength
                c.classes = InputClass.precision
            }
            c.kernels = [k]
            c.jobs = jobs
            let r = AuditEngine.run(c)
            var failures: [String] = []
            for cell in r.cells {
                for (kind, count) in cell.failureCounts.sorted(by: { $0.key < $1.key }) {
                    failures.append("\(cell.function.rawValue) × \(cell.inputClass): \(kind) (\(count))")
                }
            }
            let command = "softmax-audit run\(narrow ? " --precision" : "") --kernels \(k.name)"
            return DefaultRunFinding(kernel: k.name, failures: failures, cases: r.rowsEvaluated, command: command)
        }
    }

    static func write(
        _ result: HuntResult, title: String, command: String, output: String, defaultRun: [DefaultRunFinding]?,
        extra: String = ""
    ) throws {
        let run = RunDescription(
            command: command, toolVersion: softmaxAuditVersion, mpfrVersion: SoftmaxReference.mpfrVersion)
        var files: [(String, String)] = [
            ("hunt-\(title).md", HuntReport.markdown(result, run, title: title, defaultRun: defaultRun) + extra),
            ("hunt-\(title).json", try HuntReport.json(result, run, defaultRun: defaultRun)),
        ]
        for k in result.kernels where result.targets.contains(where: { $0.kernel == k.name && $0.failed }) {
            files.append(
                (HuntReport.figureFile(title: title, kernel: k.name), HuntReport.growthSVG(result, kernel: k.name)))
        }
        do {
            try ReportFiles.write(files, under: output)
        } catch {
            throw failure(ExitStatus.cannotWrite, "hunt: cannot write the reports under '\(output)': \(error).")
        }
    }

    static func printSummary(_ result: HuntResult, title: String, output: String) {
        let evaluations = result.targets.map(\.evaluations).reduce(0, +)
        print(
            "Wrote \(output)/hunt-\(title).md: \(result.targets.count) kernel × function hunts, \(evaluations) "
                + "evaluations in \(String(format: "%.1f", result.seconds)) s; "
                + "\(result.targets.filter(\.failed).count) failing, \(result.falseAlarms.count) on accurate kernels.")
    }

    /// Exit 1 when an accurate kernel failed or a flawed kernel's flaw was not found by any of its functions.
    static func applyGate(_ result: HuntResult) throws {
        var problems = result.falseAlarms.map { t in
            "\(t.kernel) × \(t.function.rawValue): declared accurate, fails: \(t.worst?.failure?.detail ?? "")"
        }
        for k in result.kernels where !k.expectation.isAccurate {
            let mine = result.targets.filter { $0.kernel == k.name }
            if !mine.isEmpty && !mine.contains(where: \.failed) {
                problems.append("\(k.name): its declared flaw was not found")
            }
        }
        guard !problems.isEmpty else { return }
        printError("softmax-audit: the hunt's gate failed on \(problems.count) item(s):")
        for p in problems { printError("  " + p) }
        throw ExitCode(1)
    }
}
