// A progress bar on standard error when it is a terminal (with the time left), silent otherwise.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class ProgressBar: @unchecked Sendable {
    let isActive = isatty(STDERR_FILENO) == 1
    private let lock = NSLock()
    private let start = Date()
    private var lastDraw = Date.distantPast

    func update(_ done: Int, _ total: Int) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard done == total || now.timeIntervalSince(lastDraw) > 0.2 else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let left = done == 0 ? 0 : elapsed / Double(done) * Double(total - done)
        let width = 30
        let filled = total == 0 ? width : width * done / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        printError("\r[\(bar)] \(done)/\(total) cases, about \(Int(left.rounded())) s left ", newline: false)
    }

    func finish() {
        if isActive { printError("\r" + String(repeating: " ", count: 70) + "\r", newline: false) }
    }
}
