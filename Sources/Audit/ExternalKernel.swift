// A kernel whose functions are answered by an external worker process (the process protocol).
//
// Request:  FUNCTION ROW       FUNCTION and ROW exactly as `softmax-audit reference` takes them (a label
//                              and a colon first for cross-entropy and cross-entropy-gradient; a bar and
//                              the paired vector, then options, for the paired functions); the values as
//                              hexadecimal floats (C's %a, Python's float.hex()), inf, -inf, nan.
// Answer:   VALUES | unsupported
//                              one line: n values for softmax, log-softmax, the gradients and the
//                              elementwise functions, one for logsumexp, cross-entropy and KL, two (the
//                              value and its sign) for the weighted logsumexp, in any notation that parses
//                              exactly as a Double; or the word `unsupported`, after which the function is
//                              not sent again.
import Foundation
import Formats
import Kernels

/// A flag set once, from any thread.
final class DroppedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    /// Sets the flag; true for the call that set it.
    func set() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if value { return false }
        value = true
        return true
    }
}

/// Answers a worker gave to prefetched requests, by request line, from any thread.
final class AnswerCache: @unchecked Sendable {
    private let lock = NSLock()
    private var answers: [String: WorkerAnswer] = [:]
    private var bytes = 0

    /// Answers kept at most, and bytes of their lines and values: past either, the answers kept so far (the
    /// older blocks', which their checks have used) are dropped before a block's are stored. A check that
    /// finds no answer sends its request alone.
    static let capacity = 1 << 16
    static let byteCapacity = 1 << 28

    subscript(line: String) -> WorkerAnswer? {
        lock.lock()
        defer { lock.unlock() }
        return answers[line]
    }

    func store(_ new: [(String, WorkerAnswer)]) {
        lock.lock()
        defer { lock.unlock() }
        let added = new.reduce(0) { total, entry in
            if case .values(let v) = entry.1 { return total + entry.0.utf8.count + 8 * v.count }
            return total + entry.0.utf8.count
        }
        if answers.count + new.count > Self.capacity || bytes + added > Self.byteCapacity {
            answers = [:]
            bytes = 0
        }
        for (line, answer) in new { answers[line] = answer }
        bytes += added
    }
}

public enum ExternalKernel {
    /// A small row per function, sent first: a worker that answers `unsupported` loses the function.
    static func probe(_ f: ReferenceFunction) -> AuditCase {
        var c = AuditCase([0, 1, -2], label: 1)
        if f.function.takesBatchLine { c.options.crossEntropy = CrossEntropyOptions() }
        return c
    }

    /// The request line for function f on a case (`softmax@float16 ROW` for a worker in another format).
    public static func requestLine(_ f: ReferenceFunction, _ c: AuditCase, format: BinaryFormat = .double) -> String {
        f.rawValue + (format == .double ? "" : "@\(format.name)") + " " + f.line(c)
    }

    /// Probes the worker for each function and returns a kernel with the supported ones, and the rest.
    /// With a format, requests name it, rows arrive rounded to it, and the answers are judged in it.
    public static func make(
        name: String, worker: ExternalWorker, functions: [ReferenceFunction],
        format: BinaryFormat = .double
    ) -> (Kernel, unsupported: [ReferenceFunction]) {
        var kernel = Kernel(
            name: name, summary: "An external worker: `\(worker.command.joined(separator: " "))`.",
            expectation: .accurate)
        kernel.precision = KernelPrecision(storage: format, accumulator: format)
        kernel.judging.tiers = true
        var unsupported: [ReferenceFunction] = []
        var droppedFlags: [AuditFunction: DroppedFlag] = [:]
        let answers = AnswerCache()
        for f in functions {
            let row = probe(f)
            // A worker that says `unsupported`, or that cannot be started at all, does not get the function.
            let answer = worker.request(requestLine(f, row, format: format), expecting: f.outputCount(row))
            if answer == .unsupported || answer == .failed(.cannotStart) {
                unsupported.append(f)
                continue
            }
            let dropped = DroppedFlag()
            droppedFlags[f.function] = dropped
            let shape = f.function.shape
            kernel.implement(
                f.function,
                .general { c in
                    let count = shape.outputCount(c)
                    // After a late `unsupported` the function is not sent again; its answers count as NaN.
                    if dropped.isSet { return Array(repeating: .nan, count: count) }
                    let line = requestLine(f, c, format: format)
                    switch answers[line] ?? worker.request(line, expecting: count) {
                    case .values(let v): return v
                    case .unsupported:
                        if dropped.set() {
                            worker.note(
                                .unsupported, line,
                                "\(f.rawValue) is not sent again; its remaining answers count as NaN")
                        }
                    case .failed: break
                    }
                    return Array(repeating: .nan, count: count)
                })
        }
        let flags = droppedFlags
        kernel.prefetch = { calls in
            // The engine's calls for a block of cases, sent at once: the worker answers them in a pipeline.
            let batch = calls.compactMap { f, c -> ExternalWorker.Request? in
                guard let r = ReferenceFunction(f), let flag = flags[f], !flag.isSet else { return nil }
                return ExternalWorker.Request(
                    line: requestLine(r, c, format: format), count: r.outputCount(c), function: f.rawValue)
            }
            let live = flags.filter { !$0.value.isSet }.keys.sorted { $0.rawValue < $1.rawValue }
            let sentinel = sentinel(
                avoiding: Set(batch.map(\.count)), among: live, format: format, excluding: worker.failedSentinelLines)
            let got = worker.requests(batch, sentinel: sentinel)
            answers.store(zip(batch.map(\.line), got).compactMap { line, a in a.map { (line, $0) } })
        }
        return (kernel, unsupported)
    }

