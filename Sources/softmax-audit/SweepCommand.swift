// `softmax-audit sweep [--kernels LIST] [--output DIR]`: the binary family's format kernels on every
// float16 and bfloat16 input, written to Reports/sweeps.
import ArgumentParser
import Audit
import Foundation
import Kernels
import Reference
import Report

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run the binary family's kernels on every float16 and bfloat16 input and write Reports/sweeps.",
        discussion: """
            For each kernel of the precision audit that stores float16 or bfloat16 and computes an elementwise \
            function (sigmoid, log-sigmoid, softplus), every value of its storage format goes through the kernel \
            and the reference correctly rounded in that format. The report gives the wrong count, the largest \
            error and where, and the ranges of inputs that fail.
            """)

    @Option(help: "Comma-separated kernels to sweep (default: every 16-bit kernel of the binary family).")
    var kernels: NameList<KernelName>?

    @Flag(
        help: ArgumentHelp(
            "Sweep every pair of float16 values through the float16 kernels of two-logit softmax, logsumexp and "
                + "cross-entropy instead, writing pairs.md and pairs.json (about an hour on two cores)."))
    var pairs = false

    @Option(
        help: ArgumentHelp(
            "With --pairs, sweep only the pairs whose first logit has index K-1 modulo N, writing their raw counts "
                + "to OUTPUT/pairs-shard-K-of-N.json for --merge.", valueName: "K/N"))
    var shard: Shard?

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "With --pairs, join the shard files of one sweep (all N of them) into the reports an unsharded sweep "
                + "writes.", valueName: "shard-file"))
    var merge: [String] = []

    @Option(help: "Directory for sweeps.md and sweeps.json.")
    var output: String = "Reports/sweeps"

    @Option(help: "Worker threads for the reference (default: every core). Results do not depend on it.")
    var jobs: Int = Limits.defaultJobs

    /// The kernels a sweep covers by default.
    static var sweepable: [Kernel] {
        Kernel.formatKernels.filter { k in
            Sweep.formats.contains(k.precision.storage) && k.functions.contains(where: Sweep.sweeps)
        }
    }

    func validate() throws {
        try Limits.checkJobs(jobs)
        guard !output.isEmpty else { throw ValidationError("--output is empty: give a directory.") }
        if (shard != nil || !merge.isEmpty) && !pairs {
            throw ValidationError("--shard and --merge apply to --pairs only.")
        }
        if shard != nil && !merge.isEmpty { throw ValidationError("--shard and --merge cannot be used together.") }
        if !merge.isEmpty && kernels != nil {
            throw ValidationError("--merge takes the kernels from the shard files; leave out --kernels.")
        }
        if pairs {
            for name in kernels?.names ?? [] where !PairSweep.kernels.contains(where: { $0.name == name }) {
                throw ValidationError(
                    "--kernels: '\(name)' is not a float16 kernel of softmax, logsumexp or cross-entropy; "
                        + "`softmax-audit list --formats` prints the kernels (those @float16 sweep in pairs).")
            }
            return
        }
        for name in kernels?.names ?? [] where !Self.sweepable.contains(where: { $0.name == name }) {
            throw ValidationError(
                "--kernels: '\(name)' is not a 16-bit kernel of the binary family; `softmax-audit list --formats` "
                    + "prints the kernels (those @float16 and @bfloat16 of sigmoid, log-sigmoid and softplus sweep).")
        }
    }

    func run() throws {
        if pairs { return try runPairs() }
        let chosen = kernels.map { names in names.names.map { name in Self.sweepable.first { $0.name == name }! } }
        let command = ["softmax-audit sweep", kernels.map { "--kernels \($0.text)" }].compactMap { $0 }
            .joined(separator: " ")
        let start = ContinuousClock.now
        let results = Sweep.run(chosen ?? Self.sweepable, jobs: jobs)
        let elapsed = ContinuousClock.now - start
        let mpfr = SoftmaxReference.mpfrVersion
        let files = [
            (
                "sweeps.md",
                SweepReport.markdown(results, command: command, toolVersion: softmaxAuditVersion, mpfrVersion: mpfr)
            ),
            (
                "sweeps.json",
                try SweepReport.json(results, command: command, toolVersion: softmaxAuditVersion, mpfrVersion: mpfr)
            ),
        ]
        try writeReports(files)
        let inputs = results.map(\.inputs).reduce(0, +)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        print(
            "Wrote \(output)/sweeps.md: \(results.count) kernel × function sweeps, \(inputs) inputs in "
                + "\(String(format: "%.1f", seconds)) s.")
    }

    func runPairs() throws {
        let chosen = kernels.map { names in names.names.map { name in PairSweep.kernels.first { $0.name == name }! } }
        let command = ["softmax-audit sweep --pairs", kernels.map { "--kernels \($0.text)" }].compactMap { $0 }
            .joined(separator: " ")
        let start = ContinuousClock.now
        let summary: PairSweepSummary
        let reportCommand: String
        if let shard {
            let part = PairSweepShard.run(
                chosen ?? PairSweep.kernels, jobs: jobs, shard: shard.index, of: shard.count, command: command,
                tool: softmaxAuditVersion, mpfr: SoftmaxReference.mpfrVersion)
            let path = output + "/pairs-shard-\(shard.index)-of-\(shard.count).json"
            do {
                try writeAtomically(try part.json(), to: path)
            } catch {
                throw failure(ExitStatus.cannotWrite, "sweep: cannot write the shard '\(path)': \(error).")
            }
            print("Wrote \(path) in \(Self.seconds(since: start)) s; `sweep --pairs --merge` joins the \(shard.count).")
            return
        } else if !merge.isEmpty {
            var files: [(path: String, shard: PairSweepShard)] = []
            for path in merge {
                do {
                    files.append((path, try PairSweepShard.load(path)))
                } catch {
                    throw failure(2, "sweep: cannot read the shard '\(path)': \(error.localizedDescription)")
                }
            }
            do {
                (summary, reportCommand) = try PairSweepShard.merge(
                    files, tool: softmaxAuditVersion, mpfr: SoftmaxReference.mpfrVersion)
            } catch {
                throw failure(2, "sweep: \(error).")
            }
        } else {
            summary = PairSweep.run(chosen ?? PairSweep.kernels, jobs: jobs)
            reportCommand = command
        }
        let mpfr = SoftmaxReference.mpfrVersion
        let files = [
            (
                "pairs.md",
                SweepReport.pairMarkdown(
                    summary, command: reportCommand, toolVersion: softmaxAuditVersion, mpfrVersion: mpfr)
            ),
            (
                "pairs.json",
                try SweepReport.pairJSON(
                    summary, command: reportCommand, toolVersion: softmaxAuditVersion, mpfrVersion: mpfr)
            ),
        ]
        try writeReports(files)
        let swept = summary.results.first?.pairs ?? 0
        print(
            "Wrote \(output)/pairs.md: \(summary.results.count) kernel × function sweeps of \(swept) pairs each in "
                + "\(Self.seconds(since: start)) s; reference calls \(summary.referenceCalls.values.reduce(0, +)).")
    }

    /// Writes a sweep's report set under --output (exit 3 when it cannot).
    func writeReports(_ files: [(String, String)]) throws {
        do {
            try ReportFiles.write(files, under: output)
        } catch {
            throw failure(ExitStatus.cannotWrite, "sweep: cannot write the reports under '\(output)': \(error).")
        }
    }

    static func seconds(since start: ContinuousClock.Instant) -> String {
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return String(format: "%.1f", seconds)
    }
}
