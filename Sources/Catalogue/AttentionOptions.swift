// The options of attention's softmax: the scores z_j = s·x_j + b_j of a row x with a scale s, a bias b
// and a mask, an attention sink, the value column v, and the number of blocks a blocked kernel splits
// the row into. The functions (`scaled-softmax`, `scaled-logsumexp`, `attention-output`) are of the
// exact scores: the reference never rounds s·x_j + b_j.

/// What a fully masked row (every key masked, and no sink) gives for the softmax and the output.
public enum FullyMaskedRow: String, Sendable, Hashable, CaseIterable {
    /// The limit 0/0: NaN, as PyTorch's softmax and JAX give.
    case nan
    /// Zeros, as PyTorch's safe softmax gives (pytorch PR #131060, scaled_dot_product_attention's math path).
    case zeros
}

/// The options of the attention functions, as the row syntax names them (`scale=`, `bias=`, `masked=`,
/// `sink=`, `v=`, `blocks=`, `fully_masked=`).
public struct AttentionOptions: Sendable, Equatable, Hashable {
    /// s, finite: the scores are s·x + b (1/√d, or a temperature's inverse).
    public var scale: Double
    /// b, one per key, finite or −inf (an additive mask); nil: zeros.
    public var bias: [Double]?
    /// Whether each key is masked (left out of the row); nil: none.
    public var masked: [Bool]?
    /// A sink's raw logit (neither scaled nor biased nor masked): it enters the denominator only.
    public var sink: Double?
    /// The value column v, one per key, finite; nil: `AttentionOptions.derivedValues`.
    public var values: [Double]?
    /// How many blocks a blocked kernel splits the row into: block k holds keys ⌊k n/B⌋ ..< ⌊(k+1) n/B⌋, so
    /// B > n leaves blocks empty.
    public var blocks: Int
    public var fullyMasked: FullyMaskedRow

    public static let defaultScale = 1.0
    public static let defaultBlocks = 1
    /// The most blocks a row may be split into.
    public static let maximumBlocks = 4096

    public init(
        scale: Double = defaultScale, bias: [Double]? = nil, masked: [Bool]? = nil, sink: Double? = nil,
        values: [Double]? = nil, blocks: Int = defaultBlocks, fullyMasked: FullyMaskedRow = .nan
    ) {
        self.scale = scale
        self.bias = bias
        self.masked = masked
        self.sink = sink
        self.values = values
        self.blocks = blocks
        self.fullyMasked = fullyMasked
    }

    /// Key j's bias (0 without one).
    @inline(__always) public func bias(_ j: Int) -> Double { bias?[j] ?? 0 }

    /// Whether key j is left out: masked, or given a −inf logit or bias (an additive mask).
    @inline(__always) public func isMasked(_ j: Int, _ x: [Double]) -> Bool {
        (masked?[j] ?? false) || x[j] == -.infinity || bias(j) == -.infinity
    }

    /// The value column for a row of n keys: its own, or the derived one.
    public func values(count n: Int) -> [Double] { values ?? Self.derivedValues(n) }

    /// Small integers of both signs fixed by position (2, −1, 0, −2, 1, …), so that outputs can cancel.
    public static func derivedValues(_ n: Int) -> [Double] { (0..<n).map { Double(($0 * 3 + 2) % 5) - 2 } }

    /// The keys of block k of B over a row of n: ⌊k n/B⌋ ..< ⌊(k+1) n/B⌋.
    public static func block(_ k: Int, of b: Int, count n: Int) -> Range<Int> { (k * n / b)..<((k + 1) * n / b) }

    /// The options with every number rounded to a format (`round`).
    public func rounded(_ round: (Double) -> Double) -> AttentionOptions {
        var o = self
        o.scale = round(scale)
        o.bias = bias?.map(round)
        o.sink = sink.map(round)
        o.values = values?.map(round)
        return o
    }

    /// The options of block `range` of a row of n keys, as a partial state sees it: its biases, masks and values,
    /// no sink, one block, and zeros for a block with no key (the empty state's output).
    public func block(_ range: Range<Int>, count n: Int) -> AttentionOptions {
        AttentionOptions(
            scale: scale, bias: bias.map { Array($0[range]) }, masked: masked.map { Array($0[range]) },
            values: Array(values(count: n)[range]), fullyMasked: .zeros)
    }

    /// Whether a row's special values are judged, not conventions: every logit and bias finite or −inf (a
    /// mask), the scale finite, the sink finite or absent, every value finite.
    public func isJudged(_ x: [Double]) -> Bool {
        let maskOrFinite: (Double) -> Bool = { $0.isFinite || $0 == -.infinity }
        return x.allSatisfy(maskOrFinite) && (bias ?? []).allSatisfy(maskOrFinite) && scale.isFinite
            && (sink?.isFinite ?? true) && (values ?? []).allSatisfy(\.isFinite)
    }
}
