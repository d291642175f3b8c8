// `softmax-audit reference FUNCTION [--input FILE]`: the certified reference as a filter.
import ArgumentParser
import Foundation
import Audit
import Reference

struct ReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference",
        abstract: "Correctly rounded results for rows read from standard input (or --input).",
        discussion: """
            A row is whitespace-separated numbers (decimal, hexadecimal floats such as 0x1.8p+1, inf, \
            -inf, nan); for cross-entropy and cross-entropy-gradient it starts with a 0-based label \
            and a colon: '2: 0.5 1 -3'. The paired functions take a bar and the paired vector after \
            the logits, then their options: '0 1 2 | 0.2 0 0.8' (KL's target), '0.5 -120 | 1 0.9 \
            pos_weight=3' (binary cross-entropy's targets), '-1000 -2 | 1 0' (logsumexp's weights). \
            Each row gives one output line of hexadecimal floats (Python's float.hex notation): one \
            value for logsumexp, cross-entropy and KL, the value and its sign for the weighted \
            logsumexp, one per logit otherwise. A malformed row stops the run with exit status 2.
            """
    )

    @Argument(help: "The function.")
    var function: ReferenceFunction

    @Option(name: .long, help: "Read rows from this file instead of standard input.")
    var input: String?

    @Option(help: "auto: the double-word fast path first, MPFR when it does not certify (default); mpfr: MPFR only.")
    var path: FastPathMode = .auto

    @Option(
        help: """
            Round the results to this format (default double). Values are printed as the hexadecimal floats of \
            their exact binary64 value.
            """)
    var format: BinaryFormat = .double

    @Flag(
        help: """
            Read every row first, then print to standard error how long the reference took over them (parsing \
            and printing excluded; the rows are evaluated once for the timing, once more for the output) and \
            how the fast path fared.
            """)
    var timing = false

    func run() throws {
        // A closed pipe (`| head`) is a write error, exit 3, rather than death by SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let reader: LineReader
        do {
            reader = try LineReader(path: input)
        } catch {
            throw failure(2, "reference: cannot open '\(input ?? "-")' for reading.")
        }
        let output = OutputBuffer()
        let reference = SoftmaxReference()
        reference.fastPath = path
        reference.format = format
        let source = input ?? "standard input"
        var lineNumber = 0
        var pending: [AuditCase] = []
        func evaluate(_ row: AuditCase, line: Int) throws -> [ReferenceValue] {
            do {
                return try function.evaluate(row, with: reference)
            } catch let error as ReferenceError {
                output.flush()
                let status: Int32 = if case .uncertified = error { 1 } else { 2 }
                throw failure(status, "\(source), line \(line): \(error)")
            }
        }
        while let line = reader.nextLine() {
            lineNumber += 1
            let row: AuditCase
            do {
                row = try function.parse(line)
            } catch {
                output.flush()
                throw failure(2, "\(source), line \(lineNumber): \(error)")
            }
            if timing {
                pending.append(row)
            } else {
                output.writeHex(try evaluate(row, line: lineNumber).lazy.map(\.rounded))
                if output.writeError != nil { break }  // nobody reads the rest
            }
        }
        if timing {
            // The timed pass keeps no results (keeping a million fresh arrays would time the page
            // faults of their memory); the output comes from a second, untimed pass.
            var checksum = 0.0
            let start = ContinuousClock.now
            for (i, row) in pending.enumerated() { checksum += try evaluate(row, line: i + 1).first?.rounded ?? 0 }
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            let c = reference.fastPathCounts
            printError(
                "reference \(function.rawValue): \(pending.count) rows in \(String(format: "%.4f", seconds)) s "
                    + "(\(String(format: "%.0f", Double(pending.count) / max(seconds, 1e-9))) rows/s, path "
                    + "\(path.rawValue)); "
                    + "fast path \(c.fast), fallback \(c.fallback), MPFR only \(c.uncovered)"
            )
            withExtendedLifetime(checksum) {}
            for (i, row) in pending.enumerated() { output.writeHex(try evaluate(row, line: i + 1).lazy.map(\.rounded)) }
        }
        output.flush()
        if let error = reader.readError {
            throw failure(
                2, "reference: cannot read \(input.map { "'\($0)'" } ?? "standard input"): \(systemMessage(error)).")
        }
        if let error = output.writeError {
            throw failure(ExitStatus.cannotWrite, "reference: cannot write the results: \(systemMessage(error)).")
        }
    }
}

/// Writes a one-sentence message to standard error and returns the exit status to throw.
func failure(_ status: Int32, _ message: String) -> ExitCode {
    printError("softmax-audit: " + message)
    return ExitCode(status)
}
