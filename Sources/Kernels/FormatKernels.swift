// The accurate algorithms in the formats ML kernels run in: storage (inputs and outputs) in float,
// float16 or bfloat16, and an accumulator of the same format or of float. Names carry the formats:
// `softmax-shifted@float16+float` stores float16 and accumulates in float.
//
// Each operation is computed in binary64 and rounded once to its format. For +, −, ×, ÷ that is the
// format's own IEEE operation (binary64 holds 2p + 2 bits for p <= 24, so the double rounding is
// innocuous); exp, log and log1p are libm's binary64 values rounded once, at least as accurate as a
// float16 or float libm. So these kernels are what a careful kernel in that format computes, flaws of
// the format included: a float16 running sum sticks at 2048 (2048 + 1 rounds back to 2048), a bfloat16
// one at 256, and −log of a float16 probability below 2^-24 is +inf.
import Formats

/// Arithmetic of one format on doubles that are its values.
struct FormatArithmetic: Sendable {
    let format: BinaryFormat

    @inline(__always) func round(_ x: Double) -> Double { format.round(x) }
    @inline(__always) func add(_ a: Double, _ b: Double) -> Double { round(a + b) }
    @inline(__always) func sub(_ a: Double, _ b: Double) -> Double { round(a - b) }
    @inline(__always) func mul(_ a: Double, _ b: Double) -> Double { round(a * b) }
    @inline(__always) func div(_ a: Double, _ b: Double) -> Double { round(a / b) }
    @inline(__always) func exp(_ x: Double) -> Double { round(LibM.exp(x)) }
    @inline(__always) func log(_ x: Double) -> Double { round(LibM.log(x)) }
    @inline(__always) func log1p(_ x: Double) -> Double { round(LibM.log1p(x)) }
}

/// The shifted algorithms with storage S and accumulator A.
struct FormatShifted: Sendable {
    let s: FormatArithmetic
    let a: FormatArithmetic

    init(_ precision: KernelPrecision) {
        s = FormatArithmetic(format: precision.storage)
        a = FormatArithmetic(format: precision.accumulator)
    }

    /// (max, its index, e_j = exp(x_j − max) in A).
    func exponentials(_ x: [Double]) -> (Double, Int, [Double]) {
        var k = 0
        for i in x.indices where x[i] > x[k] { k = i }
        let m = x[k]
        return (m, k, x.map { a.exp(a.sub($0, m)) })
    }

    func softmax(_ x: [Double]) -> [Double] {
        let (_, _, e) = exponentials(x)
        var total = 0.0
        for v in e { total = a.add(total, v) }
        return e.map { s.round(a.div($0, total)) }
    }

    /// log1p(Σ_{j≠k} e_j) in A.
    func logTail(_ e: [Double], skipping k: Int) -> Double {
        var tail = 0.0
        for j in e.indices where j != k { tail = a.add(tail, e[j]) }
        return a.log1p(tail)
    }

    func logSumExp(_ x: [Double]) -> Double {
        let (m, k, e) = exponentials(x)
        return s.round(a.add(m, logTail(e, skipping: k)))
    }

    func logSoftmax(_ x: [Double]) -> [Double] {
        let (m, k, e) = exponentials(x)
        let l = logTail(e, skipping: k)
        return x.map { s.round(a.sub(a.sub($0, m), l)) }
    }

    /// (max − x_t) + log1p(s): two non-negative terms.
    func crossEntropy(_ x: [Double], _ t: Int) -> Double {
        let (m, k, e) = exponentials(x)
        return s.round(a.add(a.sub(m, x[t]), logTail(e, skipping: k)))
    }

    /// −log of the stored probability: +inf once p_t underflows the storage format.
    func crossEntropyOfProbability(_ x: [Double], _ t: Int) -> Double {
        s.round(-a.log(softmax(x)[t]))
    }

    /// The tutorial's way, in the format: exp(x) / Σ exp(x) with no shift, then p − onehot(t). exp
    /// overflows the format (above 11.09 for float16) and inf / inf is NaN.
    func unshiftedGradient(_ x: [Double], _ t: Int) -> [Double] {
        let e = x.map { a.exp($0) }
        var total = 0.0
        for v in e { total = a.add(total, v) }
        return e.indices.map { j in s.round(a.sub(a.div(e[j], total), j == t ? 1 : 0)) }
    }