    /// The longest row a sentinel is made of.
    static let sentinelLength = 64

    /// A request after a batch whose answer has a number of values no request of the batch has (so that a
    /// stray line in the batch shows at the sentinel): the first of the functions, in catalogue order, that
    /// gives such a count on a row of 1 to `sentinelLength` logits (0, −1, −2, …, label 0); nil when none does
    /// (a worker of logsumexp alone: every answer has one value), and the batch then goes one request at a time.
    /// Lines in `failed` (sentinels that failed when sent alone) are skipped.
    static func sentinel(
        avoiding counts: Set<Int>, among functions: [AuditFunction], format: BinaryFormat,
        excluding failed: Set<String> = []
    ) -> ExternalWorker.Request? {
        for f in AuditFunction.allCases where functions.contains(f) {
            guard let r = ReferenceFunction(f), !f.takesBatchLine else { continue }
            for n in 1...sentinelLength {
                var c = AuditCase((0..<n).map { -Double($0) }, label: 0)
                c.options = probe(r).options
                let line = requestLine(r, c, format: format)
                guard f.applies(to: c), !counts.contains(r.outputCount(c)), !failed.contains(line) else { continue }
                return ExternalWorker.Request(line: line, count: r.outputCount(c), function: f.rawValue)
            }
        }
        return nil
    }

    /// The problems the report lists (the rest are counted).
    static let problemsListed = 50

    private static func escapeBars(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }

    /// The report's section on the worker: the command, the functions, and every problem with its request.
    public static func markdown(_ worker: ExternalWorker, kernel: Kernel, unsupported: [ReferenceFunction]) -> String {
        var md = "## The worker\n\n`\(worker.command.joined(separator: " "))`, judged "
        if let cap = kernel.judging.maxULPs {
            md += "by a plain cap of \(shortNumber(cap)) ulps on every function.\n\n"
        } else {
            let judged = kernel.functions.compactMap { f in kernel.bound(for: f).map { "\(f.rawValue): \($0.rawValue)" }
            }
            md +=
                "against these bounds (the standard stable algorithm's unless --bound chose another): "
                + "\(judged.joined(separator: "; ")).\n\n"
        }
        if kernel.judging.strictSpecialValues {
            md += "Special values must follow the reference's convention on every row (--strict-special-values).\n\n"
        }
        md +=
            unsupported.isEmpty
            ? "It supports every function asked.\n\n"
            : "Unsupported (not sent after the first answer): "
                + "\(unsupported.map(\.rawValue).joined(separator: ", ")).\n\n"
        let problems = worker.problems
        if problems.isEmpty {
            md +=
                "No worker problems: every request got a line of the right number of values, nothing on standard "
                + "error.\n"
        } else {
            md += "\(problems.count) worker problem(s) (an answer that failed is scored as NaN):\n\n"
            md += "| problem | request | detail |\n|---|---|---|\n"
            for p in problems.prefix(Self.problemsListed) {
                md += "| \(p.kind.rawValue) | `\(escapeBars(p.request))` | \(escapeBars(p.detail)) |\n"
            }
            if problems.count > Self.problemsListed {
                md += "\n… and \(problems.count - Self.problemsListed) more.\n"
            }
        }
        return md
    }
}
