// Properties that need no reference (issue 3). Each is checked on finite rows only, on the kernel's
// own outputs, with a tolerance derived from the standard algorithm's error bound (ErrorBounds.swift)
// — never tuned to make a kernel pass. `tolerance(n, w)` below is the shifted softmax's componentwise
// relative bound (n + 4 + 2w) u.
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
}

/// A property that failed, with what was observed.
public struct PropertyFailure: Sendable, Equatable {
    public let property: Property
    public let detail: String
}

enum Properties {
    static func spread(_ x: [Double]) -> Double { x.max()! - x.min()! }
    /// k · scale, 0 when the scale is 0 (so an infinite k does not make NaN).
    static func scaled(_ k: Double, _ scale: Double) -> Double { scale == 0 ? 0 : k * scale }

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
        for c in [1.0, 0.5, 1024, 0.25, 0x1p-10] where x.allSatisfy({
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

    /// The properties of function f that fail for kernel k on a finite single-row case. `tol` is the
    /// relative bound that judges the kernel's softmax (its own algorithm's when declared accurate).
    static func failures(_ k: Kernel, _ f: AuditFunction, _ c: AuditCase, output: [Double], softmaxBound tol: Double) -> [PropertyFailure] {
        guard !c.isBatch || f == .batchCrossEntropyGradient, c.isFinite else { return [] }
        var failures: [PropertyFailure] = []
        func fail(_ p: Property, _ detail: String) { failures.append(PropertyFailure(property: p, detail: detail)) }
        // The kernel's units: u of its storage for a correctly rounded value, its bounds' relative().
        let units = Units(k.precision.standard)
        func rel(_ k: Double) -> Double { units.relative(k) }
        let u = units.storage
        let x = c.row
        let n = Double(x.count)
        let floor = units.floor(n)

        switch f {
        case .softmax:
            if let i = output.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
                fail(.probabilityRange, "p[\(i)] = \(output[i])")
            } else {
                // Σ p̃ = Σ p (1 + δ_j) with |δ_j| <= tol, so |Σ p̃ − 1| <= tol; 2u for the checker's sum.
                let total = accurateSum(output)
                // (Plus n floors: each element may have an absolute error in the subnormal range.)
                let allowance = tol + 2 * u + n * floor
                if !((total - 1).magnitude <= allowance) { fail(.probabilityRange, "sum = \(total), tolerance \(allowance)") }
            }
            // Every step from x_j to p_j (x_j − a, exp, division by one S) is monotone, so no tolerance.
            let order = x.indices.sorted { x[$0] < x[$1] }
            for (i, j) in zip(order, order.dropFirst()) where x[j] > x[i] && output[j] < output[i] {
                fail(.orderPreservation, "x[\(j)] > x[\(i)] but p[\(j)] = \(output[j]) < p[\(i)] = \(output[i])")
                break
            }
            if Set(x).count == 1 {
                // 1/n is correctly rounded (u); the kernel is within tol of the same exact value.
                if let i = close(output, Array(repeating: 1 / n, count: x.count), relative: tol + u, floor: floor) {
                    fail(.uniformRow, "p[\(i)] = \(output[i]), 1/n = \(1 / n)")
                }
            }
        case .logSoftmax:
            let order = x.indices.sorted { x[$0] < x[$1] }
            for (i, j) in zip(order, order.dropFirst()) where x[j] > x[i] && output[j] < output[i] {
                fail(.orderPreservation, "x[\(j)] > x[\(i)] but log p[\(j)] = \(output[j]) < log p[\(i)] = \(output[i])")
                break
            }
            if Set(x).count == 1, let i = close(output, Array(repeating: -logN(x.count), count: x.count),
                                                 relative: rel(n + 8), floor: floor)
            {
                // log-softmax bound (n + 6 + 0)u for a spread of 0, and 2u for libm's log n.
                fail(.uniformRow, "log p[\(i)] = \(output[i]), -log n = \(-logN(x.count))")
            }
            if let t = k.crossEntropy?(x, c.label), close([t], [-output[c.label]], relative: 2 * rel(n + 6 + spread(x)), floor: floor) != nil {
                // Both are within (n + 6 + w)u of the same exact value.
                fail(.lossMatchesLogSoftmax, "CE = \(t), -log p_t = \(-output[c.label])")
            }
        case .crossEntropy:
            // A sum of two non-negative terms (or the log of a probability <= 1): no tolerance.
            if !(output[0] >= 0) { fail(.nonNegativeLoss, "CE = \(output[0])") }
            if Set(x).count == 1, close(output, [logN(x.count)], relative: rel(n + 8), floor: floor) != nil {
                fail(.uniformRow, "CE = \(output[0]), log n = \(logN(x.count))")
            }
        case .crossEntropyGradient, .batchCrossEntropyGradient:
            // Σ_j (p_j − onehot_j) = 0 exactly; each computed element is within the gradient bound of
            // its exact value, so |Σ g̃| <= (2n + 8 + 4w) u Σ|g̃| (with 2u for the checker's sum).
            let width = x.count
            for (b, row) in c.rows.enumerated() {
                let g = Array(output[(b * width)..<((b + 1) * width)])
                let total = accurateSum(g)
                let scale = accurateSum(g.map(\.magnitude))
                let tolerance = scaled(rel(2 * n + 10 + 4 * spread(row)), scale) + n * floor
                if !(total.magnitude <= tolerance) {
                    fail(.gradientSumsToZero, "row \(b): sum = \(total), tolerance \(tolerance)")
                    break
                }
            }
        case .vectorJacobianProduct:
            if let jacobian = k.jacobian, x.count <= AuditFunction.jacobianMaxLength {
                let v = AuditFunction.vjpVector(x.count)
                let j = jacobian(x)
                // (Jᵀv)_i = Σ_k J_ki v_k: each J within (2n + 10 + 4w)u relatively, each VJP element within
                // its absolute bound; compare with the sum of both allowances.
                let jtv = x.indices.map { i in accurateSum(x.indices.map { j[$0][i] * v[$0] }) }
                let scale = x.indices.map { i in accurateSum(x.indices.map { (j[$0][i] * v[$0]).magnitude }) }
                let m = v.map(\.magnitude).max() ?? 0
                for i in x.indices {
                    let allowance = scaled(rel(2 * n + 10 + 4 * spread(x)), scale[i]) + 2 * scaled(rel(2 * n + 4 + 2 * spread(x)), 2 * m) + floor
                    if (jtv[i] - output[i]).magnitude > allowance {
                        fail(.vjpMatchesJacobian, "element \(i): VJP \(output[i]), Jᵀv \(jtv[i])")
                        break
                    }
                }
            }
        default:
            break
        }
        return failures
    }

    /// Properties that compare the kernel with itself on a transformed case.
    static func metamorphicFailures(_ k: Kernel, _ f: AuditFunction, _ c: AuditCase, output: [Double], softmaxBound: Double) -> [PropertyFailure] {
        let units = Units(k.precision.standard)
        func rel(_ k: Double) -> Double { units.relative(k) }
        guard !c.isBatch, c.isFinite, [.softmax, .logSoftmax, .crossEntropy, .crossEntropyGradient].contains(f) else { return [] }
        var failures: [PropertyFailure] = []
        let x = c.row
        let n = Double(x.count)
        // Each side is within the function's bound of the same exact value: allow twice the bound.
        let tol: Double = switch f {
        case .softmax: 2 * softmaxBound
        case .logSoftmax, .crossEntropy: 2 * rel(n + 6 + spread(x))
        default: 2 * rel(2 * n + 8 + 4 * spread(x))
        }
        let floor = 2 * units.floor(n)
        if let shift = exactShift(x, in: k.precision.storage) {
            let shifted = AuditCase(x.map { $0 + shift }, label: c.label)
            if let other = f.output(of: k, on: shifted) {
                // log-softmax and CE are shift-invariant too; only logsumexp moves (not checked here).
                if let i = close(output, other, relative: tol, floor: floor) {
                    failures.append(PropertyFailure(property: .shiftInvariance,
                        detail: "shift by \(shift): element \(i) is \(output[i]) before and \(other[i]) after"))
                }
            }
        }
        let reversed = AuditCase(x.reversed(), label: x.count - 1 - c.label)
        if var other = f.output(of: k, on: reversed) {
            if f != .crossEntropy { other.reverse() }
            if let i = close(output, other, relative: tol, floor: floor) {
                failures.append(PropertyFailure(property: .permutationEquivariance,
                    detail: "element \(i) is \(output[i]) in order and \(other[i]) reversed"))
            }
        }
        return failures
    }

    static func logN(_ n: Int) -> Double { Double(n).logarithm }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Double {
    var logarithm: Double { log(self) }
}
