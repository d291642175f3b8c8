// The binary family's fast path, element by element: BinaryFamily.swift's formulas in double words, each
// element certified on its own (an element the bound does not decide goes to the MPFR path alone).
//
// y = βx is exact: x itself for β = 1, otherwise a twoProduct (β in [2^-900, 2^900], |x| < 2^990 and
// |RN(βx)| >= 2^-960, so neither the split overflows nor the product's low word underflows). With
// a = |y| <= 2^20, t = e^−a = 2^te · tm to ε_exp = FastExponential.relativeError (t <= 1), and
//
//     1 + t                 ε_1 = ε_exp + the step's (2u², or 2^-190 when t < 2^-200 is one low word)
//     σ,   x >= 0   1/(1+t)     ε_1 + 20u²
//          x < 0    t/(1+t)     ε_exp + ε_1 + 20u² + 7u²
//     σ'            t/(1+t)²    ε_exp + 2(ε_1 + 20u²) + 2·7u²
//     L = log1p(t)          FastRow.log1p (the Newton step for t >= 2^-10, atanh's series below), ε_L
//     log σ, x >= 0   −L        ε_L
//            x < 0    x − L     absolute: 2u²|V| + L's (both terms <= 0; |V| > |x| settles a midpoint)
//     softplus, x <= 0  L/β     ε_L (+ 3.5u² for β ≠ 1)
//            x > 0    x + L/β   absolute: 2u²|V| + (L/β)'s (both terms >= 0; |V| > |x| likewise)
//
// Every relative bound is charged twice over by FastApproximation. Beyond |βx| = 2^20, t < 2^(−1.5e6): the
// values are 1, 0 or x to within that, the side known. Outside the ranges above the element goes to MPFR.
import Catalogue

enum FastBinaryFamily {
    /// The widest β the fast path takes, either way from 1.
    static let betaRange = 0x1p-900...0x1p900
    /// The largest |x| whose product with β the fast path forms (Veltkamp's split stays finite).
    static let largestScaledX = 0x1p990
    /// The smallest |RN(βx)| whose twoProduct is exact (the low word stays above 2^-1074).
    static let smallestProduct = 0x1p-960
    /// A bound on every value that |βx| > 2^20 makes tiny: t/β < 2^(−1.5e6 + 1074).
    static let ultraExponent = -1_400_000
    /// An absolute bound for what lies below 2^ultraExponent, where the rounding needs one in doubles.
    static let beyondEveryDouble = 0x1p-1074

    /// An approximation of f at x with its error bound, the value's sign, and for x − L and x + L the
    /// exact x that |f(x)| exceeds.
    struct Approximation {
        var value: FastApproximation
        var sign: Int
        var magnitudeAbove: Double? = nil
    }

    /// The certified value of f at a finite x, or nil when the fast path does not decide it.
    static func value(_ f: AuditFunction, _ x: Double, beta: Double, format: BinaryFormat) -> ReferenceValue? {
        guard let a = approximation(f, x, beta: beta) else { return nil }
        return FastRounding.certify(
            a.value, knownSign: a.sign, magnitudeAbove: a.magnitudeAbove.map { DoubleWord($0) }, format: format)
    }

