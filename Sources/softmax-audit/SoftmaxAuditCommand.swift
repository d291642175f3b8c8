// The command-line runner: parses, hands off to the libraries, and maps failures to exit statuses.
import ArgumentParser

@main
struct SoftmaxAuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "softmax-audit",
        abstract: "Proves how accurate softmax, log-softmax, logsumexp and cross-entropy implementations are.",
        discussion: """
            With no subcommand, runs the audit (`run`). `reference` evaluates the certified reference on \
            rows from standard input; `check` re-runs one row through a kernel; `list` prints the kernels \
            (or, with --classes, the input classes); `baseline` records or checks a baseline; `merge` joins \
            the shards of a sharded run; `hunt` searches for the worst inputs.
            """,
        version: softmaxAuditVersion,
        subcommands: [
            RunCommand.self, ReferenceCommand.self, CheckCommand.self, ListCommand.self, BaselineCommand.self,
            MergeCommand.self, ExternalCommand.self, NativeCommand.self, SweepCommand.self, HuntCommand.self,
            LeagueCommand.self,
            ServeNativeCommand.self,
        ],
        defaultSubcommand: RunCommand.self
    )

    /// Parses and runs, with exit status 2 for bad usage (ArgumentParser's own is 64).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                printError(fullMessage(for: error))
                exit(withError: ExitCode(2))
            }
            exit(withError: error)
        }
    }
}

/// The version the reports carry and `--version` prints.
let softmaxAuditVersion = "0.3.0"
