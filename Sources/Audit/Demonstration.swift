// The default job until the full audit exists: every kernel over a fixed set of rows from the
// adversarial catalogue (DESIGN §6), measured against the certified reference.
import Kernels
import Reference

/// A named input of the demonstration: one row with a label, or a batch.
public struct DemonstrationInput: Sendable {
    public let name: String
    public let rows: [[Double]]
    public let labels: [Int]

    public var isBatch: Bool { rows.count > 1 }

    /// The fixed catalogue, in report order.
    public static let catalogue: [DemonstrationInput] = {
        func row(_ name: String, _ x: [Double], label: Int) -> DemonstrationInput {
            DemonstrationInput(name: name, rows: [x], labels: [label])
        }
        let long = (0..<4096).map { i in Double((i * 7919) % 2001 - 1000) / 64 }
        return [
            row("moderate", [1, 2, 3, 4], label: 3),
            row("offset 1e8", [1e8, 1e8 + 1, 1e8 + 2], label: 0),
            row("offset 1e300", [1e300, 1e300.nextUp, 1e300.nextUp.nextUp], label: 0),
            row("near exp overflow", [709, 710, 700], label: 1),
            row("below exp underflow", [-800, -801, -802], label: 0),
            row("spread 2e308", [1e308, -1e308], label: 1),
            row("dominant, lead 40", [0, -40, -40], label: 0),
            row("dominant, lead 745", [0, -745.2], label: 0),
            row("ties", [3, 3, 3, 3], label: 2),
            row("subnormal logits", [5e-324, -5e-324, 0], label: 0),
            row("long row (4096)", long, label: 7),
            DemonstrationInput(name: "batch of 2", rows: [[1, 2, 3], [10, 0, 0]], labels: [2, 0]),
        ]
    }()
}

/// One kernel × function × input measurement.
public struct DemonstrationResult: Sendable {
    public let kernel: String
    public let function: String
    public let input: String
    /// The largest ULP error over elements without a special-value verdict.
    public let maxULPs: Double
    public let elements: Int
    public let correctlyRounded: Int
    public let specialValues: [SpecialValueVerdict]
}

public enum Demonstration {
    /// Runs every kernel's functions over the catalogue. Deterministic: no randomness, one thread.
    public static func run(kernels: [Kernel] = Kernel.all, reference: SoftmaxReference = SoftmaxReference()) throws
        -> [DemonstrationResult]
    {
        var results: [DemonstrationResult] = []
        for kernel in kernels {
            for input in DemonstrationInput.catalogue {
                for (function, pair) in try evaluate(kernel, input, reference) {
                    let error = VectorError(computed: pair.0, reference: pair.1)
                    results.append(
                        DemonstrationResult(
                            kernel: kernel.name, function: function, input: input.name, maxULPs: error.maxULPs,
                            elements: error.elements.count,
                            correctlyRounded: error.elements.filter(\.isCorrectlyRounded).count,
                            specialValues: error.specials))
                }
            }
        }
        return results
    }

    /// (function name, (computed, reference)) for each function the kernel implements that fits the input.
    private static func evaluate(_ k: Kernel, _ input: DemonstrationInput, _ r: SoftmaxReference) throws
        -> [(String, ([Double], [ReferenceValue]))]
    {
        var out: [(String, ([Double], [ReferenceValue]))] = []
        if input.isBatch {
            let targets = input.labels.map { CrossEntropyTarget.label($0) }
            if let f = k.batchCrossEntropy {
                out.append(("batch-cross-entropy", ([f(input.rows, input.labels)], [try r.meanCrossEntropy(input.rows, targets: targets)])))
            }
            if let f = k.batchCrossEntropyGradient {
                out.append(("batch-cross-entropy-gradient", (f(input.rows, input.labels).flatMap { $0 },
                    try r.batchCrossEntropyGradient(input.rows, targets: targets).flatMap { $0 })))
            }
            return out
        }
        let x = input.rows[0]
        let t = input.labels[0]
        if let f = k.softmax { out.append(("softmax", (f(x), try r.softmax(x)))) }
        if let f = k.logSoftmax { out.append(("log-softmax", (f(x), try r.logSoftmax(x)))) }
        if let f = k.logSumExp { out.append(("logsumexp", ([f(x)], [try r.logSumExp(x)]))) }
        if let f = k.crossEntropy { out.append(("cross-entropy", ([f(x, t)], [try r.crossEntropy(x, target: .label(t))]))) }
        if let f = k.crossEntropyGradient {
            out.append(("cross-entropy-gradient", (f(x, t), try r.crossEntropyGradient(x, target: .label(t)))))
        }
        if x.count <= 64 {
            if let f = k.jacobian { out.append(("jacobian", (f(x).flatMap { $0 }, try r.jacobian(x).flatMap { $0 }))) }
            if let f = k.vectorJacobianProduct {
                let v = x.indices.map { Double($0 % 3) - 1 }
                out.append(("vector-jacobian-product", (f(x, v), try r.vectorJacobianProduct(x, v))))
            }
        }
        return out
    }
}
