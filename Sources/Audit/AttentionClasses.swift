// Attention's input classes: scales and temperatures, ALiBi biases, masks, sinks, rows split into blocks and
// values that cancel, each from a failure that shipped or the convention it tests (docs/design.md, "Attention").
// Every case carries its own AttentionOptions, so it is made for the attention functions alone.
import Formats
import Foundation

extension InputClass {
    /// A class of single rows with attention's options.
    static func attention(
        _ name: String, _ summary: String, source: String,
        _ make: @escaping @Sendable (inout AuditRandom, Int) -> ([Double], AttentionOptions)
    ) -> InputClass {
        InputClass(name: name, summary: summary, source: source) { rng, max in
            let (x, o) = make(&rng, max)
            return AuditCase(x, label: 0, options: LossOptions(attention: o))
        }
    }

    /// The scale 1/√d of a head dimension d of 64, 80 or 128 (80's is inexact), times 2^k.
    static func headScale(_ rng: inout AuditRandom, exponents: ClosedRange<Int>) -> Double {
        let d = [64.0, 80, 128][rng.int(0...2)]
        return Double(sign: .plus, exponent: rng.int(exponents), significand: 1) / d.squareRoot()
    }

    /// 1 to 4 blocks half the time, up to 64 otherwise (more blocks than keys leaves some empty).
    static func blockCount(_ rng: inout AuditRandom) -> Int { rng.unit() < 0.5 ? rng.int(1...4) : rng.int(1...64) }

    /// Normal scores of a row of n keys at a scale, with `blocks` blocks.
    static func scoreRow(_ rng: inout AuditRandom, _ max: Int, cap: Int = 256) -> [Double] {
        (0..<Swift.max(1, rng.logUniformLength(Swift.min(max, cap)))).map { _ in rng.normal() * 4 }
    }

    /// Attention's classes of the default audit, in binary64.
    static let attentionClasses: [InputClass] = [
        attentionScales(exponents: -10...10),
        overflowingTemperature(
            "attention-overflowing-temperature",
            "A temperature so small that s·x overflows binary64: s = 2^1000 to 2^1023 (times 1 to 2) on logits "
                + "within ±8.", exponents: 1000...1023, significands: true),
        alibi,
        attentionMasks,
        additiveMask,
        dominantSink,
        splitRows,
        cancellingValues,
    ]

    /// Attention's classes of the precision audit: the same shapes at float16's magnitudes.
    static let attentionPrecisionClasses: [InputClass] = [
        attentionScales(exponents: -10...6),
        overflowingTemperature(
            "attention-overflowing-temperature-float16",
            "s·x past float16's 65504: s = 2^12 to 2^15 on logits within ±8 (a float accumulator holds it).",
            exponents: 12...15, significands: false),
        alibi,
        attentionMasks,
        dominantSink,
        splitRows,
        cancellingValues,
    ]

    /// Logits within ±8 at a scale 2^k (times 1 to 2 with `significands`) that makes s·x overflow a format.
    static func overflowingTemperature(
        _ name: String, _ summary: String, exponents: ClosedRange<Int>, significands: Bool
    ) -> InputClass {
        attention(
            name, summary,
            source: "a temperature of 2^-126 turned a logit of 4 into inf in float, then the row into NaN "
                + "(docs/design.md)"
        ) { rng, max in
            let x = (0..<Swift.max(1, rng.logUniformLength(Swift.min(max, 64)))).map { _ in rng.uniform(-8, 8) }
            var s = Double(sign: .plus, exponent: rng.int(exponents), significand: 1)
            if significands { s *= rng.uniform(1, 2) }
            return (x, AttentionOptions(scale: s, blocks: blockCount(&rng)))
        }
    }

