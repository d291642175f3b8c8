// The typed values of the command line: every option with a fixed set of values is a type the parser
// checks, whose help lists the values and whose bad values it refuses with the list.
import ArgumentParser
import Foundation
import Audit
import Kernels
import Reference

extension AuditFunction: ExpressibleByArgument {}
extension FastPathMode: ExpressibleByArgument {}
extension GateCheck: ExpressibleByArgument {}

extension ReferenceFunction: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

extension BinaryFormat: ExpressibleByArgument {
    public init?(argument: String) {
        guard let format = BinaryFormat.named(argument) else { return nil }
        self = format
    }
    public static var allValueStrings: [String] { all.map(\.name) }
}

/// A name the parser checks against a fixed list.
protocol ListedName: Sendable {
    init?(name: String)
    var name: String { get }
    static var allNames: [String] { get }
}

/// A kernel of either audit (binary64, or the precision audit's formats), by name.
struct KernelName: ListedName, ExpressibleByArgument {
    let name: String
    static var allNames: [String] { (Kernel.all + Kernel.formatKernels + Kernel.planted).map(\.name) }
    init?(name: String) {
        guard Self.allNames.contains(name) else { return nil }
        self.name = name
    }
    init?(argument: String) { self.init(name: argument) }
    static var allValueStrings: [String] { allNames }
    var kernel: Kernel { Kernel.named(name)! }
}

/// An input class of either audit, by name.
struct ClassName: ListedName {
    let name: String
    static var allNames: [String] {
        var names = InputClass.all.map(\.name)
        for c in InputClass.precision where !names.contains(c.name) { names.append(c.name) }
        return names
    }
    init?(name: String) {
        guard Self.allNames.contains(name) else { return nil }
        self.name = name
    }
}

extension GateCheck: ListedName {
    init?(name: String) { self.init(rawValue: name) }
    var name: String { rawValue }
    static var allNames: [String] { allCases.map(\.rawValue) }
}

extension AuditFunction: ListedName {
    init?(name: String) { self.init(rawValue: name) }
    var name: String { rawValue }
    static var allNames: [String] { allCases.map(\.rawValue) }
}

extension ReferenceFunction: ListedName {
    init?(name: String) { self.init(rawValue: name) }
    var name: String { rawValue }
    static var allNames: [String] { allCases.map(\.rawValue) }
}

/// A comma-separated list of names (`--kernels softmax-shifted,seed-softmax`), each one checked.
struct NameList<Item: ListedName>: ExpressibleByArgument, Sendable {
    let items: [Item]
    /// The list as given, for the command that reproduces a run.
    let text: String

    init?(argument: String) {
        var items: [Item] = []
        for part in argument.split(separator: ",", omittingEmptySubsequences: false) {
            guard let item = Item(name: String(part)) else { return nil }
            items.append(item)
        }
        self.items = items
        text = argument
    }

    init(_ items: [Item]) {
        self.items = items
        text = items.map(\.name).joined(separator: ",")
    }

    var names: [String] { items.map(\.name) }
    var defaultValueDescription: String { text }
    static var allValueStrings: [String] { Item.allNames }
}

/// The ranges of the numeric options (the README's table of limits gives them).
enum Limits {
    /// Worker threads: beyond a few per core they only cost memory and scheduling.
    static let jobs = 1...256
    /// Every core, within the range.
    static var defaultJobs: Int { min(ProcessInfo.processInfo.activeProcessorCount, jobs.upperBound) }
    /// Cases per input class: a million per class keeps the largest run within memory (cases are kept for
    /// the worst-case and shrinking passes).
    static let cases = 1...1_000_000
    /// The longest row a run or a hunt makes (--max-length, --hunt-max-length).
    static let rowLength = 1...1_000_000
    /// Shards of a run or a sweep.
    static let shards = 1...10_000
    /// Characters of `external --name`, which names the report's files (external-NAME.json: within the
    /// file system's 255 bytes).
    static let nameLength = 200
    /// Seconds an external worker may take per request: a day at most, so that a silent worker ends.
    static let timeout = 0.001...86_400.0

    /// The check of a --name that names a report's files.
    static func checkName(_ name: String) throws {
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }),
            (1...nameLength).contains(name.count)
        else {
            throw ValidationError(
                "--name must be 1 to \(nameLength) ASCII letters, digits, - and _ (got "
                    + "'\(RowSyntax.visible(name))'): it names the report's files.")
        }
    }

    /// The check every command applies to --jobs.
    static func checkJobs(_ jobs: Int) throws {
        guard Limits.jobs.contains(jobs) else {
            throw ValidationError("--jobs must be between 1 and \(Limits.jobs.upperBound) (got \(jobs)).")
        }
    }
}

/// `--shard K/N`: the cases whose index is K − 1 modulo N (N at most `Limits.shards`).
struct Shard: ExpressibleByArgument, Sendable {
    let index: Int
    let count: Int

    init?(argument: String) {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 2, let k = parts[0], let n = parts[1], Limits.shards.contains(n), (1...n).contains(k)
        else { return nil }
        index = k
        count = n
    }

    var defaultValueDescription: String { "\(index)/\(count)" }
}

/// A bound `external --bound` may choose: one of a row function's.
struct BoundChoice: ExpressibleByArgument, Sendable {
    let formula: BoundFormula

    static let choices = BoundFormula.allCases.filter { ReferenceFunction($0.function) != nil }

    init?(argument: String) {
        guard let formula = BoundFormula(identifier: argument), Self.choices.contains(formula) else { return nil }
        self.formula = formula
    }

    static var allValueStrings: [String] { choices.map(\.identifier) }
}
