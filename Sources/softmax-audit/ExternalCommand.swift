// `softmax-audit external --name NAME [--functions LIST] [--timeout S] [options] -- COMMAND [ARGS...]`:
// audits any implementation, in any language, through the process protocol (Audit/ExternalKernel.swift).
import ArgumentParser
import Audit
import Reference
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

    @OptionGroup var audit: WorkerAuditOptions

    @Argument(parsing: .postTerminator, help: "The worker command and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else {
            throw ValidationError("give the worker command after --, e.g. `-- python3 Adapters/scipy_worker.py`.")
        }
    }

    func run() throws {
        try audit.run(
            worker: command, invocation: "external", stem: "external",
            workerArguments: "-- " + command.joined(separator: " "))
    }
}

/// The options of an audit through a worker process, and the audit itself: `external` and `native` share
/// them.
struct WorkerAuditOptions: ParsableArguments {
    @Option(help: "The implementation's name (kebab-case), used in the report's file name.")
    var name: String

    @Option(help: "Comma-separated functions to ask (default: all of them).")
    var functions = NameList<ReferenceFunction>(ReferenceFunction.allCases)

    @Option(help: "Seconds to wait for each answer before the worker is stopped and restarted.")
    var timeout: Double = 10

    @Option(help: "Restarts allowed after crashes and hangs; past them every request fails unsent.")
    var restarts: Int = 20

    @Option(parsing: .singleValue, help: "Judge a function by another declared algorithm's bound (repeatable).")
    var bound: [BoundChoice] = []

    @Option(name: .customLong("max-ulps"), help: "Judge every function by a plain cap in ulps instead of a bound.")
    var maxULPs: Double?

    @Flag(
        name: .customLong("strict-special-values"),
        help: "Special values that differ from the reference's convention fail, on any row.")
    var strictSpecialValues = false

    @Option(
        help: """
            The worker's format. Requests name it (`softmax@float16 ROW`), rows are rounded to it, answers are \
            judged in its ulps against the standard algorithm's bound in it; --precision chooses the precision \
            audit's classes.
            """)
    var format: BinaryFormat = .double

    @OptionGroup var options: AuditOptions
    @OptionGroup var gateOptions: GateOptions

    func validate() throws {
        try Limits.checkName(name)
        guard Limits.timeout.contains(timeout) else {
            throw ValidationError(
                "--timeout must be between \(Limits.timeout.lowerBound) and \(Limits.timeout.upperBound) seconds "
                    + "(got \(timeout)): a silent worker must not hang the audit.")
        }
        if let maxULPs, !(maxULPs > 0) { throw ValidationError("--max-ulps must be positive (got \(maxULPs)).") }
    }

    /// Why a worker answered no request: its first problem, or that it supports nothing.
    static func whyNothing(_ worker: ExternalWorker) -> String {
        worker.problems.first.map { "\($0.kind.rawValue): \($0.detail)" } ?? "it answered unsupported to every function"
    }

    /// The error of a worker that answered no request, for `reason` (`whyNothing`): exit status 4.
    static func answeredNothing(reason: String, _ command: [String], invocation: String) -> Error {
        failure(
            ExitStatus.workerFailed,
            "\(invocation): the worker `\(command.joined(separator: " "))` answered no request (\(reason)).")
    }

    /// A worker that answered no request, and why; `run` says it in one sentence, the league lists it.
    struct AnsweredNothing: Error {
        let reason: String
    }

    /// Audits the worker `command` and writes OUTPUT/STEM-NAME.md; `invocation` and `workerArguments` make
    /// the report's reproduction command (`softmax-audit INVOCATION --name NAME … WORKERARGUMENTS`).
    func run(worker command: [String], invocation: String, stem: String, workerArguments: String) throws {
        let audit: WorkerAudit
        do {
            audit = try self.audit(worker: command, invocation: invocation, workerArguments: workerArguments)
        } catch let nothing as AnsweredNothing {
            throw Self.answeredNothing(reason: nothing.reason, command, invocation: invocation)
        }
        try gateOptions.finish(
            audit.result, command: audit.reproduction, jobs: options.jobs, stem: "\(stem)-\(name)", extra: audit.extra)
    }

    /// An audit through a worker: the result, the command that reproduces it and the worker's section.
    struct WorkerAudit {
        let result: AuditResult
        let reproduction: String
        let extra: String
        /// The worker's problems (crashes, hangs, bad answers, standard error), each with its request.
        let problems: Int
    }

    /// Audits the worker `command`, printing its request statistics.
    func audit(
        worker command: [String], invocation: String, workerArguments: String
    ) throws -> WorkerAudit {
        let worker = ExternalWorker(command: command, timeout: timeout, maximumRestarts: max(0, restarts))
        defer { worker.stop() }
        var (kernel, unsupported) = ExternalKernel.make(
            name: name, worker: worker, functions: functions.items, format: format)
        for choice in bound where kernel.implements(choice.formula.function) {
            kernel.judge(choice.formula.function, by: choice.formula)
        }
        kernel.judging.maxULPs = maxULPs
        kernel.judging.strictSpecialValues = strictSpecialValues
        if kernel.functions.isEmpty { throw AnsweredNothing(reason: Self.whyNothing(worker)) }
        var configuration = try options.configuration()
        configuration.kernels = [kernel]
        let result = AuditEngine.run(configuration)
        var judgingArguments = bound.map { "--bound \($0.formula.identifier)" }
        if functions.items != ReferenceFunction.allCases {
            judgingArguments.insert("--functions " + functions.items.map(\.rawValue).joined(separator: ","), at: 0)
        }
        if format != .double { judgingArguments.append("--format \(format.name)") }
        if let maxULPs { judgingArguments.append("--max-ulps \(shortNumber(maxULPs))") }
        if strictSpecialValues { judgingArguments.append("--strict-special-values") }
        let reproduction =
            (["softmax-audit \(invocation) --name \(name)"] + judgingArguments
            + [options.reproduction].filter { !$0.isEmpty } + [workerArguments]).joined(separator: " ")
        let perRequest = worker.requests > 0 ? worker.waiting / Double(worker.requests) : 0
        print(
            "Worker: \(worker.requests) requests, \(String(format: "%.1f", perRequest * 1e6)) µs per request round "
                + "trip, \(worker.problems.count) problem(s), \(worker.starts) start(s)."
        )
        return WorkerAudit(
            result: result, reproduction: reproduction,
            extra: "\n" + ExternalKernel.markdown(worker, kernel: kernel, unsupported: unsupported),
            problems: worker.problems.count)
    }
}
