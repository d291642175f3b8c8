// The options that choose what an audit runs (shared by `run`, `baseline` and `external`).
import ArgumentParser
import Audit
import Foundation
import Kernels
import Reference

struct AuditOptions: ParsableArguments {
    @Option(help: "The seed of the case generators (the same seed gives the same reports).")
    var seed: UInt64 = AuditConfiguration.defaultSeed

    @Option(help: "Worker threads (default: every core). Results do not depend on it.")
    var jobs: Int = Limits.defaultJobs

    @Option(help: "Cases per input class (default 1000; 12 with --quick).")
    var cases: Int?

    @Option(
        name: .customLong("max-length"),
        help: "The longest row generated, 1 to 1000000 (default 16384; 512 with --quick).")
    var maxLength: Int?

    @Option(help: "Comma-separated kernels to audit (default: all; see `softmax-audit list`).")
    var kernels: NameList<KernelName>?

    @Option(help: "Comma-separated input classes (default: all; see `softmax-audit list --classes`).")
    var classes: NameList<ClassName>?

    @Flag(help: "The CI preset: 12 cases per class, rows up to 512 logits.")
    var quick = false

    @Flag(
        help: """
            The precision audit: the kernels in float, float16 and bfloat16 (`softmax-audit list --formats`) \
            over the precision classes (`list --classes --formats`), 100 cases per class, rows up to 8192 \
            logits; reports under Reports/precision unless --output says otherwise.
            """)
    var precision = false

    @Option(
        name: .customLong("reference-path"),
        help: """
            auto: the reference's double-word fast path first, MPFR when it does not certify (default); \
            mpfr: MPFR only (the same results, slower).
            """)
    var referencePath: FastPathMode = .auto

    /// The cases per class and longest row of the precision audit.
    static let precisionCases = 100
    static let precisionMaxLength = 8192

    func validate() throws {
        try Limits.checkJobs(jobs)
        if let cases, !Limits.cases.contains(cases) {
            throw ValidationError("--cases must be between 1 and \(Limits.cases.upperBound) (got \(cases)).")
        }
        if let maxLength, !Limits.rowLength.contains(maxLength) {
            throw ValidationError("--max-length must be between 1 and 1000000 (got \(maxLength)).")
        }
        _ = try selectedKernels()
        _ = try selectedClasses()
    }

    /// The kernels of this audit: the binary64 ones, or with --precision the format kernels.
    func selectedKernels() throws -> [Kernel] {
        let all = precision ? Kernel.formatKernels : Kernel.all
        let listing =
            precision ? "softmax-audit list --formats" : "softmax-audit list (with --precision: list --formats)"
        // The planted flaws are audited only when named (the default run misses them by design).
        let planted = Kernel.planted.filter { ($0.precision.storage != .double) == precision }
        guard let names = kernels?.names else { return all }
        return try select(
            names, from: all + planted, name: \.name, option: "--kernels", what: precision ? "format kernel" : "kernel",
            listing: listing)
    }

    /// The input classes of this audit: the binary64 ones, or with --precision the precision classes.
    func selectedClasses() throws -> [InputClass] {
        let all = precision ? InputClass.precision : InputClass.all
        let listing = precision ? "softmax-audit list --classes --formats" : "softmax-audit list --classes"
        return try select(
            classes?.names, from: all, name: \.name, option: "--classes",
            what: precision ? "precision class" : "input class", listing: listing)
    }

    /// The items named, or all of them when the option is absent.
    private func select<T>(
        _ names: [String]?, from all: [T], name: (T) -> String, option: String, what: String,
        listing: String
    ) throws -> [T] {
        guard let names else { return all }
        if let repeated = names.enumerated().first(where: { names[..<$0.offset].contains($0.element) })?.element {
            throw ValidationError("\(option): '\(repeated)' is named twice; name each \(what) once.")
        }
        return try names.map { wanted in
            guard let item = all.first(where: { name($0) == wanted }) else {
                throw ValidationError(
                    "\(option): '\(wanted)' is not a \(what) of this audit; `\(listing)` prints them.")
            }
            return item
        }
    }

    /// The arguments that reproduce this configuration (after the subcommand's name).
    var reproduction: String {
        var parts: [String] = []
        if precision { parts.append("--precision") }
        if quick { parts.append("--quick") }
        if seed != AuditConfiguration.defaultSeed { parts.append("--seed \(seed)") }
        if let cases { parts.append("--cases \(cases)") }
        if let maxLength { parts.append("--max-length \(maxLength)") }
        if let kernels { parts.append("--kernels \(kernels.text)") }
        if let classes { parts.append("--classes \(classes.text)") }
        if referencePath != .auto { parts.append("--reference-path \(referencePath.rawValue)") }
        return parts.joined(separator: " ")
    }

    /// Runs the audit, with a progress bar on a terminal.
    func runAudit() throws -> AuditResult { AuditEngine.run(try configuration()) }

    /// The engine's configuration for these options (with a progress bar on a terminal).
    func configuration() throws -> AuditConfiguration {
        var configuration = quick ? AuditConfiguration.quick : AuditConfiguration()
        if precision && !quick {
            configuration.casesPerClass = Self.precisionCases
            configuration.maxLength = Self.precisionMaxLength
        }
        configuration.seed = seed
        configuration.jobs = jobs
        if let cases { configuration.casesPerClass = cases }
        if let maxLength { configuration.maxLength = maxLength }
        configuration.kernels = try selectedKernels()
        configuration.classes = try selectedClasses()
        configuration.referencePath = referencePath
        let bar = ProgressBar()
        if bar.isActive {
            configuration.progress = { @Sendable done, total in
                bar.update(done, total)
                if done == total { bar.finish() }
            }
        }
        return configuration
    }
}
