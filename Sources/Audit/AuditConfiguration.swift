// What an audit runs: the seed, the cases per class, the longest row, the kernels, the classes, the
// threads and the reference's path.
import Foundation
import Kernels
import Reference

public struct AuditConfiguration: Sendable {
    public static let defaultSeed: UInt64 = 20_261_129
    public var seed: UInt64 = defaultSeed
    public var casesPerClass = 1000
    public var maxLength = 16384
    public var jobs = ProcessInfo.processInfo.activeProcessorCount
    public var kernels: [Kernel] = Kernel.all
    public var classes: [InputClass] = InputClass.all
    /// Candidate evaluations allowed per shrunk failure.
    public var shrinkBudget = 200
    /// The reference's path: the double-word fast path first (`.auto`) or MPFR only. Both give the same
    /// verdicts; only the header's fast-path figures and the run time differ.
    public var referencePath: FastPathMode = .auto
    /// Called with (done, total) as cases finish (from worker threads).
    public var progress: (@Sendable (Int, Int) -> Void)? = nil

    public init() {}

    /// The CI preset: fewer cases, shorter rows.
    public static var quick: AuditConfiguration {
        var c = AuditConfiguration()
        c.casesPerClass = 12
        c.maxLength = 512
        c.shrinkBudget = 120
        return c
    }
}
