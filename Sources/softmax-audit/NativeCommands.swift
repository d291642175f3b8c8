// `softmax-audit native --library PATH.so --name NAME [options]`: audits C kernels in a shared library
// (NativeLibrary.swift's ABI). The library runs in a child process, this binary's hidden `serve-native`,
// which answers the process protocol from it: the same checks, reports, shrinking, gate and crash
// attribution as `external`, at the pipelined protocol's cost per call.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Audit
import Formats
import Foundation

struct NativeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "native",
        abstract: "Audit C kernels in a shared library (dlopen), in a child process that is restarted on a crash.",
        discussion: """
            Each function and format is one C symbol, softmax_audit_<function>[_<format>] with `-` as `_`: \
            int softmax_audit_softmax(const double *x, size_t n, double *out); the cross-entropy ones take a \
            size_t label after n, softplus and its gradient double beta, double threshold. Return 0 when \
            answered, anything else for unsupported. The report goes to OUTPUT/native-NAME.md.
            """)

    @Option(help: "The shared library (a path; loaded with dlopen).")
    var library: String

    @OptionGroup var audit: WorkerAuditOptions

    func validate() throws {
        guard access(library, R_OK) == 0 else {
            throw ValidationError("--library '\(RowSyntax.visible(library))' is not a readable file.")
        }
    }

    func run() throws {
        guard let executable = Self.executablePath() else {
            throw failure(ExitStatus.workerFailed, "native: cannot find this program's own path to start its child.")
        }
        let path = library.hasPrefix("/") ? library : Self.currentDirectory() + "/" + library
        try Self.checkLoads(executable, path, as: library, timeout: audit.timeout)
        try audit.run(
            worker: [executable, "serve-native", "--library", path], invocation: "native", stem: "native",
            workerArguments: "--library \(library)")
    }

    /// Loads the library once in a child (`serve-native --check`), so that one that does not load is one
    /// sentence, not an audit of crashes; its constructors run there, never in this process. The child must
    /// answer `loaded` within the timeout; its output goes to files, so that a grandchild the library leaves
    /// behind holds no pipe open.
    static func checkLoads(_ executable: String, _ path: String, as given: String, timeout: Double) throws {
        let files = ChildOutputFiles("check")
        defer { files.remove() }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, files.out.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, files.err.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let arguments = [executable, "serve-native", "--library", path, "--check"]
        var argv = arguments.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, nil, &argv, environ)
        guard spawned == 0 else {
            throw failure(
                ExitStatus.workerFailed,
                "native: cannot start '\(executable)' to load the library: \(systemMessage(spawned)).")
        }
        // Polled, not waited on: a library that hangs while loading must not hang the audit.
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        var ended = false
        while !ended && Date() < deadline {
            ended = waitpid(pid, &status, WNOHANG) == pid
            if !ended { usleep(2_000) }
        }
        let name = RowSyntax.visible(given)
        guard ended else {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
            throw failure(2, "native: '\(name)' did not finish loading within \(shortNumber(timeout)) s (--timeout).")
        }
        let said = (try? String(contentsOf: files.out, encoding: .utf8)) ?? ""
        let message = ((try? String(contentsOf: files.err, encoding: .utf8)) ?? "").split(separator: "\n").first
        // WIFEXITED and WEXITSTATUS, WTERMSIG: the low 7 bits are the signal, 0 for an exit.
        let signalled = status & 0x7f, exitStatus = (status >> 8) & 0xff
        if signalled == 0 && exitStatus == 0 && said == ServeNativeCommand.loaded + "\n" { return }
        let why: String
        if let message, signalled == 0 && exitStatus != 0 {
            why = String(message)
        } else if signalled != 0 {
            why = "loading it killed the process by signal \(signalled)"
        } else {
            why = "loading it ended the process (status \(exitStatus)) before it could serve requests"
        }
        throw failure(2, "native: cannot load '\(name)': \(why)")
    }

    /// This executable's absolute path (/proc/self/exe).
    static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The child of `native`: loads the library and answers the process protocol from it, one line per request.
struct ServeNativeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve-native", abstract: "Answer the process protocol from a native library.",
        shouldDisplay: false)

    @Option(help: "The shared library.")
    var library: String

    @Flag(help: "Only load the library: exit 0 when it loads.")
    var check = false

    /// The reply of `--check` once the library has loaded, on the protocol's channel.
    static let loaded = "loaded"

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        // A crash in the library ends this process by its signal, as it would a C program: no backtrace of
        // the Swift runtime on standard error (the auditor reports the signal and the request).
        for s in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP] { signal(s, SIG_DFL) }
        // The protocol moves to private descriptors before the library loads: what the library prints
        // (a banner, a printf while debugging) goes to standard error, where the auditor reports it with its
        // request, and a read of standard input meets its end instead of the next request.
        let requests = dup(STDIN_FILENO), answers = dup(STDOUT_FILENO)
        let empty = open("/dev/null", O_RDONLY)
        guard requests >= 0, answers >= 0, empty >= 0, dup2(empty, STDIN_FILENO) >= 0,
            dup2(STDERR_FILENO, STDOUT_FILENO) >= 0
        else {
            throw failure(
                ExitStatus.workerFailed, "serve-native: cannot set up its descriptors: \(systemMessage(errno)).")
        }
        close(empty)
        let native: NativeLibrary
        do {
            native = try NativeLibrary(path: library)
        } catch {
            if check {
                printError("\(error).")  // the loader's own sentence, for `native` to quote
                throw ExitCode(ExitStatus.workerFailed)
            }
            throw failure(ExitStatus.workerFailed, "serve-native: cannot load '\(library)': \(error).")
        }
        let reader = LineReader(descriptor: requests)
        let output = OutputBuffer(descriptor: answers)
        if check {
            output.write(Self.loaded)
            output.flush()
            return
        }
        while let line = reader.nextLine() {
            if let values = answer(line, native) { output.writeHex(values) } else { output.write("unsupported") }
            // Answers wait only while more requests are already here: before a read that may block (the
            // auditor may be waiting for this answer), they go out.
            if !reader.lineBuffered { output.flush() }
            if output.writeError != nil { break }
        }
        output.flush()
    }

    /// One request's answer: the values, or nil for `unsupported` (an unknown function or format, a row that
    /// does not parse, or the library's refusal).
    private func answer(_ line: LineBytes, _ native: NativeLibrary) -> UnsafeBufferPointer<Double>? {
        let space = line.firstIndex(of: UInt8(ascii: " ")) ?? line.endIndex
        let head = String(decoding: line[line.startIndex..<space], as: UTF8.self)
        let name = head.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        let format = name.count == 2 ? BinaryFormat.named(String(name[1])) : .double
        guard let format, let f = ReferenceFunction(rawValue: String(name[0])) else { return nil }
        let rest = space < line.endIndex ? line[line.index(after: space)..<line.endIndex] : line[space..<space]
        guard let c = try? f.parse(rest) else { return nil }
        return native.answer(f, c, format: format)
    }
}
