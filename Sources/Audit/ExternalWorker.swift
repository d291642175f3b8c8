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
    /// What the worker wrote after its last whole line.
    private var pending: [UInt8] = []
    /// Whole lines read and not yet taken as answers: a queue, answers[answersTaken...].
    private var answers: [[UInt8]] = []
    private var answersTaken = 0

    private var answersWaiting: Bool { answersTaken < answers.count }

    /// The oldest line not yet taken.
    private func takeAnswer() -> [UInt8] {
        defer {
            answersTaken += 1
            if answersTaken == answers.count { (answers, answersTaken) = ([], 0) }
        }
        return answers[answersTaken]
    }
    /// Whether every request goes alone: the worker wrote to standard error during a batch.
    private var alone = false
    private var failedSentinels: Set<String> = []
    private var provenSentinels: Set<String> = []
    /// The start of what the worker wrote to standard error since the last request, and how much more.
    private var errorText: [UInt8] = []
    private var errorDropped = 0
    public private(set) var problems: [WorkerProblem] = []
    public private(set) var requests = 0
    public private(set) var starts = 0
    private var gaveUp = false

    /// Whether the restarts are spent (every later request fails unsent); safe from any thread.
    public var hasGivenUp: Bool {
        lock.lock()
        defer { lock.unlock() }
        return gaveUp
    }
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
        return requestAlone(line, expecting: count)
    }

    /// One request, its answer awaited before anything else is sent: every problem is the request's own.
    private func requestAlone(_ line: String, expecting count: Int) -> WorkerAnswer {
        requests += 1
        lastRequest = line
        let worker: WorkerProcess
        switch startWorker() {
        case .running(let running): worker = running
        case .givenUp:
            if !gaveUp {
                gaveUp = true
                record(
                    .cannotStart, line,
                    "given up after \(maximumRestarts) restarts: this and every later request fail without being sent")
            }
            return .failed(.cannotStart)
        case .cannotStart(let reason):
            record(.cannotStart, line, reason)
            return .failed(.cannotStart)
        }
        if outputWaiting(worker) {
            // Output before the request was sent (a banner, a second line to the last request): every later
            // answer would be one request late. Nothing from this worker is scored until it is restarted.
            let stray = Self.printable(
                shorten(String(decoding: (answersWaiting ? takeAnswer() + [10] : []) + pending, as: UTF8.self), 80))
            stopWorker()
            record(
                .outOfTurn, line,
                "'\(stray)' came before the request was sent; the worker was stopped and is restarted for the next "
                    + "request, so that answers stay with their requests")
            return .failed(.outOfTurn)
        }
        let began = Date()
        defer { waiting += Date().timeIntervalSince(began) }
        let limit = Self.answerLimit(count)
        var request = Outgoing(Array((line + "\n").utf8))
        let answer = exchange(worker, &request, limit: limit, deadline: { began.addingTimeInterval(self.timeout) })
        collectStandardError(worker, line)
        switch answer {
        case .overlong:
            stopWorker()
            record(.unparseable, line, Self.tooLong("more than \(limit) bytes without a newline", limit, count))
            return .failed(.unparseable)
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
        case .lines:
            let text = takeAnswer()
            if text.count > limit {
                stopWorker()
                record(.unparseable, line, Self.tooLong("an answer of \(text.count) bytes", limit, count))
                return .failed(.unparseable)
            }
            if !pending.isEmpty || answersWaiting {
                // More than one line for one request: which is the answer cannot be told.
                stopWorker()
                record(
                    .outOfTurn, line,
                    "more than one line for one request; the worker was stopped and is restarted for the next "
                        + "request, so that answers stay with their requests")
                return .failed(.outOfTurn)
            }
            let (answer, problem) = Self.parse(text, expecting: count)
            if let problem {
                // A line that is not an answer may be a stray line (the answer still coming): restart, so that
                // the next answer is the next request's.
                stopWorker()
                record(problem.kind, line, problem.detail)
            }
            return answer
        }
    }

    /// One request of a batch: its line, how many values its answer must have, and which function it asks.
    public struct Request: Sendable {
        public let line: String
        public let count: Int
        public let function: String

        public init(line: String, count: Int, function: String) {
            self.line = line
            self.count = count
            self.function = function
        }
    }

    /// Sends a batch of requests in order, with up to `window` of them in flight, reading the answers as they
    /// come (answers come in order); the answers by request, nil for a request not sent because an earlier
    /// answer in the batch said its function is unsupported.
    ///
    /// Alignment is proven, not assumed: after the batch goes `sentinel`, a request whose answer has a number
    /// of values that no request of the batch has, so that a stray line anywhere in the batch, which puts every
    /// later answer one line late, shows as a wrong count at the sentinel at the latest. Anything that may be
    /// misalignment or misbehaviour — a line that does not parse or has the wrong count, a sentinel answered
    /// wrong, a crash, a hang, anything on standard error — gives up the batch: the worker is stopped and the
    /// whole batch goes again one request at a time, each awaited before the next is sent, where every
    /// problem is recorded with its own request (and, if the replay does not meet the problem again, it is
    /// recorded against the batch). Without a sentinel (no function of the worker gives a count the batch
    /// lacks) and after the worker wrote to standard error, requests go one at a time.
    public func requests(
        _ batch: [Request], sentinel: Request? = nil, window: Int = ExternalWorker.window
    ) -> [WorkerAnswer?] {
        lock.lock()
        defer { lock.unlock() }
        var answers = [WorkerAnswer?](repeating: nil, count: batch.count)
        var unexplained: WorkerProblem? = nil
        if !alone, let sentinel, !batch.contains(where: { $0.count == sentinel.count }), provenSentinel(sentinel),
            let worker = readyForBatch(batch)
        {
            switch pipeline(worker, batch, sentinel: sentinel, window: window) {
            case .answered(let all): return all
            case .givenUp(let problem): unexplained = problem
            }
        }
        let before = problems.count
        var dropped = Set<String>()
        for i in batch.indices where !dropped.contains(batch[i].function) {
            answers[i] = requestAlone(batch[i].line, expecting: batch[i].count)
            if answers[i] == .unsupported { dropped.insert(batch[i].function) }
        }
        if let unexplained, !problems[before...].contains(where: { $0.kind == unexplained.kind }), !gaveUp {
            problems.append(unexplained)
        }
        return answers
    }

    /// Whether a sentinel answered correctly when sent alone, trying it the first time it is met: a
    /// sentinel the worker cannot answer (it crashes on that row, or does not support it) would give up
    /// every batch it ends and be blamed on the batch. A failed one is named for itself and never used
    /// again; after `sentinelFailuresAllowed` of them, batches go one request at a time.
    private func provenSentinel(_ sentinel: Request) -> Bool {
        if provenSentinels.contains(sentinel.line) { return true }
        guard !failedSentinels.contains(sentinel.line) else { return false }
        if case .values(let v) = requestAlone(sentinel.line, expecting: sentinel.count), v.count == sentinel.count {
            provenSentinels.insert(sentinel.line)
            return true
        }
        failedSentinels.insert(sentinel.line)
        if failedSentinels.count >= Self.sentinelFailuresAllowed { alone = true }
        return false
    }

    /// Sentinels that may fail before batches are given up for requests alone.
    static let sentinelFailuresAllowed = 3

    /// Sentinel requests that failed when sent alone: a batch must prove its alignment with another.
    public var failedSentinelLines: Set<String> {
        lock.lock()
        defer { lock.unlock() }
        return failedSentinels
    }

    /// Requests in flight at most in a batch.
    public static let window = 256

    /// The worker, started if need be, when nothing stray is waiting from it; nil otherwise (the batch then
    /// goes one request at a time, which records the problem).
    private func readyForBatch(_ batch: [Request]) -> WorkerProcess? {
        guard !batch.isEmpty else { return nil }
        switch startWorker() {
        case .running(let worker): return outputWaiting(worker) ? nil : worker
        case .givenUp: return nil
        case .cannotStart:
            starts -= 1  // the request alone starts it again and records why it cannot
            return nil
        }
    }

    private enum Start {
        case running(WorkerProcess)
        /// The restarts are spent.
        case givenUp
        case cannotStart(String)
    }

    /// The running worker, started if none runs and restarts remain.
    private func startWorker() -> Start {
        if let process { return .running(process) }
        guard starts <= maximumRestarts else { return .givenUp }
        starts += 1
        do {
            let started = try WorkerProcess(command)
            process = started
            pending = []
            errorText = []
            return .running(started)
        } catch {
            return .cannotStart("\(error)")
        }
    }

    /// Whether the worker wrote anything since its last answer (read now): before a request is sent, that is a
    /// line no request asked for, which would make every later answer one request late.
    private func outputWaiting(_ worker: WorkerProcess) -> Bool {
        var ready = pollfd(fd: worker.output, events: Int16(POLLIN), revents: 0)
        if poll(&ready, 1, 0) > 0 && ready.revents & Int16(POLLIN) != 0 { _ = drain(worker.output, into: &pending) }
        return !pending.isEmpty || answersWaiting
    }

    private enum BatchOutcome {
        /// Every answer, aligned.
        case answered([WorkerAnswer?])
        /// The batch is given up, with the problem that gave it up, recorded only if the replay alone does not
        /// meet it again (none when the batch was given up only to be sure).
        case givenUp(WorkerProblem?)
    }

    /// Pipelines the batch and its sentinel through a running worker.
    private func pipeline(
        _ worker: WorkerProcess, _ batch: [Request], sentinel: Request, window: Int
    ) -> BatchOutcome {
        let all = batch + [sentinel]
        var answers = [WorkerAnswer?](repeating: nil, count: batch.count)
        var dropped = Set<String>()
        var sent: [Int] = []  // indices into `all` of the requests written (or being written), in order
        var next = 0  // the next request to queue
        var taken = 0  // answers taken, counted in `sent`
        var outgoing = Outgoing([])
        let began = Date()
        defer { waiting += Date().timeIntervalSince(began) }
        var lastProgress = Date()
        func giveUp(_ kind: WorkerProblem.Kind?, _ what: String = "") -> BatchOutcome {
            if kind == .standardError { alone = true }  // only a request alone can place what it writes there
            let shown = Self.printable(String(decoding: errorText, as: UTF8.self))
            errorText = []
            errorDropped = 0
            stopWorker()
            guard let kind else { return .givenUp(nil) }
            let detail =
                what + (kind == .standardError ? ": '\(shorten(shown, 120))'" : "")
                + " in a batch of \(batch.count) requests sent together; the batch was sent again one request at a time"
            return .givenUp(WorkerProblem(kind: kind, request: shorten(batch[0].line, 160), detail: detail))
        }
        while true {
            while sent.count - taken < window, next < all.count {
                if next == batch.count || !dropped.contains(all[next].function) {
                    outgoing.append(Array((all[next].line + "\n").utf8))
                    sent.append(next)
                }
                next += 1
            }
            let status = exchange(
                worker, &outgoing, pipelined: true, limit: Self.answerLimit(all[sent[taken]].count),
                deadline: { lastProgress.addingTimeInterval(self.timeout) })
            if !errorText.isEmpty || errorDropped > 0 { return giveUp(.standardError, "standard error") }
            switch status {
            case .lines: break
            case .overlong: return giveUp(.unparseable, "an answer longer than its row needs")
            case .inputClosed, .eof: return giveUp(.crash, "the worker stopped (\(exitDescription(worker)))")
            case .unread, .timeout: return giveUp(.timeout, "no answer within \(timeout) s")
            }
            lastProgress = Date()
            while taken < sent.count, answersWaiting {
                let i = sent[taken]
                let text = takeAnswer()
                let (answer, problem) = Self.parse(text, expecting: all[i].count)
                if i == batch.count, answer == .unsupported, dropped.contains(sentinel.function) {
                    return giveUp(nil)  // the sentinel's function became unsupported in the batch: no proof
                }
                if i == batch.count, problem != nil || answer == .unsupported {
                    // Not the sentinel's answer: a stray line put the batch's answers one line late.
                    return giveUp(
                        .outOfTurn, "a line no request asked for (the answer after the batch was not its own)")
                }
                if let problem, problem.kind == .wrongCount, taken > 0,
                    Self.valueCount(text) == all[sent[taken - 1]].count
                {
                    // The previous request's count where this one's was due: the answers came one line late.
                    return giveUp(
                        .outOfTurn,
                        "a line no request asked for (the answers came one line late: \(problem.detail), as many as "
                            + "the request before asked for)")
                }
                if let problem { return giveUp(problem.kind, problem.detail) }
                guard text.count <= Self.answerLimit(all[i].count) else {
                    return giveUp(.unparseable, "an answer longer than its row needs")
                }
                taken += 1
                if i == batch.count {
                    // The sentinel's answer, in its place: every answer before it was its own request's.
                    requests += sent.count - 1
                    lastRequest = sent.count > 1 ? batch[sent[sent.count - 2]].line : lastRequest
                    return .answered(answers)
                }
                // A request sent before its function's `unsupported` was read is taken as not sent.
                if !dropped.contains(all[i].function) { answers[i] = answer }
                if answer == .unsupported { dropped.insert(all[i].function) }
            }
        }
    }

    /// How many values a line holds (its tokens between blanks).
    static func valueCount(_ line: [UInt8]) -> Int {
        line.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }).count
    }

    /// The answer line as values, or the problem with it: a line of printable ASCII and tabs that holds the
    /// values expected is read from its bytes (the same blanks and the same number reader as the text), anything
    /// else as text, which gives the problem its words.
    static func parse(
        _ line: [UInt8], expecting count: Int
    ) -> (WorkerAnswer, (kind: WorkerProblem.Kind, detail: String)?) {
        let values: [Double]? = line.withUnsafeBufferPointer { bytes in
            guard bytes.allSatisfy({ (0x20..<0x7F).contains($0) || $0 == 0x09 }) else { return nil }
            return try? RowSyntax.values(bytes[...], after: 0)
        }
        if let values, values.count == count { return (.values(values), nil) }
        return parse(String(decoding: line, as: UTF8.self), expecting: count)
    }

    /// The answer line as values, or the problem with it (which the caller records or retries).
    static func parse(
        _ text: String, expecting count: Int
    ) -> (WorkerAnswer, (kind: WorkerProblem.Kind, detail: String)?) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed == "unsupported" { return (.unsupported, nil) }
        var values: [Double] = []
        values.reserveCapacity(count)
        for token in trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            guard let v = RowSyntax.number(token) else {
                let shownToken = printable(shorten(String(token), 40)), shown = printable(shorten(trimmed, 120))
                return (.failed(.unparseable), (.unparseable, "'\(shownToken)' in '\(shown)' is not a number"))
            }
            values.append(v)
        }
        guard values.count == count else {
            return (.failed(.wrongCount), (.wrongCount, "\(values.count) values where \(count) were expected"))
        }
        return (.values(values), nil)
    }

    /// Records a problem found by the caller (a late `unsupported`).
    public func note(_ kind: WorkerProblem.Kind, _ request: String, _ detail: String) {
        lock.lock()
        defer { lock.unlock() }
        record(kind, request, detail)
    }

    /// Stops the worker and whatever it started (closing its input first, then killing its process group),
    /// recording what it wrote to standard error since the last request was answered.
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        if let process, let lastRequest { collectStandardError(process, lastRequest) }
        stopWorker()
    }

    /// The last request sent, which standard error written after every answer is recorded with.
    private var lastRequest: String? = nil

    private func stopWorker() {
        process?.stop()
        process = nil
        pending = []
        (answers, answersTaken) = ([], 0)
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

    /// The problem with an answer longer than its limit.
    static func tooLong(_ observed: String, _ limit: Int, _ count: Int) -> String {
        "\(observed), but the most an answer of \(count) value\(count == 1 ? "" : "s") may take is \(limit) bytes; "
            + "the worker was stopped and is restarted for the next request"
    }

    /// The longest answer line accepted for an answer of `count` values: what the row needs, not more.
    static func answerLimit(_ count: Int) -> Int {
        min(maximumAnswerBytes, answerSlack + answerBytesPerValue * count)
    }
    /// How often a worker whose output is still open is checked for having exited (a descendant can
    /// hold the output open after the worker died).
    static let exitCheckInterval = 0.1

    // MARK: - Internals

    private enum Exchange {
        /// Whole answer lines are waiting in `answers`.
        case lines
        /// More than the answer's limit (`answerLimit`) without a newline.
        case overlong
        /// The worker's input closed before the requests were written.
        case inputClosed
        /// The worker did not take every request by the deadline.
        case unread
        /// The worker's output ended before a whole line.
        case eof
        /// No whole line by the deadline.
        case timeout
    }

    /// Request bytes still to be written.
    struct Outgoing {
        var bytes: [UInt8]
        var offset = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var isDone: Bool { offset == bytes.count }

        mutating func append(_ more: [UInt8]) {
            if isDone {
                bytes = more
                offset = 0
            } else {
                if offset >= 1 << 16 { (bytes, offset) = (Array(bytes[offset...]), 0) }  // what is written goes
                bytes += more
            }
        }
    }

    /// Writes the requests and reads the worker's output until whole answer lines are waiting in `answers`
    /// (for a request alone: its answer, once it is all written; in a batch: any, so that more requests can be
    /// queued), by the deadline; it reads the output and standard error all along, so that a worker blocked on
    /// a full pipe of its own while the requests are still being written cannot stall the exchange.
    private func exchange(
        _ worker: WorkerProcess, _ outgoing: inout Outgoing, pipelined: Bool = false, limit: Int,
        deadline: () -> Date
    ) -> Exchange {
        var outputOpen = true, errorOpen = true
        while true {
            var lineStart = 0
            while let newline = pending[lineStart...].firstIndex(of: 10) {
                answers.append(Array(pending[lineStart..<newline]))
                lineStart = newline + 1
            }
            if lineStart > 0 { pending.removeSubrange(..<lineStart) }
            if answersWaiting && (outgoing.isDone || pipelined) { return .lines }
            if !outgoing.isDone {
                guard let written = worker.writeSome(outgoing.bytes, from: outgoing.offset) else { return .inputClosed }
                outgoing.offset += written
                if outgoing.isDone { continue }
            } else if !outputOpen {
                return .eof
            }
            if pending.count > limit { return .overlong }
            let remaining = deadline().timeIntervalSinceNow
            if remaining <= 0 { return outgoing.isDone ? .timeout : .unread }
            var descriptors = [
                pollfd(fd: outputOpen ? worker.output : -1, events: Int16(POLLIN), revents: 0),
                pollfd(fd: errorOpen ? worker.error : -1, events: Int16(POLLIN), revents: 0),
                pollfd(fd: outgoing.isDone ? -1 : worker.input, events: Int16(POLLOUT), revents: 0),
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
        drainAvailableStandardError(worker)
        let total = errorText.count + errorDropped
        let text = Self.printable(String(decoding: errorText, as: UTF8.self))
        errorText = []
        errorDropped = 0
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return }
        let size = total > Self.standardErrorKept ? " (\(total) bytes in all)" : ""
        record(.standardError, line, shorten(trimmed.replacingOccurrences(of: "\n", with: " ⏎ "), 200) + size)
    }

    /// Reads what is waiting on the worker's standard error now, up to `standardErrorAfterAnswer` bytes.
    private func drainAvailableStandardError(_ worker: WorkerProcess) {
        var descriptor = pollfd(fd: worker.error, events: Int16(POLLIN), revents: 0)
        let limit = errorText.count + errorDropped + Self.standardErrorAfterAnswer
        while errorText.count + errorDropped < limit && poll(&descriptor, 1, 0) > 0
            && descriptor.revents & Int16(POLLIN) != 0 && drainStandardError(worker)
        {}
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
