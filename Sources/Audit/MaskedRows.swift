// A masked row: logits that are −inf (masked out), the rest finite. Softmax, log-softmax, logsumexp, the
// cross-entropy and its gradient of such a row are those of the row without the masked logits, and exactly
// 0 (−inf for log-softmax) at the masked positions: no convention is involved, so the audit judges the row as
// a finite one, the unmasked positions by the bounds of the row without the masked logits, the masked
// positions exactly. A mask that is ignored, or NaN where a row is only partly masked, fails.

/// The unmasked part of a masked row, and where its logits sit in the row.
struct MaskedRow {
    /// The case without the masked logits (the label moved with its logit).
    let unmasked: AuditCase
    /// The positions of the unmasked logits in the row, in order.
    let kept: [Int]

    /// The functions whose value on a masked row is their value on the unmasked part.
    static let functions: Set<AuditFunction> = [
        .softmax, .logSoftmax, .logSumExp, .crossEntropy, .crossEntropyGradient,
    ]

    /// The masked row of f's case c, if c is one: one row, some −inf logits, at least one finite, no +inf or
    /// NaN, and for the cross-entropy the label on a finite logit.
    init?(_ f: AuditFunction, _ c: AuditCase) {
        guard Self.functions.contains(f), c.rows.count == 1, c.pairs == nil else { return nil }
        let row = c.row
        guard row.contains(-.infinity), row.allSatisfy({ $0.isFinite || $0 == -.infinity }) else { return nil }
        let kept = row.indices.filter { row[$0].isFinite }
        guard !kept.isEmpty else { return nil }
        var unmasked = c
        unmasked.rows = [kept.map { row[$0] }]
        if f.shape.takesLabel {
            guard let label = kept.firstIndex(of: c.label) else { return nil }
            unmasked.labels = [label]
        } else {
            unmasked.labels = [0]
        }
        self.unmasked = unmasked
        self.kept = kept
    }

    /// Values for the unmasked part (the reference's, say) taken from values for the whole row: per logit for
    /// the functions with one value per logit, the values themselves otherwise.
    func unmaskedValues<T>(_ values: [T], count n: Int) -> [T] {
        values.count == n ? kept.map { values[$0] } : values
    }

    /// Values for the whole row of n logits from values for the unmasked part, `masked` at the masked positions,
    /// for a function with one value per logit (`perLogit`); the values themselves otherwise.
    func wholeRow<T>(_ values: [T], count n: Int, perLogit: Bool, masked: T) -> [T] {
        guard perLogit, values.count == kept.count else { return values }
        var out = Array(repeating: masked, count: n)
        for (i, j) in kept.enumerated() { out[j] = values[i] }
        return out
    }
}
