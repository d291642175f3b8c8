// A bounded fuzz of the readers of the files a run reads back: run shards, pair-sweep shards and
// baselines. Each starts from a file the tool wrote and is then mutated (a field anywhere in the JSON
// replaced by a hostile value, an array element dropped or repeated, bytes changed or cut off); the
// reader and what follows it (the merge, the baseline's comparison) must refuse the file with an error or
// accept it, and never trap. A trap ends the test process, which fails the suite.
import Foundation
import Testing

@testable import Audit
@testable import Kernels

@Suite("Shard and baseline readers: fuzz")
struct FileReaderFuzzTests {
    /// Values that have broken readers: negatives, zero, huge and overflowing numbers, wrong types.
    nonisolated(unsafe) static let hostile: [Any] = [
        -1, 0, 1, 2, 99, 0.5, -0.0, 1e15, 1e308, Int64.max, Int64.min, 1_000_001, "", "nan", "x",
        "0x1p+1", [] as [Any], [:] as [String: Any], NSNull(), true,
    ]

    /// One structural mutation somewhere in the JSON tree: a value replaced, an element dropped or repeated.
    static func mutate(_ json: Any, _ s: inout AuditRandom) -> Any {
        if var object = json as? [String: Any], !object.isEmpty, s.int(0...4) != 0 {
            let keys = object.keys.sorted()
            let key = keys[s.int(0...keys.count - 1)]
            switch s.int(0...5) {
            case 0: object[key] = nil
            case 1: object[key] = hostile[s.int(0...hostile.count - 1)]
            default: object[key] = mutate(object[key]!, &s)
            }
            return object
        }
        if var array = json as? [Any], !array.isEmpty, s.int(0...4) != 0 {
            let i = s.int(0...array.count - 1)
            switch s.int(0...5) {
            case 0: array.remove(at: i)
            case 1: array.append(array[i])
            case 2: array[i] = hostile[s.int(0...hostile.count - 1)]
            default: array[i] = mutate(array[i], &s)
            }
            return array
        }
        return hostile[s.int(0...hostile.count - 1)]
    }

    /// The file's text mutated: mostly one structural mutation, sometimes bytes changed or the text cut.
    static func mutated(_ text: String, _ s: inout AuditRandom) throws -> Data {
        var bytes = Array(text.utf8)
        switch s.int(0...5) {
        case 0:
            for _ in 0..<s.int(1...4) {
                bytes[s.int(0...bytes.count - 1)] = Array("0123456789-.e,:[]{}\"".utf8)[s.int(0...19)]
            }
            return Data(bytes)
        case 1:
            return Data(bytes.prefix(s.int(0...bytes.count - 1)))
        default:
            let json = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
            var result = mutate(json, &s)
            for _ in 0..<s.int(0...2) { result = mutate(result, &s) }
            return try JSONSerialization.data(withJSONObject: result, options: [.fragmentsAllowed])
        }
    }

    /// Writes `count` mutations of the text to a scratch file in turn and reads each; returns how many the
    /// reader refused.
    func fuzz(_ text: String, name: String, seed: UInt64, count: Int, read: (String) throws -> Void) throws -> Int {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("softmax-audit-fuzz-\(name)-\(UUID())")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var s = AuditRandom(seed: seed)
        var refused = 0
        for _ in 0..<count {
            try Self.mutated(text, &s).write(to: URL(fileURLWithPath: path))
            do { try read(path) } catch { refused += 1 }
        }
        return refused
    }

    static func configuration() -> AuditConfiguration {
        var c = AuditConfiguration.quick
        c.casesPerClass = 2
        c.maxLength = 32
        c.jobs = 1
        c.kernels = ["softmax-shifted", "logsumexp-log1p"].map { Kernel.named($0)! }
        c.classes = Array(c.classes.prefix(3))
        return c
    }

    @Test("1,500 mutated run shards: load and merge refuse or accept, never trap")
    func runShards() throws {
        let text = try AuditEngine.runShard(Self.configuration(), shard: 1, of: 1, command: "fuzz").encoded()
        let refused = try fuzz(text, name: "shard", seed: 19, count: 1_500) { path in
            _ = try AuditEngine.merge([(path, try ShardFile.load(path))], jobs: 1)
        }
        #expect(refused > 500, "most mutations are refused: \(refused) of 1,500")
    }

    @Test("300 mutated pair-sweep shards: load and merge refuse or accept, never trap")
    func pairShards() throws {
        let values = Sweep.values(of: .float16).enumerated().filter { $0.offset % 3001 == 0 || !$0.element.isFinite }
            .map(\.element)
        let kernels = ["softmax-shifted@float16", "logsumexp-log1p@float16"].map { Kernel.named($0)! }
        let text = try PairSweepShard.run(
            kernels, jobs: 1, shard: 1, of: 1, command: "c", tool: "t", mpfr: "m", values: values
        ).json()
        let refused = try fuzz(text, name: "pairs", seed: 23, count: 300) { path in
            _ = try PairSweepShard.merge([(path, try PairSweepShard.load(path))], tool: "t", mpfr: "m", values: values)
        }
        #expect(refused > 100, "most mutations are refused: \(refused) of 300")
    }

    @Test("1,500 mutated baselines: load and compare refuse or accept, never trap")
    func baselines() throws {
        let result = AuditEngine.run(Self.configuration())
        let text = try BaselineFile().updated(with: result, command: "fuzz").encoded()
        let refused = try fuzz(text, name: "baseline", seed: 29, count: 1_500) { path in
            let file = try BaselineFile.load(path)
            if let section = file.section(for: result) { _ = result.compare(with: section) }
            _ = try file.updated(with: result, command: "fuzz").encoded()
        }
        #expect(refused > 300, "most mutations are refused: \(refused) of 1,500")
    }
}
