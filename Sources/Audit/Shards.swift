// Sharding for CI matrices: `run --shard K/N` evaluates the cases whose index i has i mod N = K − 1 and
// writes their raw outcomes; `merge` joins the shards, checks they are one configuration and complete,
// and assembles the result exactly as an unsharded run does (case order, then shrinking and worst
// cases), so the reports are byte-identical.
import Foundation
import Kernels

/// The raw outcomes of one shard, with the configuration that produced them.
public struct ShardFile: Codable, Sendable {
    public var schema = "softmax-audit/shard/1"
    public let command: String
    public let seed: UInt64
    public let casesPerClass: Int
    public let maxLength: Int
    public let shrinkBudget: Int
    public let kernels: [String]
    public let classes: [String]
    public let shard: Int
    public let shards: Int
    /// Whether the classes are the precision audit's (whose names overlap the binary64 audit's).
    let precision: Bool?
    let items: [ShardItem]

    public var isPrecisionAudit: Bool { precision ?? false }

    struct ShardItem: Codable, Sendable {
        let index: Int
        let outcomes: [ItemOutcome]
    }

    /// What makes two shards parts of one run.
    struct Configuration: Equatable {
        let command: String
        let seed: UInt64
        let casesPerClass, maxLength, shrinkBudget, shards: Int
        let kernels, classes: [String]
        let precision: Bool
    }

    var configuration: Configuration {
        Configuration(
            command: command, seed: seed, casesPerClass: casesPerClass, maxLength: maxLength,
            shrinkBudget: shrinkBudget, shards: shards, kernels: kernels, classes: classes,
            precision: isPrecisionAudit)
    }

    public func encoded() throws -> String { try JSONFiles.text(self, pretty: false) }

    /// Checks that the file holds exactly its shard's cases, each outcome naming a kernel of the configuration
    /// and holding counts a run can produce.
    func validateItems(_ path: String, count: Int, kernels: Int) throws {
        func invalid(_ what: String) -> ShardError { .invalid(path, what) }
        let expected = Array(stride(from: shard - 1, to: count, by: shards))
        guard items.map(\.index) == expected else {
            throw invalid(
                "field items: \(items.count) cases, not the \(expected.count) of shard \(shard) of \(shards) in order")
        }
        for item in items {
            for o in item.outcomes {
                let c = o.outcome
                guard (0..<kernels).contains(o.kernelIndex) else {
                    throw invalid("case \(item.index): kernel index \(o.kernelIndex) is not one of the \(kernels)")
                }
                guard c.histogram.count == ULPBins.count, c.histogram.allSatisfy({ $0 >= 0 }) else {
                    throw invalid(
                        "case \(item.index): the histogram has \(c.histogram.count) bins, not \(ULPBins.count)")
                }
                let counts = [
                    c.elements, c.correctlyRounded, c.conventionDifferences, c.wrongSignZeros, c.finiteULPCount,
                ]
                guard counts.allSatisfy({ $0 >= 0 }), c.maxULPs >= 0, c.maxBoundRatio >= 0, c.maxTextbookRatio >= 0,
                    c.bitsSum >= 0,
                    c.rowLength >= 0
                else {
                    throw invalid("case \(item.index): a count, maxULPs or maxBoundRatio is negative or NaN")
                }
            }
        }
    }

    public static func load(_ path: String) throws -> ShardFile {
        let file = try JSONFiles.decoder().decode(ShardFile.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        guard file.schema == "softmax-audit/shard/1" else { throw ShardError.schema(path, file.schema) }
        return file
    }
}

public enum ShardError: Error, CustomStringConvertible {
    case schema(String, String)
    case mixed(String)
    case incomplete(missing: [Int], of: Int)
    case unknownName(String)
    case invalid(String, String)

    public var description: String {
        switch self {
        case .schema(let path, let s): return "\(path) is not a shard result (schema '\(s)')"
        case .mixed(let path): return "\(path) comes from a different configuration than the first shard"
        case .incomplete(let missing, let n):
            return "shards \(missing.map(String.init).joined(separator: ", ")) of \(n) are missing"
        case .unknownName(let name): return "the shards name '\(name)', which this build does not have"
        case .invalid(let path, let what): return "'\(path)': \(what)"
        }
    }
}

extension AuditEngine {
    /// Runs one shard (k of n, 1-based) of the configuration; `precision` says whether its classes are the
    /// precision audit's.
    public static func runShard(
        _ configuration: AuditConfiguration, shard k: Int, of n: Int, command: String,
        precision: Bool = false
    ) -> ShardFile {
        let (items, _, _) = evaluateItems(configuration, shard: (k, n))
        let mine = items.indices.filter { $0 % n == k - 1 }
        return ShardFile(
            command: command, seed: configuration.seed, casesPerClass: configuration.casesPerClass,
            maxLength: configuration.maxLength,
            shrinkBudget: configuration.shrinkBudget, kernels: configuration.kernels.map(\.name),
            classes: configuration.classes.map(\.name), shard: k, shards: n, precision: precision,
            items: mine.map { ShardFile.ShardItem(index: $0, outcomes: items[$0]) })
    }