    static func attentionScales(exponents: ClosedRange<Int>) -> InputClass {
        attention(
            "attention-scales",
            "Scores at scales 1/√d · 2^k, k from \(exponents.lowerBound) to \(exponents.upperBound), d of 64, 80 or "
                + "128: s·x rounds, and large scales spread the scores; a third of the rows have logits of "
                + "spread 1000 or more, whose exponentials underflow unless scaled first.",
            source: "scaled dot-product attention's 1/√d and temperatures (Vaswani et al. 2017; F.softmax(x / T))"
        ) { rng, max in
            var x = scoreRow(&rng, max)
            if rng.unit() < 1.0 / 3 { x = x.map { $0 * 100 } }
            return (x, AttentionOptions(scale: headScale(&rng, exponents: exponents), blocks: blockCount(&rng)))
        }
    }

    /// ggml's slopes for head h of H: m0^(h+1) below the largest power of two H' <= H, m1^(2(h−H')+1) above,
    /// m0 = 2^(−max_bias/H'), m1 = 2^(−max_bias/2/H'); the bias is slope · (j − (n − 1)), the distance back.
    static let alibi = attention(
        "alibi",
        "ALiBi biases slope·(j − (n − 1)) with ggml's slopes for max_bias 8 and 8, 12 or 32 heads.",
        source: "llama.cpp's soft_max_ext (scale, mask and ALiBi's max_bias), whose tests compare backends only "
            + "with each other (test-backend-ops)"
    ) { rng, max in
        let x = scoreRow(&rng, max)
        let n = x.count, heads = [8, 12, 32][rng.int(0...2)], h = rng.int(0...(heads - 1))
        let base = 1 << (Int.bitWidth - 1 - heads.leadingZeroBitCount)
        let maxBias = 8.0
        let m0 = Foundation.pow(2, -maxBias / Double(base)), m1 = Foundation.pow(2, -maxBias / 2 / Double(base))
        let slope = h < base ? Foundation.pow(m0, Double(h + 1)) : Foundation.pow(m1, Double(2 * (h - base) + 1))
        let bias = (0..<n).map { slope * Double($0 - (n - 1)) }
        return (x, AttentionOptions(scale: headScale(&rng, exponents: 0...0), bias: bias, blocks: blockCount(&rng)))
    }

    static let attentionMasks = attention(
        "attention-masks",
        "Boolean masks with none, some, all but one and all keys masked, under both conventions for a fully masked "
            + "row (NaN, zeros); masked keys may hold the largest scores.",
        source: "a fully masked row is NaN in PyTorch and JAX, zeros in PyTorch's safe softmax (pytorch PR #131060), "
            + "uniform in tt-metal (#56056)"
    ) { rng, max in
        var x = scoreRow(&rng, max)
        let n = x.count
        var masked = Array(repeating: false, count: n)
        switch rng.int(0...3) {
        case 0: break
        case 1: for j in 0..<n where rng.unit() < 0.4 { masked[j] = true }
        case 2:
            let kept = rng.int(0...(n - 1))
            for j in 0..<n where j != kept { masked[j] = true }
        default: masked = Array(repeating: true, count: n)
        }
        // A masked key with the row's largest score: masking by a finite constant must still hide it.
        for j in 0..<n where masked[j] && rng.unit() < 0.3 { x[j] = 40 + rng.uniform(0, 8) }
        return (
            x,
            AttentionOptions(
                scale: headScale(&rng, exponents: 0...4), masked: masked, blocks: blockCount(&rng),
                fullyMasked: rng.unit() < 0.5 ? .nan : .zeros)
        )
    }

    static let additiveMask = attention(
        "attention-additive-mask",
        "Masks given as −inf in the bias (ggml's mask) or in the logits (a causal mask's −inf), some rows fully.",
        source: "llama.cpp's soft_max_ext adds its mask, −inf at masked keys; a fully masked row is the convention "
            + "case of pytorch PR #131060"
    ) { rng, max in
        var x = scoreRow(&rng, max)
        let n = x.count
        let share = [0.3, 0.7, 1][rng.int(0...2)]
        var bias = (0..<n).map { _ in rng.normal() }
        for j in 0..<n where rng.unit() < share {
            if rng.unit() < 0.5 { bias[j] = -.infinity } else { x[j] = -.infinity }
        }
        return (
            x, AttentionOptions(bias: bias, blocks: blockCount(&rng), fullyMasked: rng.unit() < 0.5 ? .nan : .zeros)
        )
    }

