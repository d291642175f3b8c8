// Properties that need no reference. Each is checked on finite rows only, on the kernel's own
// outputs, with a tolerance read from the bounds that judge the kernel (ErrorBounds.swift's table) —
// never tuned to make a kernel pass. PropertyTolerances.swift derives each tolerance from its bound.
import Formats
import Kernels

/// A reference-free property of a function.
public enum Property: String, CaseIterable, Sendable, Codable {
    case probabilityRange = "outputs in [0, 1] summing to 1"
    case shiftInvariance = "invariant under an exact shift of all logits"
    case permutationEquivariance = "equivariant under reversing the row"
    case orderPreservation = "x_i > x_j implies p_i >= p_j"
    case uniformRow = "a uniform row gives 1/n, -log n, log n"
    case nonNegativeLoss = "cross-entropy >= 0"
    case lossMatchesLogSoftmax = "cross-entropy = -log-softmax at the label"
    case gradientSumsToZero = "gradient rows sum to zero"
    case vjpMatchesJacobian = "VJP = Jᵀv"
    case range = "sigmoid and the log-sigmoid and softplus gradients in [0, 1]; sigma', softplus >= 0; log-sigmoid <= 0"
    case splitInvariance =
        "attention: the same result split into other blocks or reversed (the merge is associative and commutative)"
    case neutralElement = "attention: masked keys in blocks of their own change nothing (the empty state is neutral)"
    case maskRemoval = "attention: masking keys equals removing them"
}

/// A property that failed, with what was observed.
public struct PropertyFailure: Sendable, Equatable {
    public let property: Property
    public let detail: String
}

enum Properties {
    static func spread(_ x: [Double]) -> Double { x.max()! - x.min()! }

    /// Σ x with Neumaier's compensation (error about 2u|Σ x| + O(nu²) Σ|x|), so that the checker's own
    /// rounding is negligible beside the tolerances.
    static func accurateSum(_ x: [Double]) -> Double {
        var sum = 0.0, compensation = 0.0
        for v in x {
            let t = sum + v
            compensation += sum.magnitude >= v.magnitude ? (sum - t) + v : (v - t) + sum
            sum = t
        }
        return sum + compensation
    }

    /// A shift c such that x_j + c is exact for every j (and exactly undone), or nil.
    static func exactShift(_ x: [Double], in format: BinaryFormat = .double) -> Double? {
        for c in [1.0, 0.5, 1024, 0.25, 0x1p-10]
        where x.allSatisfy({
            let s = $0 + c
            return s.isFinite && s - c == $0 && s - $0 == c && format.represents(s)
        }) {
            return c
        }
        return nil
    }

    /// |a − b| <= tol · max(|a|, |b|) + floor, elementwise; NaN on either side fails unless both are NaN.
    static func close(_ a: [Double], _ b: [Double], relative tol: Double, floor: Double) -> Int? {
        for i in a.indices {
            if a[i].isNaN || b[i].isNaN {
                if a[i].isNaN && b[i].isNaN { continue }
                return i
            }
            if a[i] == b[i] { continue }
            if (a[i] - b[i]).magnitude > tol * max(a[i].magnitude, b[i].magnitude) + floor { return i }
        }
        return nil
    }

