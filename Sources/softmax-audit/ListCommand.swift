// `softmax-audit list [--classes] [--formats]`: the kernels, or the input classes (of the binary64
// audit, or with --formats of the precision audit).
import ArgumentParser
import Audit
import Kernels

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract:
            "Print the kernels under test (or, with --classes, the input classes); --formats: those of the precision "
            + "audit."
    )

    @Flag(help: "List the input classes, with the failure each adversarial class comes from.")
    var classes = false

    @Flag(help: "The precision audit's kernels (float, float16, bfloat16) or, with --classes, its classes.")
    var formats = false

    func run() throws {
        if classes {
            for c in formats ? InputClass.precision : InputClass.all {
                print(c.name + (c.isAdversarial ? "  (adversarial)" : "  (random)"))
                print("    \(c.summary)")
                if let source = c.source { print("    from: \(source)") }
            }
            return
        }
        for kernel in formats ? Kernel.formatKernels : Kernel.all {
            print(kernel.name)
            print("    \(kernel.summary)")
            if kernel.precision != .double {
                print("    storage: \(kernel.precision.storage), accumulator: \(kernel.precision.accumulator)")
            }
            print("    functions: \(kernel.functions.map(\.rawValue).joined(separator: ", "))")
            switch kernel.expectation {
            case .accurate: print("    expectation: accurate")
            case .flawed(let flaw): print("    expectation: flawed — \(flaw)")
            }
        }
    }
}
