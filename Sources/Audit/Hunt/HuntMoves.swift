// The hunt's inputs: structured random rows, and the moves that change one. Both follow the structure of
// the functions rather than their bits: the row's length (odd widths, powers of two and their neighbours,
// long rows), the lead of the maximum (uniform where e^-lead is within a double's reach, and at the
// thresholds k·ln 2 where it crosses a power of two), a shared offset (at every binade where an integer or a
// significand runs out), ties and near-ties, the label's position, values one ulp from a power of two, and
// the overflow and underflow edges of exp in the kernel's format (docs/design.md#the-hunt).
import Foundation
import Formats

/// What the moves may produce for one function of one kernel.
struct HuntSpace: Sendable {
    let function: AuditFunction
    /// The kernel's storage format: thresholds, offsets and ulps are the format's.
    let format: BinaryFormat
    /// The longest row: the hunt's maximum, or the function's own cap (the Jacobian's 64, …).
    let maxLength: Int
    /// Where the sweeps' Weyl sequences start, from the seed: another seed, other points.
    let phase: Double

    init(function: AuditFunction, format: BinaryFormat, maxLength: Int, seed: UInt64 = 0) {
        self.function = function
        self.format = format
        phase = Double(seed % (1 << 32)) * HuntMoves.goldenRatioConjugate
        var cap = maxLength
        switch function {
        case .jacobian: cap = min(cap, AuditFunction.jacobianMaxLength)
        case .sigmoid, .logSigmoid, .softplus, .sigmoidGradient, .logSigmoidGradient, .softplusGradient,
            .binaryCrossEntropy, .binaryCrossEntropyGradient:
            cap = min(cap, AuditFunction.elementwiseMaxLength)
        case .klDivergence, .klDivergenceGradient, .weightedLogSumExp, .crossEntropyLoss, .crossEntropyLossGradient,
            .scaledSoftmax, .scaledLogSumExp, .attentionOutput, .attentionStates:
            cap = min(cap, AuditFunction.mpfrOnlyMaxLength)
        case .softmax, .logSoftmax, .logSumExp, .crossEntropy, .crossEntropyGradient, .batchCrossEntropy,
            .batchCrossEntropyGradient, .vectorJacobianProduct:
            break
        }
        self.maxLength = max(1, cap)
    }

    /// Rows per case: one, or two to eight for the batch functions.
    var batchRange: ClosedRange<Int> { function.isBatch ? 2...8 : 1...1 }

    /// ln 2, and the exponent k of the largest threshold k·ln 2 that matters in the format: e^-lead below
    /// the smallest subnormal (1074·ln 2 ≈ 744.4 in binary64).
    static let ln2 = 0.693_147_180_559_945_3
    var largestThreshold: Int { format.precision - format.minExponent + 1 }
    /// The largest exponent of an offset: the format's largest binade.
    var largestBinade: Int { format.maxExponent }
}

/// Structured random rows and the moves of the search.
enum HuntMoves {
    // MARK: - Structured random cases

