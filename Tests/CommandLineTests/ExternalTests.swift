// `softmax-audit external`: the process protocol against workers that behave and misbehave.
import Foundation
import Testing

@Suite("External workers")
struct ExternalTests {
    static let worker = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Workers/test_worker.py"
    ).path

    /// Seconds a worker may take to answer: generous, so that a busy machine (or a Python behind a
    /// launcher script, such as pyenv's shims) never makes a well-behaved worker look hung. Only the
    /// hanging worker waits it out, three times.
    static func timeout(_ mode: String) -> String { mode == "hang" ? "5" : "60" }

    /// Runs `external` on a small configuration; returns (status, stdout + stderr, the report).
    func external(_ mode: String, _ extra: [String] = []) throws -> (Int32, String, String) {
        let out = FileManager.default.temporaryDirectory
            .appendingPathComponent("softmax-audit-external-\(mode)-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let arguments = [
            "external", "--name", "w-\(mode)", "--quick", "--cases", "2", "--classes", "normal,exp-overflow-edge",
            "--timeout", Self.timeout(mode), "--restarts", "2", "--output", out.path,
        ]
        let (status, stdout, stderr) = try softmaxAudit(arguments + extra + ["--", "python3", Self.worker, mode])
        let report =
            (try? String(contentsOf: out.appendingPathComponent("external-w-\(mode).md"), encoding: .utf8)) ?? ""
        return (status, stdout + stderr, report)
    }

    @Test("an accurate worker passes, with no worker problems")
    func good() throws {
        let (status, log, report) = try external("good")
        #expect(status == 0, "\(log)")
        #expect(report.contains("No worker problems") && report.contains("## The worker"), "\(report.suffix(500))")
    }

    @Test("a planted instability (no shift) fails the gate with a shrunk row")
    func unshifted() throws {
        let (status, log, _) = try external("unshifted")
        #expect(
            status == 1 && log.contains("w-unshifted × softmax × exp-overflow-edge") && log.contains("minimal row:"),
            "\(log)")
    }

    @Test(
        "misbehaving workers are reported with their requests, and the audit finishes",
        arguments: [
            ("crash", "exited"), ("hang", "timed out"), ("garbage", "answered a line that does not parse"),
            ("wrong-count", "answered the wrong number of values"), ("stderr", "wrote to standard error"),
            ("late-unsupported", "answered unsupported"), ("extra-line", "wrote a line no request asked for"),
        ])
    func misbehaving(_ c: (String, String)) throws {
        let (status, log, report) = try external(c.0)
        #expect(report.contains("| \(c.1) | `softmax "), "\(c.0): \(report.suffix(800)) \(log)")
        if c.0 == "late-unsupported" {
            #expect(report.contains("is not sent again"), "\(report.suffix(800))")
        }
        if c.0 == "stderr" {
            #expect(status == 0, "standard-error output is reported, not failed: \(log)")
        } else {
            #expect(status == 1, "\(log)")
        }
        if c.0 == "crash" || c.0 == "hang" {
            #expect(report.contains("given up after 2 restarts"), "\(report.suffix(800))")
        }
        if c.0 == "extra-line" {
            // The good worker's answers, kept with their requests: no accuracy failure anywhere.
            #expect(!log.contains("bound exceeded"), "a misaligned answer was scored: \(log)")
        }
    }

    @Test("standard error is reported with the request that caused it, not the next one")
    func standardErrorAttribution() throws {
        let (_, log, report) = try external("stderr-once")
        let rows = report.split(separator: "\n").filter { $0.contains("| wrote to standard error | `softmax ") }
        #expect(rows.count == 1, "one request wrote to standard error: \(report.suffix(800)) \(log)")
        for row in rows {
            let request = row.components(separatedBy: "`softmax ")[1]
            let first = request.prefix { $0 != " " && $0 != "`" }
            #expect(row.contains("warning: about \(first)"), "the warning names another request: \(row)")
        }
    }

    @Test("an answer line longer than its row needs is refused, with the limit")
    func overlongAnswer() throws {
        let (status, log, report) = try external("padded")
        #expect(
            status == 1 && report.contains("| answered a line that does not parse | `softmax ")
                && report.contains("the most an answer of"), "\(report.suffix(800)) \(log)")
    }

    @Test("a worker that supports nothing is a clear error; bad usage is exit 2")
    func unsupportedAndUsage() throws {
        let (status, log, _) = try external("unsupported")
        #expect(status == 4 && log.contains("answered no request"), "a worker that never worked is exit 4: \(log)")
        let (s2, _, e2) = try softmaxAudit(["external", "--name", "x"])
        #expect(s2 == 2 && e2.contains("after --"), "\(e2)")
        let (s3, _, e3) = try softmaxAudit(["external", "--name", "x", "--functions", "softmin", "--", "true"])
        #expect(s3 == 2 && e3.contains("softmin"), "\(e3)")
    }

    @Test(
        "a worker starts with no signal ignored, and one that leaves a process behind does not hang the audit",
        .timeLimit(.minutes(1)))
    func signalsAndOrphans() throws {
        let script = URL(fileURLWithPath: Self.worker).deletingLastPathComponent().appendingPathComponent(
            "signal_worker.sh"
        ).path
        let (status, stdout, stderr) = try softmaxAudit([
            "external", "--name", "signals", "--quick", "--cases", "1",
            "--output", FileManager.default.temporaryDirectory.path,
            "--", "sh", script,
        ])
        // It answers `unsupported` to every function: a clear error, not a report (and no standard-error problem).
        #expect(status == 4 && stderr.contains("it answered unsupported to every function"), "\(stdout) \(stderr)")
    }

    @Test(
        "a worker that fills its standard error while a long request is written is not taken for a hung one",
        .timeLimit(.minutes(2)))
    func noisyOnLongRows() throws {
        // Rows of up to 8,192 logits make requests of about 180 kB, beyond a pipe's 64 kB; after each answer
        // the worker writes 200 kB to standard error, and blocks there until the audit reads it.
        let (_, log, report) = try external(
            "noisy", ["--functions", "softmax", "--classes", "long-rows", "--cases", "2", "--max-length", "8192"])
        #expect(report.contains("| wrote to standard error |"), "\(report.suffix(800)) \(log)")
        #expect(!report.contains("timed out") && !report.contains("did not read"), "\(report.suffix(800))")
    }

    @Test("a worker inherits no descriptor beyond its three pipes; commands run as a shell runs them")
    func descriptorsAndCommands() throws {
        // The audit itself holds descriptor 7 (opened by the shell that starts it, not close-on-exec).
        let out = FileManager.default.temporaryDirectory
            .appendingPathComponent("softmax-audit-fds-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let binary = productsDirectory.appendingPathComponent("softmax-audit").path
        let script = """
            exec 7>/dev/null; exec "$0" external --name fds --quick --cases 1 --classes normal --output "$1" \
            -- WORKER_SETTING=1 python3 "$2" descriptors
            """
        let (status, stdout, stderr) = try run(["sh", "-c", script, binary, out.path, Self.worker])
        let report = (try? String(contentsOf: out.appendingPathComponent("external-fds.md"), encoding: .utf8)) ?? ""
        #expect(status == 0 && report.contains("No worker problems"), "\(stdout) \(stderr) \(report.suffix(600))")
        // A script without a #! line runs under /bin/sh, as a shell would run it.
        let bare = out.appendingPathComponent("bare-worker")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try "exec python3 '\(Self.worker)' good\n".write(to: bare, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bare.path)
        let (s2, o2, e2) = try softmaxAudit([
            "external", "--name", "bare", "--quick", "--cases", "1", "--classes", "normal", "--output", out.path, "--",
            bare.path,
        ])
        #expect(s2 == 0, "\(o2) \(e2)")
    }

    @Test(
        "stopping the audit (SIGTERM) stops its worker's process group, which the terminal's signals miss",
        .timeLimit(.minutes(1)))
    func terminationStopsTheWorker() throws {
        // A worker that leaves a process behind: it ends when its input closes, the sleeper would not.
        let marker = "sleeper-\(UUID().uuidString)"
        let worker = "python3 -c 'import time; time.sleep(600)' \(marker) & exec python3 '\(Self.worker)' good"
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("softmax-audit-term-\(marker)")
        defer { try? FileManager.default.removeItem(at: out) }
        // Started with no signal blocked, as from a shell (a test runner's threads block most signals, and
        // a child inherits the mask).
        let audit = Process()
        audit.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let unblocked =
            "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); "
            + "os.execv(sys.argv[1], sys.argv[1:])"
        audit.arguments = [
            "python3", "-c", unblocked, productsDirectory.appendingPathComponent("softmax-audit").path,
            "external", "--name", "term", "--functions", "softmax", "--quick", "--classes", "exp-overflow-edge",
            "--timeout", "600", "--output", out.path, "--", "sh", "-c", worker,
        ]
        audit.standardOutput = FileHandle.nullDevice
        audit.standardError = FileHandle.nullDevice
        try audit.run()
        // Wait until the sleeper runs (the audit's and the shell's command lines hold the whole worker
        // command, its own starts with python3 -c).
        let sleeperLine = "time.sleep(600)\u{0}" + marker
        var sleeper: Int32? = nil
        for _ in 0..<600 where sleeper == nil {
            sleeper = Self.process(containing: sleeperLine, excluding: audit.processIdentifier)
            if sleeper == nil { usleep(50_000) }
        }
        #expect(sleeper != nil, "the worker never started")
        kill(audit.processIdentifier, SIGTERM)
        audit.waitUntilExit()
        usleep(200_000)
        let left = Self.process(containing: sleeperLine, excluding: audit.processIdentifier)
        if let left { kill(left, SIGKILL) }
        #expect(left == nil, "the worker's process outlived the audit")
    }

    @Test("a worker that cannot start, floods standard error or dies leaving a child", .timeLimit(.minutes(1)))
    func hostileWorkers() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent(
            "softmax-audit-hostile-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let common = ["--functions", "softmax", "--quick", "--cases", "1", "--classes", "normal", "--output", out.path]
        let (s1, _, e1) = try softmaxAudit(
            ["external", "--name", "missing"] + common + ["--", "no-such-worker-\(getpid())"])
        #expect(
            s1 == 4 && e1.contains("could not start: 'no-such-worker-\(getpid())' is not a program in PATH"), "\(e1)")
        // Standard error without end, and a worker that never answers: one timeout, a bounded report.
        let start = Date()
        _ = try softmaxAudit(
            ["external", "--name", "flood", "--timeout", "2", "--restarts", "0"] + common
                + ["--", "sh", "-c", "cat /dev/zero >&2 & exec sleep 600"])
        let flood = try Data(contentsOf: out.appendingPathComponent("external-flood.md"))
        #expect(Date().timeIntervalSince(start) < 30 && flood.count < 100_000, "\(flood.count) bytes")
        #expect(!flood.contains(0), "a NUL byte reached the report")
        // Dies at once but leaves a child holding its output: a crash, not a timeout.
        _ = try softmaxAudit(
            ["external", "--name", "orphan", "--timeout", "30", "--restarts", "0"] + common
                + ["--", "sh", "-c", "sleep 600 & read line; exit 3"])
        let orphan = try String(contentsOf: out.appendingPathComponent("external-orphan.md"), encoding: .utf8)
        #expect(orphan.contains("exited with status 3") && !orphan.contains("timed out"), "\(orphan.suffix(600))")
    }

    /// The pid of a live process other than `excluded` whose command line (NUL-separated) contains
    /// `marker`, if any.
    static func process(containing marker: String, excluding excluded: Int32) -> Int32? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry), pid != excluded,
                let line = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"), !line.isEmpty
            else { continue }
            if String(decoding: line, as: UTF8.self).contains(marker) { return pid }
        }
        return nil
    }

    /// Runs a command; returns (status, stdout, stderr).
    func run(_ command: [String]) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    @Test("an exact worker (the reference itself) passes with every element correctly rounded")
    func exact() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent(
            "softmax-audit-external-exact-\(getpid())")
        defer { try? FileManager.default.removeItem(at: out) }
        let script = URL(fileURLWithPath: Self.worker).deletingLastPathComponent().appendingPathComponent(
            "exact_worker.sh"
        ).path
        let binary = productsDirectory.appendingPathComponent("softmax-audit").path
        let (status, stdout, stderr) = try softmaxAudit(
            [
                "external", "--name", "exact", "--quick", "--cases", "1", "--classes", "normal,dominant-40,plus-inf",
                "--output", out.path,
                "--", "sh", script, binary,
            ])
        #expect(status == 0, "\(stdout) \(stderr)")
        let json =
            try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("external-exact.json")))
            as! [String: Any]
        let cells = json["cells"] as! [[String: Any]]
        #expect(
            cells.count == 66
                && cells.allSatisfy {
                    ($0["maxULPs"] as? Double ?? 1) <= 0.5 && ($0["conventionDifferences"] as? Int) == 0
                },
            "\(cells.map { ($0["function"]!, $0["inputClass"]!, $0["maxULPs"]!) })")
    }

    @Test("--strict-special-values fails a convention difference; --max-ulps and --bound change the judge")
    func judging() throws {
        // The accurate pure-Python softmax gives NaN for a +inf logit where the reference is one-hot.
        let (lenient, log1, _) = try external("good", ["--classes", "plus-inf"])
        #expect(lenient == 0, "\(log1)")
        let (strict, log2, _) = try external("good", ["--classes", "plus-inf", "--strict-special-values"])
        #expect(strict == 1 && log2.contains("special value"), "\(log2)")
        // The unshifted softmax is hopeless in ulps at the exp overflow edge; a cap of 1e300 ulps lets its
        // finite answers pass, but not its NaNs.
        let (_, _, capped) = try external("unshifted", ["--max-ulps", "1e300", "--classes", "normal"])
        #expect(capped.contains("by a plain cap of 1.00e+300 ulps"), "\(capped.suffix(600))")
        let (_, _, chosen) = try external("good", ["--bound", "online-softmax", "--classes", "normal"])
        #expect(chosen.contains("softmax: online softmax"), "\(chosen.suffix(600))")
        let (bad, _, _) = try external("good", ["--bound", "nonsense"])
        #expect(bad == 2)
    }
}
