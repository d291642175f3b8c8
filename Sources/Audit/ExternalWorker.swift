// A worker process that answers audit requests over its standard input and output, one line each, in
// order (the process protocol of `softmax-audit external`). Robust against the worker: a crash, a hang
// (per-request timeout), a line that does not parse, a wrong number of values and output on standard
// error are each recorded with the request that caused it; a dead or hung worker is restarted for the
// next request (at most `maximumRestarts` times), so the audit never hangs or dies.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What went wrong with one request.
public struct WorkerProblem: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case cannotStart = "could not start"
        case crash = "exited"
        case timeout = "timed out"
        case unparseable = "answered a line that does not parse"
        case wrongCount = "answered the wrong number of values"
        case standardError = "wrote to standard error"
        case unsupported = "answered unsupported"
        case outOfTurn = "wrote a line no request asked for"
    }

    public let kind: Kind
    /// The request line (shortened when long).
    public let request: String
    public let detail: String
}

/// The answer to one request.
public enum WorkerAnswer: Sendable, Equatable {
    case values([Double])
    case unsupported
    case failed(WorkerProblem.Kind)
}

public final class ExternalWorker: @unchecked Sendable {
    public let command: [String]
    public let timeout: Double
    public let maximumRestarts: Int

    private let lock = NSLock()
    private var process: WorkerProcess?
    private var pending: [UInt8] = []
    /// The start of what the worker wrote to standard error since the last request, and how much more.
    private var errorText: [UInt8] = []
    private var errorDropped = 0
    public private(set) var problems: [WorkerProblem] = []
    public private(set) var requests = 0
    public private(set) var starts = 0
    private var gaveUp = false
    /// Seconds spent waiting for answers.
    public private(set) var waiting = 0.0

    public init(command: [String], timeout: Double = 10, maximumRestarts: Int = 20) {
        self.command = command
        self.timeout = timeout
        self.maximumRestarts = maximumRestarts
        signal(SIGPIPE, SIG_IGN)  // a worker that dies must not take us with it (workers start with SIG_DFL)
    }

    deinit { stopWorker() }

    /// Sends one request line and returns its answer, expecting `count` values.
    public func request(_ line: String, expecting count: Int) -> WorkerAnswer {
        lock.lock()
        defer { lock.unlock() }
        requests += 1
        if process == nil {
            guard starts <= maximumRestarts else {
                if !gaveUp {
                    gaveUp = true
                    record(
                        .cannotStart, line,
                        "given up after \(maximumRestarts) restarts: this and every later request fail without being "
                            + "sent"
                    )
                }
                return .failed(.cannotStart)
            }
            starts += 1
            do {
                process = try WorkerProcess(command)
                pending = []
                errorText = []
            } catch {
                record(.cannotStart, line, "\(error)")
                return .failed(.cannotStart)
            }
        }
        let worker = process!
        // Whatever the worker wrote since its last answer is already waiting: read it before sending.
        var ready = pollfd(fd: worker.output, events: Int16(POLLIN), revents: 0)
        if poll(&ready, 1, 0) > 0 && ready.revents & Int16(POLLIN) != 0 { _ = drain(worker.output, into: &pending) }
        if !pending.isEmpty {
            // Output before the request was sent (a banner, a second line to the last request): every later
            // answer would be one request late. Nothing from this worker is scored until it is restarted.
            let stray = Self.printable(shorten(String(decoding: pending.prefix(200), as: UTF8.self), 80))
            stopWorker()
            record(
                .outOfTurn, line,
                "'\(stray)' came before the request was sent; the worker was stopped and is restarted for the next "
                    + "request, so that answers stay with their requests")
            return .failed(.outOfTurn)
        }
        let began = Date()
        let deadline = began.addingTimeInterval(timeout)
        defer { waiting += Date().timeIntervalSince(began) }
        let limit = Self.answerLimit(count)
        let answer = exchange(worker, Array((line + "\n").utf8), deadline: deadline, limit: limit)
        collectStandardError(worker, line)
        switch answer {
        case .inputClosed:
            let status = exitDescription(worker)
            stopWorker()
            record(.crash, line, "the worker's input is closed (\(status))")
            return .failed(.crash)
        case .unread:
            stopWorker()
            record(
                .timeout, line,
                "the worker did not read the request within \(timeout) s; it was stopped and is "
                    + "restarted for the next request")
            return .failed(.timeout)
        case .eof:
            let status = exitDescription(worker)
            stopWorker()
            record(.crash, line, "no answer: the worker \(status)")
            return .failed(.crash)
        case .timeout:
            stopWorker()
            record(
                .timeout, line,
                "no answer within \(timeout) s; the worker was stopped and is restarted for the "
                    + "next request")
            return .failed(.timeout)
        case .overlong:
            stopWorker()
            record(
                .unparseable, line,
                "more than \(limit) bytes without a newline, the most an answer of \(count) value"
                    + "\(count == 1 ? "" : "s") may take; the worker was stopped and is restarted for the next request")
            return .failed(.unparseable)
        case .line(let text):
            if !pending.isEmpty {
                // More than one line for one request: which is the answer cannot be told.
                stopWorker()
                record(
                    .outOfTurn, line,
                    "more than one line for one request; the worker was stopped and is restarted for the next "
                        + "request, so that answers stay with their requests")
                return .failed(.outOfTurn)
            }
            let answer = parse(text, line, expecting: count)
            // A line that is not an answer may be a stray line (the answer still coming): restart, so that the
            // next answer is the next request's.
            if case .failed = answer { stopWorker() }
            return answer
        }
    }

