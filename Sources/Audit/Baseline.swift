// Baselines, as glibc's libm-test-ulps: a committed file records, per kernel × function × input class,
// the largest ULP error a configuration's run may show. A run above it is a regression (named, with
// by how much); below it an improvement. `softmax-audit baseline --update` rewrites the section of the
// run's configuration.
//
// The cap, per function, is the worst-case bound of the kernel's algorithm (ErrorBounds.swift): no
// baseline entry of a kernel declared accurate may record a case whose error exceeds that bound
// (max error / bound > 1), so nobody hides a regression past the bound by raising a number. (A cap in
// ulps cannot be per function: the division-free softmax reaches 1e16 ulps within its bound at an
// offset of 1e300, and the VJP's result can cancel to nothing while its absolute error stays tiny.)
import Foundation
import Kernels

public struct BaselineEntry: Codable, Equatable, Sendable {
    public let kernel: String
    public let function: String
    public let inputClass: String
    public let maxULPs: Double
    public let maxErrorOverBound: Double

    /// The cell this entry records (nil for a function this build does not have).
    var key: CellKey? {
        AuditFunction(rawValue: function).map { CellKey(kernel: kernel, function: $0, inputClass: inputClass) }
    }
}

/// The entries of one configuration (seed, case count, maximum length, kernels, classes).
public struct BaselineSection: Codable, Equatable, Sendable {
    public let command: String
    public let seed: UInt64
    public let casesPerClass: Int
    public let maxLength: Int
    public let kernels: [String]
    public let classes: [String]
    public var entries: [BaselineEntry]

    func matches(_ r: AuditResult) -> Bool {
        seed == r.seed && casesPerClass == r.casesPerClass && maxLength == r.maxLength
            && kernels == r.kernels.map(\.name) && classes == r.classes.map(\.name)
    }
}

public struct BaselineFile: Codable, Equatable, Sendable {
    public var schema = "softmax-audit/baseline/1"
    public var sections: [BaselineSection] = []

    public init() {}

    public static func load(_ path: String) throws -> BaselineFile {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let file = try JSONFiles.decoder().decode(BaselineFile.self, from: data)
        guard file.schema == "softmax-audit/baseline/1" else { throw BaselineError.schema(file.schema) }
        for section in file.sections {
            for e in section.entries where !(e.maxULPs >= 0) || !(e.maxErrorOverBound >= 0) {
                // NaN compares false with every threshold: it would disable the cell's check. (+inf is a real
                // record: a flawed kernel's infinite error, which no run can exceed.)
                throw BaselineError.badEntry(
                    "\(e.kernel) × \(e.function) × \(e.inputClass): maxULPs \(e.maxULPs), maxErrorOverBound "
                        + "\(e.maxErrorOverBound) (each must be a number >= 0)")
            }
        }
        return file
    }

    public func section(for r: AuditResult) -> BaselineSection? { sections.first { $0.matches(r) } }

    /// The file with r's section replaced (or added), sections kept in a stable order.
    public func updated(with r: AuditResult, command: String) -> BaselineFile {
        var out = self
        out.sections.removeAll { $0.matches(r) }
        out.sections.append(r.baselineSection(command: command))
        out.sections.sort { ($0.casesPerClass, $0.maxLength, $0.seed) < ($1.casesPerClass, $1.maxLength, $1.seed) }
        return out
    }

    public func encoded() throws -> String { try JSONFiles.text(self) }
}

public enum BaselineError: Error, CustomStringConvertible {
    case schema(String)
    case capExceeded([String])
    case badEntry(String)

    public var description: String {
        switch self {
        case .schema(let s): return "the baseline's schema is '\(s)', not softmax-audit/baseline/1"
        case .badEntry(let e): return "a baseline entry is not a number: \(e)"
        case .capExceeded(let cells):
            return "the cap forbids recording errors above the algorithm's bound for an accurate kernel: "
                + cells.joined(separator: "; ")
        }
    }
}

/// A run against a baseline section.
public struct BaselineComparison: Sendable {
    public struct Change: Sendable {
        public let cell: CellKey
        public let baseline: Double
        public let measured: Double

        public var description: String {
            let factor = baseline > 0 ? " (×\(shortNumber(measured / baseline)))" : ""
            return "\(cell): max ULP \(shortNumber(measured)), baseline \(shortNumber(baseline))\(factor)"
        }
    }

    public var regressions: [Change] = []
    public var improvements: [Change] = []
    /// Cells of the run that the baseline does not have.
    public var unrecorded: [String] = []
}

extension AuditResult {
    public func baselineSection(command: String) -> BaselineSection {
        BaselineSection(
            command: command, seed: seed, casesPerClass: casesPerClass, maxLength: maxLength,
            kernels: kernels.map(\.name),
            classes: classes.map(\.name),
            entries: cells.map {
                BaselineEntry(
                    kernel: $0.kernel, function: $0.function.rawValue, inputClass: $0.inputClass, maxULPs: $0.maxULPs,
                    maxErrorOverBound: $0.maxBoundRatio)
            })
    }

    /// Cells of accurate kernels whose error exceeds the bound: what the cap forbids a baseline to record.
    public var capViolations: [String] {
        let accurate = Set(kernels.filter(\.expectation.isAccurate).map(\.name))
        return cells.filter { accurate.contains($0.kernel) && $0.maxBoundRatio > 1 }.map {
            "\($0.key): error \(shortNumber($0.maxBoundRatio)) times the bound"
        }
    }

    /// Differences in ULP errors this small are the reference's resolution, not a change (2^-23 ulp).
    public static let referenceResolution = 0x1p-23

    public func compare(with section: BaselineSection) -> BaselineComparison {
        var entries: [CellKey: BaselineEntry] = [:]
        for e in section.entries {
            // An entry of a function this build does not have matches no cell.
            guard let key = e.key else { continue }
            entries[key] = e
        }
        var out = BaselineComparison()
        for cell in cells {
            guard let e = entries[cell.key] else {
                out.unrecorded.append(cell.key.description)
                continue
            }
            let change = BaselineComparison.Change(cell: cell.key, baseline: e.maxULPs, measured: cell.maxULPs)
            // The reference fixes each exact value's position to 2^-24 ulp, so two runs (or the fast path
            // and MPFR) may differ by up to 2^-23 ulp in a measured error: that much is the same error.
            if cell.maxULPs > e.maxULPs + Self.referenceResolution { out.regressions.append(change) }
            if cell.maxULPs < e.maxULPs - Self.referenceResolution { out.improvements.append(change) }
        }
        return out
    }
}
