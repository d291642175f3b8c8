// A hunt in shards: shard K of N hunts the kernel × function targets whose index is K − 1 modulo N and writes
// them whole (`hunt --shard K/N`); `hunt --merge` joins the shards' targets in index order into the result an
// unsharded hunt gives, so that the report has the same bytes. Targets are independent searches, so nothing
// but their order is lost by splitting them.
import Foundation
import Formats
import Kernels

public struct HuntShardFile: Codable, Sendable {
    public static let schema = "softmax-audit/hunt-shard/1"
    public var schema = Self.schema
    /// The hunt's command without --shard: every shard of one hunt has the same.
    public let command: String
    public let title: String
    public let shard: Int
    public let of: Int
    public let seed: UInt64
    public let evaluations, islands, maxLength: Int
    public let seconds: Double?
    /// Every kernel of the hunt, in order, with its expectation (nil: accurate).
    public let kernels: [KernelEntry]
    /// (index among all targets, the target) for this shard's targets.
    public let targets: [Entry]

    public struct KernelEntry: Codable, Sendable {
        public let name: String
        public let flaw: String?
    }

    public struct Entry: Codable, Sendable {
        public let index: Int
        public let target: HuntTarget
    }

    public init(command: String, title: String, shard: Int, of count: Int, result: HuntResult) {
        self.command = command
        self.title = title
        self.shard = shard
        self.of = count
        let c = result.configuration
        seed = c.seed
        evaluations = c.evaluations
        islands = c.islands
        maxLength = c.maxLength
        seconds = c.seconds
        kernels = result.kernels.map {
            if case .flawed(let flaw) = $0.expectation { return KernelEntry(name: $0.name, flaw: flaw) }
            return KernelEntry(name: $0.name, flaw: nil)
        }
        targets = zip(result.indices, result.targets).map { Entry(index: $0, target: $1) }
    }

    /// The targets of every shard, joined into one result; the kernels carry their names and expectations.
    public static func merge(_ files: [HuntShardFile]) throws(HuntShardError) -> HuntResult {
        guard let first = files.first else { throw HuntShardError("no shard files given") }
        for f in files where f.command != first.command || f.of != first.of {
            throw HuntShardError("shard \(f.shard) of \(f.of) is of another hunt (`\(f.command)`)")
        }
        let shards = Set(files.map(\.shard))
        guard shards.count == files.count else { throw HuntShardError("a shard is given twice") }
        let missing = (1...first.of).filter { !shards.contains($0) }
        guard missing.isEmpty else {
            throw HuntShardError(
                "shards \(missing.map(String.init).joined(separator: ", ")) of \(first.of) are missing")
        }
        var c = HuntConfiguration()
        c.seed = first.seed
        c.evaluations = first.evaluations
        c.islands = first.islands
        c.maxLength = first.maxLength
        c.seconds = first.seconds
        let kernels = first.kernels.map {
            Kernel(name: $0.name, summary: "", expectation: $0.flaw.map { .flawed($0) } ?? .accurate)
        }
        let entries = files.flatMap(\.targets).sorted { $0.index < $1.index }
        var result = HuntResult(configuration: c, kernels: kernels, targets: entries.map(\.target), seconds: 0)
        result.indices = entries.map(\.index)
        return result
    }
}

public struct HuntShardError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Coding the targets

