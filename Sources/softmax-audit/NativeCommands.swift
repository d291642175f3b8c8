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
        try Self.checkLoads(executable, path, as: library)
        try audit.run(
            worker: [executable, "serve-native", "--library", path], invocation: "native", stem: "native",
            workerArguments: "--library \(library)")
    }

    /// Loads the library once in a child (`serve-native --check`), so that one that does not load is one
    /// sentence, not an audit of crashes; the child's constructors run there, never in this process.
    static func checkLoads(_ executable: String, _ path: String, as given: String) throws {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: executable)
        child.arguments = ["serve-native", "--library", path, "--check"]
        let errors = Pipe()
        child.standardError = errors
        child.standardOutput = FileHandle.nullDevice
        child.standardInput = FileHandle.nullDevice
        do {
            try child.run()
        } catch {
            throw failure(
                ExitStatus.workerFailed, "native: cannot start '\(executable)' to load the library: \(error).")
        }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        guard child.terminationReason == .exit && child.terminationStatus == 0 else {
            let why =
                message.split(separator: "\n").first.map { String($0) }
                ?? "the loader was killed by signal \(child.terminationStatus)"
            throw failure(2, "native: cannot load '\(RowSyntax.visible(given))': \(why)")
        }
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
        return String(cString: buffer)
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

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        // A crash in the library ends this process by its signal, as it would a C program: no backtrace of
        // the Swift runtime on standard error (the auditor reports the signal and the request).
        for s in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP] { signal(s, SIG_DFL) }
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
        if check { return }
        let reader = try LineReader(path: nil)
        let output = OutputBuffer()
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
    private func answer(_ line: LineBytes, _ native: NativeLibrary) -> ArraySlice<Double>? {
        let space = line.firstIndex(of: UInt8(ascii: " ")) ?? line.endIndex
        let head = String(decoding: line[line.startIndex..<space], as: UTF8.self)
        let name = head.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        let format = name.count == 2 ? BinaryFormat.all.first { $0.name == name[1] } : .double
        guard let format, let f = ReferenceFunction(rawValue: String(name[0])) else { return nil }
        let rest = space < line.endIndex ? line[line.index(after: space)..<line.endIndex] : line[space..<space]
        guard let c = try? f.parse(rest) else { return nil }
        return native.answer(f, c, format: format)
    }
}
