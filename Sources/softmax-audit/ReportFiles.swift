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
        for (name, _) in files {
            try parentDirectories(of: name, under: directory)
            try refuseNonRegular(directory + "/" + name)
        }
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
        guard fsync(fd) == 0 else {
            throw ReportWriteError(description: "cannot write '\(target)': \(String(cString: strerror(errno)))")
        }
    }

    /// Renames every staged file onto its target, under the directory's lock and with signals held back,
    /// as one transaction: every target's directory is checked first, each old file is kept as a hard link
    /// in the staging directory, and if a rename fails the ones done are undone (the old files put back,
    /// the new ones that had none removed), so the set is the new one whole or the old one whole.
    static func moveIntoPlace(_ names: [String], from stage: String, to directory: String) throws {
        let lock = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard lock >= 0 else { throw ReportWriteError(description: "cannot lock the directory '\(directory)'") }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            // A file system without locks on directories (NFS): the set is still moved whole, unserialized.
            guard [ENOLCK, EOPNOTSUPP, EBADF, EINVAL].contains(errno) else {
                throw ReportWriteError(description: "cannot lock the directory '\(directory)': \(systemMessage(errno))")
            }
            break
        }
        commit.lock()
        defer { commit.unlock() }
        try mkdir(stage + "/.old")
        var moved: [(target: String, backup: String?)] = []
        func undo() {
            for (target, backup) in moved.reversed() {
                if let backup { rename(backup, target) } else { unlink(target) }
            }
        }
        for (i, name) in names.enumerated() {
            let target = directory + "/" + name
            do {
                try parentDirectories(of: name, under: directory)
                try refuseNonRegular(target)
                var backup: String? = stage + "/.old/\(i)"
                if link(target, backup!) != 0 {
                    guard errno == ENOENT else {
                        throw ReportWriteError(description: "cannot keep '\(target)' aside: \(systemMessage(errno))")
                    }
                    backup = nil
                }
                guard rename(stage + "/" + name, target) == 0 else {
                    throw ReportWriteError(description: "cannot replace '\(target)': \(systemMessage(errno))")
                }
                moved.append((target, backup))
            } catch {
                undo()
                throw error
            }
        }
    }

    /// Creates the directories between `directory` and `name`'s file (figures/ for figures/x.svg), refusing
    /// one that is a file or a link.
    static func parentDirectories(of name: String, under directory: String) throws {
        var path = directory
        for part in name.split(separator: "/").dropLast() {
            path += "/" + part
            var info = stat()
            if lstat(path, &info) != 0 {
                guard Glibc.mkdir(path, 0o755) == 0 || errno == EEXIST else {
                    throw ReportWriteError(
                        description: "cannot create the directory '\(path)': \(systemMessage(errno))")
                }
            } else if info.st_mode & S_IFMT != S_IFDIR {
                throw ReportWriteError(description: "refusing to write under '\(path)': it is not a directory")
            }
        }
    }

    static func mkdir(_ path: String) throws {
        guard Glibc.mkdir(path, 0o700) == 0 else {
            throw ReportWriteError(description: "cannot create '\(path)': \(systemMessage(errno))")
        }
    }

    /// A staging directory this old belongs to no write in progress (a write takes seconds).
    static let staleAfter: TimeInterval = 3600

    /// Removes staging directories whose process no longer runs here and that are older than an hour (a
    /// process id from another host or container sharing the directory may name a live writer).
    static func removeStaleStaging(in directory: String) {
        let prefix = ".softmax-audit-staging-"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where entry.hasPrefix(prefix) {
            guard let pid = Int32(entry.dropFirst(prefix.count).prefix { $0 != "-" }) else { continue }
            let path = directory + "/" + entry
            let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
            guard let modified, Date().timeIntervalSince(modified) > staleAfter else { continue }
            if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(atPath: path)
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
                signal(s, SIG_DFL)  // ends by the signal itself, as a shell's loop expects of Ctrl-C
                raise(s)
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