    /// Merges complete shards of one configuration into the result of the unsharded run.
    public static func merge(
        _ shards: [(path: String, file: ShardFile)], jobs: Int
    ) throws -> (AuditResult, command: String) {
        guard let first = shards.first?.file else { throw ShardError.incomplete(missing: [1], of: 1) }
        for (path, file) in shards {
            guard file.configuration == first.configuration else { throw ShardError.mixed(path) }
            guard (1...10_000).contains(file.shards), (1...file.shards).contains(file.shard) else {
                throw ShardError.invalid(path, "field shard: \(file.shard) of \(file.shards) is out of range")
            }
            guard (1...1_000_000).contains(file.casesPerClass), (1...1_000_000).contains(file.maxLength) else {
                throw ShardError.invalid(path, "field casesPerClass or maxLength is out of range")
            }
        }
        let present = Set(shards.map(\.file.shard))
        let missing = (1...first.shards).filter { !present.contains($0) }
        guard missing.isEmpty else { throw ShardError.incomplete(missing: missing, of: first.shards) }
        var configuration = AuditConfiguration()
        configuration.seed = first.seed
        configuration.casesPerClass = first.casesPerClass
        configuration.maxLength = first.maxLength
        configuration.shrinkBudget = first.shrinkBudget
        configuration.jobs = jobs
        configuration.kernels = try first.kernels.map { name in
            guard let k = Kernel.named(name) else { throw ShardError.unknownName(name) }
            return k
        }
        let classes = first.isPrecisionAudit ? InputClass.precision : InputClass.all
        configuration.classes = try first.classes.map { name in
            guard let c = classes.first(where: { $0.name == name }) else { throw ShardError.unknownName(name) }
            return c
        }
        var items = [[ItemOutcome]](repeating: [], count: configuration.classes.count * configuration.casesPerClass)
        for (path, file) in shards {
            try file.validateItems(path, count: items.count, kernels: configuration.kernels.count)
            for item in file.items { items[item.index] = item.outcomes }
        }
        let result = assemble(
            configuration, items: items, start: ContinuousClock.now, workerSeconds: 0, referenceSeconds: 0)
        return (result, first.command)
    }
}

// MARK: - Coding the outcomes

extension CaseOutcome: Codable {
    enum CodingKeys: String, CodingKey {
        case maxULPs, worstElement, elements, correctlyRounded, bitsSum, maxBoundRatio, maxTextbookRatio,
            conventionDifferences,
            wrongSignZeros,
            failures, histogram, finiteULPCount, rowLength
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        maxULPs = try c.decode(Double.self, forKey: .maxULPs)
        worstElement = try c.decodeIfPresent(Int.self, forKey: .worstElement)
        elements = try c.decode(Int.self, forKey: .elements)
        correctlyRounded = try c.decode(Int.self, forKey: .correctlyRounded)
        bitsSum = try c.decode(Double.self, forKey: .bitsSum)
        maxBoundRatio = try c.decode(Double.self, forKey: .maxBoundRatio)
        maxTextbookRatio = try c.decodeIfPresent(Double.self, forKey: .maxTextbookRatio) ?? 0
        conventionDifferences = try c.decode(Int.self, forKey: .conventionDifferences)
        wrongSignZeros = try c.decode(Int.self, forKey: .wrongSignZeros)
        failures = try c.decode([CaseFailure].self, forKey: .failures)
        histogram = try c.decode([Int].self, forKey: .histogram)
        finiteULPCount = try c.decode(Int.self, forKey: .finiteULPCount)
        rowLength = try c.decode(Int.self, forKey: .rowLength)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(maxULPs, forKey: .maxULPs)
        try c.encodeIfPresent(worstElement, forKey: .worstElement)
        try c.encode(elements, forKey: .elements)
        try c.encode(correctlyRounded, forKey: .correctlyRounded)
        try c.encode(bitsSum, forKey: .bitsSum)
        try c.encode(maxBoundRatio, forKey: .maxBoundRatio)
        if maxTextbookRatio != 0 { try c.encode(maxTextbookRatio, forKey: .maxTextbookRatio) }
        try c.encode(conventionDifferences, forKey: .conventionDifferences)
        try c.encode(wrongSignZeros, forKey: .wrongSignZeros)
        try c.encode(failures, forKey: .failures)
        try c.encode(histogram, forKey: .histogram)
        try c.encode(finiteULPCount, forKey: .finiteULPCount)
        try c.encode(rowLength, forKey: .rowLength)
    }
}

extension FailureKind: Codable {
    /// Every kind, for decoding by description.
    static let all: [FailureKind] =
        [.boundExceeded, .textbookExceeded] + SpecialValueVerdict.allCases.map { .specialValue($0) }
        + Property.allCases.map { .property($0) }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let kind = Self.all.first(where: { $0.description == text }) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "unknown check '\(text)'"))
        }
        self = kind
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
