// Hostile input and unlucky operators, end to end: each case the exact exit status and message it must
// give, and what must be left on disk. Device nodes are stood in for by /dev/full (writable by anyone,
// never replaced: the writer refuses any target that is not a regular file).
import Foundation
import Testing

@Suite("Hostile input: files")
struct HostileFileTests {
    /// A small, fast run.
    static let quick = [
        "run", "--quick", "--cases", "3", "--max-length", "32", "--jobs", "1", "--kernels", "softmax-shifted",
    ]

    func scratch(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("softmax-audit-\(name)-\(getpid())")
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let arguments: [String]
        let status: Int32
        let message: String
        var description: String { name }
    }

    static let refusals: [Case] = [
        Case(name: "empty --output", arguments: quick + ["--output", ""], status: 2, message: "--output is empty"),
        Case(name: "empty --junit", arguments: quick + ["--junit", ""], status: 2, message: "--junit is empty"),
        Case(
            name: "empty --baseline", arguments: quick + ["--baseline", ""], status: 2, message: "--baseline is empty"),
        Case(
            name: "sweep with an empty --output", arguments: ["sweep", "--output", ""], status: 2,
            message: "--output is empty"),
        Case(
            name: "--junit on a device", arguments: quick + ["--junit", "/dev/full"], status: 3,
            message: "refusing to replace '/dev/full': it is not a regular file"),
    ]

    @Test("empty paths and devices are refused with one sentence", arguments: refusals)
    func refused(_ c: Case) throws {
        let out = try scratch("refused")
        defer { try? FileManager.default.removeItem(at: out) }
        let arguments = c.arguments.contains("--output") ? c.arguments : c.arguments + ["--output", out.path]
        let (status, _, err) = try softmaxAudit(arguments)
        #expect(status == c.status && err.contains(c.message), "\(c.name): status \(status), stderr: \(err)")
    }

    @Test("a directory or a link at a report's path is refused, never replaced, and its content kept")
    func directoryAndLinkKept() throws {
        let base = try scratch("kept")
        defer { try? FileManager.default.removeItem(at: base) }
        let directory = base.appendingPathComponent("v"), link = base.appendingPathComponent("link.xml")
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try "keep".write(to: directory.appendingPathComponent("sub/f"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: directory)
        let output = base.appendingPathComponent("o").path
        for target in [directory.path, link.path] {
            let (status, _, err) = try softmaxAudit(Self.quick + ["--output", output, "--junit", target])
            #expect(status == 3 && err.contains("refusing to replace '\(target)'"), "status \(status): \(err)")
        }
        let kept = try String(contentsOf: directory.appendingPathComponent("sub/f"), encoding: .utf8)
        let linkTarget = try FileManager.default.destinationOfSymbolicLink(atPath: link.path)
        #expect(kept == "keep" && linkTarget == directory.path, "the directory's file and the link are intact")
        // A directory where audit.md would go: the whole set is refused, nothing half-written beside it.
        let blocked = base.appendingPathComponent("blocked")
        try FileManager.default.createDirectory(
            at: blocked.appendingPathComponent("audit.md"), withIntermediateDirectories: true)
        let (status, _, err) = try softmaxAudit(Self.quick + ["--output", blocked.path])
        let left = try FileManager.default.contentsOfDirectory(atPath: blocked.path)
        #expect(status == 3 && err.contains("it is a directory"), "status \(status): \(err)")
        #expect(left == ["audit.md"], "nothing else written: \(left)")
    }

    @Test("a read-only report keeps its mode; a step summary on a full device is reported, not fatal")
    func modeAndSummary() throws {
        let out = try scratch("mode")
        defer { try? FileManager.default.removeItem(at: out) }
        let (s1, _, e1) = try softmaxAudit(Self.quick + ["--output", out.path])
        #expect(s1 == 0, "\(e1)")
        let md = out.appendingPathComponent("audit.md").path
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: md)
        let (s2, _, e2) = try softmaxAudit(
            Self.quick + ["--output", out.path], environment: ["GITHUB_STEP_SUMMARY": "/dev/full"])
        let mode = try FileManager.default.attributesOfItem(atPath: md)[.posixPermissions] as? Int
        #expect(s2 == 0 && e2.contains("cannot append the summary to '/dev/full'"), "status \(s2): \(e2)")
        #expect(mode == 0o444, "the mode after a rewrite: \(String(mode ?? 0, radix: 8))")
    }

