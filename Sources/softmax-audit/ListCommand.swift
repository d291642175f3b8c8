// `softmax-audit list [--classes]`: the kernels, or the input classes.
import ArgumentParser
import Audit
import Kernels

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Print the kernels under test (or, with --classes, the input classes).")

    @Flag(help: "List the input classes, with the failure each adversarial class comes from.")
    var classes = false

    func run() throws {
        if classes {
            for c in InputClass.all {
                print(c.name + (c.isAdversarial ? "  (adversarial)" : "  (random)"))
                print("    \(c.summary)")
                if let source = c.source { print("    from: \(source)") }
            }
            return
        }
        for kernel in Kernel.all {
            print(kernel.name)
            print("    \(kernel.summary)")
            print("    functions: \(kernel.functionNames.joined(separator: ", "))")
            switch kernel.expectation {
            case .accurate: print("    expectation: accurate")
            case .flawed(let flaw): print("    expectation: flawed — \(flaw)")
            }
        }
    }
}
