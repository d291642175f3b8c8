// `softmax-audit hunt` and `run --hunt`: reports written, the same bytes whatever the threads, the gate, a worker
// hunted through the process protocol, and bad options refused in one sentence.
import Foundation
import Testing

@Suite("Hunt command")
struct HuntCommandTests {
    func directory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("softmax-audit-hunt-\(UUID().uuidString)")
    }

    func read(_ url: URL) -> String { (try? String(contentsOf: url, encoding: .utf8)) ?? "" }

    @Test("a planted flaw is found, walked and reported; the same bytes with one thread or two")
    func planted() throws {
        let out = directory()
        defer { try? FileManager.default.removeItem(at: out) }
        let common = [
            "hunt", "--kernels", "planted-power-of-two", "--evaluations", "300", "--hunt-max-length", "64",
        ]
        let (status, stdout, stderr) = try softmaxAudit(common + ["--jobs", "2", "--output", out.path + "/a"])
        #expect(status == 0, "\(stdout)\(stderr)")
        let report = read(out.appendingPathComponent("a/hunt-planted-power-of-two.md"))
        #expect(report.contains("| planted-power-of-two | softmax | fails (declared flaw) |"), "\(report.prefix(2000))")
        #expect(report.contains("| element | x[") && report.contains("(1 value of double)"), "\(report)")
        let json = read(out.appendingPathComponent("a/hunt-planted-power-of-two.json"))
        #expect(json.contains("\"schema\" : \"softmax-audit\\/hunt\\/1\""), "\(json.prefix(400))")
        #expect(FileManager.default.fileExists(atPath: out.path + "/a/figures/hunt-planted-power-of-two.svg"))
        let (again, _, _) = try softmaxAudit(common + ["--jobs", "1", "--output", out.path + "/b"])
        #expect(again == 0)
        for file in ["hunt-planted-power-of-two.md", "hunt-planted-power-of-two.json"] {
            #expect(
                read(out.appendingPathComponent("a/" + file)) == read(out.appendingPathComponent("b/" + file)),
                "\(file) differs between --jobs 2 and --jobs 1")
        }
    }

    @Test("shards merge into the bytes of one process; a missing shard is one sentence")
    func shards() throws {
        let out = directory()
        defer { try? FileManager.default.removeItem(at: out) }
        let common = [
            "hunt", "--kernels", "planted-power-of-two,logsumexp-log1p", "--evaluations", "150", "--hunt-max-length",
            "32",
        ]
        _ = try softmaxAudit(common + ["--output", out.path + "/whole"])
        for k in 1...2 {
            let (status, stdout, stderr) = try softmaxAudit(common + ["--shard", "\(k)/2", "--output", out.path + "/s"])
            #expect(status == 0, "\(stdout)\(stderr)")
        }
        let shard = { (k: Int) in out.path + "/s/hunt-kernels-shard-\(k)-of-2.json" }
        let (status, stdout, stderr) = try softmaxAudit([
            "hunt", "--merge", shard(1), shard(2), "--output", out.path + "/merged",
        ])
        #expect(status == 0, "\(stdout)\(stderr)")
        for file in ["hunt-kernels.md", "hunt-kernels.json"] {
            let whole = read(out.appendingPathComponent("whole/" + file))
            #expect(!whole.isEmpty && whole == read(out.appendingPathComponent("merged/" + file)), "\(file) differs")
        }
        let (missing, _, error) = try softmaxAudit(["hunt", "--merge", shard(1), "--output", out.path + "/m2"])
        #expect(missing == 2 && error.contains("shards 2 of 2 are missing"), "\(missing) \(error)")
    }

    @Test("an accurate kernel stays within its bound and the hunt passes")
    func accurate() throws {
        let out = directory()
        defer { try? FileManager.default.removeItem(at: out) }
        let (status, stdout, stderr) = try softmaxAudit([
            "hunt", "--kernels", "logsumexp-log1p", "--evaluations", "200", "--hunt-max-length", "64", "--output",
            out.path,
        ])
        #expect(status == 0, "\(stdout)\(stderr)")
        let report = read(out.appendingPathComponent("hunt-logsumexp-log1p.md"))
        #expect(report.contains("| logsumexp-log1p | logsumexp | within bound |"), "\(report.prefix(2000))")
    }

    @Test("a worker through the process protocol: a missing shift is found and fails the hunt's gate")
    func worker() throws {
        let out = directory()
        defer { try? FileManager.default.removeItem(at: out) }
        let (status, stdout, stderr) = try softmaxAudit([
            "hunt", "--name", "unshifted", "--functions", "softmax", "--evaluations", "120", "--hunt-max-length", "32",
            "--timeout", "60", "--output", out.path, "--", "python3", ExternalTests.worker, "unshifted",
        ])
        #expect(status == 1, "\(stdout)\(stderr)")
        #expect(stderr.contains("unshifted × softmax: declared accurate, fails"), "\(stderr)")
        let report = read(out.appendingPathComponent("hunt-unshifted.md"))
        #expect(
            report.contains("## unshifted · softmax") && report.contains("Failing ranges"), "\(report.prefix(3000))")
    }

    @Test("a worker that crashes past its restarts stops the hunt: its problems reported, exit 4")
    func crashingWorker() throws {
        let out = directory()
        defer { try? FileManager.default.removeItem(at: out) }
        let (status, stdout, stderr) = try softmaxAudit([
            "hunt", "--name", "crash", "--functions", "softmax", "--evaluations", "300", "--hunt-max-length", "32",
            "--restarts", "2", "--timeout", "60", "--output", out.path, "--", "python3", ExternalTests.worker, "crash",
        ])
        #expect(status == 4 && stderr.contains("crashed or hung past its 2 restarts"), "\(status) \(stdout)\(stderr)")
        let report = read(out.appendingPathComponent("hunt-crash.md"))
        #expect(report.contains("## The worker") && report.contains("worker problem(s)"), "\(report.suffix(1500))")
    }

    @Test(
        "bad options are one sentence and exit 2",
        arguments: [
            (["hunt"], "give one of --kernels"),
            (["hunt", "--kernels", "softmax-shifted", "--evaluations", "0"], "--evaluations must be between"),
            (["hunt", "--kernels", "softmax-shifted", "--planted"], "give one of --kernels"),
            (["hunt", "--", "true"], "--name is required"),
            (["hunt", "--kernels", "no-such-kernel"], "no-such-kernel"),
            (["run", "--hunt", "10", "--shard", "1/2"], "--hunt does not combine with --shard"),
            (
                ["hunt", "--kernels", "planted-lead-window", "--functions", "softmax"],
                "no function of the kernels hunted"
            ),
        ])
    func badOptions(_ arguments: [String], _ expected: String) throws {
        let (status, stdout, stderr) = try softmaxAudit(arguments)
        #expect(status == 2 && stderr.contains(expected), "\(arguments): \(status) \(stdout)\(stderr)")
    }

    @Test("an unwritable output is one sentence and exit 3")
    func unwritable() throws {
        let (status, _, stderr) = try softmaxAudit([
            "hunt", "--kernels", "softmax-shifted", "--evaluations", "20", "--output", "/proc/softmax-audit-hunt",
        ])
        #expect(status == 3 && stderr.contains("hunt: cannot write the reports under"), "\(status) \(stderr)")
    }

    @Test("run --hunt writes the hunt beside the audit and passes on the accurate kernels")
    func runHunt() throws {
        let out = directory()
        defer { try? FileManager.default.removeItem(at: out) }
        let (status, stdout, stderr) = try softmaxAudit([
            "run", "--quick", "--cases", "2", "--kernels", "softmax-shifted,seed-softmax", "--hunt", "60",
            "--output", out.path, "--baseline", out.path + "/none.json",
        ])
        #expect(status == 0, "\(stdout)\(stderr)")
        let hunt = read(out.appendingPathComponent("hunt-audit.md"))
        #expect(hunt.contains("| softmax-shifted | softmax | within bound |"), "\(hunt.prefix(2000))")
        #expect(hunt.contains("| seed-softmax | softmax | fails (declared flaw) |"), "\(hunt.prefix(2000))")
    }
}
