// The input classes of the audit: random rows, and an adversarial catalogue in which every class comes
// from a failure a real library shipped, or from a boundary of the arithmetic where such failures live
// (docs/design.md#input-classes).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Formats
import Kernels

extension AuditCase {
    /// The case in the `reference` input syntax, labels first; batch rows one per line.
    public var text: String {
        zip(rows, labels).map { LabeledRow(label: $1, logits: $0).text }.joined(separator: "\n")
    }

    /// The same with shortest round-trip decimals (exact too); batch rows separated by " ; ", as
    /// `softmax-audit check --row` reads them.
    public var decimalText: String {
        zip(rows, labels).map { LabeledRow(label: $1, logits: $0).decimalText }.joined(separator: " ; ")
    }

    /// The case as function f takes it: with the paired vector and options of a paired function.
    public func text(for f: AuditFunction) -> String {
        if f.takesBatchLine { return lossLine(Binary64.hexString) }
        guard f.shape.takesPair || carriesOptions(for: f) else { return text }
        return rows.indices.map { LabeledRow(self, row: $0, for: f).text }.joined(separator: "\n")
    }

    /// The same with shortest round-trip decimals.
    public func decimalText(for f: AuditFunction) -> String {
        if f.takesBatchLine { return lossLine(RowSyntax.decimal) }
        guard f.shape.takesPair || carriesOptions(for: f) else { return decimalText }
        return rows.indices.map { LabeledRow(self, row: $0, for: f).decimalText }.joined(separator: " ; ")
    }

    /// The case as f takes it, in shortest decimals, with only what f reads: no label for a function without
    /// one (`decimalText(for:)` keeps the label the case carries, which `check --row` ignores).
    public func displayText(for f: AuditFunction) -> String {
        if f.takesBatchLine { return lossLine(RowSyntax.decimal) }
        return rows.indices.map { LabeledRow(self, row: $0, for: f).decimalText }.joined(separator: " ; ")
    }

    /// Whether the case sets options of f's own (softplus's β or threshold; attention's always): its rows then
    /// show them.
    private func carriesOptions(for f: AuditFunction) -> Bool {
        if f.shape.isAttention { return true }
        return !RowSyntax.optionNames(for: f).isEmpty
            && (options.beta != LossOptions.defaultBeta || options.threshold != LossOptions.defaultThreshold)
    }
}

/// A named family of inputs.
public struct InputClass: Sendable, Identifiable {
    public let name: String
    public let summary: String
    /// The failure the class comes from (nil for the random classes).
    public let source: String?
    let generate: @Sendable (inout AuditRandom, _ maxLength: Int) -> AuditCase

    public var id: String { name }
    public var isAdversarial: Bool { source != nil }

    /// The case with this index under this seed: the same whatever the thread that asks.
    public func makeCase(seed: UInt64, index: Int, maxLength: Int) -> AuditCase {
        var rng = AuditRandom(seed: seed, stream: name, index: index)
        return generate(&rng, maxLength)
    }
}

// MARK: - Building blocks

enum Rows {
    static let inf = Double.infinity

    /// A label: on the argmax, on the smallest logit, or random, in equal shares.
    /// A batch for the cross-entropy loss: `count` rows of N(0, 4²) logits, of one length from 2 to 64.
    static func lossBatch(count: ClosedRange<Int>, maxLength max: Int, _ rng: inout AuditRandom) -> [[Double]] {
        let n = Swift.max(2, rng.logUniformLength(min(max, 64)))
        let m = rng.int(count)
        return (0..<m).map { _ in (0..<n).map { _ in rng.normal() * 4 } }
    }

    /// Random cross-entropy loss options for rows of n classes: weights (with zeros) half the time, label
    /// smoothing 0 or 0.1, and any reduction.
    static func lossOptions(_ n: Int, _ ignore: Int, _ rng: inout AuditRandom) -> CrossEntropyOptions {
        let weights: [Double]? = rng.unit() < 0.5 ? nil : (0..<n).map { _ in [0, 0.5, 1, 2.5][rng.int(0...3)] }
        return CrossEntropyOptions(
            classWeights: weights, ignoreIndex: ignore, labelSmoothing: rng.unit() < 0.5 ? 0 : 0.1,
            reduction: [.none, .sum, .mean][rng.int(0...2)])
    }

