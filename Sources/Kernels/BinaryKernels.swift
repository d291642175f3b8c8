// The binary family as code ships it: the stable forms, which branch on the sign of x so that exp never
// overflows and nothing cancels, and the forms that tutorials and frameworks write, each with the input
// where it fails.
//
//     sigmoid       x >= 0: 1/(1 + e^−x)        x < 0: e^x/(1 + e^x)
//     log-sigmoid   x >= 0: −log1p(e^−x)        x < 0: x − log1p(e^x)
//     softplus      x > 0: x + log1p(e^−x)      x <= 0: log1p(e^x)

enum Binary {
    static func sigmoid(_ x: Double) -> Double {
        if x >= 0 { return 1 / (1 + LibM.exp(-x)) }
        let t = LibM.exp(x)
        return t / (1 + t)
    }

    static func logSigmoid(_ x: Double) -> Double {
        x >= 0 ? -LibM.log1p(LibM.exp(-x)) : x - LibM.log1p(LibM.exp(x))
    }

    static func softplus(_ x: Double) -> Double {
        x > 0 ? x + LibM.log1p(LibM.exp(-x)) : LibM.log1p(LibM.exp(x))
    }

    /// 1/(1 + e^−x), as most code writes it.
    static func naiveSigmoid(_ x: Double) -> Double { 1 / (1 + LibM.exp(-x)) }

    /// log(σ(x)) with the stable σ.
    static func logOfSigmoid(_ x: Double) -> Double { LibM.log(sigmoid(x)) }

    /// log(1 + e^x).
    static func naiveSoftplus(_ x: Double) -> Double { LibM.log(1 + LibM.exp(x)) }

    /// PyTorch's softplus with its defaults (beta = 1, threshold = 20): x itself above the threshold.
    static let threshold = 20.0
    static func thresholdSoftplus(_ x: Double) -> Double { x > threshold ? x : LibM.log1p(LibM.exp(x)) }
}

extension Kernel {
    static let binaryKernels: [Kernel] = {
        func elementwise(_ f: @escaping @Sendable (Double) -> Double) -> Implementation.Body {
            .perLogit { x in x.map(f) }
        }
        var sigmoid = Kernel(
            name: "sigmoid-stable", summary: "1/(1 + exp(-x)) for x >= 0, exp(x)/(1 + exp(x)) below.",
            expectation: .accurate)
        sigmoid.implement(.sigmoid, elementwise(Binary.sigmoid))

        var logSigmoid = Kernel(
            name: "log-sigmoid-log1p", summary: "-log1p(exp(-x)) for x >= 0, x - log1p(exp(x)) below.",
            expectation: .accurate)
        logSigmoid.implement(.logSigmoid, elementwise(Binary.logSigmoid))

        var softplus = Kernel(
            name: "softplus-log1p", summary: "x + log1p(exp(-x)) for x > 0, log1p(exp(x)) below.",
            expectation: .accurate)
        softplus.implement(.softplus, elementwise(Binary.softplus))

        var naiveSigmoid = Kernel(
            name: "sigmoid-naive", summary: "1/(1 + exp(-x)) for every x.",
            expectation: .flawed(
                "exp(-x) overflows below x = -709.78: 0 where sigma(x) = e^x is still representable (down to -745)"))
        naiveSigmoid.implement(.sigmoid, elementwise(Binary.naiveSigmoid))

        var logOfSigmoid = Kernel(
            name: "log-of-sigmoid", summary: "log(sigmoid(x)) with the stable sigmoid.",
            expectation: .flawed(
                "sigma(x) rounds to 1 above x = 36.7, so log gives 0 where log sigma(x) = -e^-x, and -inf once sigma "
                    + "underflows below -745 (pytorch#1835)"))
        logOfSigmoid.implement(.logSigmoid, elementwise(Binary.logOfSigmoid))

        var naiveSoftplus = Kernel(
            name: "softplus-naive", summary: "log(1 + exp(x)).",
            expectation: .flawed(
                "1 + e^x rounds to 1 below x = -36.7 (0 where softplus(x) = e^x), and exp overflows above 709.78"))
        naiveSoftplus.implement(.softplus, elementwise(Binary.naiveSoftplus))

        var thresholdSoftplus = Kernel(
            name: "softplus-threshold",
            summary: "PyTorch's softplus with its defaults: x above 20, log1p(exp(x)) below.",
            expectation: .flawed("returns x above the threshold 20, short by log1p(e^-x), about 1e-10 of x at 20"))
        thresholdSoftplus.implement(.softplus, elementwise(Binary.thresholdSoftplus))

        return [sigmoid, logSigmoid, softplus, naiveSigmoid, logOfSigmoid, naiveSoftplus, thresholdSoftplus]
    }()
}