    @Test("two runs writing one --output leave one whole set; a killed run's staging is removed by the next")
    func concurrentRuns() async throws {
        let out = try scratch("concurrent")
        defer { try? FileManager.default.removeItem(at: out) }
        let stale = out.appendingPathComponent(".softmax-audit-staging-2147483646-1")
        try FileManager.default.createDirectory(at: stale, withIntermediateDirectories: true)
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSinceNow: -7200)], ofItemAtPath: stale.path)
        let statuses = try await withThrowingTaskGroup(of: Int32.self) { group in
            for seed in ["11", "22"] {
                group.addTask { try softmaxAudit(Self.quick + ["--seed", seed, "--output", out.path]).0 }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses == [0, 0])
        let md = try String(contentsOf: out.appendingPathComponent("audit.md"), encoding: .utf8)
        let json = try String(contentsOf: out.appendingPathComponent("audit.json"), encoding: .utf8)
        let seeds = ["11", "22"].filter { md.contains("seed \($0).") }
        #expect(seeds.count == 1 && json.contains("\"seed\" : \(seeds.first ?? "?")"), "audit.md and audit.json agree")
        let left = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(left == ["audit.json", "audit.md", "figures"], "no staging or partial files: \(left)")
    }
}

@Suite("Hostile input: options and baselines")
struct HostileOptionTests {
    struct Case: Sendable, CustomStringConvertible {
        let arguments: [String]
        let message: String
        var description: String { arguments.joined(separator: " ") }
    }

    static let quick = HostileFileTests.quick

    /// Each refused at parsing, with exit status 2, before any work.
    static let refusals: [Case] = [
        Case(arguments: quick + ["--cases", "1000000000000"], message: "--cases must be between 1 and 1000000"),
        Case(arguments: quick + ["--cases", "0"], message: "--cases must be between 1 and 1000000"),
        Case(arguments: quick + ["--jobs", "9223372036854775807"], message: "--jobs must be between 1 and 256"),
        Case(arguments: quick + ["--jobs", "100000000"], message: "--jobs must be between 1 and 256"),
        Case(arguments: quick + ["--shard", "1/1000000"], message: "'1/1000000' is invalid for '--shard"),
        Case(arguments: quick + ["--kernels", ""], message: "'' is invalid for '--kernels"),
        Case(arguments: quick + ["--classes", ""], message: "'' is invalid for '--classes"),
        Case(arguments: quick + ["--fail-on", ""], message: "'' is invalid for '--fail-on"),
        Case(
            arguments: quick + ["--kernels", "softmax-shifted,softmax-shifted"],
            message: "'softmax-shifted' is named twice"),
        Case(
            arguments: ["external", "--name", "x", "--timeout", "inf", "--", "true"],
            message: "--timeout must be between 0.001 and 86400.0 seconds (got inf)"),
        Case(
            arguments: ["external", "--name", "x", "--timeout", "1e300", "--", "true"],
            message: "--timeout must be between 0.001 and 86400.0 seconds"),
        Case(arguments: ["sweep", "--pairs", "--shard", "1/0"], message: "'1/0' is invalid for '--shard"),
        Case(arguments: ["sweep", "--shard", "1/2"], message: "--shard and --merge apply to --pairs only"),
        Case(
            arguments: ["external", "--name", String(repeating: "a", count: 240), "--", "true"],
            message: "--name must be 1 to 200 ASCII letters"),
    ]

    @Test("out-of-range numbers and empty selections are refused with status 2", arguments: refusals)
    func refused(_ c: Case) throws {
        let (status, _, err) = try softmaxAudit(c.arguments)
        #expect(status == 2 && err.contains(c.message), "\(c): status \(status), stderr: \(err)")
    }

    @Test("check takes a row that starts with a minus sign")
    func rowWithMinus() throws {
        let (status, out, err) = try softmaxAudit([
            "check", "softmax-shifted", "--function", "softmax", "--row", "-1 -2",
        ])
        #expect(status == 0 && out.contains("no check failed"), "status \(status): \(out) \(err)")
    }

