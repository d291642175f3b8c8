// The command-line contract, end to end: the built softmax-audit binary run as a user would.
import Foundation
import Testing

/// Runs the built binary with arguments and standard input; returns (status, stdout, stderr).
func softmaxAudit(
    _ arguments: [String], input: String = "", environment: [String: String] = [:]
) throws -> (Int32, String, String) {
    let binary = productsDirectory.appendingPathComponent("softmax-audit")
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["GITHUB_STEP_SUMMARY"] = nil
    for (key, value) in environment { env[key] = value }
    process.environment = env
    // The input comes from a file, so that a large input and a large output never wait on each other's pipe.
    let inputFile = FileManager.default.temporaryDirectory.appendingPathComponent("softmax-audit-input-\(UUID())")
    try Data(input.utf8).write(to: inputFile)
    defer { try? FileManager.default.removeItem(at: inputFile) }
    let stdout = Pipe(), stderr = Pipe()
    process.standardInput = try FileHandle(forReadingFrom: inputFile)
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    let out = stdout.fileHandleForReading.readDataToEndOfFile()
    let err = stderr.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
}

/// The build products directory (where the test bundle and the executable live).
let productsDirectory: URL = {
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
        return bundle.bundleURL.deletingLastPathComponent()
    }
    return Bundle.main.bundleURL
}()