    /// The draw-th random row of a hunt (draws are numbered across islands). Three draws in four are sweeps,
    /// so that two axes are covered evenly whatever else the rows do (the points of a Weyl sequence, i·φ mod 1):
    /// - two in four, a lead sweep: a short row (2 to 8 logits, or to 64) whose maximum leads by the next point
    ///   over [0, 2p·ln 2] (three sweeps in four) or over the whole range of exp: a lead window of width w on
    ///   short rows is met once per ~2p·ln 2 / w lead sweeps (150 for a window of 0.5 in binary64);
    /// - one in four, a length sweep: the next length on a log scale from 1 to the longest row, odd and even in
    ///   turn, with its maximum first or last in turn (a vector loop's head or tail), leading by a lead at exp's
    ///   edges half the time.
    /// The fourth is a structured random row.
    static func randomCase(_ space: HuntSpace, _ rng: inout AuditRandom, draw: Int = 0) -> AuditCase {
        let count = rng.int(space.batchRange)
        if (draw % 4 == 1 || draw % 4 == 2) && space.maxLength >= 2 {
            let sweep = draw / 4 * 2 + draw % 4 - 1
            let n = min(space.maxLength, rng.unit() < 0.8 ? rng.int(2...8) : rng.int(9...64))
            let top = sweep % 4 == 3 ? Double(space.largestThreshold + 4) : Double(2 * space.format.precision)
            let lead = weyl(sweep, space) * top * HuntSpace.ln2
            let rows = (0..<count).map { _ in
                withLead(randomRow(n, space, &rng, dominant: false), lead, at: randomPosition(n, &rng))
            }
            return AuditCase(rows: rows, labels: rows.map { randomLabel($0, &rng) })
        }
        if draw % 4 == 3 {
            let sweep = draw / 4
            var n = Int(exp(weyl(sweep, space) * log(Double(space.maxLength))).rounded())
            if (n % 2 == 1) != (sweep % 2 == 0) { n += n < space.maxLength ? 1 : -1 }
            n = min(space.maxLength, max(1, n))
            let rows = (0..<count).map { _ in
                var x = randomRow(n, space, &rng, dominant: false)
                let lead = rng.unit() < 0.5 ? edgeLead(space, &rng) : randomLead(space, &rng)
                if n > 1 { x = withLead(x, lead, at: (sweep / 2) % 2 == 0 ? 0 : n - 1) }
                return x
            }
            return AuditCase(rows: rows, labels: rows.map { randomLabel($0, &rng) })
        }
        let n = randomLength(space, &rng)
        var rows: [[Double]] = []
        for _ in 0..<count { rows.append(randomRow(n, space, &rng)) }
        // A batch: rows of one length, each drawn alike.
        let labels = rows.map { randomLabel($0, &rng) }
        var c = AuditCase(rows: rows, labels: labels)
        if rng.unit() < 0.5 { c = withMaximum(c, at: randomOffset(space, &rng)) }
        return c
    }

    /// The i-th point of the Weyl sequence (phase + i·φ) mod 1.
    static func weyl(_ i: Int, _ space: HuntSpace) -> Double {
        (space.phase + Double(i) * goldenRatioConjugate).truncatingRemainder(dividingBy: 1)
    }

    /// A length: log-uniform, small, a power of two or its neighbour, odd, a vector width's tail, or long.
    static func randomLength(_ space: HuntSpace, _ rng: inout AuditRandom) -> Int {
        let top = space.maxLength
        let bits = Int.bitWidth - 1 - top.leadingZeroBitCount
        var n: Int
        switch rng.int(0...6) {
        case 0: n = rng.logUniformLength(top)
        case 1: n = rng.int(1...min(top, 8))
        case 2: n = rng.int(1...min(top, 32))
        case 3: n = (1 << rng.int(0...bits)) + rng.int(-1...1)
        case 4: n = rng.logUniformLength(top) | 1
        case 5: n = (rng.logUniformLength(max(1, top / 64)) << rng.int(3...6)) + rng.int(-7...7)
        default: n = rng.int(max(1, top / 4)...top)
        }
        return min(top, max(1, n))
    }

    /// A row of n logits: normal or uniform at a random scale, integers, all equal, or subnormal, with a
    /// dominant logit half the time.
    static func randomRow(_ n: Int, _ space: HuntSpace, _ rng: inout AuditRandom, dominant: Bool = true) -> [Double] {
        let scale = Double(sign: .plus, exponent: rng.int(-10...10), significand: 1 + rng.unit())
        var x: [Double]
        switch rng.int(0...4) {
        case 0: x = (0..<n).map { _ in rng.normal() * scale }
        case 1: x = (0..<n).map { _ in rng.uniform(-scale, scale) }
        case 2: x = (0..<n).map { _ in Double(rng.int(-8...8)) }
        case 3: x = Array(repeating: rng.normal() * scale, count: n)
        default:
            let tiny = Double.leastNonzeroMagnitude * Double(1 << 20)
            x = (0..<n).map { _ in rng.uniform(-tiny, tiny) }
        }
        x = x.map(space.format.round)
        if dominant && n > 1 && rng.unit() < 0.7 {
            x = withLead(x, randomLead(space, &rng), at: randomPosition(n, &rng))
        }
        return x
    }