    @Test("a baseline entry of nan is refused, not taken as a cell without a check")
    func nanBaselineEntry() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("softmax-audit-nan-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let baseline = dir.appendingPathComponent("baseline.json").path
        let options = Array(Self.quick.dropFirst())
        let (s1, _, e1) = try softmaxAudit(["baseline", "--update", "--file", baseline] + options)
        #expect(s1 == 0, "\(e1)")
        var text = try String(contentsOfFile: baseline, encoding: .utf8)
        let range = try #require(text.range(of: #""maxULPs" : [0-9.e+-]+"#, options: .regularExpression))
        text.replaceSubrange(range, with: #""maxULPs" : "nan""#)
        try text.write(toFile: baseline, atomically: true, encoding: .utf8)
        let (s2, _, e2) = try softmaxAudit(Self.quick + ["--output", dir.path, "--baseline", baseline])
        #expect(s2 == 2 && e2.contains("a baseline entry is not a number"), "status \(s2): \(e2)")
    }
}

@Suite("Hostile input: the reference filter")
struct HostileReferenceTests {
    struct Case: Sendable, CustomStringConvertible {
        let input: String
        let message: String
        var description: String { input.debugDescription }
    }

    /// Rows refused with status 2 and the message, control characters shown, never echoed raw.
    static let refusals: [Case] = [
        Case(input: "1 2\u{0} 3\n", message: "value 2, '2\\u{0}', is not a number"),
        Case(input: "1 2\r3 4\n", message: "value 2, '2\\u{D}3', is not a number"),
        Case(input: "1 2\r\r\n", message: "value 2, '2\\u{D}', is not a number"),
        Case(input: "1e400 1\n", message: "value 1, '1e400', is not a number binary64 holds"),
        Case(input: "0x1p+1024 1\n", message: "value 1, '0x1p+1024', is not a number binary64 holds"),
        Case(input: "1 \u{1B}[31mred\n", message: "value 2, '\\u{1B}[31mred', is not a number"),
    ]

    @Test("NUL, a lone CR, an overflowing literal and escape bytes are refused", arguments: refusals)
    func refused(_ c: Case) throws {
        let (status, out, err) = try softmaxAudit(["reference", "softmax"], input: c.input)
        #expect(status == 2 && out.isEmpty && err.contains(c.message), "status \(status), stderr: \(err)")
        #expect(!err.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0 || $0.value == 0x0D }, "\(err)")
    }

    /// Attention's options refused with status 2 and a sentence naming the line and the option.
    static let attentionRefusals: [Case] = [
        Case(input: "1 2 bias=0\n", message: "line 1: bias= has 1 value but the row has 2 keys"),
        Case(input: "1 2 masked=0,2\n", message: "line 1: 'masked=0,2': masked= takes 0 (kept) or 1 (masked) per key"),
        Case(input: "1 2 blocks=5000\n", message: "line 1: 'blocks=5000': blocks= takes an integer from 1 to 4096"),
        Case(input: "1 2 scale=nan\n", message: "line 1: 'scale=nan': scale= takes a finite number"),
        Case(input: "1 2 v=1,nan\n", message: "line 1: v entry 1 is nan; it must be finite"),
    ]

    @Test("attention's bad options are refused with status 2, the line named", arguments: attentionRefusals)
    func attentionRefused(_ c: Case) throws {
        let (status, out, err) = try softmaxAudit(["reference", "attention-output"], input: c.input)
        #expect(status == 2 && out.isEmpty && err.contains(c.message), "status \(status), stderr: \(err)")
    }

    @Test("CRLF lines are read as lines; inf and Infinity still spell infinities")
    func lineEndings() throws {
        let (status, out, err) = try softmaxAudit(["reference", "softmax"], input: "0 0\r\n-inf Infinity\r\n")
        #expect(
            status == 0 && out == "0x1.0000000000000p-1 0x1.0000000000000p-1\n0x0.0p+0 0x1.0000000000000p+0\n", "\(err)"
        )
    }

