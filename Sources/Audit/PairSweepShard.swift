// Shards of a pair sweep: `sweep --pairs --shard K/N` takes the pairs whose first logit has index K − 1
// modulo N and writes its raw counts; `sweep --pairs --merge` joins all N into the reports an unsharded
// sweep writes, byte for byte (counts add, maxima and the worst pair are taken in the sweep's order).
// Doubles travel as hexadecimal floats, exactly.
import Formats
import Foundation
import Kernels

/// One shard's counts, as written to `pairs-shard-K-of-N.json`.
public struct PairSweepShard: Codable, Sendable {
    public static let schemaName = "softmax-audit/pair-sweep-shard/1"

    var schema: String
    /// The tool's and MPFR's versions that swept the shard: shards merge only under the same.
    var tool: String
    var mpfr: String
    /// The unsharded sweep's command, which the merged reports carry.
    public var command: String
    public var shard: Int
    public var shards: Int
    var kernels: [String]
    var values: Int
    var pairs: Int
    var referenceCalls: [Int]
    var differenceTotals: [Int]
    var maximumTotals: [Int]
    /// Per function of the sweep, per kernel of that function.
    var counts: [[Counts]]

    struct Counts: Codable, Sendable {
        var misrounded, failing, conventions: Int
        var maxULPs, maxRatio: String
        var worst: Worst?
        var differences, maxima: [Bin]
    }
    struct Worst: Codable, Sendable {
        var first, second: Int
        var a, b: String
        var output, reference: [String]
    }
    struct Bin: Codable, Sendable {
        var bin, failing: Int
        var lower, upper: String
    }

    /// Sweeps shard K of N (1-based) of every pair (of `values`, a subset for tests).
    public static func run(
        _ kernels: [Kernel], jobs: Int, shard: Int, of shards: Int, command: String, tool: String, mpfr: String,
        values: [Double]? = nil
    ) -> PairSweepShard {
        let values = values ?? Sweep.values(of: PairSweep.format)
        let total = PairSweep.accumulate(kernels, jobs: jobs, shard: (shard - 1, shards), values: values)
        return PairSweepShard(total, shard: shard, of: shards, command: command, tool: tool, mpfr: mpfr)
    }

    init(_ t: PairAccumulators, shard: Int, of shards: Int, command: String, tool: String, mpfr: String) {
        let hex: (Double) -> String = { Binary64.hexString($0) }
        func bins(_ b: PairBins) -> [Bin] {
            b.failing.indices.filter { b.failing[$0] > 0 }.map {
                Bin(bin: $0, failing: b.failing[$0], lower: hex(b.lower[$0]), upper: hex(b.upper[$0]))
            }
        }
        schema = Self.schemaName
        self.tool = tool
        self.mpfr = mpfr
        self.command = command
        self.shard = shard
        self.shards = shards
        var names: [String] = []
        for k in t.groups.flatMap(\.1) where !names.contains(k.name) { names.append(k.name) }
        kernels = names
        values = t.values.count
        pairs = t.pairs
        referenceCalls = t.referenceCalls
        differenceTotals = t.differenceTotals
        maximumTotals = t.maximumTotals
        counts = t.counts.map { group in
            group.map { c in
                Counts(
                    misrounded: c.misrounded, failing: c.failing, conventions: c.conventions,
                    maxULPs: hex(c.maxULPs), maxRatio: hex(c.maxRatio),
                    worst: c.worst.map { w in
                        Worst(
                            first: w.index.0, second: w.index.1, a: hex(w.value.a), b: hex(w.value.b),
                            output: w.value.output.map(hex), reference: w.value.reference.map(hex))
                    }, differences: bins(c.differences), maxima: bins(c.maxima))
            }
        }
    }

