// Writing the commands' files: whole or not at all, one set at a time, never over anything but a file.
//
// A set (a report, its JSON and figures; or one JUnit, baseline or shard file) is first written whole
// into a hidden staging directory beside its targets, then moved into place by rename(2), which replaces
// a file atomically, while the process holds a lock (flock) on the output directory (a concurrent run writing
// the same set waits its turn: the last set moved in is whole) and while SIGINT, SIGTERM and SIGHUP wait
// for the moves to finish. A signal during staging removes the staging directory and leaves the old set
// as it was; staging directories left by a killed process are removed by the next write.
import Audit
import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A file the command could not write, in one sentence (the path named).
struct ReportWriteError: Error, CustomStringConvertible {
    let description: String
}

enum ReportFiles {
    /// The signals a write holds back until its set is in place.
    static let heldSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// Serializes the writing and the moves of one process's sets against its own signal handling.
    static let commit = NSLock()
    /// The staging directory being filled, removed if a signal arrives before the moves.
    nonisolated(unsafe) static var staging: String? = nil
    nonisolated(unsafe) static var signalSources: [DispatchSourceSignal] = []

    /// Writes `files` (relative paths and their text) under `directory` as one set.
    static func write(_ files: [(String, String)], under directory: String) throws {
        guard !directory.isEmpty else { throw ReportWriteError(description: "the output directory is empty") }
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ReportWriteError(description: "cannot create the directory '\(directory)'")
        }
        for (name, _) in files { try refuseNonRegular(directory + "/" + name) }
        removeStaleStaging(in: directory)
        installSignalHandling()
        let stage = directory + "/.softmax-audit-staging-\(getpid())-\(UInt64.random(in: 1...UInt64.max))"
        commit.lock()
        staging = stage
        commit.unlock()
        defer {
            commit.lock()
            staging = nil
            try? fm.removeItem(atPath: stage)
            commit.unlock()
        }
        do {
            try fm.createDirectory(atPath: stage, withIntermediateDirectories: false)
        } catch {
            throw ReportWriteError(description: "cannot write in the directory '\(directory)'")
        }
        for (name, text) in files {
            // One file at a time under the lock, so that a signal's handler finds no half-created file to race.
            commit.lock()
            defer { commit.unlock() }
            try writeWhole(text, to: stage + "/" + name, target: directory + "/" + name)
        }
        try moveIntoPlace(files.map(\.0), from: stage, to: directory)
    }

    /// Writes one file as a set of its own: `path` is replaced whole or not at all.
    static func write(_ text: String, to path: String) throws {
        guard !path.isEmpty else { throw ReportWriteError(description: "the file name is empty") }
        let url = URL(fileURLWithPath: path)
        try write([(url.lastPathComponent, text)], under: url.deletingLastPathComponent().path)
    }

    /// Refuses a target that exists and is not a regular file (a directory, a link, a device).
    static func refuseNonRegular(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        let kind = info.st_mode & S_IFMT
        guard kind != S_IFREG else { return }
        let what = kind == S_IFDIR ? "a directory" : kind == S_IFLNK ? "a symbolic link" : "not a regular file"
        throw ReportWriteError(description: "refusing to replace '\(path)': it is \(what)")
    }

    /// Writes the text to a new file at `staged`, with the mode of the file it will replace.
    static func writeWhole(_ text: String, to staged: String, target: String) throws {
        let parent = URL(fileURLWithPath: staged).deletingLastPathComponent().path
        try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        var info = stat()
        let mode = lstat(target, &info) == 0 ? info.st_mode & 0o7777 : 0o644
        let fd = open(staged, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ReportWriteError(description: "cannot create a file beside '\(target)'") }
        defer { close(fd) }
        if lstat(target, &info) == 0 { fchmod(fd, mode) }  // the umask does not narrow an existing file's mode
        if let error = writeAll(fd, Array(text.utf8)) {
            throw ReportWriteError(description: "cannot write '\(target)': \(String(cString: strerror(error)))")
        }
        guard fsync(fd) == 0 || errno == EINVAL else {
            throw ReportWriteError(description: "cannot write '\(target)': \(String(cString: strerror(errno)))")
        }
    }

    /// Renames every staged file onto its target, under the directory's lock and with signals held back.
    static func moveIntoPlace(_ names: [String], from stage: String, to directory: String) throws {
        let lock = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard lock >= 0 else { throw ReportWriteError(description: "cannot lock the directory '\(directory)'") }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else {
                throw ReportWriteError(description: "cannot lock the directory '\(directory)'")
            }
        }
        commit.lock()
        defer { commit.unlock() }
        for name in names {
            let target = directory + "/" + name
            try refuseNonRegular(target)
            let parent = URL(fileURLWithPath: target).deletingLastPathComponent().path
            try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            guard rename(stage + "/" + name, target) == 0 else {
                throw ReportWriteError(description: "cannot replace '\(target)': \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Removes staging directories whose process no longer runs.
    static func removeStaleStaging(in directory: String) {
        let prefix = ".softmax-audit-staging-"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where entry.hasPrefix(prefix) {
            guard let pid = Int32(entry.dropFirst(prefix.count).prefix { $0 != "-" }) else { continue }
            if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(atPath: directory + "/" + entry)
            }
        }
    }

    /// SIGINT, SIGTERM and SIGHUP, from the first write on: the staging directory removed (after any moves
    /// in progress) and any worker's process group killed, then the process ends with the signal's status,
    /// 128 + its number. (Before the first write the signals keep their default action, and WorkerGroups
    /// kills the workers.)
    static func installSignalHandling() {
        commit.lock()
        defer { commit.unlock() }
        guard signalSources.isEmpty else { return }
        // A signal the command was started with ignored (nohup's SIGHUP) stays ignored.
        for s in heldSignals where !WorkerGroups.isIgnored(s) {
            signal(s, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: s, queue: .global())
            source.setEventHandler {
                commit.lock()
                if let stage = staging { try? FileManager.default.removeItem(atPath: stage) }
                WorkerGroups.killAll()  // an `external` worker still running ends with the audit
                exit(128 + s)
            }
            source.resume()
            signalSources.append(source)
        }
    }
}

/// Writes a file whole or not at all (`ReportFiles.write`).
func writeAtomically(_ text: String, to path: String) throws {
    try ReportFiles.write(text, to: path)
}

/// Appends text to a file (GitHub's step summary), creating it if needed; a failure is reported, not fatal.
func appendToFile(_ text: String, path: String) {
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
        printError("softmax-audit: cannot append the summary to '\(path)'.")
        return
    }
    defer { close(fd) }
    if let error = writeAll(fd, Array(text.utf8)) {
        printError("softmax-audit: cannot append the summary to '\(path)': \(String(cString: strerror(error))).")
    }
}