    /// p − onehot(t) with 1 − p_t = Σ_{j≠t} e_j / Σ e_j, stored.
    func gradient(_ x: [Double], _ t: Int) -> [Double] {
        let (_, _, e) = exponentials(x)
        var total = 0.0, others = 0.0
        for (j, v) in e.enumerated() {
            total = a.add(total, v)
            if j != t { others = a.add(others, v) }
        }
        return e.indices.map { j in s.round(j == t ? -a.div(others, total) : a.div(e[j], total)) }
    }
}

extension KernelPrecision {
    /// Whether it computes in a 16-bit format.
    var computesNarrow: Bool { accumulator == .float16 || accumulator == .bfloat16 }
}

extension Kernel {
    /// A kernel of the precision audit, `family@float16+float`: accurate, or flawed as `flaw` says.
    static func inFormat(_ family: String, _ precision: KernelPrecision, summary: String, flaw: String?) -> Kernel {
        var k = Kernel(
            name: "\(family)@\(precision.suffix)", summary: summary,
            expectation: flaw.map { .flawed($0) } ?? .accurate, algorithm: family)
        k.precision = precision
        return k
    }

    /// The storage / accumulator pairs the format kernels come in.
    public static let formatPrecisions: [KernelPrecision] = [
        KernelPrecision(storage: .float, accumulator: .float),
        KernelPrecision(storage: .float16, accumulator: .float16),
        KernelPrecision(storage: .float16, accumulator: .float),
        KernelPrecision(storage: .bfloat16, accumulator: .bfloat16),
        KernelPrecision(storage: .bfloat16, accumulator: .float),
    ]

    /// The kernels of the precision audit: the softmax family's, the binary family's, the paired functions' and
    /// the loss's. Judged, like every
    /// kernel, against the standard algorithm in its storage format with a float accumulator.
    public static let formatKernels: [Kernel] =
        softmaxFormatKernels + formatBinaryKernels + formatPairedKernels + formatAttentionKernels

    /// The accurate algorithms of the softmax family in float, float16 and bfloat16.
    static let softmaxFormatKernels: [Kernel] = formatPrecisions.flatMap { precision -> [Kernel] in
        let f = FormatShifted(precision)
        let sticks = precision.accumulator == .float16 ? "2048" : "256"
        func kernel(_ family: String, _ summary: String, _ flaw: String?) -> Kernel {
            .inFormat(family, precision, summary: summary, flaw: flaw)
        }
        let sumFlaw =
            precision.computesNarrow
            ? "accumulates in \(precision.accumulator.name): the running sum sticks at \(sticks) (adding 1 rounds "
                + "back), so a uniform row longer than that is off by the ratio"
            : nil
        var softmax = kernel(
            "softmax-shifted",
            "exp(x - max) / sum in \(precision.accumulator.name), stored in \(precision.storage.name).", sumFlaw)
        softmax.implement(.softmax, .perLogit(f.softmax))
        var log1p = kernel(
            "logsumexp-log1p",
            "max + log1p(sum of exp(x - max)) in \(precision.accumulator.name); log-softmax from it.", sumFlaw)
        log1p.implement(.logSumExp, .scalar(f.logSumExp))
        log1p.implement(.logSoftmax, .perLogit(f.logSoftmax))
        var crossEntropy = kernel(
            "cross-entropy-log1p",
            "(max - x_t) + log1p(s) in \(precision.accumulator.name); gradient p - onehot with 1 - p_t as a sum.",
            sumFlaw)
        crossEntropy.implement(.crossEntropy, .labeledScalar(f.crossEntropy))
        crossEntropy.implement(.crossEntropyGradient, .labeledPerLogit(f.gradient))
        var ofProbability = kernel(
            "cross-entropy-log-softmax",
            "-log(softmax(x)[t]) with the probability stored in \(precision.storage.name).",
            "-log of the stored p_t: +inf once p_t underflows \(precision.storage.name) (and p_t itself is only as "
                + "good as its format)"
        )
        ofProbability.implement(.crossEntropy, .labeledScalar(f.crossEntropyOfProbability))
        var unshifted = kernel(
            "gradient-unshifted",
            "The tutorial's gradient: exp(x) / sum(exp(x)) with no shift, minus onehot(t), in "
                + "\(precision.accumulator.name).",
            "no shift: exp overflows \(precision.accumulator.name) (above "
                + "\(precision.accumulator == .float16 ? "11.09" : "88.72")) and inf / inf makes the gradient NaN"
        )
        unshifted.implement(.crossEntropyGradient, .labeledPerLogit(f.unshiftedGradient))
        return [softmax, log1p, crossEntropy, ofProbability, unshifted]
    }
}