    /// The properties of function f that fail for kernel k on a finite case. `softmaxBound` is the
    /// relative bound that judges the kernel's softmax (its own algorithm's when declared accurate).
    static func failures(
        _ k: Kernel, _ f: AuditFunction, _ c: AuditCase, output: [Double],
        softmaxBound: Double, order: RowOrder = RowOrder()
    ) -> [PropertyFailure] {
        guard !c.isBatch || f == .batchCrossEntropyGradient, c.isFinite else { return [] }
        let tolerances = PropertyTolerances(k.precision.standard, c.row)
        switch f {
        case .softmax: return softmaxFailures(c.row, output, tolerances, softmaxBound: softmaxBound, order: order)
        case .logSoftmax: return logSoftmaxFailures(k, c, output, tolerances, order: order)
        case .crossEntropy: return crossEntropyFailures(c.row, output[0], tolerances)
        case .crossEntropyGradient, .batchCrossEntropyGradient: return gradientFailures(c, output, tolerances)
        case .vectorJacobianProduct: return vectorJacobianProductFailures(k, c.row, output, tolerances)
        case .sigmoid, .logSigmoid, .softplus, .sigmoidGradient, .logSigmoidGradient, .softplusGradient,
            .binaryCrossEntropy:
            return rangeFailures(f, output)
        case .logSumExp, .batchCrossEntropy, .jacobian, .klDivergence, .klDivergenceGradient,
            .binaryCrossEntropyGradient, .weightedLogSumExp, .crossEntropyLoss, .crossEntropyLossGradient,
            .scaledSoftmax, .scaledLogSumExp, .attentionOutput, .attentionStates:
            return []
        }
    }

    /// Every step from x_j to p_j (x_j − a, exp, division by one S; or a log-softmax's subtraction of
    /// one L) is monotone, so the order holds with no tolerance.
    private static func orderFailure(
        _ x: [Double], _ output: [Double], _ name: String, _ rowOrder: RowOrder
    ) -> PropertyFailure? {
        let order = rowOrder.of(x)
        for (i, j) in zip(order, order.dropFirst()) where x[j] > x[i] && output[j] < output[i] {
            let detail = "x[\(j)] > x[\(i)] but \(name)[\(j)] = \(output[j]) < \(name)[\(i)] = \(output[i])"
            return PropertyFailure(property: .orderPreservation, detail: detail)
        }
        return nil
    }

