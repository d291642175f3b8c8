// `softmax-audit list [--classes | --functions | --planted] [--formats]`: the kernels, the input classes (of the
// binary64 audit, or with --formats of the precision audit), or the catalogue's functions.
import ArgumentParser
import Audit
import Kernels

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Print the kernels under test, the input classes (--classes) or the functions (--functions).")

    @Flag(help: "List the input classes, with the failure each adversarial class comes from.")
    var classes = false

    @Flag(help: "List the functions of the catalogue: formula, standard bound, and the commands that take them.")
    var functions = false

    @Flag(help: "The precision audit's kernels (float, float16, bfloat16) or, with --classes, its classes.")
    var formats = false

    @Flag(help: "The kernels with narrow planted flaws, for `softmax-audit hunt --planted`.")
    var planted = false

    func validate() throws {
        if functions && (classes || formats || planted) {
            throw ValidationError("--functions lists the catalogue alone; give it without --classes and --formats.")
        }
        if planted && (classes || formats) {
            throw ValidationError("--planted lists the planted kernels alone; give it without --classes and --formats.")
        }
    }

    func run() throws {
        if functions {
            for f in AuditFunction.allCases {
                let bound = BoundFormula.standard(for: f)
                print(f.rawValue)
                print("    \(f.formula)")
                print("    standard bound: \(bound.rawValue) (\(bound.identifier))")
                if ReferenceFunction(f) != nil { print("    taken by `reference` and the process protocol") }
            }
            return
        }
        if classes {
            for c in formats ? InputClass.precision : InputClass.all {
                print(c.name + (c.isAdversarial ? "  (adversarial)" : "  (random)"))
                print("    \(c.summary)")
                if let source = c.source { print("    from: \(source)") }
            }
            return
        }
        for kernel in planted ? Kernel.planted : formats ? Kernel.formatKernels : Kernel.all {
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
