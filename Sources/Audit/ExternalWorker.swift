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
    private var process: Process?
    private var input: FileHandle?
    private var output: Int32 = -1
    private var pending: [UInt8] = []
    private var errorText = ""
    private let errorLock = NSLock()
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
        signal(SIGPIPE, SIG_IGN)  // a worker that dies must not take us with it
    }

    deinit { stop() }

    /// Sends one request line and returns its answer, expecting `count` values.
    public func request(_ line: String, expecting count: Int) -> WorkerAnswer {
        lock.lock()
        defer { lock.unlock() }
        requests += 1
        if process == nil {
            guard starts <= maximumRestarts else {
                if !gaveUp {
                    gaveUp = true
                    record(.cannotStart, line, "given up after \(maximumRestarts) restarts: this and every later request fail without being sent")
                }
                return .failed(.cannotStart)
            }
            if let problem = start() {
                record(.cannotStart, line, problem)
                return .failed(.cannotStart)
            }
        }
        let began = Date()
        defer { waiting += Date().timeIntervalSince(began) }
        do {
            try input?.write(contentsOf: Data((line + "\n").utf8))
        } catch {
            let status = exitDescription()
            stop()
            record(.crash, line, "the worker's input is closed (\(status))")
            return .failed(.crash)
        }
        let answer = readLine(deadline: began.addingTimeInterval(timeout))
        collectStandardError(line)
        switch answer {
        case .eof:
            let status = exitDescription()
            stop()
            record(.crash, line, "no answer: the worker \(status)")
            return .failed(.crash)
        case .timeout:
            stop()
            record(.timeout, line, "no answer within \(timeout) s; the worker was stopped and is restarted for the next request")
            return .failed(.timeout)
        case .line(let text):
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed == "unsupported" { return .unsupported }
            var values: [Double] = []
            for token in trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
                guard let v = Double(token) else {
                    record(.unparseable, line, "'\(shorten(String(token), 40))' in '\(shorten(trimmed, 120))' is not a number")
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
    }

    /// Records a problem found by the caller (a late `unsupported`).
    public func note(_ kind: WorkerProblem.Kind, _ request: String, _ detail: String) {
        lock.lock()
        defer { lock.unlock() }
        record(kind, request, detail)
    }

    /// Stops the worker (closing its input first, so a well-behaved worker exits by itself).
    public func stop() {
        if let input { try? input.close() }
        input = nil
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        if output >= 0 { close(output) }
        output = -1
        process = nil
        pending = []
    }

    // MARK: - Internals

    private enum Line { case line(String), eof, timeout }

    private func start() -> String? {
        starts += 1
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = command
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        p.standardInput = stdin
        p.standardOutput = stdout
        p.standardError = stderr
        stderr.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.errorLock.lock()
            self.errorText += String(decoding: data, as: UTF8.self)
            self.errorLock.unlock()
        }
        do {
            try p.run()
        } catch {
            return "\(error.localizedDescription)"
        }
        process = p
        input = stdin.fileHandleForWriting
        output = dup(stdout.fileHandleForReading.fileDescriptor)
        try? stdout.fileHandleForReading.close()
        pending = []
        return nil
    }

    private func readLine(deadline: Date) -> Line {
        while true {
            if let newline = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return .line(line)
            }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return .timeout }
            var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining, 1) * 1000) + 1)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { continue }
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            let n = read(output, &buffer, buffer.count)
            if n <= 0 { return .eof }
            pending.append(contentsOf: buffer[0..<n])
        }
    }

    private func collectStandardError(_ line: String) {
        errorLock.lock()
        let text = errorText
        errorText = ""
        errorLock.unlock()
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if !trimmed.isEmpty { record(.standardError, line, shorten(trimmed.replacingOccurrences(of: "\n", with: " ⏎ "), 200)) }
    }

    private func exitDescription() -> String {
        guard let process else { return "is not running" }
        if process.isRunning {
            usleep(50_000)
            if process.isRunning { return "closed its output" }
        }
        return process.terminationReason == .uncaughtSignal
            ? "was killed by signal \(process.terminationStatus)" : "exited with status \(process.terminationStatus)"
    }

    private func record(_ kind: WorkerProblem.Kind, _ request: String, _ detail: String) {
        problems.append(WorkerProblem(kind: kind, request: shorten(request, 160), detail: detail))
    }
}

func shorten(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n)) + "…" }
