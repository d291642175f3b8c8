// `softmax-audit league`: the table of libraries, from stand-in adapters (pure Python, no library needed): an
// accurate softmax, an overflowing one, and a library that cannot be imported.
import Foundation
import Testing

@Suite("League")
struct LeagueTests {
    /// A directory of adapters named as the league's: numpy's answers as the test worker's `good` mode, torch's
    /// as its `unshifted` mode (exp(x)/Σ, which overflows), scipy's import fails.
    func adapters() throws -> URL {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("softmax-audit-league-adapters-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func standIn(_ mode: String, _ version: String) -> String {
            """
            import runpy, sys
            if "--version" in sys.argv:
                print("\(version)")
                sys.exit(0)
            sys.argv = ["\(ExternalTests.worker)", "\(mode)"]
            runpy.run_path(sys.argv[0], run_name="__main__")
            """
        }
        try standIn("good", "stand-in numpy 1.0").write(
            to: directory.appendingPathComponent("numpy_worker.py"), atomically: true, encoding: .utf8)
        try standIn("unshifted", "stand-in torch 2.0").write(
            to: directory.appendingPathComponent("torch_worker.py"), atomically: true, encoding: .utf8)
        try "import no_such_module_for_the_league\n".write(
            to: directory.appendingPathComponent("scipy_worker.py"), atomically: true, encoding: .utf8)
        try "Stand-in notes.\n".write(
            to: directory.appendingPathComponent("league-notes.md"), atomically: true, encoding: .utf8)
        return directory
    }

    @Test("the table lists each library's tiers, the findings beyond the textbook bound, and why one is missing")
    func table() throws {
        let adapters = try adapters()
        let out = FileManager.default.temporaryDirectory
            .appendingPathComponent("softmax-audit-league-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: adapters)
            try? FileManager.default.removeItem(at: out)
        }
        let (status, stdout, stderr) = try softmaxAudit([
            "league", "--python", "python3", "--adapters", adapters.path, "--libraries", "numpy,scipy,torch",
            "--formats", "double,float16", "--cases", "2", "--max-length", "16", "--timeout", "60",
            "--output", out.path,
        ])
        #expect(status == 0, "exit \(status)\n\(stdout)\n\(stderr)")
        let table = try String(contentsOf: out.appendingPathComponent("README.md"), encoding: .utf8)
        let expected = [
            "| numpy | stand-in numpy 1.0 |",
            "No module named 'no_such_module_for_the_league'",
            // The stand-ins answer `unsupported` to softmax@float16: that format is listed as not audited.
            "float16: no function answered in float16",
            // The accurate softmax is best-known; exp(x)/Σ gives NaN on the overflow edge: beyond.
            "| softmax | best-known | **BEYOND** |",
            "| torch | double | [softmax](torch-double.md#torch-double) | "
                + "special value: NaN where the result is a number |",
        ]
        for line in expected {
            #expect(table.contains(line), "expected in the table: \(line)\n---\n\(table)")
        }
        #expect(
            table.contains("## Notes on the findings\n\nStand-in notes.\n"),
            "the notes beside the adapters end the table")
        for report in ["numpy-double.md", "torch-double.md", "numpy-double.json"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(report).path), "\(report)")
        }
        let torch = try String(contentsOf: out.appendingPathComponent("torch-double.md"), encoding: .utf8)
        #expect(torch.contains("## `torch-double` in two tiers"), "the library's report carries its tiers")
        #expect(torch.contains("**Library:** stand-in torch 2.0."))
    }

    @Test("bad options are one sentence and exit 2; an unwritable output exits 3")
    func badOptions() throws {
        for (arguments, fragment) in [
            (["--libraries", "numpy,cupy"], "unknown library 'cupy'"),
            (["--formats", "double,quad"], "unknown format 'quad'"),
            (["--cases", "0"], "--cases must be between"),
            (["--notes", "/nonexistent/notes.md"], "is not a readable file"),
            (["--libraries", "scipy", "--formats", "float16"], "select no library"),
        ] {
            let (status, _, stderr) = try softmaxAudit(["league"] + arguments)
            #expect(status == 2 && stderr.contains(fragment), "\(arguments): exit \(status), \(stderr)")
        }
        let adapters = try adapters()
        defer { try? FileManager.default.removeItem(at: adapters) }
        let blocker = adapters.appendingPathComponent("a-file")
        try "".write(to: blocker, atomically: true, encoding: .utf8)
        let (status, _, stderr) = try softmaxAudit([
            "league", "--python", "python3", "--adapters", adapters.path, "--libraries", "scipy",
            "--output", blocker.appendingPathComponent("out").path,
        ])
        #expect(status == 3 && stderr.contains("cannot write the league table"), "exit \(status), \(stderr)")
    }
}
