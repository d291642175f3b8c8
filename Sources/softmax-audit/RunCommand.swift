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
        try gate.finish(try options.runAudit(), command: command, jobs: options.jobs)
    }
}
