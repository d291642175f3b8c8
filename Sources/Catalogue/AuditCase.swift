// One input of the audit: a row with its label, or a batch of rows of one length with a label each,
// and for the paired functions a second vector per row (the target q, the binary targets y or the
// weights b) with the functions' options.
import Formats

/// One audit input: a row with its label, or a batch of rows of one length with a label each.
public struct AuditCase: Sendable, Equatable {
    public var rows: [[Double]]
    public var labels: [Int]
    /// A second vector per row, of the row's length, for the paired functions (KL's target q, binary
    /// cross-entropy's targets y, logsumexp's weights b); nil when each function derives its own from the
    /// row's length (`AuditFunction.derivedPair`).
    public var pairs: [[Double]]?
    /// The options of the functions that take them (binary cross-entropy's pos_weight).
    public var options: LossOptions
    /// The format the inputs are values of (`rounded(to:)` sets it): the vectors and options a function
    /// derives for the case are rounded to it as well.
    public var format = BinaryFormat.double

    public init(rows: [[Double]], labels: [Int], pairs: [[Double]]? = nil, options: LossOptions = LossOptions()) {
        self.rows = rows
        self.labels = labels
        self.pairs = pairs
        self.options = options
    }

    public init(_ row: [Double], label: Int, pair: [Double]? = nil, options: LossOptions = LossOptions()) {
        self.init(rows: [row], labels: [label], pairs: pair.map { [$0] }, options: options)
    }

    public var isBatch: Bool { rows.count > 1 }
    public var row: [Double] { rows[0] }
    public var label: Int { labels[0] }
    /// Whether every logit is finite (special-value verdicts then count as failures).
    public var isFinite: Bool { rows.allSatisfy { $0.allSatisfy(\.isFinite) } }

    /// The case with every logit, paired value and option rounded to `format` (the inputs a kernel in
    /// that format takes).
    public func rounded(to format: BinaryFormat) -> AuditCase {
        guard format != .double else { return self }
        var c = AuditCase(
            rows: rows.map { $0.map(format.round) }, labels: labels,
            pairs: pairs.map { $0.map { $0.map(format.round) } },
            options: options.rounded(to: format))
        c.format = format
        return c
    }
}

/// The options of the functions that take them, as the frameworks name them.
public struct LossOptions: Sendable, Equatable, Hashable {
    /// Binary cross-entropy's weight of the positive term, PyTorch's `pos_weight` (finite, >= 0).
    public var posWeight: Double
    /// The cross-entropy loss's options (`F.cross_entropy`'s); nil: those derived from the case
    /// (`AuditFunction.crossEntropyOptions`).
    public var crossEntropy: CrossEntropyOptions?
    /// Softplus's β (`F.softplus`'s `beta`, finite and > 0): softplus(βx)/β, its gradient σ(βx).
    public var beta: Double
    /// Where PyTorch's softplus kernel returns x itself (βx above it): how that kernel approximates the
    /// function, for kernels that mimic it; the reference has no threshold.
    public var threshold: Double
    /// The attention functions' options; nil: those derived from the case (`AuditFunction.attentionOptions`).
    public var attention: AttentionOptions?

    public static let defaultPosWeight = 1.0
    public static let defaultBeta = 1.0
    public static let defaultThreshold = 20.0

    public init(
        posWeight: Double = defaultPosWeight, crossEntropy: CrossEntropyOptions? = nil, beta: Double = defaultBeta,
        threshold: Double = defaultThreshold, attention: AttentionOptions? = nil
    ) {
        self.posWeight = posWeight
        self.crossEntropy = crossEntropy
        self.beta = beta
        self.threshold = threshold
        self.attention = attention
    }

    public var isDefault: Bool { self == LossOptions() }

    func rounded(to format: BinaryFormat) -> LossOptions {
        LossOptions(
            posWeight: format.round(posWeight), crossEntropy: crossEntropy?.rounded(to: format),
            beta: format.round(beta), threshold: format.round(threshold), attention: attention?.rounded(format.round))
    }
}

