// The special-value convention, row by row (the README's table).
import Testing
@testable import Reference

@Suite("Reference: special values")
struct SpecialValueTests {
    let reference = SoftmaxReference()
    let inf = Double.infinity
    let nan = Double.nan

    /// Compares bit patterns, treating every NaN as equal.
    func same(_ observed: [ReferenceValue], _ expected: [Double]) -> Bool {
        observed.count == expected.count
            && zip(observed, expected).allSatisfy {
                $0.rounded.isNaN ? $1.isNaN : $0.rounded.bitPattern == $1.bitPattern
            }
    }

    @Test("softmax, log-softmax and logsumexp follow the convention")
    func rowFunctions() throws {
        let cases: [([Double], [Double], [Double], Double)] = [
            // row, softmax, log-softmax, logsumexp
            ([nan, 0], [nan, nan], [nan, nan], nan),
            ([-inf, 0], [0, 1], [-inf, 0], 0),
            ([inf, 0], [1, 0], [0, -inf], inf),
            ([inf, inf, 0], [nan, nan, 0], [nan, nan, -inf], inf),
            ([-inf, -inf], [nan, nan], [nan, nan], -inf),
            ([inf, -inf], [1, 0], [0, -inf], inf),
            (
                [-inf, 1, 1], [0, 0.5, 0.5], [-inf, -0x1.62e42fefa39efp-1, -0x1.62e42fefa39efp-1],
                1 + 0x1.62e42fefa39efp-1
            ),
        ]
        for (x, p, l, y) in cases {
            let sp = try reference.softmax(x)
            #expect(same(sp, p), "softmax of \(x): expected \(p), observed \(sp)")
            let sl = try reference.logSoftmax(x)
            #expect(same(sl, l), "log-softmax of \(x): expected \(l), observed \(sl)")
            let sy = try reference.logSumExp(x)
            #expect(same([sy], [y]), "logsumexp of \(x): expected \(y), observed \(sy)")
        }
        #expect(try reference.logSumExp([]).rounded == -inf, "the empty sum is 0, its log −inf")
        #expect(throws: ReferenceError.emptyRow) { try reference.softmax([]) }
        #expect(throws: ReferenceError.emptyRow) { try reference.logSoftmax([]) }
    }

    @Test("cross-entropy and its gradient follow the convention")
    func lossFunctions() throws {
        let cases: [([Double], Int, Double, [Double])] = [
            // row, label, loss, gradient
            ([nan, 0], 1, nan, [nan, nan]),
            ([-inf, 0], 0, inf, [-1, 1]),
            ([-inf, 0], 1, 0, [0, 0]),
            ([inf, 0], 0, 0, [0, 0]),
            ([inf, 0], 1, inf, [1, -1]),
            ([inf, inf, 0], 0, nan, [nan, nan, 0]),
            ([inf, inf, 0], 2, inf, [nan, nan, -1]),
            ([-inf, -inf], 0, nan, [nan, nan]),
        ]
        for (x, t, loss, gradient) in cases {
            let ce = try reference.crossEntropy(x, target: .label(t))
            #expect(same([ce], [loss]), "CE of \(x) at \(t): expected \(loss), observed \(ce)")
            let g = try reference.crossEntropyGradient(x, target: .label(t))
            #expect(same(g, gradient), "gradient of \(x) at \(t): expected \(gradient), observed \(g)")
        }
    }

    @Test("probability targets: 0 · log 0 = 0 on a masked logit, q > 0 there is +inf, bad entries are errors")
    func distributions() throws {
        let masked = try reference.crossEntropy([-inf, 0, 0], target: .distribution([0, 0.5, 0.5]))
        #expect(masked.rounded == 0x1.62e42fefa39efp-1, "optax#896 gave NaN; the limit is log 2: \(masked)")
        #expect(try reference.crossEntropy([-inf, 0], target: .distribution([0.5, 0.5])).rounded == inf)
        let g = try reference.crossEntropyGradient([-inf, 0, 0], target: .distribution([0.25, 0.25, 0.5]))
        #expect(same(g, [-0.25, 0.25, 0]), "p − q: observed \(g)")
        let oneHot = try reference.crossEntropyGradient([inf, 0], target: .distribution([0x1p-60, 1]))
        #expect(same(oneHot, [1 - 0x1p-60, -1]), "1 - q_a is correctly rounded (1 - 2^-60 -> 1): observed \(oneHot)")
        #expect(throws: ReferenceError.invalidTargetEntry(index: 1, value: -0.5)) {
            try reference.crossEntropy([0, 1], target: .distribution([1.5, -0.5]))
        }
        #expect(throws: ReferenceError.targetLengthMismatch(targetCount: 1, rowCount: 2)) {
            try reference.crossEntropy([0, 1], target: .distribution([1]))
        }
    }

    @Test("labels out of range and non-finite vectors are errors, not traps")
    func errors() {
        #expect(throws: ReferenceError.labelOutOfRange(label: 2, count: 2)) {
            try reference.crossEntropy([0, 1], target: .label(2))
        }
        #expect(throws: ReferenceError.labelOutOfRange(label: -1, count: 2)) {
            try reference.crossEntropyGradient([0, 1], target: .label(-1))
        }
        #expect(throws: ReferenceError.nonFiniteInput(what: "vector", index: 1, value: inf)) {
            try reference.vectorJacobianProduct([0, 1], [0, inf])
        }
        #expect(throws: ReferenceError.batchShapeMismatch(rows: 2, targets: 1)) {
            try reference.meanCrossEntropy([[0], [1]], targets: [.label(0)])
        }
    }

    @Test("batch forms: the mean of per-row losses and the per-row gradient over B")
    func batches() throws {
        // Rows [0, 0] (loss log 2) and [7] (loss 0): mean = log 2 / 2, exactly half of fl(log 2)'s value.
        let mean = try reference.meanCrossEntropy([[0, 0], [7]], targets: [.label(0), .label(0)])
        #expect(mean.rounded == 0x1.62e42fefa39efp-2, "observed \(mean)")
        let g = try reference.batchCrossEntropyGradient([[0, 0], [1, 1, 1]], targets: [.label(1), .label(0)])
        // Row 1 over B = 2: [1/4, −1/4]; row 2: [−2/3, 1/3, 1/3] / 2 = [−1/3, 1/6, 1/6], each rounded once.
        #expect(same(g[0], [0.25, -0.25]), "observed \(g[0])")
        #expect(same(g[1], [-1.0 / 3, 1.0 / 6, 1.0 / 6]), "observed \(g[1])")
        let special = try reference.meanCrossEntropy([[inf, 0], [0, 0]], targets: [.label(1), .label(0)])
        #expect(special.rounded == inf)
    }

    @Test("a target of zeros: the gradient is exactly +0 everywhere, even where p underflows (review)")
    func zeroTargetGradient() throws {
        // p_0 = e^(−1e300 + 900) is far below MPFR's range: once an error, "could not certify the rounding".
        for x in [[-1e300, -900], [1, 2], [0, -inf]] {
            for path in FastPathMode.allCases {
                let r = SoftmaxReference()
                r.fastPath = path
                let g = try r.klDivergenceGradient(x, target: [0, 0])
                #expect(same(g, [0, 0]), "\(path): KL gradient of \(x) with q = 0: \(g), expected +0 +0")
            }
        }
    }
}
