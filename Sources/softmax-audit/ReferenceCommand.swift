// `softmax-audit reference FUNCTION [--input FILE]`: the certified reference as a filter.
import ArgumentParser
import Audit
import Reference

extension ReferenceFunction: ExpressibleByArgument {}

struct ReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference",
        abstract: "Correctly rounded results for rows read from standard input (or --input).",
        discussion: """
            A row is whitespace-separated numbers (decimal, hexadecimal floats such as 0x1.8p+1, inf, \
            -inf, nan); for cross-entropy and cross-entropy-gradient it starts with a 0-based label \
            and a colon: '2: 0.5 1 -3'. Each row gives one output line of hexadecimal floats \
            (Python's float.hex notation): one value for logsumexp and cross-entropy, one per logit \
            otherwise. A malformed row stops the run with exit status 2.
            """
    )

    @Argument(help: "One of: \(ReferenceFunction.allCases.map(\.rawValue).joined(separator: ", ")).")
    var function: ReferenceFunction

    @Option(name: .long, help: "Read rows from this file instead of standard input.")
    var input: String?

    func run() throws {
        let reader: LineReader
        do {
            reader = try LineReader(path: input)
        } catch {
            throw failure(2, "reference: cannot open '\(input ?? "-")' for reading.")
        }
        let output = OutputBuffer()
        let reference = SoftmaxReference()
        let source = input ?? "standard input"
        var lineNumber = 0
        while let line = reader.nextLine() {
            lineNumber += 1
            let row: LabeledRow
            do {
                row = try RowSyntax.parse(line[...], labeled: function.takesLabel)
            } catch {
                output.flush()
                throw failure(2, "\(source), line \(lineNumber): \(error)")
            }
            do {
                let values = try function.evaluate(row, with: reference)
                output.write(values.map { Binary64.hexString($0.rounded) }.joined(separator: " "))
            } catch let error as ReferenceError {
                output.flush()
                let status: Int32 = if case .uncertified = error { 1 } else { 2 }
                throw failure(status, "\(source), line \(lineNumber): \(error)")
            }
        }
        output.flush()
    }
}

/// Writes a one-sentence message to standard error and returns the exit status to throw.
func failure(_ status: Int32, _ message: String) -> ExitCode {
    printError("softmax-audit: " + message)
    return ExitCode(status)
}
