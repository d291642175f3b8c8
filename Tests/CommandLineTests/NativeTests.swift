// `softmax-audit native`: the example C kernels of Adapters/c, compiled with the system's C compiler,
// audited through their shared libraries; a kernel that crashes is reported with its row.
import Foundation
import Testing

@Suite("Native libraries")
struct NativeTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Adapters/c")

    /// Compiles Adapters/c/NAME.c into a shared library in `directory` with cc (or the toolchain's clang).
    func library(_ name: String, in directory: URL) throws -> String {
        let output = directory.appendingPathComponent("lib\(name).so").path
        let source = Self.sources.appendingPathComponent("\(name).c").path
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
    func native(_ name: String, _ arguments: [String]) throws -> (Int32, String, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("softmax-audit-native-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try library(name, in: directory)
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
        for function in ["softmax", "log-softmax", "logsumexp", "cross-entropy", "cross-entropy-gradient", "sigmoid"] {
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
