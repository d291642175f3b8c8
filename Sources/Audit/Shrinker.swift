// Shrinking a failure to a minimal row that still fails the same check (kernel × function × kind):
// greedy, deterministic, bounded in evaluations. Candidates, in order: fewer rows (batches), fewer
// elements (halves, quarters, … single elements), simpler values (0, ±1, small integers, powers of
// two, fewer significant bits, the value without a shared offset), and the label 0. A candidate is
// kept only when it still fails and is strictly simpler, so the process always ends.
import Kernels

public struct ShrinkResult: Sendable {
    public let original: AuditCase
    public let minimal: AuditCase
    public let evaluations: Int
}

public struct Shrinker {
    public var budget: Int
    let checker: CaseChecker

    public init(checker: CaseChecker, budget: Int = 300) {
        self.checker = checker
        self.budget = budget
    }

    /// Shrinks c; with `keep`, only to cases for which it holds (a hunt's range edge keeps its parameter).
    public func shrink(
        _ k: Kernel, _ f: AuditFunction, _ kind: FailureKind, _ c: AuditCase,
        keep: ((AuditCase) -> Bool)? = nil
    ) -> ShrinkResult {
        var best = c
        var evaluations = 0
        func tryCandidate(_ candidate: AuditCase) -> Bool {
            guard evaluations < budget, Self.complexity(candidate) < Self.complexity(best),
                candidate.rows.allSatisfy({ !$0.isEmpty }),
                zip(candidate.rows, candidate.labels).allSatisfy({
                    ($1 >= 0 && $1 < $0.count) || $1 == candidate.options.crossEntropy?.ignoreIndex
                })
            else { return false }
            // A candidate `keep` refuses costs an evaluation: on a long row, refusals are not free either.
            evaluations += 1
            if let keep, !keep(candidate) { return false }
            if checker.failureKinds(k, f, candidate).contains(kind) {
                best = candidate
                return true
            }
            return false
        }
        var improved = true
        while improved && evaluations < budget {
            improved = false
            // Fewer rows.
            if best.rows.count > 1 {
                for b in best.rows.indices.reversed() where best.rows.count > 1 {
                    var candidate = best
                    candidate.rows.remove(at: b)
                    candidate.labels.remove(at: b)
                    candidate.pairs?.remove(at: b)
                    if tryCandidate(candidate) { improved = true }
                }
            }
            // Fewer elements: remove chunks of every row at the same positions.
            var size = best.row.count / 2
            while size >= 1 && evaluations < budget {
                var start = 0
                while start + size <= best.row.count && best.row.count > 1 && evaluations < budget {
                    if tryCandidate(Self.removing(start..<(start + size), from: best)) {
                        improved = true
                    } else {
                        start += size
                    }
                }
                size /= 2
            }
            // Simpler values.
            for b in best.rows.indices {
                // The row's largest finite logit, kept up to date as values change (long rows: not per element).
                var top = best.rows[b].filter(\.isFinite).max() ?? 0
                for i in best.rows[b].indices where evaluations < budget {
                    // Only a simpler value can make a simpler case (the complexity is a sum of the values', and
                    // rounded addition is monotone): the others are not built.
                    let current = Self.valueComplexity(best.rows[b][i])
                    for v in Self.simpler(best.rows[b][i], top: top) where Self.valueComplexity(v) < current {
                        var candidate = best
                        candidate.rows[b][i] = v
                        if tryCandidate(candidate) {
                            improved = true
                            top = best.rows[b].filter(\.isFinite).max() ?? 0
                            break
                        }
                    }
                }
            }
            // The label 0.
            for b in best.labels.indices where best.labels[b] != 0 {
                var candidate = best
                candidate.labels[b] = 0
                if tryCandidate(candidate) { improved = true }
            }
        }
        return ShrinkResult(original: c, minimal: best, evaluations: evaluations)
    }

    /// The case without the columns in `range`, labels, paired values and class weights moved with their
    /// columns.
    static func removing(_ range: Range<Int>, from c: AuditCase) -> AuditCase {
        var out = c
        out.options.crossEntropy?.classWeights?.removeSubrange(range)
        out.options.attention?.bias?.removeSubrange(range)
        out.options.attention?.masked?.removeSubrange(range)
        out.options.attention?.values?.removeSubrange(range)
        for b in out.rows.indices {
            out.rows[b].removeSubrange(range)
            out.pairs?[b].removeSubrange(range)
            let t = c.labels[b]
            // A removed label moves to 0 (the check decides whether the failure survives).
            out.labels[b] = range.contains(t) ? 0 : (t >= range.upperBound ? t - range.count : t)
        }
        return out
    }

    /// Simpler replacements for x, simplest first.
    static func simpler(_ x: Double, top: Double) -> [Double] {
        guard x.isFinite else { return [0] }
        var candidates: [Double] = [0, 1, -1, 2, -2, 3, -3, 4, -4, 8, -8, 16, -16, 32, -32]
        if x != 0 {
            candidates.append(x.rounded())
            // Powers of two: this binade's, then smaller ones in large steps (2^(e/2), 2^(e/4), … 2^4).
            var e = x.exponent
            candidates.append(Double(sign: x.sign, exponent: e, significand: 1))
            while e.magnitude > 4 {
                e /= 2
                candidates.append(Double(sign: x.sign, exponent: e, significand: 1))
            }
            for k in [10, 8, 6] where k < x.exponent {
                candidates.append(Double(sign: x.sign, exponent: k, significand: 1))
            }
            for bits in [1, 2, 4, 8, 16, 24] { candidates.append(roundToBits(x, bits)) }
            // The value without the row's shared offset (its smallest magnitude neighbor's power of two).
            if top != 0 && top.magnitude > 64 { candidates.append(x - top) }
            candidates.append(x / 2)
        }
        return candidates.filter { $0 != x && $0.isFinite }
    }

    static func roundToBits(_ x: Double, _ bits: Int) -> Double {
        let scale = Double(sign: .plus, exponent: bits - 1 - x.exponent, significand: 1)
        return (x * scale).rounded() / scale
    }

    /// How complicated a case is: rows, elements, then the values' complexity, then the labels.
    static func complexity(_ c: AuditCase) -> [Double] {
        [
            Double(c.rows.count), Double(c.row.count), c.rows.flatMap { $0 }.map(valueComplexity).reduce(0, +),
            Double(c.labels.reduce(0, +)),
        ]
    }

    static func valueComplexity(_ x: Double) -> Double {
        if x == 0 { return 0 }
        if !x.isFinite { return 3 }
        if x == x.rounded() && x.magnitude <= 32 { return 1 + x.magnitude / 32 + (x < 0 ? 0.01 : 0) }
        let pattern = x.significandBitPattern
        let trailing = min(pattern.trailingZeroBitCount, 52)
        // Normal: the implicit bit and the fraction down to its last 1; subnormal: the fraction's span.
        let significantBits = Double(x.isSubnormal ? (64 - pattern.leadingZeroBitCount) - trailing : 53 - trailing)
        return 3 + significantBits + Double(abs(x.exponent)) / 64 + (x < 0 ? 0.01 : 0)
    }
}

extension Array where Element == Double {
    static func < (a: [Double], b: [Double]) -> Bool {
        for (x, y) in zip(a, b) where x != y { return x < y }
        return a.count < b.count
    }
}