    static let dominantSink = attention(
        "attention-sinks",
        "An attention sink 20, 60 or 745 above the largest score (every probability tiny or 0), or among the "
            + "scores; sometimes every key masked, leaving the sink alone.",
        source: "llama.cpp's soft_max_ext sinks: one logit per head in the denominator only (gpt-oss's attention sinks)"
    ) { rng, max in
        let x = scoreRow(&rng, max, cap: 64)
        let s = headScale(&rng, exponents: 0...2)
        let top = x.map { s * $0 }.max()!
        let sink = rng.unit() < 0.25 ? rng.normal() : top + [20, 60, 745][rng.int(0...2)]
        let masked: [Bool]? = rng.unit() < 0.2 ? Array(repeating: true, count: x.count) : nil
        return (x, AttentionOptions(scale: s, masked: masked, sink: sink, blocks: blockCount(&rng)))
    }

    static let splitRows = attention(
        "attention-blocks",
        "Rows split into 1 to 64 blocks, more blocks than keys (empty blocks) and masked leading blocks, so that "
            + "two empty states meet.",
        source: "merging two empty states (0, −inf) gave NaN (flashinfer#4051, vLLM PR #39148); an empty key set's "
            + "LSE was +inf (flash-attention PR #978)"
    ) { rng, max in
        let x = scoreRow(&rng, max, cap: 64)
        let n = x.count
        let blocks = rng.int(1...64)
        var masked = Array(repeating: false, count: n)
        if rng.unit() < 0.5 {
            // Mask the keys of the first few blocks.
            let end = AttentionOptions.block(rng.int(0...(blocks - 1)), of: blocks, count: n).upperBound
            for j in 0..<Swift.min(end, n - 1) { masked[j] = true }
        }
        return (x, AttentionOptions(scale: headScale(&rng, exponents: 0...2), masked: masked, blocks: blocks))
    }

    static let cancellingValues = attention(
        "attention-cancelling-values",
        "Values of both signs whose weighted sum cancels: exactly (tied scores, opposite values), or nearly "
            + "(values less their p-weighted mean).",
        source: "the output's sum of p v cancels as the vector-Jacobian product does; FlashAttention casts P to "
            + "bfloat16 or float16 before the PV product"
    ) { rng, max in
        let n = Swift.max(2, rng.logUniformLength(Swift.min(max, 64)))
        let levels = [0.0, 1, 2.5, -3]
        var x = (0..<n).map { _ in levels[rng.int(0...3)] }
        var v = (0..<n).map { _ in Double(rng.int(-3...3)) }
        let s = headScale(&rng, exponents: 0...3)
        if rng.unit() < 0.4 {
            // Distinct scores and values less their p-weighted mean, rounded to 2^-6: |o| is a few 2^-7 where
            // Σ p|v| is about 1.
            x = (0..<n).map { _ in rng.normal() * 2 }
            let e = x.map { Foundation.exp(s * $0 - s * x.max()!) }
            let mean = zip(e, v).map(*).reduce(0, +) / e.reduce(0, +)
            v = v.map { $0 - (mean * 64).rounded() / 64 }
        } else if rng.unit() < 0.6 {
            // Pairs of tied scores with opposite values: the output is exactly 0 when every pair cancels.
            for j in stride(from: 0, to: n - 1, by: 2) {
                x[j + 1] = x[j]
                v[j + 1] = -v[j]
            }
            if n % 2 == 1 { v[n - 1] = rng.unit() < 0.5 ? 0 : 0x1p-20 }
        }
        return (x, AttentionOptions(scale: s, values: v, blocks: blockCount(&rng)))
    }
}
