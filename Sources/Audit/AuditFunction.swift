// The functions the audit measures, and how each is asked of a kernel and of the reference.
import Kernels
import Reference

/// A function of a case: a single-row function, a batch function, or the backward pass.
public enum AuditFunction: String, CaseIterable, Sendable, Codable, Comparable {
    case softmax
    case logSoftmax = "log-softmax"
    case logSumExp = "logsumexp"
    case crossEntropy = "cross-entropy"
    case crossEntropyGradient = "cross-entropy-gradient"
    case batchCrossEntropy = "batch-cross-entropy"
    case batchCrossEntropyGradient = "batch-cross-entropy-gradient"
    case jacobian
    case vectorJacobianProduct = "vector-jacobian-product"

    public static func < (a: Self, b: Self) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }

    /// Rows longer than this skip the Jacobian (n² outputs).
    public static let jacobianMaxLength = 64

    public var isBatch: Bool { self == .batchCrossEntropy || self == .batchCrossEntropyGradient }

    /// Whether the function is measured on this case.
    public func applies(to c: AuditCase) -> Bool {
        if isBatch != c.isBatch { return false }
        if self == .jacobian { return c.row.count <= Self.jacobianMaxLength && c.isFinite }
        if self == .vectorJacobianProduct { return c.isFinite }
        return true
    }

    public func isImplemented(by k: Kernel) -> Bool { k.functionNames.contains(rawValue) }

    /// The vector the VJP is applied to: small integers fixed by position, so cases reproduce.
    public static func vjpVector(_ n: Int) -> [Double] { (0..<n).map { Double(($0 * 7) % 5) - 2 } }

    /// The kernel's output, flattened (nil when the kernel does not implement the function).
    public func output(of k: Kernel, on c: AuditCase) -> [Double]? {
        switch self {
        case .softmax: return k.softmax?(c.row)
        case .logSoftmax: return k.logSoftmax?(c.row)
        case .logSumExp: return k.logSumExp.map { [$0(c.row)] }
        case .crossEntropy: return k.crossEntropy.map { [$0(c.row, c.label)] }
        case .crossEntropyGradient: return k.crossEntropyGradient?(c.row, c.label)
        case .batchCrossEntropy: return k.batchCrossEntropy.map { [$0(c.rows, c.labels)] }
        case .batchCrossEntropyGradient: return k.batchCrossEntropyGradient?(c.rows, c.labels).flatMap { $0 }
        case .jacobian: return k.jacobian?(c.row).flatMap { $0 }
        case .vectorJacobianProduct: return k.vectorJacobianProduct?(c.row, Self.vjpVector(c.row.count))
        }
    }

    /// The certified reference, flattened the same way.
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
        }
    }
}

extension AuditFunction {
    /// The case as kernel k sees it (rounded to its storage format) and the reference for it, rounded
    /// to that format.
    public func expected(for k: Kernel, on c: AuditCase, reference r: SoftmaxReference) throws -> (AuditCase, [ReferenceValue]) {
        let format = k.precision.storage
        let cf = c.rounded(to: format)
        let saved = r.format
        r.format = format
        defer { r.format = saved }
        return (cf, try reference(r, on: cf))
    }
}

extension AuditCase {
    /// The case with every logit rounded to `format` (the inputs a kernel in that format takes).
    public func rounded(to format: BinaryFormat) -> AuditCase {
        format == .double ? self : AuditCase(rows: rows.map { $0.map(format.round) }, labels: labels)
    }
}