    static func label(_ x: [Double], _ rng: inout AuditRandom) -> Int {
        switch rng.int(0...2) {
        case 0: return argmax(x)
        case 1: return argmin(x)
        default: return rng.int(0...(x.count - 1))
        }
    }

    static func argmax(_ x: [Double]) -> Int { x.indices.max { x[$0] < x[$1] || (x[$0] == x[$1] && $0 > $1) }! }
    static func argmin(_ x: [Double]) -> Int { x.indices.min { x[$0] < x[$1] || (x[$0] == x[$1] && $0 < $1) }! }

    /// A small dyadic value k / 2^8 with |k| < 2^12: few bits, so adding an offset of 1e4 or more is exact.
    static func dyadic(_ rng: inout AuditRandom, scale: Double = 1) -> Double {
        Double(rng.int(-4095...4095)) / 256 * scale
    }

    static func single(_ x: [Double], _ rng: inout AuditRandom) -> AuditCase { AuditCase(x, label: label(x, &rng)) }
}

extension InputClass {
    /// A class of single rows with the default label policy.
    static func rows(
        _ name: String, _ summary: String, source: String? = nil,
        _ make: @escaping @Sendable (inout AuditRandom, Int) -> [Double]
    ) -> InputClass {
        InputClass(name: name, summary: summary, source: source) { rng, max in
            let x = make(&rng, max)
            return Rows.single(x, &rng)
        }
    }

    /// Rows c + b_j with b_j = k_j · ulp(c) · 2^m small: every sum is exact, so the exact softmax is that of b.
    static func offset(_ c: Double, name: String) -> InputClass {
        rows(
            name, "A shared offset of \(c) plus small deviations on the offset's own grid (exact sums).",
            source:
                "pytorch#11752: CE([1e8, 1e8]) gave 0 instead of log 2; pytorch#38839 and mlx#4169: log_softmax(x - "
                + "1e7) gave whole numbers"
        ) { rng, max in
            let n = rng.logUniformLength(min(max, 256))
            let step = Swift.max(c.magnitude.ulp, 0x1p-8)
            return (0..<n).map { _ in c + Double(rng.int(-64...64)) * step }
        }
    }

    static func dominant(_ lead: Double) -> InputClass {
        rows(
            "dominant-\(lead < 1000 ? String(Int(lead)) : "1e4")",
            "One logit leads every other by \(lead): p ≈ 1 there and the tail lives in log1p territory.",
            source:
                "pytorch#113708: log_softmax is exactly 0 at the max once the lead passes ~36; scipy#18295: "
                + "logsumexp([0, -40]) was 0"
        ) { rng, max in
            let n = Swift.max(2, rng.logUniformLength(min(max, 512)))
            var x = (0..<n).map { _ in -lead - rng.unit() }
            x[rng.int(0...(n - 1))] = rng.uniform(-1, 1)
            return x
        }
    }
}

// MARK: - The catalogue

extension InputClass {
    /// Every class, random ones first, in report order.
    public static let all: [InputClass] = random + adversarial

    public static func named(_ name: String) -> InputClass? { all.first { $0.name == name } }

    /// A class of the precision audit by name.
    public static func precisionNamed(_ name: String) -> InputClass? { precision.first { $0.name == name } }

    static let random: [InputClass] = [
        rows(
            "normal",
            "Normal logits at a scale drawn log-uniformly from 1e-3 to 1e3; lengths log-uniform up to the maximum."
        ) { rng, max in
            let scale = Double.exp10(rng.uniform(-3, 3))
            return (0..<rng.logUniformLength(max)).map { _ in rng.normal() * scale }
        },
        rows(
            "uniform",
            "Logits uniform in [-s, s], s log-uniform from 1e-3 to 1e3; lengths log-uniform up to the maximum."
        ) { rng, max in
            let s = Double.exp10(rng.uniform(-3, 3))
            return (0..<rng.logUniformLength(max)).map { _ in rng.uniform(-s, s) }
        },
        rows(
            "bit-patterns",
            "Finite doubles drawn uniformly over their bit patterns (Herbie's sampling); lengths up to 64."
        ) { rng, max in
            (0..<rng.logUniformLength(min(max, 64))).map { _ in rng.bitPatternDouble() }
        },
    ]

    static let adversarial: [InputClass] = failuresThatShipped + attentionClasses