/// How `F.cross_entropy` reduces the rows' losses.
public enum LossReduction: String, Sendable, Hashable, CaseIterable {
    /// One loss per row (an ignored row's is 0).
    case none
    /// Their sum.
    case sum
    /// Their sum over the summed weights of the rows not ignored (class-index targets) or over the
    /// number of rows (probability targets), as PyTorch divides.
    case mean
}

/// `torch.nn.functional.cross_entropy`'s options.
public struct CrossEntropyOptions: Sendable, Equatable, Hashable {
    /// One weight per class (finite, >= 0); nil: every class weighs 1.
    public var classWeights: [Double]?
    /// Rows whose class-index target is this are ignored (PyTorch's default −100).
    public var ignoreIndex: Int
    /// ε in [0, 1]: the target becomes (1 − ε)·target + ε/C.
    public var labelSmoothing: Double
    public var reduction: LossReduction

    public static let defaultIgnoreIndex = -100

    public init(
        classWeights: [Double]? = nil, ignoreIndex: Int = defaultIgnoreIndex, labelSmoothing: Double = 0,
        reduction: LossReduction = .mean
    ) {
        self.classWeights = classWeights
        self.ignoreIndex = ignoreIndex
        self.labelSmoothing = labelSmoothing
        self.reduction = reduction
    }

    func rounded(to format: BinaryFormat) -> CrossEntropyOptions {
        var o = self
        o.classWeights = classWeights?.map(format.round)
        o.labelSmoothing = format.round(labelSmoothing)
        return o
    }

    /// PyTorch's spelling, for reports: `weight=[…], ignore_index=…, label_smoothing=…, reduction=…`.
    public var description: String {
        var parts: [String] = []
        if let w = classWeights { parts.append("weight=[" + w.map { "\($0)" }.joined(separator: ", ") + "]") }
        if ignoreIndex != Self.defaultIgnoreIndex { parts.append("ignore_index=\(ignoreIndex)") }
        if labelSmoothing != 0 { parts.append("label_smoothing=\(labelSmoothing)") }
        parts.append("reduction=\"\(reduction.rawValue)\"")
        return parts.joined(separator: ", ")
    }
}

/// The input of the cross-entropy loss: a batch of rows of one length C with class-index or probability
/// targets, and the options.
public struct CrossEntropyBatch: Sendable, Equatable {
    public enum Targets: Sendable, Equatable {
        /// One class index per row, in 0..<C or equal to the ignore index.
        case labels([Int])
        /// One probability vector per row, of length C (entries finite and >= 0).
        case probabilities([[Double]])
    }

    public var rows: [[Double]]
    public var targets: Targets
    public var options: CrossEntropyOptions

    public init(rows: [[Double]], targets: Targets, options: CrossEntropyOptions) {
        self.rows = rows
        self.targets = targets
        self.options = options
    }

    /// Whether row i is ignored (a class-index target equal to the ignore index).
    public func isIgnored(_ i: Int) -> Bool {
        if case .labels(let t) = targets { return t[i] == options.ignoreIndex }
        return false
    }

    /// Class c's weight (1 without weights).
    public func classWeight(_ c: Int) -> Double { options.classWeights?[c] ?? 1 }

    /// Row i's weights a_c = w_c ((1 − ε) t_c + ε/C) as code forms them in doubles (the reference forms
    /// them exactly); `format` rounds every operation to a narrower one, as code computing in it does.
    public func weights(row i: Int, in format: BinaryFormat = .double) -> [Double] {
        let r = format.round
        let e = options.labelSmoothing, C = Double(rows[i].count)
        return rows[i].indices.map { c in
            switch targets {
            case .labels(let y): return r(classWeight(c) * r((c == y[i] ? r(1 - e) : 0) + r(e / C)))
            case .probabilities(let q): return r(classWeight(c) * r(r(r(1 - e) * q[i][c]) + r(e / C)))
            }
        }
    }

    /// The mean's divisor as code sums it in doubles (or in `format`), row by row: the label weights of the
    /// rows not ignored (their count without weights), or the number of rows for probability targets.
    public func meanDivisor(in format: BinaryFormat = .double) -> Double {
        rows.indices.filter { !isIgnored($0) }.reduce(0) { total, i in
            if case .labels(let y) = targets { return format.round(total + classWeight(y[i])) }
            return format.round(total + 1)
        }
    }
}
