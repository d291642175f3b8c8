// `softmax-audit run` (the default): the audit of every kernel over random and adversarial rows,
// written under Reports/ (or --output), with exit status 1 when a verdict fails.
import ArgumentParser
import Audit
import Foundation

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

    @Option(help: "Run shard K of N (K/N, 1 <= K <= N <= 10000): the cases whose index is K-1 modulo N.")
    var shard: Shard?

    @Option(
        help: """
            After the audit, hunt every kernel's functions with this many evaluations each (OUTPUT/hunt-audit.md); \
            an accurate kernel the hunt makes fail fails the gate.
            """)
    var hunt: Int?

    @Option(
        name: .customLong("hunt-max-length"), help: "The longest row of --hunt (default: the audit's --max-length).")
    var huntMaxLength: Int?

    func validate() throws {
        if let hunt, !HuntBudgetOptions.evaluationsRange.contains(hunt) {
            throw ValidationError(
                "--hunt must be between 1 and \(HuntBudgetOptions.evaluationsRange.upperBound) evaluations "
                    + "(got \(hunt)).")
        }
        if let huntMaxLength, !Limits.rowLength.contains(huntMaxLength) {
            throw ValidationError("--hunt-max-length must be between 1 and 1000000 (got \(huntMaxLength)).")
        }
        if hunt != nil && shard != nil {
            throw ValidationError("--hunt does not combine with --shard: hunt after `softmax-audit merge` instead.")
        }
        if huntMaxLength != nil && hunt == nil { throw ValidationError("--hunt-max-length needs --hunt.") }
    }

    func run() throws {
        let command = ["softmax-audit run", options.reproduction].filter { !$0.isEmpty }.joined(separator: " ")
        if let shard {
            let file = AuditEngine.runShard(
                try options.configuration(), shard: shard.index, of: shard.count,
                command: command, precision: options.precision)
            let path = gateOptions.output + "/shard-\(shard.index)-of-\(shard.count).json"
            do {
                try writeAtomically(try file.encoded(), to: path)
            } catch {
                throw failure(ExitStatus.cannotWrite, "run: cannot write '\(path)': \(error).")
            }
            print("Wrote \(path); `softmax-audit merge` joins the \(shard.count) shards into the reports.")
            return
        }
        var gate = gateOptions
        if options.precision && gate.output == "Reports" { gate.output = "Reports/precision" }
        let configuration = try options.configuration()
        let result = AuditEngine.run(configuration)
        var falseAlarms: [HuntTarget] = []
        if let hunt {
            var c = HuntConfiguration()
            c.seed = options.seed
            c.jobs = options.jobs
            c.evaluations = hunt
            c.maxLength = huntMaxLength ?? configuration.maxLength
            let r = Hunt.run(configuration.kernels, c)
            let huntCommand = command + " --hunt \(hunt)" + (huntMaxLength.map { " --hunt-max-length \($0)" } ?? "")
            try HuntCommand.write(r, title: "audit", command: huntCommand, output: gate.output, defaultRun: nil)
            HuntCommand.printSummary(r, title: "audit", output: gate.output)
            falseAlarms = r.falseAlarms
        }
        try gate.finish(result, command: command, jobs: options.jobs)
        if gate.gate && !falseAlarms.isEmpty {
            printError("softmax-audit: the hunt made \(falseAlarms.count) accurate kernel function(s) fail:")
            for t in falseAlarms {
                printError("  \(t.kernel) × \(t.function.rawValue): \(t.worst?.failure?.detail ?? "")")
            }
            throw ExitCode(1)
        }
    }
}