    /// f at a finite x in double words with its bound (see above), or nil out of the fast path's reach.
    static func approximation(_ f: AuditFunction, _ x: Double, beta: Double) -> Approximation? {
        if !((x * beta).magnitude <= FastExponential.wideLimit) { return ultra(f, x) }
        guard let y = product(x, beta) else { return nil }
        guard let t = Terms(y) else { return nil }
        let epsExp = FastExponential.relativeError
        switch f {
        case .sigmoid, .sigmoidGradient:
            let r = t.onePlusT.reciprocal
            let rError = t.onePlusTError + DoubleWord.errorOfReciprocal
            if f == .sigmoidGradient {
                let error = epsExp + 2 * rError + 2 * DoubleWord.errorOfTimes
                return Approximation(
                    value: FastApproximation(t.m.times(r.times(r)), scale: t.e, relativeError: error), sign: 1)
            }
            if x >= 0 { return Approximation(value: FastApproximation(r, relativeError: rError), sign: 1) }
            let error = epsExp + rError + DoubleWord.errorOfTimes
            return Approximation(value: FastApproximation(t.m.times(r), scale: t.e, relativeError: error), sign: 1)
        case .logSigmoid, .softplus:
            guard let L = t.log1p() else { return nil }
            if f == .logSigmoid {
                if x >= 0 {
                    return Approximation(
                        value: FastApproximation(L.m.negated, scale: L.e, relativeError: L.error), sign: -1)
                }
                let (l, lError) = FastRow.unscaled(L.m, L.e, relativeError: L.error)
                let v = l.negated.plus(x)
                let error = DoubleWord.errorOfPlusDouble * v.hi.magnitude * boundRoundingUp + lError
                return Approximation(value: FastApproximation(v, absoluteError: error), sign: -1, magnitudeAbove: x)
            }
            let q = beta == 1 ? L.m : L.m.divided(by: beta)
            let qError = L.error + (beta == 1 ? 0 : DoubleWord.errorOfDividedByDouble)
            if x <= 0 {
                return Approximation(value: FastApproximation(q, scale: L.e, relativeError: qError), sign: 1)
            }
            let (l, lError) = FastRow.unscaled(q, L.e, relativeError: qError)
            let v = l.plus(x)
            let error = DoubleWord.errorOfPlusDouble * v.hi.magnitude * boundRoundingUp + lError
            return Approximation(value: FastApproximation(v, absoluteError: error), sign: 1, magnitudeAbove: x)
        default:
            return nil
        }
    }

    /// What every element's formulas start from: t = e^−|y| = 2^e · m for |y.hi| <= 2^20, to
    /// FastExponential.relativeError (t <= 1), and 1 + t with its relative error.
    struct Terms {
        let m: DoubleWord
        let e: Int
        let onePlusT: DoubleWord
        let onePlusTError: Double

        init?(_ y: DoubleWord) {
            let a = y.hi < 0 ? y : y.negated
            let narrow = a.hi >= -FastExponential.narrowLimit
            guard let t = narrow ? FastExponential.narrow(a.hi, a.lo) : FastExponential.wide(a.hi, a.lo) else {
                return nil
            }
            let onePlus = FastRow.plus(1, scaled: t.m, t.e)
            (m, e, onePlusT) = (t.m, t.e, onePlus.value)
            onePlusTError = FastExponential.relativeError + onePlus.error
        }

        /// L = log1p(t) = 2^e · m with its relative error (FastRow.log1p); nil when its checks fail.
        func log1p() -> (m: DoubleWord, e: Int, error: Double)? {
            FastRow.log1p(m, e, error: FastExponential.relativeError, onePlus: onePlusT, error: onePlusTError)
        }
    }

    /// f at |βx| > 2^20: t < e^(−2^20) < 2^(−1.5e6), and t/β < 2^ultraExponent for any double β, so every
    /// value is 0, 1 or x within that, on the side the formula gives.
    private static func ultra(_ f: AuditFunction, _ x: Double) -> Approximation? {
        switch f {
        case .sigmoid where x >= 0:
            return Approximation(value: FastApproximation(DoubleWord(1), absoluteError: beyondEveryDouble), sign: 1)
        case .sigmoid, .sigmoidGradient:
            return Approximation(value: .tiny(below: ultraExponent), sign: 1)
        case .logSigmoid where x >= 0:
            return Approximation(value: .tiny(below: ultraExponent), sign: -1)
        case .softplus where x <= 0:
            return Approximation(value: .tiny(below: ultraExponent), sign: 1)
        case .logSigmoid, .softplus:
            let v = FastApproximation(DoubleWord(x), absoluteError: beyondEveryDouble)
            return Approximation(value: v, sign: x < 0 ? -1 : 1, magnitudeAbove: x)
        default:
            return nil
        }
    }

    /// βx exactly as a double word, or nil outside the ranges where twoProduct is exact.
    private static func product(_ x: Double, _ beta: Double) -> DoubleWord? {
        if beta == 1 { return DoubleWord(x) }
        guard betaRange.contains(beta), x.magnitude < largestScaledX else { return nil }  // (also L/β's range)
        if x == 0 { return DoubleWord(x) }
        let p = twoProduct(x, beta)
        guard p.hi.magnitude >= smallestProduct, p.hi.isFinite else { return nil }
        return p
    }
}