    /// A lead: uniform where e^-lead is within a double word's reach of 1 (2p·ln 2, 73.5 in binary64), uniform
    /// over the whole range (to e^-lead below the least subnormal), at a threshold k·ln 2 (e^-lead crossing
    /// 2^-k) give or take 1/2, small (2^-20 to 2^4) or large (2^4 to 2^14).
    static func randomLead(_ space: HuntSpace, _ rng: inout AuditRandom) -> Double {
        let reach = Double(2 * space.format.precision) * HuntSpace.ln2
        switch rng.int(0...19) {
        case 0...5: return rng.uniform(0, reach)
        case 6...9: return rng.uniform(0, Double(space.largestThreshold + 4) * HuntSpace.ln2)
        case 10...12:
            let k = Double(rng.int(1...space.largestThreshold))
            return max(0, k * HuntSpace.ln2 + rng.uniform(-0.5, 0.5))
        case 13...14: return edgeLead(space, &rng)
        case 15...16: return Double(sign: .plus, exponent: rng.int(-20...3), significand: 1 + rng.unit())
        default: return Double(sign: .plus, exponent: rng.int(4...13), significand: 1 + rng.unit())
        }
    }

    /// A lead around exp's overflow threshold (where a shift by a wrong maximum overflows) or its underflow one
    /// (below which e^-lead is not a value of the format), from 1 below to 8 above.
    static func edgeLead(_ space: HuntSpace, _ rng: inout AuditRandom) -> Double {
        let edge = rng.unit() < 0.5 ? Double(space.format.maxExponent + 1) : Double(space.largestThreshold)
        return edge * HuntSpace.ln2 + rng.uniform(-1, 8)
    }

    /// A shared offset: a power of two times a random significand, at a binade where integers or
    /// significands run out (2^0 … 2^64) or anywhere in the format's range, with either sign, or a power of ten.
    static func randomOffset(_ space: HuntSpace, _ rng: inout AuditRandom) -> Double {
        let sign: FloatingPointSign = rng.unit() < 0.75 ? .plus : .minus
        let e: Int
        switch rng.int(0...4) {
        case 0...1: e = rng.int(0...min(64, space.largestBinade))
        case 2...3: e = rng.int(0...space.largestBinade)
        default:
            let decimal = rng.int(1...Int(Double(space.largestBinade) * 0.301))
            return space.format.round(Double(sign: sign, exponent: 0, significand: pow10(decimal)))
        }
        let significand = [1.0, 1.5, 1 + rng.unit(), 2 - 0x1p-52][rng.int(0...3)]
        return space.format.round(Double(sign: sign, exponent: e, significand: significand))
    }

    /// (√5 − 1) / 2: the Weyl sequence i·φ mod 1 spreads any run of its terms evenly over [0, 1).
    static let goldenRatioConjugate = 0.618_033_988_749_894_9

    static func pow10(_ k: Int) -> Double {
        var v = 1.0
        for _ in 0..<k { v *= 10 }
        return v
    }

    static func randomPosition(_ n: Int, _ rng: inout AuditRandom) -> Int {
        switch rng.int(0...3) {
        case 0: return 0
        case 1: return n - 1
        default: return rng.int(0...(n - 1))
        }
    }

    /// A label: on the maximum, on the minimum, first, last or anywhere.
    static func randomLabel(_ x: [Double], _ rng: inout AuditRandom) -> Int {
        switch rng.int(0...4) {
        case 0, 1: return argmax(x)
        case 2: return argmin(x)
        case 3: return rng.unit() < 0.5 ? 0 : x.count - 1
        default: return rng.int(0...(x.count - 1))
        }
    }