    /// The answer line as values, or the problem with it.
    private func parse(_ text: String, _ line: String, expecting count: Int) -> WorkerAnswer {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed == "unsupported" { return .unsupported }
        var values: [Double] = []
        for token in trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            guard let v = RowSyntax.number(token) else {
                let shownToken = Self.printable(shorten(String(token), 40)),
                    shown = Self.printable(shorten(trimmed, 120))
                record(.unparseable, line, "'\(shownToken)' in '\(shown)' is not a number")
                return .failed(.unparseable)
            }
            values.append(v)
        }
        guard values.count == count else {
            record(.wrongCount, line, "\(values.count) values where \(count) were expected")
            return .failed(.wrongCount)
        }
        return .values(values)
    }

    /// Records a problem found by the caller (a late `unsupported`).
    public func note(_ kind: WorkerProblem.Kind, _ request: String, _ detail: String) {
        lock.lock()
        defer { lock.unlock() }
        record(kind, request, detail)
    }

    /// Stops the worker and whatever it started (closing its input first, then killing its process group).
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        stopWorker()
    }

    private func stopWorker() {
        process?.stop()
        process = nil
        pending = []
    }

    // MARK: - Limits

    /// Bytes of a worker's standard error kept per request (the rest is read, counted and dropped).
    static let standardErrorKept = 1 << 12
    /// Bytes of standard error read after an answer before the next request (a worker that floods it
    /// cannot hold the audit).
    static let standardErrorAfterAnswer = 1 << 20
    /// The longest answer line whatever the row (a row of a million values in hexadecimal is about 23 MB).
    static let maximumAnswerBytes = 1 << 26
    /// Room for one value of an answer: five times the longest shortest decimal of a double (24 bytes), so
    /// that a worker printing more digits than it needs still fits.
    static let answerBytesPerValue = 128
    /// Room for an answer's blanks, `unsupported`, and a short row's values.
    static let answerSlack = 1 << 12

    /// The longest answer line accepted for an answer of `count` values: what the row needs, not more.
    static func answerLimit(_ count: Int) -> Int {
        min(maximumAnswerBytes, answerSlack + answerBytesPerValue * count)
    }
    /// How often a worker whose output is still open is checked for having exited (a descendant can
    /// hold the output open after the worker died).
    static let exitCheckInterval = 0.1

    // MARK: - Internals

    private enum Exchange {
        /// The answer line.
        case line(String)
        /// More than the answer's limit (`answerLimit`) without a newline.
        case overlong
        /// The worker's input closed before the request was written.
        case inputClosed
        /// The worker did not take the whole request by the deadline.
        case unread
        /// The worker's output ended before a whole line.
        case eof
        /// No whole line by the deadline.
        case timeout
    }

    /// Writes the request and reads the next line of the worker's output by `deadline`, reading its
    /// output and standard error all along, so that a worker blocked on a full pipe of its own while the
    /// request is still being written cannot stall the exchange.
    private func exchange(_ worker: WorkerProcess, _ request: [UInt8], deadline: Date, limit: Int) -> Exchange {
        var sent = 0
        var outputOpen = true, errorOpen = true
        while true {
            if sent == request.count, let newline = pending.firstIndex(of: 10) {
                if newline > limit { return .overlong }
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return .line(line)
            }
            if sent < request.count {
                guard let written = worker.writeSome(request, from: sent) else { return .inputClosed }
                sent += written
                if sent == request.count { continue }
            } else if !outputOpen {
                return .eof
            }
            if pending.count > limit { return .overlong }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return sent < request.count ? .unread : .timeout }
            var descriptors = [
                pollfd(fd: outputOpen ? worker.output : -1, events: Int16(POLLIN), revents: 0),
                pollfd(fd: errorOpen ? worker.error : -1, events: Int16(POLLIN), revents: 0),
                pollfd(fd: sent < request.count ? worker.input : -1, events: Int16(POLLOUT), revents: 0),
            ]
            let ready = poll(&descriptors, 3, Int32(min(remaining, Self.exitCheckInterval) * 1000) + 1)
            if ready < 0 && errno == EINTR { continue }
            if ready == 0 && worker.exitStatus() != nil {
                // The worker is gone; a descendant may hold its output open, but no answer is coming.
                outputOpen = false
                continue
            }
            if ready <= 0 { continue }
            if descriptors[1].revents != 0 && !drainStandardError(worker) {
                errorOpen = false  // standard error closed: keep reading the output
            }
            if descriptors[0].revents != 0 && !drain(worker.output, into: &pending) { outputOpen = false }
        }
    }

    /// Appends what one read gives; false at the end of the stream.
    private func drain(_ fd: Int32, into buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        let n = read(fd, &chunk, chunk.count)
        if n < 0 && (errno == EINTR || errno == EAGAIN) { return true }
        if n <= 0 { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    /// Reads one chunk of standard error, keeping the first `standardErrorKept` bytes; false at its end.
    private func drainStandardError(_ worker: WorkerProcess) -> Bool {
        var chunk: [UInt8] = []
        guard drain(worker.error, into: &chunk) else { return false }
        let kept = min(chunk.count, max(0, Self.standardErrorKept - errorText.count))
        errorText.append(contentsOf: chunk[..<kept])
        errorDropped += chunk.count - kept
        return true
    }

    /// Records what the worker wrote to standard error while answering `line`: what is there already, up
    /// to `standardErrorAfterAnswer` bytes more.
    private func collectStandardError(_ worker: WorkerProcess, _ line: String) {
        var descriptor = pollfd(fd: worker.error, events: Int16(POLLIN), revents: 0)
        let limit = errorText.count + errorDropped + Self.standardErrorAfterAnswer
        while errorText.count + errorDropped < limit && poll(&descriptor, 1, 0) > 0
            && descriptor.revents & Int16(POLLIN) != 0 && drainStandardError(worker)
        {}
        let total = errorText.count + errorDropped
        let text = Self.printable(String(decoding: errorText, as: UTF8.self))
        errorText = []
        errorDropped = 0
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return }
        let size = total > Self.standardErrorKept ? " (\(total) bytes in all)" : ""
        record(.standardError, line, shorten(trimmed.replacingOccurrences(of: "\n", with: " ⏎ "), 200) + size)
    }

    /// Text fit for a report: control characters but newlines shown as U+FFFD, tabs as spaces.
    static func printable(_ text: String) -> String {
        String(
            String.UnicodeScalarView(
                text.unicodeScalars.map { scalar -> Unicode.Scalar in
                    if scalar == "\n" { return scalar }
                    if scalar == "\t" { return " " }
                    return scalar.properties.generalCategory == .control ? "\u{FFFD}" : scalar
                }))
    }

    /// How the worker ended, waiting a moment for a worker that closed its output to exit.
    private func exitDescription(_ worker: WorkerProcess) -> String {
        if let ended = worker.exitDescription() { return ended }
        usleep(50_000)
        return worker.exitDescription() ?? "closed its output"
    }

    private func record(_ kind: WorkerProblem.Kind, _ request: String, _ detail: String) {
        problems.append(WorkerProblem(kind: kind, request: shorten(request, 160), detail: detail))
    }
}

func shorten(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n)) + "…" }