    /// The adversarial classes of the softmax family, the binary family, the paired functions and the loss.
    static let failuresThatShipped: [InputClass] = [
        offset(1e4, name: "offset-1e4"),
        offset(1e8, name: "offset-1e8"),
        offset(1e16, name: "offset-1e16"),
        offset(1e300, name: "offset-1e300"),
        offset(-1e300, name: "offset-minus-1e300"),
        rows(
            "exp-overflow-edge",
            "Logits in [708, 711], across exp's overflow threshold log(greatestFinite) ≈ 709.78.",
            source: "the tutorial's softmax: exp overflows to inf and inf/inf is NaN"
        ) { rng, max in
            (0..<rng.logUniformLength(min(max, 64))).map { _ in rng.uniform(708, 711) }
        },
        rows(
            "exp-underflow-edge", "Every logit in [-746, -744], across exp's underflow to zero at ≈ -745.13.",
            source: "the tutorial's softmax: every exp underflows and 0/0 is NaN"
        ) { rng, max in
            (0..<rng.logUniformLength(min(max, 64))).map { _ in rng.uniform(-746, -744) }
        },
        rows(
            "extreme-magnitudes",
            "±greatestFiniteMagnitude, ±1e308 and small values: x_max - x_min overflows to inf.",
            source: "x - max overflows to -inf when x_max = 1e308 and x_min = -1e308 (docs/design.md#input-classes)"
        ) { rng, max in
            let pool: [Double] = [.greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1e308, -1e308, 0, 1, -1]
            var x = (0..<Swift.max(2, rng.logUniformLength(min(max, 16)))).map { _ in
                pool[rng.int(0...(pool.count - 1))]
            }
            x[0] = 1e308
            x[x.count - 1] = -1e308
            return x
        },
        rows(
            "subnormal-logits", "Logits that are subnormal numbers or zero, of both signs.",
            source: "gradual underflow in the inputs (docs/design.md#input-classes)"
        ) { rng, max in
            (0..<rng.logUniformLength(min(max, 64))).map { _ in
                // k · 2^-1074 with |k| < 2^52: every value subnormal (or zero), small ones half the time.
                Double(rng.int(0...1) == 0 ? rng.int(-1_000_000...1_000_000) : rng.int(-(1 << 52 - 1)...(1 << 52 - 1)))
                    * 0x1p-1074
            }
        },
        rows(
            "ties-all-equal", "Every logit equal: p = 1/n and CE = log n exactly.",
            source: "pytorch#147284: float64 rows failing to sum to 1"
        ) { rng, max in
            Array(repeating: rng.normal() * 100, count: rng.logUniformLength(max))
        },
        rows(
            "ties-maxima", "Two to four logits share the maximum; the rest are below it.",
            source: "the maximum's index is ambiguous (docs/design.md#input-classes)"
        ) { rng, max in
            let n = Swift.max(2, rng.logUniformLength(min(max, 256)))
            let top = rng.normal() * 10
            var x = (0..<n).map { _ in top - 1 - rng.unit() * 10 }
            // Two to four distinct positions: consecutive from a random start, wrapping.
            let start = rng.int(0...(n - 1))
            for k in 0..<min(n, rng.int(2...4)) { x[(start + k) % n] = top }
            return x
        },
        rows(
            "maxima-one-ulp-apart", "The two largest logits are adjacent doubles.",
            source: "the two largest logits one ulp apart (docs/design.md#input-classes)"
        ) { rng, max in
            let n = Swift.max(2, rng.logUniformLength(min(max, 256)))
            let top = rng.normal() * 1000
            var x = (0..<n).map { _ in top - rng.unit() * 20 }
            let i = rng.int(0...(n - 1))
            let j = (i + 1 + rng.int(0...(n - 2))) % n
            x[i] = top
            x[j] = top.nextUp
            return x
        },
        dominant(16), dominant(36), dominant(40), dominant(745), dominant(1e4),
        rows(
            "mask-some", "Some logits are -inf (masked), the rest normal.",
            source: "attention masks: masked entries must get probability 0 (docs/design.md#input-classes)"
        ) { rng, max in
            let n = Swift.max(2, rng.logUniformLength(min(max, 256)))
            var x = (0..<n).map { _ in rng.normal() * 5 }
            for i in 0..<n where rng.unit() < 0.3 { x[i] = -Rows.inf }
            x[rng.int(0...(n - 1))] = rng.normal()
            return x
        },
        rows(
            "mask-all", "Every logit -inf: a fully masked attention row.",
            source: "NaN in PyTorch, JAX and SciPy; zeros in PyTorch's safe softmax"
        ) { rng, max in
            Array(repeating: -Rows.inf, count: rng.logUniformLength(min(max, 64)))
        },
        rows(
            "plus-inf", "One +inf logit among finite ones (the limit is one-hot).",
            source: "NaN in PyTorch, JAX and SciPy; one-hot proposed in scipy PR #24225"
        ) { rng, max in
            let n = Swift.max(2, rng.logUniformLength(min(max, 64)))
            var x = (0..<n).map { _ in rng.normal() * 5 }
            x[rng.int(0...(n - 1))] = Rows.inf
            return x
        },
        rows(
            "nan-entries", "A NaN among finite logits.",
            source: "NaN propagation, as every peer has it (docs/design.md#special-values)"
        ) { rng, max in
            let n = rng.logUniformLength(min(max, 64))
            var x = (0..<n).map { _ in rng.normal() * 5 }
            x[rng.int(0...(n - 1))] = .nan
            return x
        },
        InputClass(
            name: "label-on-argmax", summary: "A dominant logit with the label on it: p_t ≈ 1, the loss ~ e^-lead.",
            source:
                "the tutorial's delta_cross_entropy: p_t - 1 cancels; a loss of 1e-300 must keep its relative accuracy"
        ) { rng, max in
            let n = Swift.max(2, rng.logUniformLength(min(max, 256)))
            let lead = rng.uniform(20, 700)
            var x = (0..<n).map { _ in -lead - rng.unit() * 5 }
            let t = rng.int(0...(n - 1))
            x[t] = 0
            return AuditCase(x, label: t)
        },
        InputClass(
            name: "label-on-smallest",
            summary: "The label on the smallest logit, far below the others: p_t underflows, the loss is finite.",
            source: "the tutorial's cross_entropy: -log(softmax) gives inf where the true loss is finite"
        ) { rng, max in
            let n = Swift.max(2, rng.logUniformLength(min(max, 256)))
            var x = (0..<n).map { _ in rng.normal() * 5 }
            let t = rng.int(0...(n - 1))
            x[t] = -rng.uniform(700, 2000)
            return AuditCase(x, label: t)
        },
        rows(
            "odd-widths", "Odd lengths between 513 and 1023, normal logits.",
            source: "pytorch#147284: float64 rows of odd widths failing to sum to 1"
        ) { rng, max in
            let n = Swift.min(max, 2 * rng.int(256...511) + 1)
            return (0..<n).map { _ in rng.normal() * 3 }
        },
        rows(
            "long-rows", "Lengths between half the maximum and the maximum, normal logits.",
            source: "summation error grows with n (Blanchard, Higham & Higham 2021)"
        ) { rng, max in
            (0..<rng.int(Swift.max(1, max / 2)...max)).map { _ in rng.normal() * 3 }
        },
        rows(
            "sigmoid-saturation",
            "Logits where the binary family saturates in binary64: around ±36.7 (sigma rounds to 1), -709.78 (e^-x "
                + "overflows) and -745.13 (sigma underflows), and beyond.",
            source: "pytorch#1835: logsigmoid(-300) gave -inf; sigma(x) rounds to 1 above 36.7, e^-x overflows below "
                + "-709.78"
        ) { rng, max in
            let centers: [Double] = [36.7, -36.7, -709.78, -745.13, 20, -740]
            return (0..<rng.logUniformLength(min(max, 64))).map { _ in
                let center = centers[rng.int(0...(centers.count - 1))]
                return center + rng.uniform(-4, 4)
            }
        },
        InputClass(
            name: "softplus-beta",
            summary: "Softplus with beta 0.01, 0.5, 2, 10 or 100 (threshold 20) on logits around 20/beta, where "
                + "PyTorch switches to x, and across exp's range in beta x.",
            source: "F.softplus(x, beta, threshold): log1p(exp(beta x))/beta, x itself where beta x > threshold"
        ) { rng, max in
            let beta = [0.01, 0.5, 2, 10, 100][rng.int(0...4)]
            let x = (0..<rng.logUniformLength(min(max, 64))).map { _ in
                rng.unit() < 0.6 ? (20 + rng.uniform(-4, 4)) / beta : rng.uniform(-740, 700) / beta
            }
            return AuditCase(x, label: 0, options: LossOptions(beta: beta))
        },
        InputClass(
            name: "zero-weight-on-max",
            summary: "A paired vector (logsumexp's b, KL's q, BCE's y) that is 0 on the maximum, which leads the "
                + "other logits by 750 to 2000; the other entries in (0, 1].",
            source: "jax#5370: logsumexp([-1000, -2], b=[1, 0]) gave -inf instead of -1000"
        ) { rng, max in
            let n = Swift.max(2, rng.logUniformLength(min(max, 64)))
            let top = rng.uniform(-5, 5)
            var x = (0..<n).map { _ in top - rng.uniform(750, 2000) }
            let k = rng.int(0...(n - 1))
            x[k] = top
            var b: [Double] = (0..<n).map { _ in [1, 0.5, 0.25, rng.unit()][rng.int(0...3)] }
            b[k] = 0
            return AuditCase(x, label: k, pair: b)
        },
        InputClass(
            name: "masked-targets",
            summary: "Rows with -inf logits (masked classes) and a paired vector in [0, 1]: zero on most masked "
                + "entries, and on every other row 0.9 on one of them.",
            source: "optax#896: [-inf, 0] with target [0, 1] gave NaN from 0 * -inf; pytorch#135359: a logit of "
                + "-inf with target 0.9 gave NaN instead of inf"
        ) { rng, max in
            let n = Swift.max(2, rng.logUniformLength(min(max, 64)))
            var x = (0..<n).map { _ in rng.normal() * 3 }
            var q = (0..<n).map { _ in rng.unit() }
            let masked = (0..<n).filter { _ in rng.unit() < 0.4 }.filter { $0 != 0 }
            for i in masked {
                x[i] = -.infinity
                q[i] = 0
            }
            if let i = masked.first, rng.unit() < 0.5 { q[i] = 0.9 }
            return AuditCase(x, label: 0, pair: q)
        },
        InputClass(
            name: "pos-weight",
            summary: "Binary cross-entropy's pos_weight (2, 10, 100 or 1/4) with logits around +-120 and up to "
                + "+-800, targets 0, 1 or uniform.",
            source: "pytorch#13773: binary_cross_entropy_with_logits with pos_weight gave NaN at a logit of -120"
        ) { rng, max in
            let n = rng.logUniformLength(min(max, 64))
            let x = (0..<n).map { _ in
                rng.unit() < 0.5 ? (rng.unit() < 0.5 ? 120 : -120) + rng.uniform(-1, 1) : rng.uniform(-800, 800)
            }
            let y: [Double] = (0..<n).map { _ in [0, 1, rng.unit()][rng.int(0...2)] }
            let w = [2, 10, 100, 0.25][rng.int(0...3)]
            return AuditCase(x, label: 0, pair: y, options: LossOptions(posWeight: w))
        },
        InputClass(
            name: "self-target",
            summary:
                "KL(q || softmax(x)) with q = softmax(x) rounded to doubles: the exact KL is tiny, of either sign.",
            source: "pytorch#32520: kl_div(log_softmax(a), softmax(a)) gave a negative KL"
        ) { rng, max in
            let n = Swift.max(2, rng.logUniformLength(min(max, 256)))
            let scale = Double.exp10(rng.uniform(-1, 1.5))
            let x = (0..<n).map { _ in rng.normal() * scale }
            let top = x.max()!
            let e = x.map { exp($0 - top) }
            let total = e.reduce(0, +)
            return AuditCase(x, label: 0, pair: e.map { $0 / total })
        },
        InputClass(
            name: "ignored-rows",
            summary: "Batches of 2 to 8 rows for the cross-entropy loss, some labels equal to ignore_index (-100, or "
                + "class 0), class weights with zeros, label smoothing 0 or 0.1, each reduction.",
            source: "F.cross_entropy's ignore_index: an ignored row leaves the sum and the mean's divisor, including "
                + "its label smoothing term"
        ) { rng, max in
            let rows = Rows.lossBatch(count: 2...8, maxLength: max, &rng), n = rows[0].count
            let ignore = rng.unit() < 0.5 ? CrossEntropyOptions.defaultIgnoreIndex : 0
            var labels = rows.map { Rows.label($0, &rng) }
            for i in labels.indices where rng.unit() < 0.4 { labels[i] = ignore }
            return AuditCase(
                rows: rows, labels: labels, options: LossOptions(crossEntropy: Rows.lossOptions(n, ignore, &rng)))
        },
        InputClass(
            name: "all-ignored",
            summary: "Every label equal to ignore_index: the mean is 0/0, NaN in PyTorch (the reference's "
                + "convention; 0 elsewhere is counted as a convention difference), the sum 0.",
            source: "pytorch#70348: nn.CrossEntropyLoss returns NaN when every label is ignore_index"
        ) { rng, max in
            let rows = Rows.lossBatch(count: 1...6, maxLength: max, &rng), n = rows[0].count
            var options = Rows.lossOptions(n, CrossEntropyOptions.defaultIgnoreIndex, &rng)
            if rng.unit() < 0.6 { options.reduction = .mean }
            return AuditCase(
                rows: rows, labels: Array(repeating: CrossEntropyOptions.defaultIgnoreIndex, count: rows.count),
                options: LossOptions(crossEntropy: options))
        },
        InputClass(
            name: "zero-weight-classes",
            summary: "Class weights of 0 on the labels of some or all rows: the weighted mean's divisor shrinks or "
                + "is 0 (0/0 = NaN, or inf with label smoothing's weight elsewhere).",
            source: "F.cross_entropy with weight: the mean divides by the summed weights of the labels, not by the "
                + "number of rows"
        ) { rng, max in
            let rows = Rows.lossBatch(count: 1...6, maxLength: max, &rng), n = rows[0].count
            let labels = rows.map { Rows.label($0, &rng) }
            var weights = (0..<n).map { _ in [0.5, 1, 2, 3][rng.int(0...3)] }
            for t in labels where rng.unit() < 0.7 { weights[t] = 0 }
            let options = CrossEntropyOptions(
                classWeights: weights, labelSmoothing: rng.unit() < 0.5 ? 0 : 0.1,
                reduction: [.none, .sum, .mean, .mean][rng.int(0...3)])
            return AuditCase(rows: rows, labels: labels, options: LossOptions(crossEntropy: options))
        },
        InputClass(
            name: "smoothing-vocabulary",
            summary: "Label smoothing 0.1 over long rows (up to 262,144 classes, capped by --max-length) with a "
                + "dominant logit: the smoothing term sums log-probabilities over the whole vocabulary.",
            source: "transformers#10674: label smoothing over a large vocabulary overflowed the sum of "
                + "log-probabilities to inf in float16"
        ) { rng, max in
            let n = Swift.max(2, rng.logUniformLength(min(max, 262_144)))
            var x = (0..<n).map { _ in rng.normal() * 3 }
            let t = rng.int(0...(n - 1))
            x[t] += [10, 30, 60][rng.int(0...2)]
            let options = CrossEntropyOptions(labelSmoothing: 0.1, reduction: .mean)
            return AuditCase(rows: [x], labels: [t], options: LossOptions(crossEntropy: options))
        },
        InputClass(
            name: "batches", summary: "Two to eight rows of one length, a label each; one row may lead by hundreds.",
            source: "the tutorial normalizes over the whole matrix instead of per row"
        ) { rng, max in
            let n = Swift.max(2, rng.logUniformLength(min(max, 64)))
            let m = rng.int(2...8)
            var rows = (0..<m).map { _ in (0..<n).map { _ in rng.normal() * 3 } }
            if rng.unit() < 0.5 { rows[0] = rows[0].map { $0 + 300 } }
            return AuditCase(rows: rows, labels: rows.map { Rows.label($0, &rng) })
        },
    ]
}

