// The process groups of running workers, stopped when the audit is interrupted. A worker runs in a group
// of its own (so that stopping it stops what it started), which also keeps the terminal's SIGINT from
// reaching it: without this, Ctrl-C or a CI runner's SIGTERM would end the audit and leave its workers
// running. The handler only reads a fixed table and calls kill and raise, all async-signal-safe.
#if canImport(Glibc)
import Glibc
#endif
import Foundation

public enum WorkerGroups {
    /// Workers alive at once (one per `external` run in practice).
    static let capacity = 64

    /// Process-group ids, 0 for a free slot; written under `lock`, read by the signal handler.
    nonisolated(unsafe) private static let slots: UnsafeMutablePointer<pid_t> = {
        let table = UnsafeMutablePointer<pid_t>.allocate(capacity: capacity)
        table.initialize(repeating: 0, count: capacity)
        return table
    }()
    private static let lock = NSLock()
    nonisolated(unsafe) private static var installed = false

    /// The signals that end the audit and, with it, its workers.
    static let endingSignals = [SIGINT, SIGTERM, SIGHUP]

    static func add(_ group: pid_t) {
        lock.lock()
        defer { lock.unlock() }
        if !installed {
            installed = true
            for signal in endingSignals { install(signal) }
        }
        for i in 0..<capacity where slots[i] == 0 {
            slots[i] = group
            return
        }
    }

    /// Kills every registered group (for a handler that ends the audit some other way).
    public static func killAll() {
        for i in 0..<capacity where slots[i] > 0 { kill(-slots[i], SIGKILL) }
    }

    /// Whether the audit was started with `signal` ignored (as `nohup` starts it with SIGHUP ignored).
    public static func isIgnored(_ signal: Int32) -> Bool {
        var current = sigaction()
        sigaction(signal, nil, &current)
        let ignoredHandler = 1  // SIG_IGN is the handler address 1
        guard let handler = current.__sigaction_handler.sa_handler else { return false }
        return unsafeBitCast(handler, to: Int.self) == ignoredHandler
    }

    static func remove(_ group: pid_t) {
        lock.lock()
        defer { lock.unlock() }
        for i in 0..<capacity where slots[i] == group { slots[i] = 0 }
    }

    /// Kills every registered group, then lets the signal take its default course (SA_RESETHAND). A
    /// signal the audit was started with ignored (as `nohup` does) stays ignored.
    private static func install(_ signal: Int32) {
        if isIgnored(signal) { return }
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { received in
            for i in 0..<WorkerGroups.capacity where WorkerGroups.slots[i] > 0 { kill(-WorkerGroups.slots[i], SIGKILL) }
            raise(received)
        }
        action.sa_flags = Int32(truncatingIfNeeded: SA_RESETHAND)
        sigemptyset(&action.sa_mask)
        sigaction(signal, &action, nil)
    }
}
