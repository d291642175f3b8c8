// The binary family as code ships it: the stable forms, which branch on the sign of x so that exp never
// overflows and nothing cancels, and the forms that tutorials and frameworks write, each with the input
// where it fails.
//
//     sigmoid       x >= 0: 1/(1 + e^−x)        x < 0: e^x/(1 + e^x)
//     log-sigmoid   x >= 0: −log1p(e^−x)        x < 0: x − log1p(e^x)
//     softplus      x > 0: x + log1p(e^−x)      x <= 0: log1p(e^x)
//     σ'            t/(1 + t)^2, t = e^−|x|; the log-sigmoid and softplus gradients σ(−x) and σ(x)
//
// Autograd differentiates through the stored output instead: σ' = s(1 − s) and (log σ)' = 1 − s with
// s = σ(x), and 1 − s cancels as s → 1.

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

    /// σ'(x) = t/(1 + t)^2 with t = e^−|x|: σ'(x) = σ'(−x), so t <= 1 and nothing overflows.
    static func sigmoidGradient(_ x: Double) -> Double {
        let t = LibM.exp(-x.magnitude)
        let a = 1 + t
        return t / (a * a)
    }

    /// 1/(1 + e^−x), as most code writes it.
    static func naiveSigmoid(_ x: Double) -> Double { 1 / (1 + LibM.exp(-x)) }

    /// log(σ(x)) with the stable σ.
    static func logOfSigmoid(_ x: Double) -> Double { LibM.log(sigmoid(x)) }

    /// log(1 + e^x).
    static func naiveSoftplus(_ x: Double) -> Double { LibM.log(1 + LibM.exp(x)) }

    /// PyTorch's softplus (Activation.cpp): x itself where βx is above the threshold (20 by default),
    /// log1p(exp(βx))/β below; its gradient 1 there, σ(βx) below.
    static func thresholdSoftplus(_ x: Double, _ o: LossOptions) -> Double {
        let y = o.beta * x
        return y > o.threshold ? x : LibM.log1p(LibM.exp(y)) / o.beta
    }
    static func thresholdSoftplusGradient(_ x: Double, _ o: LossOptions) -> Double {
        let y = o.beta * x
        return y > o.threshold ? 1 : sigmoid(y)
    }

    /// s(1 − s) with s = σ(x) stored, as autograd differentiates through the sigmoid's output.
    static func sigmoidGradientFromOutput(_ x: Double) -> Double {
        let s = sigmoid(x)
        return s * (1 - s)
    }

    /// 1 − s with s = σ(x) stored: the gradient of log σ as autograd forms it from the sigmoid's output.
    static func logSigmoidGradientFromOutput(_ x: Double) -> Double { 1 - sigmoid(x) }
}

extension Kernel {
    static let binaryKernels: [Kernel] = {
        func elementwise(_ f: @escaping @Sendable (Double) -> Double) -> Implementation.Body {
            .perLogit { x in x.map(f) }
        }
        /// f(βx)/β (`scaled`) or f(βx) for softplus's β, which the case carries.
        func withBeta(scaled: Bool, _ f: @escaping @Sendable (Double) -> Double) -> Implementation.Body {
            .perLogitWithOptions { x, o in x.map { scaled ? f(o.beta * $0) / o.beta : f(o.beta * $0) } }
        }
        func withOptions(_ f: @escaping @Sendable (Double, LossOptions) -> Double) -> Implementation.Body {
            .perLogitWithOptions { x, o in x.map { f($0, o) } }
        }
        var sigmoid = Kernel(
            name: "sigmoid-stable",
            summary: "1/(1 + exp(-x)) for x >= 0, exp(x)/(1 + exp(x)) below; sigma' = t/(1 + t)^2, t = exp(-|x|).",
            expectation: .accurate)
        sigmoid.implement(.sigmoid, elementwise(Binary.sigmoid))
        sigmoid.implement(.sigmoidGradient, elementwise(Binary.sigmoidGradient))

        var logSigmoid = Kernel(
            name: "log-sigmoid-log1p",
            summary: "-log1p(exp(-x)) for x >= 0, x - log1p(exp(x)) below; its gradient sigmoid(-x), stable.",
            expectation: .accurate)
        logSigmoid.implement(.logSigmoid, elementwise(Binary.logSigmoid))
        logSigmoid.implement(.logSigmoidGradient, elementwise { Binary.sigmoid(-$0) })

        var softplus = Kernel(
            name: "softplus-log1p",
            summary: "x + log1p(exp(-x)) for x > 0, log1p(exp(x)) below; its gradient sigmoid(x), stable.",
            expectation: .accurate)
        softplus.implement(.softplus, withBeta(scaled: true, Binary.softplus))
        softplus.implement(.softplusGradient, withBeta(scaled: false, Binary.sigmoid))

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
        naiveSoftplus.implement(.softplus, withBeta(scaled: true, Binary.naiveSoftplus))

        var thresholdSoftplus = Kernel(
            name: "softplus-threshold",
            summary: "PyTorch's softplus: x where beta x is above the threshold (20), log1p(exp(beta x))/beta below; "
                + "gradient 1 there.",
            expectation: .flawed(
                "returns x above the threshold 20, short by log1p(e^-x), about 1e-10 of x at 20; its gradient 1 there, "
                    + "where sigma(x) = 1 - e^-x"))
        thresholdSoftplus.implement(.softplus, withOptions(Binary.thresholdSoftplus))
        thresholdSoftplus.implement(.softplusGradient, withOptions(Binary.thresholdSoftplusGradient))

        var fromOutput = Kernel(
            name: "sigmoid-gradients-from-output",
            summary: "Autograd's gradients through the stored sigmoid s: s(1 - s) for sigma', 1 - s for log-sigmoid.",
            expectation: .flawed(
                "1 - s cancels as s -> 1: a relative error of about u e^x, and 0 above x = 36.7 where the gradients "
                    + "are e^-x"))
        fromOutput.implement(.sigmoidGradient, elementwise(Binary.sigmoidGradientFromOutput))
        fromOutput.implement(.logSigmoidGradient, elementwise(Binary.logSigmoidGradientFromOutput))

        return [
            sigmoid, logSigmoid, softplus, naiveSigmoid, logOfSigmoid, naiveSoftplus, thresholdSoftplus, fromOutput,
        ]
    }()
}