    // MARK: - Moves

    /// The moves, by name (the report counts which ones raised the error).
    enum Move: String, CaseIterable, Sendable {
        case zoom, offset, lead, tie, length, label, edge, powerOfTwo = "power-of-two", maxPosition = "max-position"
        case nudge
    }

    /// One to three moves applied to a case.
    static func mutate(_ c: AuditCase, _ space: HuntSpace, _ rng: inout AuditRandom) -> (AuditCase, [Move]) {
        var out = c
        var moves: [Move] = []
        for _ in 0..<rng.int(1...3) {
            let move = Move.allCases[rng.int(0...(Move.allCases.count - 1))]
            if let next = apply(move, out, space, &rng) {
                out = next
                moves.append(move)
            }
        }
        return (out, moves)
    }

    static func apply(_ move: Move, _ c: AuditCase, _ space: HuntSpace, _ rng: inout AuditRandom) -> AuditCase? {
        let b = rng.int(0...(c.rows.count - 1))
        var x = c.rows[b]
        let n = x.count
        let r = space.format.round
        switch move {
        case .zoom:
            // Binary guided random testing: a part of the row moves by a power of two.
            let k = [1, 2, 4, 8, 16, 64][rng.int(0...5)] * (rng.unit() < 0.5 ? -1 : 1)
            let length = max(1, n >> rng.int(0...3))
            let start = rng.int(0...(n - length))
            for i in start..<(start + length) { x[i] = r(Double(sign: .plus, exponent: k, significand: x[i])) }
        case .offset:
            return withMaximum(c, at: randomOffset(space, &rng))
        case .lead:
            guard n > 1 else { return nil }
            let current = lead(x)
            let next: Double
            switch rng.int(0...3) {
            case 0: next = current * Double(sign: .plus, exponent: rng.int(-2...2), significand: 1)
            case 1: next = current + rng.uniform(-1, 1) * max(0x1p-20, current) * 0x1p-4
            case 2: next = current + rng.uniform(-0.5, 0.5)
            default: next = randomLead(space, &rng)
            }
            x = withLead(x, max(0, next), at: argmax(x))
        case .tie:
            guard n > 1 else { return nil }
            let i = rng.int(0...(n - 1))
            var j = rng.int(0...(n - 1))
            if rng.unit() < 0.5 { j = argmax(x) }
            guard i != j else { return nil }
            let nudge = rng.int(-2...2)
            x[i] = step(x[j], by: nudge, space.format)
        case .length:
            let next: Int
            switch rng.int(0...5) {
            case 0: next = n + rng.int(-2...2)
            case 1: next = n * 2
            case 2: next = n / 2
            case 3: next = n ^ 1
            case 4: next = 1 << max(0, min(20, Int.bitWidth - n.leadingZeroBitCount - rng.int(0...1))) + rng.int(-1...1)
            default: next = randomLength(space, &rng)
            }
            let length = min(space.maxLength, max(1, next))
            guard length != n else { return nil }
            return resized(c, to: length)
        case .label:
            var out = c
            out.labels[b] = randomLabel(x, &rng)
            return out
        case .edge:
            // exp's overflow and underflow edges in the format, relative to the maximum.
            let top = log(space.format.greatestFiniteMagnitude)
            let bottom = log(Double(sign: .plus, exponent: space.format.quantumExponent, significand: 1))
            let edges = [top, bottom, -top, -bottom, space.format.greatestFiniteMagnitude]
            let e = edges[rng.int(0...(edges.count - 1))] * (1 + rng.uniform(-0x1p-10, 0x1p-10))
            x[rng.int(0...(n - 1))] = r(e)
        case .powerOfTwo:
            // A value one ulp from a power of two, near the element's own magnitude or anywhere.
            let i = rng.int(0...(n - 1))
            let e =
                rng.unit() < 0.7 && x[i] != 0 && x[i].isFinite
                ? Int(x[i].exponent) + rng.int(-1...1) : rng.int(space.format.quantumExponent...space.largestBinade)
            let sign: FloatingPointSign = x[i] < 0 || (x[i] == 0 && rng.unit() < 0.5) ? .minus : .plus
            x[i] = step(r(Double(sign: sign, exponent: e, significand: 1)), by: rng.int(-2...2), space.format)
        case .maxPosition:
            guard n > 1 else { return nil }
            let k = argmax(x)
            x.swapAt(k, [0, n - 1, rng.int(0...(n - 1))][rng.int(0...2)])
        case .nudge:
            let i = rng.int(0...(n - 1))
            x[i] = step(x[i], by: [-1, 1, -16, 16, -1024, 1024][rng.int(0...5)], space.format)
        }
        guard x.allSatisfy({ !$0.isNaN }) else { return nil }
        var out = c
        out.rows[b] = x
        return out
    }