    public static func load(_ path: String) throws -> PairSweepShard {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONDecoder().decode(PairSweepShard.self, from: data)
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// A shard file that does not belong with the others, or does not hold what it says.
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// Joins all N shards of one sweep into its summary and command.
    public static func merge(
        _ files: [(path: String, shard: PairSweepShard)], tool: String, mpfr: String, values: [Double]? = nil
    ) throws -> (PairSweepSummary, String) {
        guard let first = files.first else { throw Invalid(description: "no shard files were given") }
        let values = values ?? Sweep.values(of: PairSweep.format)
        let kernels = try first.shard.kernels.map { name in
            guard let k = PairSweep.kernels.first(where: { $0.name == name }) else {
                throw Invalid(
                    description: "'\(first.path)': field kernels: '\(name)' is not a kernel of the pair sweep")
            }
            return k
        }
        var total = PairAccumulators(PairSweep.groups(kernels), values: values)
        var seen = Set<Int>()
        for (path, s) in files {
            func invalid(_ field: String, _ what: String) -> Invalid {
                Invalid(description: "'\(path)': field \(field): \(what)")
            }
            guard s.schema == schemaName else { throw invalid("schema", "'\(s.schema)' is not \(schemaName)") }
            guard s.tool == tool && s.mpfr == mpfr else {
                throw invalid("tool", "swept by softmax-audit \(s.tool) with MPFR \(s.mpfr), not \(tool) with \(mpfr)")
            }
            guard (1...10_000).contains(s.shards) else { throw invalid("shards", "\(s.shards) is not 1 to 10000") }
            guard s.shards == first.shard.shards, s.command == first.shard.command, s.kernels == first.shard.kernels
            else { throw invalid("shards", "the shard belongs to another sweep than '\(first.path)'") }
            guard (1...s.shards).contains(s.shard), seen.insert(s.shard).inserted else {
                throw invalid("shard", "\(s.shard) of \(s.shards) is out of range or given twice")
            }
            total.merge(try s.accumulators(kernels, values: values, invalid))
        }
        guard seen.count == first.shard.shards else {
            let missing = (1...first.shard.shards).filter { !seen.contains($0) }.map(String.init)
            throw Invalid(description: "shards \(missing.joined(separator: ", ")) of \(first.shard.shards) are missing")
        }
        guard total.pairs == values.count * values.count else {
            throw Invalid(description: "the shards hold \(total.pairs) pairs, not \(values.count * values.count)")
        }
        return (total.summary(), first.shard.command)
    }

    /// The shard's counts as accumulators, every field checked against the sweep it claims to be part of.
    func accumulators(
        _ kernels: [Kernel], values: [Double], _ invalid: (String, String) -> Invalid
    ) throws -> PairAccumulators {
        var t = PairAccumulators(PairSweep.groups(kernels), values: values)
        let expectedPairs = (values.count - shard + shards) / shards * values.count  // first logits K−1, K−1+N, …
        guard self.values == values.count else { throw invalid("values", "\(self.values), not \(values.count)") }
        guard pairs == expectedPairs else { throw invalid("pairs", "\(pairs), not the shard's \(expectedPairs)") }
        guard referenceCalls.count == t.groups.count, referenceCalls.allSatisfy({ $0 >= 0 }) else {
            throw invalid("referenceCalls", "one count >= 0 per function expected")
        }
        guard differenceTotals.count == t.differenceTotals.count, maximumTotals.count == t.maximumTotals.count,
            (differenceTotals + maximumTotals).allSatisfy({ $0 >= 0 })
        else { throw invalid("differenceTotals", "one count >= 0 per bin expected") }
        guard counts.map(\.count) == t.groups.map(\.1.count) else {
            throw invalid("counts", "one entry per kernel of each function expected")
        }
        func double(_ field: String, _ text: String) throws -> Double {
            guard let v = RowSyntax.number(Substring(text)) else { throw invalid(field, "'\(text)' is not a number") }
            return v
        }
        func bins(_ field: String, _ records: [Bin], totals: [Int], failing: Int, into b: inout PairBins) throws {
            for r in records {
                guard b.failing.indices.contains(r.bin), r.failing >= 1, r.failing <= totals[r.bin],
                    b.failing[r.bin] == 0
                else {
                    throw invalid(field, "bin \(r.bin) with \(r.failing) failing pairs is out of range or repeated")
                }
                b.failing[r.bin] = r.failing
                b.lower[r.bin] = try double(field, r.lower)
                b.upper[r.bin] = try double(field, r.upper)
            }
            guard records.map(\.failing).reduce(0, +) == failing else {
                throw invalid(field, "the bins hold another number of failing pairs than the kernel's \(failing)")
            }
        }
        t.pairs = pairs
        t.referenceCalls = referenceCalls
        t.differenceTotals = differenceTotals
        t.maximumTotals = maximumTotals
        for g in counts.indices {
            for k in counts[g].indices {
                let c = counts[g][k]
                guard [c.misrounded, c.failing, c.conventions].allSatisfy({ (0...pairs).contains($0) }) else {
                    throw invalid("counts", "a count outside 0...\(pairs)")
                }
                var out = PairCounts(bins: t.differenceTotals.count, values: values.count)
                out.misrounded = c.misrounded
                out.failing = c.failing
                out.conventions = c.conventions
                out.maxULPs = try double("maxULPs", c.maxULPs)
                out.maxRatio = try double("maxRatio", c.maxRatio)
                guard out.maxULPs >= 0, out.maxRatio >= 0, out.maxULPs.isFinite, !out.maxRatio.isNaN else {
                    throw invalid("maxULPs", "a negative or non-finite maximum")
                }
                if let w = c.worst {
                    let worst = PairWorst(
                        a: try double("worst", w.a), b: try double("worst", w.b),
                        output: try w.output.map { try double("worst", $0) },
                        reference: try w.reference.map { try double("worst", $0) })
                    guard values.indices.contains(w.first), values.indices.contains(w.second),
                        w.first % shards == shard - 1, values[w.first].bitPattern == worst.a.bitPattern,
                        values[w.second].bitPattern == worst.b.bitPattern
                    else { throw invalid("worst", "pair (\(w.first), \(w.second)) is not the shard's pair (a, b)") }
                    out.worst = ((w.first, w.second), worst)
                }
                try bins(
                    "differences", c.differences, totals: differenceTotals, failing: c.failing, into: &out.differences)
                try bins("maxima", c.maxima, totals: maximumTotals, failing: c.failing, into: &out.maxima)
                t.counts[g][k] = out
            }
        }
        return t
    }
}
