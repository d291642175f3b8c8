// How each function of the catalogue is asked of the certified reference, for a case as a kernel in
// some format sees it. (Audit's API speaks of kernels, functions and cases: importing Audit brings
// Kernels and the catalogue with it.)
@_exported import Kernels
import Reference

extension AuditFunction {
    /// The certified reference for this function on a case, flattened as kernels' outputs are.
    public func reference(_ r: SoftmaxReference, on c: AuditCase) throws -> [ReferenceValue] {
        switch self {
        case .softmax: return try r.softmax(c.row)
        case .logSoftmax: return try r.logSoftmax(c.row)
        case .logSumExp: return [try r.logSumExp(c.row)]
        case .crossEntropy: return [try r.crossEntropy(c.row, target: .label(c.label))]
        case .crossEntropyGradient: return try r.crossEntropyGradient(c.row, target: .label(c.label))
        case .batchCrossEntropy: return [try r.meanCrossEntropy(c.rows, targets: c.labels.map { .label($0) })]
        case .batchCrossEntropyGradient:
            return try r.batchCrossEntropyGradient(c.rows, targets: c.labels.map { .label($0) }).flatMap { $0 }
        case .jacobian: return try r.jacobian(c.row).flatMap { $0 }
        case .vectorJacobianProduct: return try r.vectorJacobianProduct(c.row, Self.vjpVector(c.row.count))
        case .sigmoid: return try r.sigmoid(c.row)
        case .logSigmoid: return try r.logSigmoid(c.row)
        case .softplus: return try r.softplus(c.row, beta: c.options.beta)
        case .sigmoidGradient: return try r.sigmoidGradient(c.row)
        case .logSigmoidGradient: return try r.logSigmoidGradient(c.row)
        case .softplusGradient: return try r.softplusGradient(c.row, beta: c.options.beta)
        case .klDivergence: return [try r.klDivergence(c.row, target: pair(c))]
        case .klDivergenceGradient: return try r.klDivergenceGradient(c.row, target: pair(c))
        case .binaryCrossEntropy:
            return try r.binaryCrossEntropy(c.row, targets: pair(c), posWeight: c.options.posWeight)
        case .binaryCrossEntropyGradient:
            return try r.binaryCrossEntropyGradient(c.row, targets: pair(c), posWeight: c.options.posWeight)
        case .weightedLogSumExp: return try r.weightedLogSumExp(c.row, weights: pair(c))
        case .crossEntropyLoss: return try r.crossEntropyLoss(Self.crossEntropyBatch(c))
        case .crossEntropyLossGradient: return try r.crossEntropyLossGradient(Self.crossEntropyBatch(c))
        case .scaledSoftmax: return try r.scaledSoftmax(c.row, Self.attentionOptions(c))
        case .scaledLogSumExp: return [try r.scaledLogSumExp(c.row, Self.attentionOptions(c))]
        case .attentionOutput: return [try r.attentionOutput(c.row, Self.attentionOptions(c))]
        case .attentionStates: return try r.attentionStates(c.row, Self.attentionOptions(c))
        }
    }

    /// The case as kernel k sees it (rounded to its storage format) and the reference for it, rounded
    /// to that format.
    public func expected(
        for k: Kernel, on c: AuditCase,
        reference r: SoftmaxReference
    ) throws -> (AuditCase, [ReferenceValue]) {
        let format = k.precision.storage
        let cf = c.rounded(to: format)
        let saved = r.format
        r.format = format
        defer { r.format = saved }
        return (cf, try reference(r, on: cf))
    }
}
