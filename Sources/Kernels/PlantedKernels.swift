// Kernels with narrow planted flaws: accurate everywhere except in a small region of their inputs, of the
// kinds that shipped (a vector loop's tail, a threshold off by a binade, a special case for one range of
// lengths, a value one ulp from a power of two). The default audit's classes miss each of them (measured by
// `softmax-audit hunt --planted`, Reports/hunt/planted.md); they exist to prove that the hunt finds what
// sampling misses. They are not in `Kernel.all`: the default run would fail its gate on them by design.
import Formats

extension Kernel {
    /// The lead window of `planted-lead-window`, on rows of at most `plantedShortRow` logits.
    public static let plantedLeadWindow = 45.0..<45.5
    public static let plantedShortRow = 8
    /// Rows longer than this are summed in float by `planted-long-rows`.
    public static let plantedLongRow = 20_000
    /// The binade of the maximum in which `planted-offset-binade` shifts in float.
    public static let plantedOffsetBinade = 0x1p40..<0x1p41
    /// The odd lengths at which `planted-odd-tail`'s maximum skips the last logit.
    public static let plantedOddTail = 513...1023
    /// Rows at least this long are summed in float16 by `planted-long-rows@float16+float`.
    public static let plantedFloat16Long = 1 << 15

    public static let planted: [Kernel] = {
        var window = Kernel(
            name: "planted-lead-window",
            summary:
                "(x_max - x_t) + log1p(s), but log(1 + s) on rows of 8 or fewer whose maximum leads by 45 to 45.5.",
            expectation: .flawed(
                "a short-row path (n <= 8) whose table-driven log1p has a wrong entry: log(1 + s) rounds s to 0 for "
                    + "leads in [45, 45.5)"))
        window.implement(.logSoftmax, .perLogit { x in Planted.logSoftmax(x) })
        window.implement(.crossEntropy, .labeledScalar { x, t in Planted.crossEntropy(x, t) })

        var power = Kernel(
            name: "planted-power-of-two",
            summary: "exp(x - max) / sum, but exp's range reduction mishandles a logit one ulp below a power of two.",
            expectation: .flawed("for |x_j| = 2^k - ulp (k >= 1), e_j is computed as exp(x_j - max + 2^-20)"))
        power.implement(.softmax, .perLogit(Planted.powerOfTwoSoftmax))

        var long = Kernel(
            name: "planted-long-rows",
            summary: "exp(x - max) / sum, with a float sum for rows longer than 20,000 logits.",
            expectation: .flawed("rows longer than 20,000 logits (beyond the default run's 16,384) are summed in float")
        )
        long.implement(.softmax, .perLogit(Planted.longRowSoftmax))

        var offset = Kernel(
            name: "planted-offset-binade",
            summary: "max + log1p(s) and x - max - log1p(s), but x - max in float when max is in [2^40, 2^41).",
            expectation: .flawed("a maximum in [2^40, 2^41) takes a float path for x - max"))
        offset.implement(.logSumExp, .scalar { x in Planted.offsetLogSumExp(x) })
        offset.implement(.logSoftmax, .perLogit { x in Planted.offsetLogSoftmax(x) })

        var tail = Kernel(
            name: "planted-odd-tail",
            summary: "exp(x - max) / sum, the maximum found two logits at a time, for odd rows of 513 to 1023.",
            expectation: .flawed(
                "the pairwise maximum skips the last logit of odd rows of 513 to 1023: when it leads by more than "
                    + "709.78, exp overflows (inf / inf = NaN)"))
        tail.implement(.softmax, .perLogit(Planted.oddTailSoftmax))

        var narrow = Kernel.inFormat(
            "planted-long-rows", KernelPrecision(storage: .float16, accumulator: .float),
            summary: "The shifted softmax in float16 with a float sum, but a float16 sum for rows of 2^15 or more.",
            flaw: "rows of 2^15 logits or more are summed in float16, which sticks at 2048")
        narrow.implement(.softmax, .perLogit(Planted.float16LongSoftmax))

        return [window, power, long, offset, tail, narrow]
    }()
}

