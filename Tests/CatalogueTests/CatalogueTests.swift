// The catalogue is consistent: every function has a standard bound of its own, every bound names a
// function, and every built-in kernel's functions have the shapes and bounds the catalogue gives.
import Testing
import Kernels

@Suite("Catalogue")
struct CatalogueTests {
    @Test("each function's standard bound is about that function", arguments: AuditFunction.allCases)
    func standardBound(_ f: AuditFunction) {
        let bound = BoundFormula.standard(for: f)
        #expect(
            bound.function == f, "\(f.rawValue): standard bound \(bound.rawValue) is about \(bound.function.rawValue)")
    }

    @Test("bound identifiers are distinct and read back", arguments: BoundFormula.allCases)
    func identifiers(_ b: BoundFormula) {
        #expect(BoundFormula(identifier: b.identifier) == b)
        #expect(BoundFormula.allCases.filter { $0.identifier == b.identifier }.count == 1)
    }

    @Test("shapes: the output count of a 3-logit row and of a batch of two 3-logit rows")
    func outputCounts() {
        let row = AuditCase([1, 2, 3], label: 0)
        let batch = AuditCase(rows: [[1, 2, 3], [4, 5, 6]], labels: [0, 1])
        let expected: [AuditFunction: Int] = [
            .softmax: 3, .logSoftmax: 3, .logSumExp: 1, .crossEntropy: 1, .crossEntropyGradient: 3,
            .batchCrossEntropy: 1, .batchCrossEntropyGradient: 6, .jacobian: 9, .vectorJacobianProduct: 3,
            .sigmoid: 3, .logSigmoid: 3, .softplus: 3, .sigmoidGradient: 3, .logSigmoidGradient: 3,
            .softplusGradient: 3, .klDivergence: 1, .klDivergenceGradient: 3, .binaryCrossEntropy: 3,
            .binaryCrossEntropyGradient: 3, .weightedLogSumExp: 2, .scaledSoftmax: 3, .scaledLogSumExp: 1,
            .attentionOutput: 1, .attentionStates: 14,  // two per block, 7 blocks derived for 3 keys
        ]
        // The loss takes both: rows of 3 derive the reduction none, one loss per row.
        #expect(AuditFunction.crossEntropyLoss.shape.outputCount(row) == 1)
        #expect(AuditFunction.crossEntropyLoss.shape.outputCount(batch) == 2)
        #expect(AuditFunction.crossEntropyLoss.applies(to: row) && AuditFunction.crossEntropyLoss.applies(to: batch))
        #expect(AuditFunction.crossEntropyLossGradient.shape.outputCount(row) == 3)
        #expect(AuditFunction.crossEntropyLossGradient.shape.outputCount(batch) == 6)
        let losses: Set<AuditFunction> = [.crossEntropyLoss, .crossEntropyLossGradient]
        for f in AuditFunction.allCases where !losses.contains(f) {
            let c = f.isBatch ? batch : row
            #expect(
                f.shape.outputCount(c) == expected[f],
                "\(f.rawValue): \(f.shape.outputCount(c)), expected \(expected[f]!)")
            #expect(f.applies(to: c), "\(f.rawValue) applies to its own kind of case")
            #expect(!f.applies(to: f.isBatch ? row : batch), "\(f.rawValue) does not apply to the other kind")
        }
    }

    @Test("the command line's functions are the row functions, in catalogue order")
    func rowFunctions() {
        let rowFunctions = AuditFunction.allCases.filter(\.shape.isRowFunction).map(\.rawValue)
        #expect(
            rowFunctions == [
                "softmax", "log-softmax", "logsumexp", "cross-entropy", "cross-entropy-gradient", "sigmoid",
                "log-sigmoid", "softplus", "sigmoid-gradient", "log-sigmoid-gradient", "softplus-gradient",
                "kl-divergence", "kl-divergence-gradient", "binary-cross-entropy", "binary-cross-entropy-gradient",
                "weighted-logsumexp", "scaled-softmax", "scaled-logsumexp", "attention-output", "attention-states",
            ])
    }

    @Test("every built-in kernel's output has the length the catalogue gives, and its bound is about the function")
    func kernels() {
        let row = AuditCase([0.5, -1, 2], label: 1)
        let batch = AuditCase(rows: [[0.5, -1, 2], [1, 1, 0]], labels: [1, 2])
        for k in Kernel.all + Kernel.formatKernels {
            #expect(!k.functions.isEmpty, "\(k.name) implements nothing")
            for f in k.functions {
                let c = f.isBatch ? batch : row
                let count = k.output(f, on: c)?.count
                #expect(count == f.shape.outputCount(c), "\(k.name) \(f.rawValue): \(String(describing: count)) values")
                #expect(k.bound(for: f)?.function == f, "\(k.name) \(f.rawValue) is judged by another function's bound")
            }
        }
    }

    @Test("kernels keep the bounds their algorithms declare; flawed kernels the standard one")
    func declaredBounds() {
        let declared: [String: BoundFormula] = [
            "softmax-division-free": .divisionFreeSoftmax, "softmax-online": .onlineSoftmax,
            "softmax-pairwise": .pairwiseSoftmax, "softmax-kahan": .compensatedSoftmax,
        ]
        // The online attention kernel declares the online bounds of its three functions, in every format.
        let online: [AuditFunction: BoundFormula] = [
            .scaledSoftmax: .onlineScaledSoftmax, .scaledLogSumExp: .onlineScaledLogSumExp,
            .attentionOutput: .onlineAttentionOutput,
        ]
        for k in Kernel.all + Kernel.formatKernels {
            for f in k.functions {
                var expected = f == .softmax ? declared[k.name] ?? .standard(for: f) : .standard(for: f)
                if k.algorithm == "attention-online" { expected = online[f]! }
                #expect(k.bound(for: f) == expected, "\(k.name) \(f.rawValue): \(k.bound(for: f)!.rawValue)")
            }
        }
    }
}