extension HuntTarget: Codable {
    enum CodingKeys: String, CodingKey {
        case kernel, function, bound, flaw, evaluations, skipped, worst, worstULPs, worstFailure, firstFailure
        case growth, moves, shrunk, shrunkDetail, ranges
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let flaw = try c.decodeIfPresent(String.self, forKey: .flaw)
        self.init(
            kernel: try c.decode(String.self, forKey: .kernel),
            function: try c.decode(AuditFunction.self, forKey: .function),
            bound: try c.decode(BoundFormula.self, forKey: .bound), expectation: flaw.map { .flawed($0) } ?? .accurate)
        evaluations = try c.decode(Int.self, forKey: .evaluations)
        skipped = try c.decode(Int.self, forKey: .skipped)
        worst = try c.decodeIfPresent(HuntSample.self, forKey: .worst)
        worstULPs = try c.decodeIfPresent(HuntSample.self, forKey: .worstULPs)
        worstFailure = try c.decodeIfPresent(HuntSample.self, forKey: .worstFailure)
        firstFailure = try c.decodeIfPresent(Int.self, forKey: .firstFailure)
        growth = try c.decode([Growth].self, forKey: .growth).map { ($0.evaluation, $0.ratio) }
        improvingMoves = try c.decode([Move].self, forKey: .moves).map { ($0.move, $0.count) }
        shrunk = try c.decodeIfPresent(CodedCase.self, forKey: .shrunk)?.value
        shrunkDetail = try c.decode(String.self, forKey: .shrunkDetail)
        ranges = try c.decode([FailingRange].self, forKey: .ranges)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kernel, forKey: .kernel)
        try c.encode(function, forKey: .function)
        try c.encode(bound, forKey: .bound)
        if case .flawed(let flaw) = expectation { try c.encode(flaw, forKey: .flaw) }
        try c.encode(evaluations, forKey: .evaluations)
        try c.encode(skipped, forKey: .skipped)
        try c.encodeIfPresent(worst, forKey: .worst)
        try c.encodeIfPresent(worstULPs, forKey: .worstULPs)
        try c.encodeIfPresent(worstFailure, forKey: .worstFailure)
        try c.encodeIfPresent(firstFailure, forKey: .firstFailure)
        try c.encode(growth.map { Growth(evaluation: $0.evaluation, ratio: $0.ratio) }, forKey: .growth)
        try c.encode(improvingMoves.map { Move(move: $0.0, count: $0.1) }, forKey: .moves)
        try c.encodeIfPresent(shrunk.map(CodedCase.init), forKey: .shrunk)
        try c.encode(shrunkDetail, forKey: .shrunkDetail)
        try c.encode(ranges, forKey: .ranges)
    }

    struct Growth: Codable {
        let evaluation: Int
        let ratio: Double
    }

    struct Move: Codable {
        let move: String
        let count: Int
    }
}

/// A hunt's case: its rows, labels and format (a hunt varies nothing else).
struct CodedCase: Codable {
    let rows: [[Double]]
    let labels: [Int]
    let format: String

    init(_ c: AuditCase) {
        rows = c.rows
        labels = c.labels
        format = c.format.name
    }

    var value: AuditCase {
        var c = AuditCase(rows: rows, labels: labels)
        c.format = BinaryFormat.named(format) ?? .double
        return c
    }
}

extension HuntSample: Codable {
    enum CodingKeys: String, CodingKey { case input, ratio, ulps, failure, element, evaluation, condition }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        input = try c.decode(CodedCase.self, forKey: .input).value
        ratio = try c.decode(Double.self, forKey: .ratio)
        ulps = try c.decode(Double.self, forKey: .ulps)
        failure = try c.decodeIfPresent(CaseFailure.self, forKey: .failure)
        element = try c.decodeIfPresent(Int.self, forKey: .element)
        evaluation = try c.decode(Int.self, forKey: .evaluation)
        condition = try c.decode(Double.self, forKey: .condition)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(CodedCase(input), forKey: .input)
        try c.encode(ratio, forKey: .ratio)
        try c.encode(ulps, forKey: .ulps)
        try c.encodeIfPresent(failure, forKey: .failure)
        try c.encodeIfPresent(element, forKey: .element)
        try c.encode(evaluation, forKey: .evaluation)
        try c.encode(condition, forKey: .condition)
    }
}

extension FailingRange: Codable {
    enum CodingKeys: String, CodingKey {
        case axis, low, high, text, lowOpen, highOpen, lowEdge, highEdge, evaluations, axisCount
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let axis = Axis(rawValue: try c.decode(String.self, forKey: .axis)) else {
            throw DecodingError.dataCorruptedError(forKey: .axis, in: c, debugDescription: "not an axis")
        }
        self.init(
            axis: axis, low: try c.decode(Double.self, forKey: .low), high: try c.decode(Double.self, forKey: .high),
            text: try c.decode(String.self, forKey: .text), lowOpen: try c.decode(Bool.self, forKey: .lowOpen),
            highOpen: try c.decode(Bool.self, forKey: .highOpen),
            lowEdge: try c.decodeIfPresent(CodedCase.self, forKey: .lowEdge)?.value,
            highEdge: try c.decodeIfPresent(CodedCase.self, forKey: .highEdge)?.value,
            evaluations: try c.decode(Int.self, forKey: .evaluations), parameter: nil)
        axisCount = try c.decode(Int64.self, forKey: .axisCount)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(axis.rawValue, forKey: .axis)
        try c.encode(low, forKey: .low)
        try c.encode(high, forKey: .high)
        try c.encode(text, forKey: .text)
        try c.encode(lowOpen, forKey: .lowOpen)
        try c.encode(highOpen, forKey: .highOpen)
        try c.encodeIfPresent(lowEdge.map(CodedCase.init), forKey: .lowEdge)
        try c.encodeIfPresent(highEdge.map(CodedCase.init), forKey: .highEdge)
        try c.encode(evaluations, forKey: .evaluations)
        try c.encode(axisCount, forKey: .axisCount)
    }
}