enum Planted {
    /// (max, its index, e_j, the lead over the second largest).
    static func terms(_ x: [Double]) -> (Double, Int, [Double], Double) {
        let (m, k, e) = Shifted.exponentials(x)
        var second = -Double.infinity
        for i in x.indices where i != k { second = max(second, x[i]) }
        return (m, k, e, m - second)
    }

    /// log1p(s), except inside the lead window on short rows.
    static func logTail(_ e: [Double], _ k: Int, lead: Double) -> Double {
        let s = Shifted.tailSum(e, skipping: k)
        let planted = e.count <= Kernel.plantedShortRow && Kernel.plantedLeadWindow.contains(lead)
        return planted ? LibM.log(1 + s) : LibM.log1p(s)
    }

    static func logSoftmax(_ x: [Double]) -> [Double] {
        let (m, k, e, lead) = terms(x)
        let l = logTail(e, k, lead: lead)
        return x.map { ($0 - m) - l }
    }

    static func crossEntropy(_ x: [Double], _ t: Int) -> Double {
        let (m, k, e, lead) = terms(x)
        return (m - x[t]) + logTail(e, k, lead: lead)
    }

    /// The error planted into exp's argument.
    static let argumentError = 0x1p-20

    static func powerOfTwoSoftmax(_ x: [Double]) -> [Double] {
        var k = 0
        for i in x.indices where x[i] > x[k] { k = i }
        let m = x[k]
        let e = x.map { v in
            let belowPower = v.magnitude >= 1 && v.isFinite && v.significandBitPattern == (1 << 52) - 1
            return LibM.exp(v - m + (belowPower ? argumentError : 0))
        }
        let total = Summation.recursive(e)
        return e.map { $0 / total }
    }

    static func longRowSoftmax(_ x: [Double]) -> [Double] {
        guard x.count > Kernel.plantedLongRow else { return Shifted.softmax(x) }
        let (_, _, e) = Shifted.exponentials(x)
        var total: Float = 0
        for v in e { total += Float(v) }
        return e.map { $0 / Double(total) }
    }

    /// x_j − max, in float when max is in the planted binade.
    static func offsetDifferences(_ x: [Double]) -> (Double, Int, [Double]) {
        var k = 0
        for i in x.indices where x[i] > x[k] { k = i }
        let m = x[k]
        guard Kernel.plantedOffsetBinade.contains(m) else { return (m, k, x.map { $0 - m }) }
        return (m, k, x.map { Double(Float($0) - Float(m)) })
    }

    static func offsetLogSumExp(_ x: [Double]) -> Double {
        let (m, k, d) = offsetDifferences(x)
        return m + LibM.log1p(Shifted.tailSum(d.map(LibM.exp), skipping: k))
    }

    static func offsetLogSoftmax(_ x: [Double]) -> [Double] {
        let (_, k, d) = offsetDifferences(x)
        let l = LibM.log1p(Shifted.tailSum(d.map(LibM.exp), skipping: k))
        return d.map { $0 - l }
    }

    static func oddTailSoftmax(_ x: [Double]) -> [Double] {
        guard x.count % 2 == 1 && Kernel.plantedOddTail.contains(x.count) else { return Shifted.softmax(x) }
        // Two logits at a time; the odd one left at the end is never compared.
        var m = -Double.infinity
        var i = 0
        while i + 1 < x.count {
            m = max(m, max(x[i], x[i + 1]))
            i += 2
        }
        let e = x.map { LibM.exp($0 - m) }
        let total = Summation.recursive(e)
        return e.map { $0 / total }
    }

    static func float16LongSoftmax(_ x: [Double]) -> [Double] {
        let precision = KernelPrecision(storage: .float16, accumulator: .float)
        guard x.count >= Kernel.plantedFloat16Long else { return FormatShifted(precision).softmax(x) }
        let a = FormatArithmetic(format: .float), h = FormatArithmetic(format: .float16)
        let (_, _, e) = FormatShifted(precision).exponentials(x)
        var total = 0.0
        for v in e { total = h.add(total, v) }
        return e.map { h.round(a.div($0, total)) }
    }
}
