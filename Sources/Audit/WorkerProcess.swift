// A child process with its standard streams on pipes, started with posix_spawn so that it inherits
// nothing it should not:
// - every standard signal at its default disposition and none blocked: this process ignores SIGPIPE
//   (a worker that dies must not take the audit with it), and an ignored signal stays ignored across
//   exec, so without the reset every worker, and every shell its launcher runs, would print "write
//   error: Broken pipe" instead of ending quietly (glibc's posix_spawn itself leaves its two internal
//   real-time signals, 32 and 33, ignored);
// - no descriptor but its three pipes: every other descriptor is closed in the child (glibc's
//   posix_spawn_file_actions_addclosefrom_np, looked up at run time; without it, the pipes at least
//   are close-on-exec);
// - a process group of its own, so that stopping it stops whatever it started too, and no descendant
//   holding a pipe open can keep the audit waiting; the group is stopped too when the audit is
//   interrupted (WorkerGroups.swift).
// The command runs as a shell runs a simple command (WorkerCommand.swift).
import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class WorkerProcess {
    let pid: pid_t
    /// The child's standard input (non-blocking), output and error, from this side.
    private(set) var input: Int32
    private(set) var output: Int32
    private(set) var error: Int32
    private var status: Int32? = nil
    private var stopped = false

    /// glibc's posix_spawn_file_actions_addclosefrom_np (2.34 and later), which Swift's Glibc module
    /// does not declare.
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let closeFrom: CloseFrom? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: CloseFrom.self)
    }()

    /// Starts `command`; throws a sentence when it cannot.
    init(_ command: [String]) throws {
        let program = try WorkerCommand(command)
        var stdin: [Int32] = [-1, -1], stdout: [Int32] = [-1, -1], stderr: [Int32] = [-1, -1]
        // Close-on-exec at once (requests are serialized, so no other spawn runs in between).
        func makePipe(_ fds: inout [Int32]) -> Bool {
            guard pipe(&fds) == 0 else { return false }
            return fds.allSatisfy { fcntl($0, F_SETFD, FD_CLOEXEC) == 0 }
        }
        guard makePipe(&stdin), makePipe(&stdout), makePipe(&stderr) else {
            let reason = String(cString: strerror(errno))
            for fd in stdin + stdout + stderr where fd >= 0 { close(fd) }
            throw WorkerProcessError.cannotStart("cannot create pipes: \(reason)")
        }
        defer {
            close(stdin[0])
            close(stdout[1])
            close(stderr[1])
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin[0], STDIN_FILENO)
        posix_spawn_file_actions_adddup2(&actions, stdout[1], STDOUT_FILENO)
        posix_spawn_file_actions_adddup2(&actions, stderr[1], STDERR_FILENO)
        _ = Self.closeFrom?(&actions, STDERR_FILENO + 1)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var everySignal = sigset_t(), noSignal = sigset_t()
        sigfillset(&everySignal)
        sigemptyset(&noSignal)
        posix_spawnattr_setsigdefault(&attributes, &everySignal)
        posix_spawnattr_setsigmask(&attributes, &noSignal)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))
        var child: pid_t = 0
        var result = Self.spawn(&child, program.path, program.arguments, program.environment, &actions, &attributes)
        if result == ENOEXEC {
            // Not an executable format: a script without #!, which a shell runs under sh.
            let arguments = ["sh", program.path] + program.arguments.dropFirst()
            result = Self.spawn(&child, WorkerCommand.shell, arguments, program.environment, &actions, &attributes)
        }
        guard result == 0 else {
            for fd in [stdin[1], stdout[0], stderr[0]] { close(fd) }
            throw WorkerProcessError.cannotStart("cannot run '\(program.path)': \(String(cString: strerror(result)))")
        }
        pid = child
        WorkerGroups.add(child)
        input = stdin[1]
        output = stdout[0]
        error = stderr[0]
        _ = fcntl(input, F_SETFL, fcntl(input, F_GETFL) | O_NONBLOCK)
    }

    deinit { stop() }

    /// posix_spawn with C strings made from Swift ones.
    private static func spawn(
        _ child: inout pid_t, _ path: String, _ arguments: [String], _ environment: [String],
        _ actions: inout posix_spawn_file_actions_t,
        _ attributes: inout posix_spawnattr_t
    ) -> Int32 {
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        return posix_spawn(&child, path, &actions, &attributes, &argv, &envp)
    }

    /// Writes what the child's input takes now of `bytes[offset...]`: the count written (0 when the pipe
    /// is full), or nil when the child closed its input (or died).
    func writeSome(_ bytes: [UInt8], from offset: Int) -> Int? {
        while true {
            let written = bytes.withUnsafeBytes { Glibc.write(input, $0.baseAddress! + offset, bytes.count - offset) }
            if written >= 0 { return written }
            if errno == EINTR { continue }
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : nil
        }
    }

    /// Closes the child's input, so that a well-behaved worker exits by itself.
    func closeInput() {
        if input >= 0 { close(input) }
        input = -1
    }

    /// The exit status if the child has ended (without waiting), nil while it runs.
    func exitStatus() -> Int32? {
        if let status { return status }
        var raw: Int32 = 0
        guard waitpid(pid, &raw, WNOHANG) == pid else { return nil }
        status = raw
        return raw
    }

    /// How the child ended, in words ("exited with status 3", "was killed by signal 9"), or nil.
    func exitDescription() -> String? {
        guard let raw = exitStatus() else { return nil }
        let signal = raw & 0x7f
        return signal == 0 ? "exited with status \((raw >> 8) & 0xff)" : "was killed by signal \(signal)"
    }

    /// Kills the child's process group and reaps the child; closes this side's descriptors.
    func stop() {
        guard !stopped else { return }
        stopped = true
        closeInput()
        if exitStatus() == nil {
            kill(-pid, SIGKILL)
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
            status = raw
        } else {
            kill(-pid, SIGKILL)  // descendants left in the group
        }
        WorkerGroups.remove(pid)
        close(output)
        close(error)
        output = -1
        error = -1
    }
}

enum WorkerProcessError: Error, CustomStringConvertible {
    case cannotStart(String)

    var description: String {
        switch self {
        case .cannotStart(let reason): return reason
        }
    }
}