    @Test("rows longer than a read block, CRLF and a last line without a newline: softmax of n equal logits is 1/n")
    func longRows() throws {
        // Equal logits give 1/n, correctly rounded by one division; the longest row is about 5 read blocks, so
        // its tokens straddle the blocks' edges, and some go through the general parser (decimal, 0X, P).
        let rows: [(n: Int, token: String, end: String)] = [
            (30_000, "0x1.8p+3", "\n"), (3, "-0x1.0000000000000p-1", "\r\n"), (40_000, "12.5", "\r\n"),
            (1, "0", "\n"), (25_000, "0X1.91EB851EB851FP+1", ""),
        ]
        let input = rows.map { r in Array(repeating: r.token, count: r.n).joined(separator: " ") + r.end }.joined()
        let (status, out, err) = try softmaxAudit(["reference", "softmax"], input: input)
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(status == 0 && lines.count == rows.count + 1 && lines.last == "", "status \(status), \(err)")
        for (row, line) in zip(rows, lines) {
            let values = line.split(separator: " ").map { Double($0) }
            let expected = 1 / Double(row.n)
            let observed = "\(values.count) values, first \(String(describing: values.first))"
            #expect(
                values.count == row.n && values.allSatisfy { $0 == expected },
                "\(row.n) × \(row.token): expected \(row.n) × \(expected), observed \(observed)")
        }
    }

    @Test("a directory as input and a full device as output are errors, not an empty success")
    func ioErrors() throws {
        let (s1, _, e1) = try softmaxAudit(["reference", "softmax", "--input", "/tmp"])
        #expect(s1 == 2 && e1.contains("cannot read '/tmp'"), "status \(s1): \(e1)")
        // Standard output on /dev/full, through a shell (the test harness reads stdout through a pipe).
        let binary = productsDirectory.appendingPathComponent("softmax-audit").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "printf '1 2\\n' | '\(binary)' reference softmax > /dev/full"]
        let stderr = Pipe()
        process.standardError = stderr
        try process.run()
        let err = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 3 && err.contains("cannot write the results"), "\(err)")
    }
}

@Suite("Hostile input: shard files")
struct HostileShardTests {
    /// Runs two shards of a small configuration; returns their paths.
    func shards(_ dir: URL) throws -> [String] {
        try (1...2).map { k in
            let (status, _, err) = try softmaxAudit(
                HostileFileTests.quick + ["--shard", "\(k)/2", "--output", dir.path])
            #expect(status == 0, "\(err)")
            return dir.appendingPathComponent("shard-\(k)-of-2.json").path
        }
    }

    /// The second shard rewritten by `edit` (on its JSON object).
    func tampered(_ path: String, _ edit: (inout [String: Any]) -> Void) throws -> String {
        var json =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        edit(&json)
        let out = path + ".tampered.json"
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: out))
        return out
    }

    @Test("merge refuses a shard whose kernel index, histogram, cases or counts are not a run's")
    func refused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("softmax-audit-shards-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try shards(dir)
        func firstOutcome(_ json: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
            var items = json["items"] as! [[String: Any]]
            var outcomes = items[0]["outcomes"] as! [[String: Any]]
            edit(&outcomes[0])
            items[0]["outcomes"] = outcomes
            json["items"] = items
        }
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            ("kernel index 99", { j in firstOutcome(&j) { $0["kernel"] = 99 } }),
            ("kernel index -1", { j in firstOutcome(&j) { $0["kernel"] = -1 } }),
            (
                "the histogram has 1000 bins",
                { j in
                    firstOutcome(&j) { o in
                        var outcome = o["outcome"] as! [String: Any]
                        outcome["histogram"] = Array(repeating: 0, count: 1000)
                        o["outcome"] = outcome
                    }
                }
            ),
            (
                "negative or NaN",
                { j in
                    firstOutcome(&j) { o in
                        var outcome = o["outcome"] as! [String: Any]
                        outcome["maxULPs"] = "nan"
                        o["outcome"] = outcome
                    }
                }
            ),
            ("field items", { j in j["items"] = Array((j["items"] as! [[String: Any]]).prefix(3)) }),
        ]
        for (message, edit) in cases {
            let bad = try tampered(files[1], edit)
            let (status, _, err) = try softmaxAudit(["merge", files[0], bad, "--output", dir.path + "/m"])
            #expect(status == 2 && err.contains(message), "\(message): status \(status), stderr: \(err)")
        }
        let (status, _, err) = try softmaxAudit(["merge", files[0], files[1], "--output", dir.path + "/m"])
        #expect(status == 0, "the untouched shards merge: \(err)")
    }
}
