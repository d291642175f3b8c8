// Each property's tolerance is at least what the bounds it comes from allow: a property compares two
// computed values, each within its bound of one exact value, so a tolerance below the sum of the two
// bounds could fail a kernel that meets them. Checked on rows of several lengths and spreads, with the
// bounds evaluated by ErrorBounds exactly as the audit evaluates them.
import Foundation
import Kernels
import Reference
import Testing

@testable import Audit

@Suite("Property tolerances against their bounds")
struct PropertyToleranceTests {
    let reference = SoftmaxReference()
    let units = Units.double
    let u = 0x1p-53

    /// Rows of lengths 1 to 64 and spreads from 0 to about 60, and a uniform row.
    static let rows: [[Double]] = {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) * 0x1p-53
        }
        var rows: [[Double]] = [[0.5, -1.25, 3, 2, -0.75], [2, 2, 2], [7]]
        for n in [2, 3, 7, 16, 64] {
            for scale in [0.01, 1, 10] { rows.append((0..<n).map { _ in (next() - 0.5) * 6 * scale }) }
        }
        return rows
    }()

    func bounds(_ f: BoundFormula, _ x: [Double], label: Int = 0) throws -> [ElementBound] {
        try ErrorBounds.bounds(f, case: AuditCase(x, label: label), reference: reference, units: units)
    }

    @Test("softmax: the sum, a uniform row, the metamorphic pair", arguments: rows)
    func softmax(_ x: [Double]) throws {
        let t = PropertyTolerances(.double, x)
        let b = try bounds(.shiftedSoftmax, x)
        let relative = b.map(\.relative).max()!
        let n = Double(x.count)
        // |Σ p̃ − 1| <= Σ (rel p_j + abs) = rel + n abs; 2u for the checker's own sum.
        #expect(
            t.probabilitySum(softmaxBound: relative) >= relative + n * b[0].absolute + 2 * u,
            "row \(x): sum tolerance \(t.probabilitySum(softmaxBound: relative)), bound \(relative)")
        #expect(t.uniformProbability(softmaxBound: relative) >= relative + u)
        #expect(t.metamorphic(.softmax, softmaxBound: relative)! >= 2 * relative)
        #expect(relative == PropertyTolerances.standardSoftmax(x, units), "the standard softmax bound is the table's")
    }

    @Test(
        "log-softmax and cross-entropy: uniform rows, the loss against −log p_t, the metamorphic pairs",
        arguments: rows)
    func logarithms(_ x: [Double]) throws {
        let t = PropertyTolerances(.double, x)
        let label = x.count - 1
        let logSoftmax = try bounds(.log1pLogSoftmax, x).map(\.relative).max()!
        let loss = try bounds(.log1pCrossEntropy, x, label: label)[0].relative
        #expect(t.lossAgainstLogSoftmax >= loss + logSoftmax, "row \(x)")
        #expect(t.metamorphic(.logSoftmax, softmaxBound: 0)! >= 2 * logSoftmax)
        #expect(t.metamorphic(.crossEntropy, softmaxBound: 0)! >= 2 * loss)
        // A uniform row of the same length: the bound at w = 0, and 2u for libm's log n.
        let uniform = [Double](repeating: 1.5, count: x.count)
        let atZeroSpread = try bounds(.log1pLogSoftmax, uniform)[0].relative
        #expect(PropertyTolerances(.double, uniform).uniformLogarithm >= atZeroSpread + 2 * u)
    }

    @Test("the gradient's row sum and its metamorphic pair", arguments: rows)
    func gradient(_ x: [Double]) throws {
        let t = PropertyTolerances(.double, x)
        let b = try bounds(.complementGradient, x, label: 0)
        let relative = b.map(\.relative).max()!
        let magnitudes = 1.5  // any Σ|g̃|
        let n = Double(x.count)
        let needed = relative * magnitudes + n * b[0].absolute + 2 * u * magnitudes
        #expect(t.gradientSum(x, magnitudes: magnitudes) >= needed, "row \(x)")
        #expect(t.metamorphic(.crossEntropyGradient, softmaxBound: 0)! >= 2 * relative)
    }

    @Test("VJP = Jᵀv: the Jacobian's bound on Σ|J_ki v_k| plus the VJP's own bound", arguments: rows)
    func vectorJacobianProduct(_ x: [Double]) throws {
        let t = PropertyTolerances(.double, x)
        let v = AuditFunction.vjpVector(x.count)
        let m = v.map(\.magnitude).max()!
        let jacobian = try bounds(.jacobian, x).map(\.relative).max()!
        let vjp = try bounds(.vectorJacobianProduct, x)
        let terms = 2.5  // any Σ_k |J_ki v_k|
        for (i, b) in vjp.enumerated() {
            // The VJP element's bound, at its largest: |w_i| = p_i |r_i| <= 2 max|v|.
            let element = b.absolute + b.relative * 2 * m
            let needed = jacobian * terms + element
            let tolerance = t.vectorJacobianProduct(jacobianTerms: terms, vector: v)
            #expect(tolerance >= needed, "row \(x), element \(i): tolerance \(tolerance), needed \(needed)")
        }
    }
}
