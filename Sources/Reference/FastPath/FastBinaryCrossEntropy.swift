// Binary cross-entropy with logits and its gradient, element by element, in double words (the formulas
// of PairedFunctions.swift). The weights a = 1 − y and b = w y are exact double words: a twoSum, and a
// twoProduct when w or y is 0 or |RN(w y)| >= 2^-960 with w < 2^990 (otherwise MPFR answers). With
// t = e^−|x| (ε_exp) and l = log1p(t) (ε_L) as in FastBinaryFamily.swift, u = 2^-53, U = 2^-1068 for the
// few steps whose low words may underflow:
//
//   loss = (A + B) l + A|x|, (A, B) = (a, b) for x >= 0 and (b, a) below: two non-negative terms.
//       A = 0:      B l, relative ε_L + 7u² (B exact)
//       otherwise:  (A + B) l to 3.01u² + ε_L + 7u², unscaled (absolute); A|x| exact when A is one double
//                   and its twoProduct is exact (then also a one-sided limit: loss > A|x|), else 3u²;
//                   the sum 3.01u²; absolute in all, plus U.
//   gradient = (a − b t)/(1 + t) for x >= 0 and (a t − b)/(1 + t) below; R = 1/(1 + t) to ε_R = ε_exp + 2u²
//       + 20u² (or 2^-190 for the step when t < 2^-200):
//       b = 0:      a R or a t R, relative ε_R + 7u² (+ ε_exp + 7u² for t)
//       a = 0:      −b t R or −b R, likewise
//       otherwise:  the numerator N may cancel: its product's error (ε_exp + 7u², unscaled) plus 3.01u²|N|
//                   for the difference, absolute E_N; then |N R − g| <= (ε_R + 7u²)|N R| + E_N.
//
// Beyond |x| = 2^20, t < 2^(−1.5e6): the loss is A|x| and the gradient a or −b to within 2^-1074 (0 to
// within 2^ultraExponent when that weight is 0). Both weights 0 is an exact 0, left to MPFR.
extension FastBinaryFamily {
    static let underflowAllowance = 0x1p-1068

    /// The certified loss (gradient: false) or gradient at a finite x with target y in [0, 1] and
    /// pos_weight w (finite, >= 0), or nil when the fast path does not decide it.
    static func binaryCrossEntropy(
        _ x: Double, target y: Double, posWeight w: Double, gradient: Bool, format: BinaryFormat
    ) -> ReferenceValue? {
        guard let a = binaryCrossEntropyApproximation(x, target: y, posWeight: w, gradient: gradient) else {
            return nil
        }
        return FastRounding.certify(a.value, knownSign: a.sign, magnitudeAbove: a.limit, format: format)
    }

    /// The approximation behind `binaryCrossEntropy`, with its sign and one-sided limit.
    static func binaryCrossEntropyApproximation(
        _ x: Double, target y: Double, posWeight w: Double, gradient: Bool
    ) -> (value: FastApproximation, sign: Int, limit: DoubleWord?)? {
        guard w < largestScaledX else { return nil }
        let a = twoSum(1, -y)
        let wy = twoProduct(w, y)
        let zero = w == 0 || y == 0
        guard zero || wy.hi >= smallestProduct else { return nil }  // (a product that underflows is not 0)
        let b = zero ? DoubleWord(0) : wy
        guard a.hi != 0 || b.hi != 0 else { return nil }
        if gradient { return binaryGradient(x, a, b) }
        let (A, B) = x >= 0 ? (a, b) : (b, a)
        let X = x.magnitude
        // A|x|, exact when it can be, with its absolute error.
        var second = A.times(X)
        var secondError = 2 * DoubleWord.errorOfTimesDouble * second.hi * boundRoundingUp + underflowAllowance
        var limit: DoubleWord? = nil
        if A.lo == 0 && X < largestScaledX {
            let p = twoProduct(A.hi, X)
            if X == 0 || p.hi >= smallestProduct {
                (second, secondError, limit) = (p, 0, p)
            }
        }
        guard X <= FastExponential.wideLimit else {
            if A.hi == 0 { return (.tiny(below: ultraExponent), 1, nil) }
            let error = secondError + beyondEveryDouble
            return (FastApproximation(second, absoluteError: error), 1, limit)
        }
        guard let t = Terms(DoubleWord(x)), let L = t.log1p() else { return nil }
        if A.hi == 0 {
            return (
                FastApproximation(B.times(L.m), scale: L.e, relativeError: L.error + DoubleWord.errorOfTimes), 1, nil
            )
        }
        let weight = A.plus(B)
        let first = weight.times(L.m)
        let (F, FError) = FastRow.unscaled(
            first, L.e, relativeError: DoubleWord.errorOfPlus + L.error + DoubleWord.errorOfTimes)
        let v = F.plus(second)
        let error = (FError + secondError + 2 * DoubleWord.errorOfPlus * v.hi * boundRoundingUp) * boundRoundingUp
        return (FastApproximation(v, absoluteError: error + underflowAllowance), 1, limit)
    }

    /// (a − b t)/(1 + t) for x >= 0, (a t − b)/(1 + t) below.
    private static func binaryGradient(
        _ x: Double, _ a: DoubleWord, _ b: DoubleWord
    ) -> (value: FastApproximation, sign: Int, limit: DoubleWord?)? {
        let sign = b.hi == 0 ? 1 : (a.hi == 0 ? -1 : 0)
        guard x.magnitude <= FastExponential.wideLimit else {
            // a − O(t) or −b + O(t).
            let near = x >= 0 ? a : b.negated
            if near.hi == 0 { return (.tiny(below: ultraExponent), sign, nil) }
            return (FastApproximation(near, absoluteError: beyondEveryDouble), sign, nil)
        }
        guard let t = Terms(DoubleWord(x)) else { return nil }
        let epsExp = FastExponential.relativeError
        let R = t.onePlusT.reciprocal
        let RError = t.onePlusTError + DoubleWord.errorOfReciprocal
        // The weight on t's side and the other, as x's sign puts them: (a − b t) or (a t − b).
        let (withT, alone) = x >= 0 ? (b.negated, a) : (a, b.negated)
        if alone.hi == 0 {
            let error = epsExp + RError + 2 * DoubleWord.errorOfTimes
            return (FastApproximation(withT.times(t.m).times(R), scale: t.e, relativeError: error), sign, nil)
        }
        if withT.hi == 0 {
            return (FastApproximation(alone.times(R), relativeError: RError + DoubleWord.errorOfTimes), sign, nil)
        }
        let (P, PError) = FastRow.unscaled(
            withT.magnitude.times(t.m), t.e, relativeError: epsExp + DoubleWord.errorOfTimes)
        let N = alone.plus(withT.hi < 0 ? P.negated : P)
        let NError = PError + 2 * DoubleWord.errorOfPlus * N.hi.magnitude * boundRoundingUp + underflowAllowance
        let g = N.times(R)
        let error =
            (2 * (RError + DoubleWord.errorOfTimes) * g.hi.magnitude + NError) * boundRoundingUp + underflowAllowance
        return (FastApproximation(g, absoluteError: error), sign, nil)
    }
}
