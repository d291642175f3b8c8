// `softmax-audit external --name NAME [--functions LIST] [--timeout S] [options] -- COMMAND [ARGS...]`:
// audits any implementation, in any language, through the process protocol (Audit/ExternalKernel.swift).
import ArgumentParser
import Audit
import Foundation
import Kernels

struct ExternalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "external",
        abstract: "Audit an implementation in another process, over its standard input and output.",
        discussion: """
            Starts COMMAND once and sends it one request per line, in order: FUNCTION ROW, with FUNCTION and \
            ROW as `softmax-audit reference` takes them (values in hexadecimal). The worker answers each with \
            one line of values (n for softmax, log-softmax and cross-entropy-gradient, one for logsumexp and \
            cross-entropy) or the word `unsupported`. Crashes, hangs (--timeout), unparseable lines, wrong \
            counts and standard-error output are reported with their request; the worker is restarted. The \
            report goes to OUTPUT/external-NAME.md.
            """)

    @Option(help: "The implementation's name (kebab-case), used in the report's file name.")
    var name: String

    @Option(help: "Comma-separated functions to ask (default: all five).")
    var functions: String = ReferenceFunction.allCases.map(\.rawValue).joined(separator: ",")

    @Option(help: "Seconds to wait for each answer before the worker is stopped and restarted.")
    var timeout: Double = 10

    @Option(help: "Restarts allowed after crashes and hangs; past them every request fails unsent.")
    var restarts: Int = 20

    @OptionGroup var options: AuditOptions
    @OptionGroup var gateOptions: GateOptions

    @Argument(parsing: .postTerminator, help: "The worker command and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("give the worker command after --, e.g. `-- python3 Adapters/scipy_worker.py`.") }
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), !name.isEmpty else {
            throw ValidationError("--name must be letters, digits, - and _ (got '\(name)').")
        }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive (got \(timeout)).") }
        _ = try selectedFunctions()
    }

    func selectedFunctions() throws -> [ReferenceFunction] {
        try functions.split(separator: ",").map { f in
            guard let function = ReferenceFunction(rawValue: String(f)) else {
                throw ValidationError("--functions: '\(f)' is not one of \(ReferenceFunction.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            return function
        }
    }

    func run() throws {
        let worker = ExternalWorker(command: command, timeout: timeout, maximumRestarts: max(0, restarts))
        defer { worker.stop() }
        let (kernel, unsupported) = ExternalKernel.make(name: name, worker: worker, functions: try selectedFunctions())
        if kernel.functionNames.isEmpty {
            let why = worker.problems.first.map { "\($0.kind.rawValue): \($0.detail)" } ?? "it answered unsupported to every function"
            throw failure(1, "external: the worker `\(command.joined(separator: " "))` answered no request (\(why)).")
        }
        var configuration = try options.configuration()
        configuration.kernels = [kernel]
        let result = AuditEngine.run(configuration)
        let reproduction = (["softmax-audit external --name \(name)", options.reproduction].filter { !$0.isEmpty } + ["--", command.joined(separator: " ")])
            .joined(separator: " ")
        let perRequest = worker.requests > 0 ? worker.waiting / Double(worker.requests) : 0
        print("Worker: \(worker.requests) requests, \(String(format: "%.1f", perRequest * 1e6)) µs per request round trip, \(worker.problems.count) problem(s), \(worker.starts) start(s).")
        try gateOptions.finish(result, command: reproduction, jobs: options.jobs, stem: "external-\(name)",
                               extra: "\n" + ExternalKernel.markdown(worker, unsupported: unsupported))
    }
}
