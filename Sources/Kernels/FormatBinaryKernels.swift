// The binary family in the formats ML kernels run in: inputs and outputs stored in float, float16 or
// bfloat16, every operation computed in the compute format (the same, or float) and rounded to it, as
// FormatKernels.swift does for the softmax family. The stable forms branch on the sign of x (BinaryKernels.swift);
// the naive forms are what code writes without thinking of the format's range.

/// The binary family with storage S and compute format A.
struct FormatBinary: Sendable {
    let s: FormatArithmetic
    let a: FormatArithmetic

    init(_ precision: KernelPrecision) {
        s = FormatArithmetic(format: precision.storage)
        a = FormatArithmetic(format: precision.accumulator)
    }

    func sigmoid(_ x: Double) -> Double { s.round(computedSigmoid(x)) }

    func logSigmoid(_ x: Double) -> Double {
        x >= 0 ? s.round(-a.log1p(a.exp(-x))) : s.round(a.sub(x, a.log1p(a.exp(x))))
    }

    func softplus(_ x: Double) -> Double { s.round(computedSoftplus(x)) }

    /// The stable sigmoid in the compute format, not stored.
    func computedSigmoid(_ x: Double) -> Double {
        if x >= 0 { return a.div(1, a.add(1, a.exp(-x))) }
        let t = a.exp(x)
        return a.div(t, a.add(1, t))
    }

    /// The stable softplus in the compute format, not stored.
    func computedSoftplus(_ x: Double) -> Double {
        x > 0 ? a.add(x, a.log1p(a.exp(-x))) : a.log1p(a.exp(x))
    }

    /// σ'(x) = t/(1 + t)^2 with t = e^−|x|.
    func sigmoidGradient(_ x: Double) -> Double {
        let t = a.exp(-x.magnitude)
        let d = a.add(1, t)
        return s.round(a.div(t, a.mul(d, d)))
    }

    /// s(1 − s) from the stored sigmoid s, as autograd differentiates through the output.
    func sigmoidGradientFromOutput(_ x: Double) -> Double {
        let y = sigmoid(x)
        return s.round(a.mul(y, a.sub(1, y)))
    }

    /// 1 − s from the stored sigmoid: the log-sigmoid's gradient as autograd forms it from the output.
    func logSigmoidGradientFromOutput(_ x: Double) -> Double { s.round(a.sub(1, sigmoid(x))) }

    func naiveSigmoid(_ x: Double) -> Double { s.round(a.div(1, a.add(1, a.exp(-x)))) }

    /// log of the stored sigmoid.
    func logOfSigmoid(_ x: Double) -> Double { s.round(a.log(sigmoid(x))) }

    func naiveSoftplus(_ x: Double) -> Double { s.round(a.log(a.add(1, a.exp(x)))) }
}

extension Kernel {
    /// The binary family in every storage and compute format of the precision audit.
    static let formatBinaryKernels: [Kernel] = formatPrecisions.flatMap { precision -> [Kernel] in
        let f = FormatBinary(precision)
        let compute = precision.accumulator.name, storage = precision.storage.name
        func kernel(_ family: String, _ summary: String, _ flaw: String?) -> Kernel {
            .inFormat(family, precision, summary: summary, flaw: flaw)
        }
        func elementwise(_ g: @escaping @Sendable (Double) -> Double) -> Implementation.Body {
            .perLogit { x in x.map(g) }
        }
        // Computed in the storage's own 11 or 8 bits, each of the three steps rounds there: several of its
        // ulps where the float-computed form is within one.
        let computeFlaw =
            precision.computesNarrow
            ? "computes in \(compute): each step rounds to its precision, a few of its ulps" : nil

        var sigmoid = kernel(
            "sigmoid-stable",
            "The stable sigmoid in \(compute), stored in \(storage); sigma' = t/(1 + t)^2, t = exp(-|x|).",
            computeFlaw)
        sigmoid.implement(.sigmoid, elementwise(f.sigmoid))
        sigmoid.implement(.sigmoidGradient, elementwise(f.sigmoidGradient))
        var logSigmoid = kernel(
            "log-sigmoid-log1p",
            "The stable log-sigmoid in \(compute), stored in \(storage); its gradient sigmoid(-x).",
            computeFlaw)
        logSigmoid.implement(.logSigmoid, elementwise(f.logSigmoid))
        logSigmoid.implement(.logSigmoidGradient, elementwise { f.sigmoid(-$0) })
        var softplus = kernel(
            "softplus-log1p", "The stable softplus in \(compute), stored in \(storage); its gradient sigmoid(x).",
            computeFlaw)
        softplus.implement(.softplus, elementwise(f.softplus))
        softplus.implement(.softplusGradient, elementwise(f.sigmoid))

        var logOfSigmoid = kernel(
            "log-of-sigmoid", "log(sigmoid(x)) with the sigmoid stored in \(storage).",
            "the stored sigmoid rounds to 1 (log gives 0) where log sigma(x) = -e^-x is still representable, and "
                + "log of an underflowed sigmoid is -inf")
        logOfSigmoid.implement(.logSigmoid, elementwise(f.logOfSigmoid))
        // Where 1 + e^x rounds to 1 in float (from x = -16.64, e^x <= 2^-24), e^x is at most float16's smallest
        // subnormal, within the bound's absolute floor: in float16 storage only the overflow shows.
        let lostTail =
            precision.storage == .float16 && precision.accumulator == .float
            ? "" : "1 + e^x rounds to 1 in \(compute) (0 where softplus(x) = e^x is representable), and "
        var naiveSoftplus = kernel(
            "softplus-naive", "log(1 + exp(x)) in \(compute).",
            lostTail + "exp overflows \(compute): inf where softplus(x) = x is finite in \(storage)")
        naiveSoftplus.implement(.softplus, elementwise(f.naiveSoftplus))
        let saturation = ["float": "17.3", "float16": "8.3", "bfloat16": "6.2"][storage] ?? ""
        var fromOutput = kernel(
            "sigmoid-gradients-from-output",
            "Autograd's gradients through the sigmoid s stored in \(storage): s(1 - s) for sigma', 1 - s for "
                + "log-sigmoid.",
            "1 - s cancels as s -> 1: 0 above x = \(saturation), where s rounds to 1 in \(storage) and the "
                + "gradients are e^-x")
        fromOutput.implement(.sigmoidGradient, elementwise(f.sigmoidGradientFromOutput))
        fromOutput.implement(.logSigmoidGradient, elementwise(f.logSigmoidGradientFromOutput))
        return [sigmoid, logSigmoid, softplus, logOfSigmoid, naiveSoftplus, fromOutput]
    }
}
