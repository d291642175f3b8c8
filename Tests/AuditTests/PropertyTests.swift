// The properties fire on hand-made broken kernels and stay quiet on the accurate ones.
import Testing
@testable import Audit
@testable import Kernels
import Foundation

@Suite("Properties")
struct PropertyTests {
    func kernel(_ build: (inout Kernel) -> Void) -> Kernel {
        var k = Kernel(name: "planted", summary: "a planted bug", expectation: .accurate)
        build(&k)
        return k
    }

    func failures(_ k: Kernel, _ f: AuditFunction, _ c: AuditCase) -> Set<Property> {
        let out = k.output(f, on: c)!
        let bound = PropertyTolerances.standardSoftmax(c.row, .double)
        return Set(
            (Properties.failures(k, f, c, output: out, softmaxBound: bound)
                + Properties.metamorphicFailures(k, f, c, output: out, softmaxBound: bound)).map(\.property))
    }

    let row = AuditCase([0.5, -1.25, 3, 2, -0.75], label: 2)

    @Test("an unnormalized softmax breaks the sum")
    func unnormalized() {
        let k = kernel {
            $0.implement(
                .softmax,
                .perLogit { x in
                    let m = x.max()!; return x.map { exp($0 - m) }
                })
        }
        #expect(failures(k, .softmax, row).contains(.probabilityRange))
    }

    @Test("a softmax of the negated logits breaks the order")
    func reversedOrder() {
        let k = kernel { $0.implement(.softmax, .perLogit { x in Shifted.softmax(x.map { -$0 }) }) }
        #expect(failures(k, .softmax, row).contains(.orderPreservation))
    }

    @Test("a softmax that depends on the position breaks permutation equivariance")
    func positional() {
        let k = kernel {
            $0.implement(.softmax, .perLogit { x in Shifted.softmax(x.enumerated().map { $1 + Double($0) * 1e-6 }) })
        }
        #expect(failures(k, .softmax, row).contains(.permutationEquivariance))
    }

    @Test("a softmax of a warped row (x + x²/1000) breaks shift invariance")
    func shiftDependent() {
        let k = kernel { $0.implement(.softmax, .perLogit { x in Shifted.softmax(x.map { $0 + $0 * $0 / 1000 }) }) }
        #expect(failures(k, .softmax, row).contains(.shiftInvariance))
    }

    @Test("a uniform row must give 1/n")
    func uniform() {
        let k = kernel {
            $0.implement(.softmax, .perLogit { x in Array(repeating: 1 / Double(x.count + 1), count: x.count) })
        }
        #expect(failures(k, .softmax, AuditCase([2, 2, 2], label: 0)).contains(.uniformRow))
    }

    @Test("a negative loss, a loss that disagrees with log-softmax, a gradient without the −1")
    func losses() {
        let negative = kernel {
            $0.implement(.crossEntropy, .labeledScalar { x, t in -Shifted.crossEntropyLog1p(x, t) })
        }
        #expect(failures(negative, .crossEntropy, row).contains(.nonNegativeLoss))
        let mismatch = kernel {
            $0.implement(.crossEntropy, .labeledScalar { x, t in Shifted.crossEntropyLog1p(x, t) * (1 + 1e-9) })
            $0.implement(.logSoftmax, .perLogit(Shifted.logSoftmaxLog1p))
        }
        #expect(failures(mismatch, .logSoftmax, row).contains(.lossMatchesLogSoftmax))
        let noOne = kernel { $0.implement(.crossEntropyGradient, .labeledPerLogit { x, _ in Shifted.softmax(x) }) }
        #expect(failures(noOne, .crossEntropyGradient, row).contains(.gradientSumsToZero))
    }

    @Test("a VJP that disagrees with the Jacobian")
    func vjp() {
        let k = kernel {
            $0.implement(.jacobian, .perPair(Gradient.jacobian))
            $0.implement(
                .vectorJacobianProduct,
                .perLogitWithVector { x, v in Gradient.vectorJacobianProduct(x, v).map { $0 * 1.01 } })
        }
        #expect(failures(k, .vectorJacobianProduct, row).contains(.vjpMatchesJacobian))
    }

    @Test("the accurate kernels break no property on random and adversarial finite rows")
    func quietOnAccurate() {
        let classes = [
            "normal", "uniform", "offset-1e8", "dominant-40", "ties-all-equal", "maxima-one-ulp-apart", "odd-widths",
        ]
        for k in Kernel.all where k.expectation.isAccurate {
            for name in classes {
                for i in 0..<8 {
                    let c = InputClass.named(name)!.makeCase(seed: 1, index: i, maxLength: 256)
                    for f in k.functions where f.applies(to: c) && f != .softmax {
                        #expect(
                            failures(k, f, c).isEmpty, "\(k.name) \(f.rawValue) on \(name) #\(i): \(failures(k, f, c))")
                    }
                }
            }
        }
    }
}