extension Double {
    static func exp10(_ x: Double) -> Double { pow(10, x) }
}

// MARK: - The precision audit's classes

extension InputClass {
    /// The classes of the precision audit (`run --precision`): thresholds of float, float16 and
    /// bfloat16 rather than binary64's. Every value is drawn so that it survives rounding to float16
    /// (a few significant bits, magnitudes below 65504); kernels see the case rounded to their format.
    public static let precision: [InputClass] = formatThresholds + attentionPrecisionClasses

    /// The precision audit's classes of the softmax family, the binary family, the paired functions and the loss.
    static let formatThresholds: [InputClass] = [
        rows(
            "normal",
            "Normal logits at a scale drawn log-uniformly from 1e-2 to 10; lengths log-uniform up to the maximum."
        ) { rng, max in
            let scale = Double.exp10(rng.uniform(-2, 1))
            return (0..<rng.logUniformLength(max)).map { _ in rng.normal() * scale }
        },
        rows(
            "uniform-row-past-256",
            "Every logit equal, 257 to 1,024 of them: a bfloat16 running sum of ones sticks at 256.",
            source:
                "bfloat16 accumulation saturating at 256, so a uniform row of 512 gives about 1/256 "
                + "(docs/design.md#input-classes)"
        ) { rng, max in
            Array(repeating: Rows.dyadic(&rng), count: rng.int(Swift.min(257, max)...Swift.min(1024, max)))
        },
        rows(
            "uniform-row-past-2048",
            "Every logit equal, 2,049 to 8,192 of them: a float16 running sum of ones sticks at 2048.",
            source: "float16 accumulation sticking at 2048 (docs/design.md#input-classes)"
        ) { rng, max in
            Array(repeating: Rows.dyadic(&rng), count: rng.int(Swift.min(2049, max)...Swift.min(8192, max)))
        },
        rows(
            "near-float16-overflow", "Logits between 9 and 12, across float16's exp overflow at 11.09.",
            source: "exp overflowing float16 above 11.09 (docs/design.md#input-classes)"
        ) { rng, max in
            (0..<rng.logUniformLength(min(max, 256))).map { _ in 9 + 3 * rng.unit() }
        },
        rows(
            "near-float-overflow", "Logits between 80 and 95, across float's and bfloat16's exp overflow at 88.72.",
            source: "exp overflowing binary32 above 88.72 (docs/design.md#input-classes)"
        ) { rng, max in
            (0..<rng.logUniformLength(min(max, 256))).map { _ in 80 + 15 * rng.unit() }
        },
        dominant(8),
        dominant(18),
        rows(
            "label-on-smallest",
            "A label on a logit 20 to 120 below the maximum: p_t underflows float16 (2^-24) or float (2^-149).",
            source:
                "log of an underflowed probability gives inf where the loss is finite (docs/design.md#input-classes)"
        ) { rng, max in
            let n = Swift.max(2, rng.logUniformLength(min(max, 64)))
            var x = (0..<n).map { _ in rng.normal() }
            x[n - 1] = -20 - 100 * rng.unit()
            return x
        }.labelled { x in x.count - 1 },
        InputClass(
            name: "smoothing-vocabulary-float16",
            summary: "Label smoothing 0.1 over 2,048 to 8,192 classes (capped by --max-length) with a logit leading by "
                + "10 or 30: the smoothing term sums -log p over the vocabulary, past float16's 65504.",
            source: "transformers#10674: label smoothing over a large vocabulary overflowed the sum of "
                + "log-probabilities to inf in float16"
        ) { rng, max in
            let n = rng.int(Swift.min(2048, max)...Swift.min(8192, max))
            var x = (0..<n).map { _ in rng.normal() * 3 }
            let t = rng.int(0...(n - 1))
            x[t] += [10, 30][rng.int(0...1)]
            let options = CrossEntropyOptions(labelSmoothing: 0.1, reduction: .mean)
            return AuditCase(rows: [x], labels: [t], options: LossOptions(crossEntropy: options))
        },
        rows(
            "long-rows", "Lengths between half the maximum and the maximum, normal logits.",
            source: "summation error grows with n (Blanchard, Higham & Higham 2021)"
        ) { rng, max in
            (0..<rng.int(Swift.max(1, max / 2)...max)).map { _ in rng.normal() * 3 }
        },
        rows(
            "sigmoid-saturation",
            "Logits where the binary family saturates in the formats: sigma rounds to 1 above 6.2 (bfloat16), 8.3 "
                + "(float16) and 17.3 (float); e^-x overflows below -11.09 (float16) and -88.72; sigma underflows "
                + "below -17.3 (float16) and -103.97.",
            source: "pytorch#1835: logsigmoid gave -inf; the formats' thresholds (docs/design.md#input-classes)"
        ) { rng, max in
            let centers: [Double] = [6.2, 8.3, 17.3, -11.09, -17.3, -88.72, -103.97]
            return (0..<rng.logUniformLength(min(max, 64))).map { _ in
                centers[rng.int(0...(centers.count - 1))] + rng.uniform(-2, 2)
            }
        },
        // Partly masked rows, judged like finite ones (MaskedRows.swift), in the formats too.
        all.first { $0.name == "mask-some" }!,
    ]

    /// The same rows with the label `label(x)` instead of the default policy.
    func labelled(_ label: @escaping @Sendable ([Double]) -> Int) -> InputClass {
        let generate = self.generate
        return InputClass(name: name, summary: summary, source: source) { rng, max in
            let c = generate(&rng, max)
            return AuditCase(c.row, label: label(c.row))
        }
    }
}
