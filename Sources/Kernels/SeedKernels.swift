// The tutorial's NumPy code ("Softmax and Cross Entropy Loss"), translated faithfully, flaws and all
// (docs/design.md#the-tutorials-code). NumPy's np.sum is pairwise (Summation.numpy) and np.exp overflows
// to inf, as here.
//
//     def softmax(X):
//         exps = np.exp(X)
//         return exps / np.sum(exps)
//
//     def stable_softmax(X):
//         exps = np.exp(X) - np.max(X)      # the shift after exp, as the seed has it
//         return exps / np.sum(exps)
//
//     def cross_entropy(X, y):              # X: m x n logits, y: m integer labels
//         m = y.shape[0]
//         p = softmax(X)                    # np.sum over the whole matrix, not per row
//         log_likelihood = -np.log(p[range(m), y])
//         return np.sum(log_likelihood) / m
//
//     def delta_cross_entropy(X, y):
//         m = y.shape[0]
//         grad = softmax(X)
//         grad[range(m), y] -= 1
//         return grad / m

enum Seed {
    static func softmax(_ x: [Double]) -> [Double] {
        let exps = x.map(LibM.exp)
        let total = Summation.numpy(exps)
        return exps.map { $0 / total }
    }

    static func stableSoftmax(_ x: [Double]) -> [Double] {
        let top = x.max()!
        let exps = x.map { LibM.exp($0) - top }
        let total = Summation.numpy(exps)
        return exps.map { $0 / total }
    }

    /// softmax(X) of a matrix: one np.sum over every element (the matrix flattened row-major).
    static func matrixSoftmax(_ rows: [[Double]]) -> [[Double]] {
        let exps = rows.map { $0.map(LibM.exp) }
        let total = Summation.numpy(exps.flatMap { $0 })
        return exps.map { $0.map { $0 / total } }
    }

    static func crossEntropy(_ rows: [[Double]], _ labels: [Int]) -> Double {
        let m = labels.count
        let p = matrixSoftmax(rows)
        let logLikelihood = (0..<m).map { -LibM.log(p[$0][labels[$0]]) }
        return Summation.numpy(logLikelihood) / Double(m)
    }

    static func deltaCrossEntropy(_ rows: [[Double]], _ labels: [Int]) -> [[Double]] {
        let m = labels.count
        var grad = matrixSoftmax(rows)
        for i in 0..<m { grad[i][labels[i]] -= 1 }
        return grad.map { $0.map { $0 / Double(m) } }
    }
}

extension Kernel {
    static let seedKernels: [Kernel] = {
        var softmax = Kernel(
            name: "seed-softmax", summary: "The tutorial's softmax: exp(x) / np.sum(exp(x)), no shift.",
            expectation: .flawed("exp overflows above ~709.78 (inf/inf = NaN) and a row below ~-745 underflows to 0/0"))
        softmax.implement(.softmax, .perLogit(Seed.softmax))

        var stable = Kernel(
            name: "seed-stable-softmax",
            summary: "The tutorial's stable_softmax as written: (exp(x) - max(x)) / sum, the shift after exp.",
            expectation: .flawed(
                "subtracts the max after exp, so the result is not a probability distribution, and still overflows"))
        stable.implement(.softmax, .perLogit(Seed.stableSoftmax))

        var crossEntropy = Kernel(
            name: "seed-cross-entropy",
            summary: "The tutorial's cross_entropy: unshifted softmax over the whole matrix, -log(p[range(m), y]) / m.",
            expectation: .flawed(
                "normalizes over the whole batch instead of per row, and -log of an underflowed or overflowed p is "
                    + "inf or NaN"
            ))
        crossEntropy.implement(.crossEntropy, .labeledScalar { x, t in Seed.crossEntropy([x], [t]) })
        crossEntropy.implement(.batchCrossEntropy, .batchScalar(Seed.crossEntropy))

        var delta = Kernel(
            name: "seed-delta-cross-entropy",
            summary: "The tutorial's delta_cross_entropy: softmax(X) over the whole matrix, p[range(m), y] -= 1, / m.",
            expectation: .flawed(
                "normalizes over the whole batch, inherits the unshifted softmax's overflow, and p_t - 1 cancels"))
        delta.implement(.crossEntropyGradient, .labeledPerLogit { x, t in Seed.deltaCrossEntropy([x], [t])[0] })
        delta.implement(.batchCrossEntropyGradient, .batchPerLogit(Seed.deltaCrossEntropy))

        return [softmax, stable, crossEntropy, delta]
    }()
}
