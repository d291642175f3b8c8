import Audit
import Kernels
import MyKernels
import Testing

@Test func mySoftmaxPassesTheAudit() {
    var kernel = Kernel(name: "my-softmax", summary: "exp(x - max) / sum", expectation: .accurate)
    kernel.implement(.softmax, .perLogit(MyKernels.softmax))
    let (_, gate) = AuditEngine.gate(kernel)
    #expect(gate.passed, "\(gate.failures.joined(separator: "\n"))")
}

@Test func theUnshiftedSoftmaxIsCaughtWithAShrunkRow() {
    var kernel = Kernel(name: "my-unshifted-softmax", summary: "exp(x) / sum", expectation: .accurate)
    kernel.implement(.softmax, .perLogit(MyKernels.unshiftedSoftmax))
    let (result, gate) = AuditEngine.gate(kernel)
    #expect(!gate.passed)
    #expect(gate.failures.contains { $0.contains("NaN where the result is a number") && $0.contains("minimal row:") })
    #expect(result.shrunk.contains { $0.minimal.row.count == 1 })
}
