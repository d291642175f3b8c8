// The command-line runner: parses, hands off to the libraries, and maps failures to exit statuses.
import ArgumentParser

@main
struct SoftmaxAuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "softmax-audit",
        abstract: "Proves how accurate softmax, log-softmax, logsumexp and cross-entropy implementations are.",
        discussion: """
            With no subcommand, runs the default job (`run`). `reference` evaluates the certified
            reference on rows from standard input; `list` prints the kernels under test.
            """,
        subcommands: [RunCommand.self, ReferenceCommand.self, ListCommand.self],
        defaultSubcommand: RunCommand.self
    )
}
