// Auditing your own Swift kernel from your own tests: wrap it in a `Kernel` (a name, a line of
// description, an expectation, and closures for the functions it implements) and gate it.
//
//     import Audit
//     import Kernels
//
//     @Test func mySoftmaxIsAccurate() {
//         var kernel = Kernel(name: "my-softmax", summary: "my softmax", expectation: .accurate)
//         kernel.implement(.softmax, .perLogit(mySoftmax))
//         let (_, gate) = AuditEngine.gate(kernel)
//         #expect(gate.passed, "\(gate.failures.joined(separator: "\n"))")
//     }
//
// The kernel is judged like a built-in one: against the certified reference, the standard stable
// algorithm's bound for each function it implements, the special-value rule on finite rows, and the
// reference-free properties; every failure comes with its shrunk row.
import Kernels

extension AuditEngine {
    /// Audits one kernel (by default in the quick configuration, about a second) and applies the gate.
    /// - Parameters:
    ///   - kernel: your kernel; `expectation: .accurate` means "must pass", `.flawed` "must be caught".
    ///   - configuration: cases, lengths, classes and seed (its `kernels` are replaced by `kernel`).
    ///   - failOn: the verdicts that fail (the baseline does not apply to a kernel of your own).
    public static func gate(
        _ kernel: Kernel, configuration: AuditConfiguration = .quick,
        failOn: Set<GateCheck> = [.bound, .property, .special]
    ) -> (AuditResult, GateOutcome) {
        var c = configuration
        c.kernels = [kernel]
        let result = run(c)
        return (result, result.gate(failOn: failOn, baseline: nil))
    }
}
