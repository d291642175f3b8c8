// `softmax-audit native`: the example C kernels of Adapters/c, compiled with the system's C compiler,
// audited through their shared libraries; a kernel that crashes is reported with its row.
import Foundation
import Testing

@Suite("Native libraries")
struct NativeTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Adapters/c")

    /// Compiles Adapters/c/NAME.c (or the given C text) into a shared library in `directory` with cc (or the
    /// toolchain's clang).
    func library(_ name: String, in directory: URL, text: String? = nil) throws -> String {
        let output = directory.appendingPathComponent("lib\(name).so").path
        var source = Self.sources.appendingPathComponent("\(name).c").path
        if let text {
            source = directory.appendingPathComponent("\(name).c").path
            try Data(text.utf8).write(to: URL(fileURLWithPath: source))
        }
        for compiler in ["cc", "clang", "gcc"] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [compiler, "-O2", "-shared", "-fPIC", "-o", output, source, "-lm"]
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            if process.terminationStatus == 0 { return output }
        }
        throw CompilerMissing(source: source)
    }

    struct CompilerMissing: Error, CustomStringConvertible {
        let source: String
        var description: String { "no C compiler (cc, clang, gcc) could build \(source)" }
    }

    /// Runs `native` on a library built from Adapters/c/NAME.c; returns (status, stdout + stderr, the report).
    func native(_ name: String, _ arguments: [String], text: String? = nil) throws -> (Int32, String, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("softmax-audit-native-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try library(name, in: directory, text: text)
        let out = directory.appendingPathComponent("reports")
        let (status, stdout, stderr) = try softmaxAudit(
            ["native", "--library", path, "--name", name, "--output", out.path] + arguments)
        let report = (try? String(contentsOf: out.appendingPathComponent("native-\(name).md"), encoding: .utf8)) ?? ""
        return (status, stdout + stderr, report)
    }

    @Test("the example C kernel passes its audit: every function it exports, in double and float, no problems")
    func example() throws {
        let (status, log, report) = try native("softmax_kernel", ["--quick"])
        #expect(status == 0, "\(log)")
        #expect(report.contains("**PASSED**") && report.contains("No worker problems"), "\(report.prefix(1500))")
        let functions = [
            "softmax", "log-softmax", "logsumexp", "cross-entropy", "cross-entropy-gradient", "sigmoid",
            "kl-divergence", "kl-divergence-gradient", "binary-cross-entropy", "binary-cross-entropy-gradient",
            "cross-entropy-loss", "cross-entropy-loss-gradient",
        ]
        for function in functions {
            #expect(report.contains("| `softmax_kernel` | \(function) |"), "no row for \(function) in the report")
        }
        let (floatStatus, floatLog, floatReport) = try native(
            "softmax_kernel", ["--quick", "--format", "float", "--functions", "softmax"])
        #expect(floatStatus == 0 && floatReport.contains("**PASSED**"), "\(floatLog)")
    }

    @Test("a kernel that aborts on rows of 7 logits: the audit goes on, the crash is reported with its row")
    func crash() throws {
        let (_, log, report) = try native(
            "crashing_kernel", ["--classes", "normal", "--cases", "40", "--max-length", "9", "--restarts", "100"])
        let crashes = report.split(separator: "\n").filter { $0.contains("killed by signal 6") }
        #expect(!crashes.isEmpty, "no crash reported:\n\(log)\n\(report.suffix(1500))")
        for line in crashes {
            // The request's row, in the table's second column: exactly 7 logits.
            let request = line.split(separator: "|")[1].trimmingCharacters(in: .whitespaces)
            let values = request.split(separator: " ").dropFirst()
            #expect(values.count == 7, "a crash attributed to a row of \(values.count) logits: \(line)")
        }
        #expect(report.contains("## The worker"), "\(report.suffix(800))")
    }

    /// A correct softmax, for the hostile libraries below.
    static let softmax = """
        #include <math.h>
        #include <stddef.h>
        static void sm(const double *x, size_t n, double *out) {
            double m = -INFINITY, s = 0;
            for (size_t i = 0; i < n; i++) if (x[i] > m) m = x[i];
            for (size_t i = 0; i < n; i++) { out[i] = exp(x[i] - m); s += out[i]; }
            for (size_t i = 0; i < n; i++) out[i] /= s;
        }
        """

    @Test("a library that hangs while loading is one sentence within --timeout, exit 2, no audit")
    func hangsWhileLoading() throws {
        let text =
            Self.softmax + "\n" + """
                #include <unistd.h>
                __attribute__((constructor)) static void load(void) { pause(); }
                int softmax_audit_softmax(const double *x, size_t n, double *out) { sm(x, n, out); return 0; }
                """
        let started = Date()
        let (status, log, report) = try native("pausing", ["--quick", "--timeout", "2"], text: text)
        #expect(status == 2 && log.contains("did not finish loading within 2 s") && report.isEmpty, "\(status): \(log)")
        #expect(Date().timeIntervalSince(started) < 30, "the load check waited past its timeout")
    }

    @Test("a kernel writing past out[n - 1] faults on its own call, and what it prints goes to standard error")
    func writesPastItsAnswer() throws {
        // Rows of 5 write eight values past the answer; every row prints a line to standard output first.
        let text =
            Self.softmax + "\n" + """
                #include <stdio.h>
                int softmax_audit_softmax(const double *x, size_t n, double *out) {
                    printf("called with %zu\\n", n);
                    fflush(stdout);
                    sm(x, n, out);
                    if (n == 5) for (int i = 0; i < 8; i++) out[n + i] = 1;
                    return 0;
                }
                """
        let (_, log, report) = try native(
            "overflowing", ["--classes", "normal", "--cases", "40", "--max-length", "9", "--restarts", "100"],
            text: text)
        let crashes = report.split(separator: "\n").filter { $0.contains("killed by signal 11") }
        #expect(!crashes.isEmpty, "no crash reported:\n\(log)\n\(report.suffix(1500))")
        for line in crashes {
            let values = line.split(separator: "|")[1].trimmingCharacters(in: .whitespaces).split(separator: " ")
            #expect(values.count == 6, "a write past the answer blamed on a row of \(values.count - 1) logits: \(line)")
        }
        #expect(!report.contains("does not parse"), "the library's printf reached the protocol: \(report.suffix(1500))")
    }

    @Test("a library that does not load, or a missing one, is one sentence and a non-zero exit")
    func badLibrary() throws {
        let (status, _, stderr) = try softmaxAudit(["native", "--library", "/nonexistent.so", "--name", "x"])
        #expect(status == 2 && stderr.contains("/nonexistent.so"), "\(status): \(stderr)")
        let notLibrary = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-library-\(UUID()).so")
        try Data("not ELF".utf8).write(to: notLibrary)
        defer { try? FileManager.default.removeItem(at: notLibrary) }
        let (status2, out2, err2) = try softmaxAudit(
            ["native", "--library", notLibrary.path, "--name", "x", "--quick", "--output", "/tmp/unused-\(UUID())"])
        #expect(
            status2 == 2 && err2.contains("cannot load") && err2.contains(notLibrary.path) && out2.isEmpty,
            "\(status2): \(out2) \(err2)")
    }
}