    private static func softmaxFailures(
        _ x: [Double], _ p: [Double], _ t: PropertyTolerances,
        softmaxBound: Double, order: RowOrder
    ) -> [PropertyFailure] {
        var failures: [PropertyFailure] = []
        if let i = p.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
            failures.append(PropertyFailure(property: .probabilityRange, detail: "p[\(i)] = \(p[i])"))
        } else {
            let total = accurateSum(p)
            let allowance = t.probabilitySum(softmaxBound: softmaxBound)
            if !((total - 1).magnitude <= allowance) {
                failures.append(
                    PropertyFailure(property: .probabilityRange, detail: "sum = \(total), tolerance \(allowance)"))
            }
        }
        if let failure = orderFailure(x, p, "p", order) { failures.append(failure) }
        if allEqual(x) {
            let n = Double(x.count)
            if let i = close(
                p, Array(repeating: 1 / n, count: x.count), relative: t.uniformProbability(softmaxBound: softmaxBound),
                floor: t.floor)
            {
                failures.append(PropertyFailure(property: .uniformRow, detail: "p[\(i)] = \(p[i]), 1/n = \(1 / n)"))
            }
        }
        return failures
    }

    private static func logSoftmaxFailures(
        _ k: Kernel, _ c: AuditCase, _ output: [Double],
        _ t: PropertyTolerances, order: RowOrder
    ) -> [PropertyFailure] {
        let x = c.row
        var failures: [PropertyFailure] = []
        if let failure = orderFailure(x, output, "log p", order) { failures.append(failure) }
        let logN = logarithm(Double(x.count))
        if allEqual(x),
            let i = close(
                output, Array(repeating: -logN, count: x.count), relative: t.uniformLogarithm,
                floor: t.floor)
        {
            failures.append(
                PropertyFailure(property: .uniformRow, detail: "log p[\(i)] = \(output[i]), -log n = \(-logN)"))
        }
        if let loss = k.output(.crossEntropy, on: c)?.first,
            close([loss], [-output[c.label]], relative: t.lossAgainstLogSoftmax, floor: t.floor) != nil
        {
            failures.append(
                PropertyFailure(
                    property: .lossMatchesLogSoftmax, detail: "CE = \(loss), -log p_t = \(-output[c.label])"))
        }
        return failures
    }

    private static func crossEntropyFailures(
        _ x: [Double], _ loss: Double, _ t: PropertyTolerances
    ) -> [PropertyFailure] {
        var failures: [PropertyFailure] = []
        // A sum of two non-negative terms (or the log of a probability <= 1): no tolerance.
        if !(loss >= 0) { failures.append(PropertyFailure(property: .nonNegativeLoss, detail: "CE = \(loss)")) }
        let logN = logarithm(Double(x.count))
        if allEqual(x), close([loss], [logN], relative: t.uniformLogarithm, floor: t.floor) != nil {
            failures.append(PropertyFailure(property: .uniformRow, detail: "CE = \(loss), log n = \(logN)"))
        }
        return failures
    }

    private static func gradientFailures(
        _ c: AuditCase, _ output: [Double], _ t: PropertyTolerances
    ) -> [PropertyFailure] {
        let width = c.row.count
        for (b, row) in c.rows.enumerated() {
            let g = Array(output[(b * width)..<((b + 1) * width)])
            let total = accurateSum(g)
            let tolerance = t.gradientSum(row, magnitudes: accurateSum(g.map(\.magnitude)))
            if !(total.magnitude <= tolerance) {
                return [
                    PropertyFailure(
                        property: .gradientSumsToZero, detail: "row \(b): sum = \(total), tolerance \(tolerance)")
                ]
            }
        }
        return []
    }

    private static func vectorJacobianProductFailures(
        _ k: Kernel, _ x: [Double], _ output: [Double],
        _ t: PropertyTolerances
    ) -> [PropertyFailure] {
        guard x.count <= AuditFunction.jacobianMaxLength, let j = k.output(.jacobian, row: x) else { return [] }
        let n = x.count
        let v = AuditFunction.vjpVector(n)
        // (Jᵀv)_i = Σ_k J_ki v_k, from the kernel's own row-major Jacobian.
        let terms = (0..<n).map { i in (0..<n).map { j[$0 * n + i] * v[$0] } }
        for i in 0..<n {
            let jtv = accurateSum(terms[i])
            let allowance = t.vectorJacobianProduct(jacobianTerms: accurateSum(terms[i].map(\.magnitude)), vector: v)
            if (jtv - output[i]).magnitude > allowance {
                return [
                    PropertyFailure(
                        property: .vjpMatchesJacobian, detail: "element \(i): VJP \(output[i]), Jᵀv \(jtv)")
                ]
            }
        }
        return []
    }

    /// The binary family's ranges, exact by construction (1/(1 + t) <= 1, −log1p(t) <= 0, log1p(t) >= 0):
    /// no tolerance.
    private static func rangeFailures(_ f: AuditFunction, _ output: [Double]) -> [PropertyFailure] {
        let inRange: (Double) -> Bool
        switch f {
        case .sigmoid, .logSigmoidGradient, .softplusGradient: inRange = { $0 >= 0 && $0 <= 1 }
        case .sigmoidGradient: inRange = { $0 >= 0 }  // (<= 1/4 holds only up to rounding at t = 1)
        case .logSigmoid: inRange = { $0 <= 0 }
        default: inRange = { $0 >= 0 }
        }
        guard let i = output.firstIndex(where: { !inRange($0) }) else { return [] }
        return [PropertyFailure(property: .range, detail: "\(f.rawValue)[\(i)] = \(output[i])")]
    }

    /// Every call the properties of kernel k's function f make on case c besides f on c itself, in the
    /// order they make them: the functions they compare f with, then f on the shifted and the reversed case.
    static func calls(_ k: Kernel, _ f: AuditFunction, _ c: AuditCase) -> [(AuditFunction, AuditCase)] {
        if f.shape.isAttention { return AttentionProperties.transformed(f, c).map { (f, $0.c) } }
        guard !c.isBatch || f == .batchCrossEntropyGradient, c.isFinite else { return [] }
        var calls: [(AuditFunction, AuditCase)] = []
        if f == .logSoftmax && !c.isBatch { calls.append((.crossEntropy, c)) }
        if f == .vectorJacobianProduct && !c.isBatch && c.row.count <= AuditFunction.jacobianMaxLength {
            calls.append((.jacobian, AuditCase(c.row, label: 0)))
        }
        let (shifted, reversed) = transformedCases(k, f, c)
        return calls + [shifted?.case, reversed].compactMap { $0.map { (f, $0) } }
    }

    /// The cases on which the metamorphic properties call f again (nil where a property does not apply): c
    /// shifted by an exact amount, and c reversed.
    static func transformedCases(
        _ k: Kernel, _ f: AuditFunction, _ c: AuditCase, softmaxBound: Double = 0
    ) -> (shifted: (by: Double, case: AuditCase)?, reversed: AuditCase?) {
        guard !c.isBatch, c.isFinite,
            PropertyTolerances(k.precision.standard, c.row).metamorphic(f, softmaxBound: softmaxBound) != nil
        else { return (nil, nil) }
        let x = c.row
        let shifted = exactShift(x, in: k.precision.storage).map { shift in
            (shift, AuditCase(x.map { $0 + shift }, label: c.label))
        }
        return (shifted, AuditCase(x.reversed(), label: x.count - 1 - c.label))
    }

    /// Properties that compare the kernel with itself on a transformed case.
    static func metamorphicFailures(
        _ k: Kernel, _ f: AuditFunction, _ c: AuditCase, output: [Double],
        softmaxBound: Double
    ) -> [PropertyFailure] {
        if f.shape.isAttention { return AttentionProperties.failures(k, f, c, output: output) }
        guard !c.isBatch, c.isFinite,
            let tol = PropertyTolerances(k.precision.standard, c.row)
                .metamorphic(f, softmaxBound: softmaxBound)
        else { return [] }
        var failures: [PropertyFailure] = []
        let x = c.row
        let floor = 2 * Units(k.precision.standard).floor(Double(x.count))
        let (shifted, reversed) = transformedCases(k, f, c, softmaxBound: softmaxBound)
        if let (shift, shiftedCase) = shifted, let other = k.output(f, on: shiftedCase) {
            // log-softmax and CE are shift-invariant too; only logsumexp moves (not checked here).
            if let i = close(output, other, relative: tol, floor: floor) {
                failures.append(
                    PropertyFailure(
                        property: .shiftInvariance,
                        detail: "shift by \(shift): element \(i) is \(output[i]) before and \(other[i]) after"))
            }
        }
        if let reversed, var other = k.output(f, on: reversed) {
            if !f.shape.isScalar { other.reverse() }
            if let i = close(output, other, relative: tol, floor: floor) {
                failures.append(
                    PropertyFailure(
                        property: .permutationEquivariance,
                        detail: "element \(i) is \(output[i]) in order and \(other[i]) reversed"))
            }
        }
        return failures
    }

    static func logarithm(_ x: Double) -> Double { x.logarithm }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Double {
    var logarithm: Double { log(self) }
}

/// The order of a row's logits (indices sorted by value, stably), sorted once for every kernel and function whose
/// order property checks the row, rather than once each.
final class RowOrder {
    private var row: [Double]? = nil
    private var order: [Int] = []

    func of(_ x: [Double]) -> [Int] {
        if row != x {
            row = x
            order = x.indices.sorted { x[$0] < x[$1] }
        }
        return order
    }
}

/// Whether a non-empty row holds a single value (as a set of its values would: −0 equals +0, and a NaN
/// equals nothing but itself when alone).
private func allEqual(_ x: [Double]) -> Bool {
    guard let first = x.first else { return false }
    return x.dropFirst().allSatisfy { $0 == first }
}
