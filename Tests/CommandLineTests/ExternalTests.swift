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
            ("late-unsupported", "answered unsupported"),
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
    }

    @Test("a worker that supports nothing is a clear error; bad usage is exit 2")
    func unsupportedAndUsage() throws {
        let (status, log, _) = try external("unsupported")
        #expect(status == 1 && log.contains("answered no request"), "\(log)")
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
        #expect(status == 1 && stderr.contains("it answered unsupported to every function"), "\(stdout) \(stderr)")
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
            cells.count == 15
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
