// `softmax-audit run` (the default): the demonstration of the kernels against the reference, written
// under Reports/. (The full audit of random and adversarial classes replaces it.)
import ArgumentParser
import Audit
import Foundation
import Kernels
import Reference
import Report

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Measure every kernel against the certified reference and write the reports (the default).")

    @Option(name: .long, help: "Directory for the reports.")
    var output: String = "Reports"

    func run() throws {
        let results: [DemonstrationResult]
        do {
            results = try Demonstration.run()
        } catch {
            throw failure(1, "run: the reference failed: \(error)")
        }
        let version = SoftmaxReference.mpfrVersion
        let markdown = DemonstrationReport.markdown(results, kernels: Kernel.all, mpfrVersion: version, command: "softmax-audit run")
        let json = try DemonstrationReport.json(results, mpfrVersion: version)
        do {
            try writeAtomically(markdown, to: output + "/kernels.md")
            try writeAtomically(json, to: output + "/kernels.json")
        } catch {
            throw failure(1, "run: cannot write the reports under '\(output)': \(error.localizedDescription)")
        }
        let special = Set(results.filter { !$0.specialValues.isEmpty }.map(\.kernel))
        print("Wrote \(output)/kernels.md and \(output)/kernels.json: \(results.count) measurements of \(Kernel.all.count) kernels; \(special.count) of them give a wrong special value (NaN, inf or the sign of zero) somewhere.")
    }
}

/// Writes a file through a temporary beside it and a rename, so a reader never sees half a report.
func writeAtomically(_ text: String, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial")
    try Data(text.utf8).write(to: temporary)
    if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
    try FileManager.default.moveItem(at: temporary, to: url)
}

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Print the kernels under test with their descriptions and expectations.")

    func run() throws {
        for kernel in Kernel.all {
            print(kernel.name)
            print("    \(kernel.summary)")
            print("    functions: \(kernel.functionNames.joined(separator: ", "))")
            switch kernel.expectation {
            case .accurate: print("    expectation: accurate")
            case .flawed(let flaw): print("    expectation: flawed — \(flaw)")
            }
        }
    }
}