    // MARK: - Structure

    static func argmax(_ x: [Double]) -> Int {
        var k = 0
        for i in x.indices where x[i] > x[k] || x[k].isNaN { k = i }
        return k
    }

    static func argmin(_ x: [Double]) -> Int {
        var k = 0
        for i in x.indices where x[i] < x[k] || x[k].isNaN { k = i }
        return k
    }

    /// The maximum's lead over the second largest logit (0 with one logit or a tie).
    static func lead(_ x: [Double]) -> Double {
        guard x.count > 1 else { return 0 }
        let k = argmax(x)
        var second = -Double.infinity
        for i in x.indices where i != k { second = max(second, x[i]) }
        let l = x[k] - second
        return l.isFinite ? l : 0
    }

    /// The row with the logit at position k set to lead above the largest of the others.
    static func withLead(_ x: [Double], _ lead: Double, at k: Int) -> [Double] {
        var y = x
        var second = -Double.infinity
        for i in y.indices where i != k { second = max(second, y[i]) }
        if !second.isFinite { second = 0 }
        y[k] = second + lead
        return y
    }

    /// The case with each row moved so that its maximum is m (the differences rounded as the sum rounds).
    static func withMaximum(_ c: AuditCase, at m: Double) -> AuditCase {
        var out = c
        for b in out.rows.indices {
            let top = out.rows[b][argmax(out.rows[b])]
            guard top.isFinite else { continue }
            out.rows[b] = out.rows[b].map { c.format.round(($0 - top) + m) }
        }
        return out
    }

    /// x moved by k steps on the format's ordinal axis (k ulps), staying finite.
    static func step(_ x: Double, by k: Int, _ format: BinaryFormat) -> Double {
        guard x.isFinite else { return x }
        let y = format.value(atOrdinal: format.ordinal(format.round(x)) + Int64(k))
        return y.isFinite ? y : format.round(x)
    }

    /// The case with every row cut or extended to n logits: extension repeats the row cyclically with
    /// copies of the maximum replaced by the minimum (no new ties at the top). A maximum that was last stays
    /// last (a vector loop's tail), as does one cut off; a label on it moves with it, one beyond the end is last.
    static func resized(_ c: AuditCase, to n: Int) -> AuditCase {
        var out = c
        for b in c.rows.indices {
            let x = c.rows[b]
            let k = argmax(x), low = x[argmin(x)]
            var y = (0..<n).map { i in i < x.count ? x[i] : (i % x.count == k ? low : x[i % x.count]) }
            var label = c.labels[b]
            if (k == x.count - 1 || k >= n) && k != n - 1 {
                if k < n { y[k] = low }
                y[n - 1] = x[k]
                if label == k { label = n - 1 }
            }
            if label >= n { label = n - 1 }
            out.rows[b] = y
            out.labels[b] = label
        }
        return out
    }
}