@Suite("Command line")
struct CommandLineTests {
    @Test("reference softmax: one line of hex floats per row")
    func softmax() throws {
        let (status, out, err) = try softmaxAudit(
            ["reference", "softmax"], input: "0 0\n1e308 -1e308\n0x1p+0 0x1p+0 0x1p+0 0x1p+0\n")
        #expect(status == 0, "stderr: \(err)")
        #expect(
            out == "0x1.0000000000000p-1 0x1.0000000000000p-1\n0x1.0000000000000p+0 0x0.0p+0\n"
                + "0x1.0000000000000p-2 0x1.0000000000000p-2 0x1.0000000000000p-2 0x1.0000000000000p-2\n")
    }

    @Test("reference cross-entropy and gradient take 'label: row'; logsumexp of an empty row is -inf")
    func labeled() throws {
        let (s1, ce, _) = try softmaxAudit(["reference", "cross-entropy"], input: "0: 0 0\n0: 0 -690.7755\n")
        #expect(
            s1 == 0 && ce == "0x1.62e42fefa39efp-1\n0x1.56e46f1990c4ap-997\n",
            "log 2, and a loss of 1e-300 (mpmath): \(ce)")
        let (s2, g, _) = try softmaxAudit(["reference", "cross-entropy-gradient"], input: "1: 0 0 0 0\n")
        #expect(
            s2 == 0 && g == "0x1.0000000000000p-2 -0x1.8000000000000p-1 0x1.0000000000000p-2 0x1.0000000000000p-2\n")
        let (s3, lse, _) = try softmaxAudit(["reference", "logsumexp"], input: "\n-inf -inf\ninf 0\nnan 0\n")
        #expect(s3 == 0 && lse == "-inf\n-inf\ninf\nnan\n")
        let (s4, ls, _) = try softmaxAudit(["reference", "log-softmax"], input: "0 -40\n")
        #expect(s4 == 0 && ls == "-0x1.39792499b1a24p-58 -0x1.4000000000000p+5\n", "\(ls)")
    }

    @Test("reference cross-entropy-loss takes a batch on one line with PyTorch's options")
    func lossLine() throws {
        // mpmath (oracle.py's cross_entropy_loss): the README's examples.
        let input =
            "1: 0 1 2 ; -100: 3 0 -1 ; 2: 1 1 1 weight=1,0.5,2 label_smoothing=0.1 reduction=sum\n"
            + "0 1 2 | 0.2 0 0.8 ; 1 1 0 | 0 1 0 reduction=none\n-100: 0 1 ; -100: 2 2\n"
        let (s1, out, err) = try softmaxAudit(["reference", "cross-entropy-loss"], input: input)
        #expect(
            s1 == 0 && out == "0x1.6f5b9f6298b9cp+1\n0x1.9d7e876aafb1bp-1 0x1.b957620981157p-1\nnan\n", "\(out) \(err)")
        let (s2, _, e2) = try softmaxAudit(["reference", "cross-entropy-loss"], input: "1: 0 1 reduction=avg\n")
        #expect(s2 == 2 && e2.contains("line 1") && e2.contains("reduction=mean"), "\(e2)")
        // Hostile batches: one sentence naming the line, exit 2.
        for (line, says) in [
            ("1: 0 1 ; 0 1 | 1 0", "all have class indices"), ("1: 0 1 weight=1", "1 class weight is given"),
            ("1: 0 1 reduction=sum ; 0: 1 2", "must come after the values"), ("1: 0 1 ; ; 0: 1 2", "class index"),
            ("1: 0 1 ; 0: 1 2 3", "batch row 1 has 3 logits"),
        ] {
            let (status, _, err) = try softmaxAudit(["reference", "cross-entropy-loss"], input: line + "\n")
            #expect(status == 2 && err.contains("line 1: ") && err.contains(says), "\(line): \(err)")
        }
    }

    @Test("a CRLF line ends like a LF one; a NUL byte inside a line is refused, not taken as its end")
    func lineEndings() throws {
        let (s1, out, err) = try softmaxAudit(["reference", "softmax"], input: "0 0\r\n")
        #expect(s1 == 0 && out == "0x1.0000000000000p-1 0x1.0000000000000p-1\n", "\(out) \(err)")
        let (s2, _, e2) = try softmaxAudit(["reference", "softmax"], input: "0 1\u{0} 5\n")
        #expect(s2 == 2 && e2.contains("line 1"), "\(e2)")
    }

    @Test("--input reads a file")
    func inputFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("softmax-audit-rows-\(getpid()).txt")
        try "0 0\n".write(to: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: path) }
        let (status, out, _) = try softmaxAudit(["reference", "softmax", "--input", path.path])
        #expect(status == 0 && out == "0x1.0000000000000p-1 0x1.0000000000000p-1\n")
        let (missing, _, err) = try softmaxAudit(["reference", "softmax", "--input", "/nonexistent/rows"])
        #expect(missing == 2 && err.contains("/nonexistent/rows"), "\(err)")
    }

    @Test(
        "malformed rows: exit 2, one sentence naming the line",
        arguments: [
            ("softmax", "1 2\n1 x 3\n", "line 2", "value 2, 'x', is not a number"),
            ("softmax", "1 2\n\n", "line 2", "empty"),
            ("cross-entropy", "0: 1 2\n1 2\n", "line 2", "label"),
            ("cross-entropy", "2: 1 2\n", "line 1", "label 2 is out of range"),
            ("cross-entropy-gradient", "a: 1 2\n", "line 1", "'a' is not a non-negative integer"),
            ("logsumexp", "0: 1 2\n", "line 1", "takes no label"),
        ])
    func malformed(_ c: (String, String, String, String)) throws {
        let (status, out, err) = try softmaxAudit(["reference", c.0], input: c.1)
        #expect(status == 2, "input \(c.1.debugDescription): status \(status), stderr \(err)")
        #expect(err.contains(c.2) && err.contains(c.3), "stderr: \(err)")
        #expect(err.split(separator: "\n").count == 1, "one line: \(err)")
        #expect(!out.contains("nan"), "no half-computed output: \(out)")
    }

    @Test("an unknown function is a usage error")
    func unknownFunction() throws {
        let (status, _, err) = try softmaxAudit(["reference", "softmin"])
        #expect(status != 0 && err.contains("softmin"))
    }

    @Test("list prints every kernel with its expectation")
    func list() throws {
        let (status, out, _) = try softmaxAudit(["list"])
        #expect(status == 0)
        for name in [
            "seed-softmax", "seed-stable-softmax", "seed-cross-entropy", "seed-delta-cross-entropy",
            "softmax-shifted", "logsumexp-log1p", "softmax-online", "gradient-complement",
        ] {
            #expect(out.contains(name + "\n"), "\(name) missing")
        }
        #expect(out.contains("expectation: accurate") && out.contains("expectation: flawed"))
    }

    @Test("run --quick writes the report, its JSON and figures; the same bytes with 1 and 2 jobs; exit 0")
    func run() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("softmax-audit-run-\(getpid())")
        defer { try? FileManager.default.removeItem(at: base) }
        let one = base.appendingPathComponent("one"), two = base.appendingPathComponent("two")
        let (status, out, err) = try softmaxAudit(["run", "--quick", "--jobs", "1", "--output", one.path])
        #expect(status == 0, "stdout \(out) stderr: \(err)")
        let (status2, _, _) = try softmaxAudit(["run", "--quick", "--jobs", "2", "--output", two.path])
        #expect(status2 == 0)
        for name in ["audit.md", "audit.json", "figures/seed-softmax.svg"] {
            let a = try Data(contentsOf: one.appendingPathComponent(name))
            let b = try Data(contentsOf: two.appendingPathComponent(name))
            #expect(a == b, "\(name) differs between --jobs 1 and --jobs 2")
        }
        let json = try Data(contentsOf: one.appendingPathComponent("audit.json"))
        #expect(try JSONSerialization.jsonObject(with: json) is [String: Any])
        let text = try String(contentsOf: one.appendingPathComponent("audit.md"), encoding: .utf8)
        #expect(text.hasPrefix("<!-- Generated by `softmax-audit run --quick`"))
        #expect(text.contains("**PASSED**") && text.contains("| [`seed-softmax`](#seed-softmax) |"))
    }

    @Test("bad usage exits 2 with a sentence naming the option")
    func badUsage() throws {
        let (s1, _, e1) = try softmaxAudit(["run", "--kernels", "nope"])
        #expect(s1 == 2 && e1.contains("--kernels") && e1.contains("nope"), "\(e1)")
        let (s2, _, e2) = try softmaxAudit(["run", "--max-length", "0"])
        #expect(s2 == 2 && e2.contains("--max-length"), "\(e2)")
        let (s3, _, e3) = try softmaxAudit(["check", "seed-softmax", "--row", "1 x"])
        #expect(s3 == 2 && e3.contains("'x'"), "\(e3)")
    }

    @Test(
        "options with a fixed set of values are refused by the parser with the list",
        arguments: [
            (["run", "--kernels", "softmax-shifted,nope"], "--kernels", "seed-softmax"),
            (["run", "--classes", "nope"], "--classes", "dominant-36"),
            (["run", "--fail-on", "bound,nope"], "--fail-on", "baseline"),
            (["run", "--shard", "3/2"], "--shard", "3/2"),
            (["reference", "softmax", "--format", "float8"], "--format", "bfloat16"),
            (
                ["external", "--name", "x", "--functions", "jacobian", "--", "true"], "--functions",
                "cross-entropy-gradient"
            ),
            (["external", "--name", "x", "--bound", "jacobian", "--", "true"], "--bound", "online-softmax"),
            (["check", "nope", "--row", "0"], "<kernel>", "softmax-kahan"),
        ])
    func typedOptions(_ c: ([String], String, String)) throws {
        let (status, _, err) = try softmaxAudit(c.0)
        #expect(status == 2 && err.contains(c.1) && err.contains(c.2), "\(c.0): status \(status), stderr \(err)")
    }

    @Test("--version prints the version the reports carry; list --functions prints the catalogue")
    func versionAndFunctions() throws {
        let (status, out, _) = try softmaxAudit(["--version"])
        #expect(status == 0 && out == "0.3.0\n", "\(out)")
        let (s2, functions, _) = try softmaxAudit(["list", "--functions"])
        #expect(s2 == 0)
        for name in ["softmax", "batch-cross-entropy-gradient", "vector-jacobian-product"] {
            #expect(functions.contains(name + "\n"), "\(name) missing from \(functions)")
        }
        #expect(functions.components(separatedBy: "taken by `reference`").count - 1 == 22, "\(functions)")
    }

    @Test("check prints the kernel, the reference to 40 digits and the ULP error per element")
    func check() throws {
        let (status, out, err) = try softmaxAudit([
            "check", "log-softmax-shifted", "--function", "log-softmax", "--row", "0 -40",
        ])
        #expect(status == 0, "\(err)")
        // log p_0 = −log1p(e^-40) = −4.24835425529158898630497784363158218187775e-18 (mpmath).
        #expect(
            out.contains(
                "[0] kernel 0x0.0p+0  reference -0x1.39792499b1a24p-58 = -4.2483542552915889863049778436315821818"),
            "\(out)")
        #expect(out.contains("FAILED bound exceeded"), "\(out)")
    }

    @Test("list --classes names every class with its source")
    func listClasses() throws {
        let (status, out, _) = try softmaxAudit(["list", "--classes"])
        #expect(
            status == 0 && out.contains("offset-1e8  (adversarial)") && out.contains("pytorch#11752")
                && out.contains("normal  (random)"))
    }

    @Test("run --shard K/N and merge write the same bytes as one run; a missing shard is an error")
    func shards() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("softmax-audit-shards-\(getpid())")
        defer { try? FileManager.default.removeItem(at: base) }
        let options = ["--quick", "--cases", "4", "--kernels", "seed-softmax,cross-entropy-log1p"]
        for k in 1...2 {
            let (status, _, err) = try softmaxAudit(
                ["run"] + options + ["--shard", "\(k)/2", "--output", base.appendingPathComponent("s").path])
            #expect(status == 0, "\(err)")
        }
        let shards = (1...2).map { base.appendingPathComponent("s/shard-\($0)-of-2.json").path }
        let (merged, _, mergeErr) = try softmaxAudit(
            ["merge"] + shards + ["--output", base.appendingPathComponent("merged").path])
        #expect(merged == 0, "\(mergeErr)")
        let (single, _, _) = try softmaxAudit(
            ["run"] + options + ["--output", base.appendingPathComponent("single").path])
        #expect(single == 0)
        for name in ["audit.md", "audit.json", "figures/seed-softmax.svg", "figures/cross-entropy-log1p-bound.svg"] {
            let a = try Data(contentsOf: base.appendingPathComponent("merged/" + name))
            let b = try Data(contentsOf: base.appendingPathComponent("single/" + name))
            #expect(a == b, "\(name) differs between merge and one run")
        }
        let (missing, _, err) = try softmaxAudit([
            "merge", shards[0], "--output", base.appendingPathComponent("m2").path,
        ])
        #expect(missing == 2 && err.contains("shards 2 of 2 are missing"), "\(err)")
    }

    @Test("--junit writes JUnit XML and GITHUB_STEP_SUMMARY receives the summary")
    func junitAndSummary() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("softmax-audit-junit-\(getpid())")
        defer { try? FileManager.default.removeItem(at: base) }
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        let summary = base.appendingPathComponent("summary.md")
        let (status, _, err) = try softmaxAudit(
            [
                "run", "--quick", "--cases", "3", "--kernels", "softmax-shifted", "--output", base.path,
                "--junit", base.appendingPathComponent("junit.xml").path,
            ],
            environment: ["GITHUB_STEP_SUMMARY": summary.path])
        #expect(status == 0, "\(err)")
        let xml = try String(contentsOf: base.appendingPathComponent("junit.xml"), encoding: .utf8)
        #expect(
            xml.contains("<testsuites name=\"softmax-audit\"")
                && xml.contains("classname=\"softmax-shifted.softmax\" name=\"normal\""))
        let md = try String(contentsOf: summary, encoding: .utf8)
        #expect(md.hasPrefix("## SoftmaxAudit: gate passed") && md.contains("| `softmax-shifted` | softmax |"))
    }

    @Test("the Swift API example builds in a package of its own and gates an accurate and a flawed kernel")
    func swiftAPIExample() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let example = root.appendingPathComponent("Examples/GateYourKernel").path
        func swift(_ arguments: [String]) throws -> (Int32, String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["swift"] + arguments + ["--package-path", example]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = out
            try process.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, text)
        }
        // The build runs beside the rest of this suite; a second attempt absorbs a compiler that lost a
        // race for the machine (the output of both is shown if both fail). Test failures are not retried.
        var (built, log) = try swift(["build", "--build-tests"])
        if built != 0 { (built, log) = try swift(["build", "--build-tests"]) }
        #expect(built == 0, "\(log.suffix(3000))")
        guard built == 0 else { return }
        let (status, text) = try swift(["test", "--skip-build"])
        #expect(status == 0, "\(text.suffix(2000))")
        #expect(
            text.contains("mySoftmaxPassesTheAudit() passed")
                && text.contains("theUnshiftedSoftmaxIsCaughtWithAShrunkRow() passed"),
            "\(text.suffix(2000))")
    }
}
