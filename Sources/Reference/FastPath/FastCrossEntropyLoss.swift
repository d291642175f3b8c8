// The framework loss (CrossEntropyLoss.swift) in double words: Σ_i Σ_c A_ic (−log p_ic) / (C·D) over the
// finite rows, every term non-negative, so every error stays relative to the loss. u² = 2^-106:
//
//     A_ic, C·D       the exact MPFR values rounded to double words (hi = RN(A), lo = RN(A − hi)): 2u²
//     −log p_ic       L_i for the row's maximum, (m_i − x_ic) + L_i otherwise (m − x exact, then one
//                     AccurateDWPlusDW of non-negative terms: 3.01u²), L_i unscaled (absolute, FastRow)
//     A_ic · −log p   7u² and A's 2u², on top of the term's own error
//     the sums        one AccurateDWPlusDW per term and per row (3.01u² of a partial sum <= the total)
//     / (C·D)         its reciprocal (20u² and the divisor's 2u²) and a product (7u²)
//
// Relative bounds are charged twice over (the high word against the value, second-order terms). Every
// weighted term must be at least 2^-900, so that no product or sum underflows; an error product that does
// (A·L's bound) adds U = 2^-1068 per term before the division by C·D, which may be far below 1, and the last
// product U after it. A loss the bound does not settle, a weight outside the double range, a smaller term,
// a divisor above 2^968 (its reciprocal's low word would be subnormal), or a row the fast path cannot
// evaluate goes to MPFR.
import MPFR

extension SoftmaxReference {
    static let smallestConvertedWeight = 0x1p-969
    /// The largest C·D the fast path divides by: 1/(C·D) >= 2^-968 keeps the reciprocal's low word normal, so
    /// that its relative bound holds (beyond, the low word is subnormal and off by up to 2^-1075).
    static let largestDivisor = 0x1p968
    /// The smallest weighted term the fast path sums: its low words (2^-106 below) and the partial sums stay
    /// normal.
    static let smallestTerm = 0x1p-900

    /// Σ_i Σ_c A_ic (−log p_ic) / divisor over finite rows (logits and their exact weights), certified, or
    /// nil when the fast path does not decide it (the caller counts the call).
    func fastCrossEntropyLoss(_ rows: [([Double], [MPFRFloat])], divisor: MPFRFloat) -> ReferenceValue? {
        guard let a = fastCrossEntropyLossApproximation(rows, divisor: divisor) else { return nil }
        return fastRow.certify(a, knownSign: 1)
    }

    /// The loss above in double words with its absolute error, or nil out of the fast path's reach.
    func fastCrossEntropyLossApproximation(
        _ rows: [([Double], [MPFRFloat])], divisor: MPFRFloat
    ) -> FastApproximation? {
        guard let D = doubleWord(divisor), D.hi > 0, D.hi <= Self.largestDivisor else { return nil }
        var total = DoubleWord(0)
        var error = 0.0
        var terms = 0
        for (x, a) in rows where x.count > 1 {
            guard x.allSatisfy(\.isFinite), fastRow.evaluate(x), let row = fastLossRow(x, a) else { return nil }
            total = total.plus(row.value)
            error += row.error
            terms += x.count + 1
        }
        guard terms > 0 else { return nil }  // every row keeps one logit: an exact 0, MPFR's to say
        let u2 = DoubleWord.u2
        let U = FastBinaryFamily.underflowAllowance
        // U per term for an error product that underflowed, in the units before the division (1/(C·D) may
        // be far above 1), and U after it for the last product's low word.
        error += 2 * Double(terms) * DoubleWord.errorOfPlus * total.hi + Double(terms) * U
        let r = D.reciprocal
        let v = total.times(r)
        let relative = 2 * u2 + DoubleWord.errorOfReciprocal + DoubleWord.errorOfTimes
        let absolute = (error * boundRoundingUp * r.hi * (1 + 0x1p-40) + 2 * relative * v.hi + U) * boundRoundingUp
        return FastApproximation(v, absoluteError: absolute)
    }

    /// One row's Σ_c A_c (−log p_c) from the evaluated FastRow, with its absolute error (the sums' share
    /// is the caller's).
    private func fastLossRow(_ x: [Double], _ a: [MPFRFloat]) -> (value: DoubleWord, error: Double)? {
        let (L, LError) = fastRow.unscaledL()
        let m = fastRow.maxValue
        var sum = DoubleWord(0)
        var error = 0.0
        for j in x.indices where !a[j].isZero {
            guard let A = doubleWord(a[j]) else { return nil }
            var v = L
            var vError = LError
            if j != fastRow.maxIndex {
                let d = twoSum(m, -x[j])
                guard d.hi.isFinite, d.lo.isFinite else { return nil }
                v = d.plus(L)
                vError += 2 * DoubleWord.errorOfPlus * v.hi
            }
            let term = A.times(v)
            // A term this small has low words below the normal range: its products are not the bounded ones.
            guard term.hi >= Self.smallestTerm else { return nil }
            sum = sum.plus(term)
            error += A.hi * (1 + 0x1p-40) * vError + 2 * (2 * DoubleWord.u2 + DoubleWord.errorOfTimes) * term.hi
        }
        return (sum, error * boundRoundingUp)
    }

    /// An exact non-negative MPFR value as a double word, within 2u² relative; nil beyond the double range
    /// or below 2^-969.
    private func doubleWord(_ v: MPFRFloat) -> DoubleWord? {
        if v.isZero { return DoubleWord(0) }
        let hi = v.double()
        // At or above 2^-969 a subnormal low word is still within u² of hi.
        guard hi.isFinite, hi >= Self.smallestConvertedWeight else { return nil }
        let rest = workspaces.crossEntropyLoss.conversion
        rest.precision = v.precision + 64
        rest.subtract(v, hi)
        return fastTwoSum(hi, rest.double())
    }
}
