// `softmax-audit merge SHARD...`: the shards of one sharded run joined into the reports an unsharded
// run writes, byte for byte.
import ArgumentParser
import Audit
import Foundation

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the shards of one configuration into the reports an unsharded run writes (byte for byte).")

    @Argument(help: "The shard files (shard-K-of-N.json), all N of them.")
    var shards: [String]

    @OptionGroup var gateOptions: GateOptions

    @Option(help: "Worker threads for shrinking.")
    var jobs: Int = Limits.defaultJobs

    func validate() throws {
        try Limits.checkJobs(jobs)
    }

    func run() throws {
        var files: [(path: String, file: ShardFile)] = []
        for path in shards {
            do {
                files.append((path, try ShardFile.load(path)))
            } catch let error as ShardError {
                throw failure(2, "merge: \(error).")
            } catch {
                throw failure(2, "merge: cannot read the shard '\(path)': \(error.localizedDescription)")
            }
        }
        let (result, command): (AuditResult, String)
        do {
            (result, command) = try AuditEngine.merge(files, jobs: jobs)
        } catch {
            throw failure(2, "merge: \(error).")
        }
        var gate = gateOptions
        if files.first?.file.isPrecisionAudit == true && gate.output == "Reports" { gate.output = "Reports/precision" }
        try gate.finish(result, command: command, jobs: jobs)
    }
}
