// The fast path's outputs from a FastRow, each an approximation with its error bound, certified by
// FastRounding; nil as soon as one element is not decided (the MPFR path then answers the whole row).
// The formulas are CertifiedFormulas.swift's, with these error bounds (relative unless said; every
// relative bound is charged twice over by FastApproximation):
//
//     softmax       p_k = 1/S                      ε_inv
//                   p_j = (e^D / S) · g_j          ε_inv + ε_D + ε_exp + 2·7u²
//     log-softmax   log p_k = −L                   ε_L
//                   log p_j = d_j − L (both <= 0)  abs: 3.01u²|V| + ε_L L + (L's unscaling, < 2^-1073)
//     logsumexp     m + L                          abs: 2u²|V| + ε_L L + (unscaling)
//     CE, label t   L (t = k), L − d_t             as log-softmax
//     gradient      p_j / B (j ≠ t)                softmax's + 3.5u² (B ≠ 1)
//                   −(s / S) / B  (t = k)          ε_s + ε_inv + 7u² + 3.5u²
//                   −(C / S) / B, C = S − e_t = 1 + e^D (s' − g_t) >= S/2: C's absolute error over C
//                   (s' − g_t may cancel, but C >= 1 and C >= s/2 keep it relative) + ε_inv + 7u² + 3.5u²
//
// Rows of one logit are exact (1, 0, x, 0, 0); ultra rows (every other logit more than 2^20 below the
// maximum) have s < 2^(−1.5e6) and are settled from that bound alone.

extension FastRow {
    private static let ultraExponent = -1_400_000

    func softmax() -> [ReferenceValue]? { probabilities(dividedBy: 1, except: nil) }

    /// p_j / B for every j but `except` (left +0), certified; dropped terms are +0 (below 2^-1100).
    private func probabilities(dividedBy b: Int, except: Int?) -> [ReferenceValue]? {
        var out = [ReferenceValue](repeating: ReferenceValue(rounded: 0, ulpOffset: 0), count: count)
        if ultra {
            if maxIndex != except {
                guard let v = FastRounding.certify(FastApproximation(DoubleWord(1).divided(by: Double(b)),
                    relativeError: 0x1p-999 + DoubleWord.errorOfDividedByDouble), knownSign: 1) else { return nil }
                out[maxIndex] = v
            }
            return out
        }
        let batch = Double(b)
        let division = b == 1 ? 0 : DoubleWord.errorOfDividedByDouble
        let c = eD.times(invS)
        let error = invSError + eDError + 2 * DoubleWord.errorOfTimes + Self.epsExp + division
        for j in 0..<count where j != except {
            let a: FastApproximation
            if j == maxIndex {
                a = FastApproximation(b == 1 ? invS : invS.divided(by: batch), relativeError: invSError + division)
            } else if gExp[j] == Self.dropped {
                continue
            } else {
                let p = c.times(DoubleWord(gHi[j], gLo[j]))
                a = FastApproximation(b == 1 ? p : p.divided(by: batch), scale: eDExp + gExp[j], relativeError: error)
            }
            guard let v = FastRounding.certify(a, knownSign: 1) else { return nil }
            out[j] = v
        }
        return out
    }

    /// L as one unscaled double word with its absolute error.
    private func unscaledL() -> (DoubleWord, Double) {
        if ultra { return (DoubleWord(0), 0x1p-1000) }
        let binade = Lm.hi.exponent + LExp
        if binade >= -900 {
            let L = Lm.scaled(LExp)
            return (L, 2 * LError * L.hi * (1 + 0x1p-40) + 0x1p-1073)
        }
        return (DoubleWord(0), Double(sign: .plus, exponent: max(binade + 2, -1074), significand: 1))
    }

    /// L itself (the scaled value), or its ultra bound.
    private func approximateL() -> FastApproximation {
        ultra ? .tiny(below: Self.ultraExponent) : FastApproximation(Lm, scale: LExp, relativeError: LError)
    }

    /// d_j − L for j ≠ k (negative). When x_j − m overflows (both are then beyond 2^970 in magnitude,
    /// so halving them is exact), the halves are used at scale 2: the result is −inf or near it.
    private func logProbability(_ x: [Double], _ j: Int, _ L: (DoubleWord, Double)) -> ReferenceValue? {
        var d = twoSum(x[j], -maxValue)
        var scale = 0
        var Lhalf = L.0
        if !d.hi.isFinite || !d.lo.isFinite {
            d = twoSum(x[j] / 2, -maxValue / 2)
            guard d.hi.isFinite, d.lo.isFinite else { return nil }
            scale = 1
            Lhalf = DoubleWord(L.0.hi / 2, L.0.lo / 2)
        }
        let v = d.plus(Lhalf.negated)
        let error = DoubleWord.errorOfPlus * v.hi.magnitude * (1 + 0x1p-40) + L.1
        return FastRounding.certify(FastApproximation(v, scale: scale, absoluteError: error), knownSign: -1, magnitudeAbove: d)
    }

    func logSoftmax(_ x: [Double]) -> [ReferenceValue]? {
        var out: [ReferenceValue] = []
        out.reserveCapacity(count)
        let L = unscaledL()
        for j in 0..<count {
            if j == maxIndex {
                var minusL = approximateL()
                minusL.value = minusL.value.negated
                guard let v = FastRounding.certify(minusL, knownSign: -1) else { return nil }
                out.append(v)
            } else {
                guard let v = logProbability(x, j, L) else { return nil }
                out.append(v)
            }
        }
        return out
    }

    func logSumExp() -> ReferenceValue? {
        if maxValue == 0 { return FastRounding.certify(approximateL(), knownSign: 1) }
        let L = unscaledL()
        let v = L.0.plus(maxValue)
        let error = DoubleWord.errorOfPlusDouble * v.hi.magnitude * (1 + 0x1p-40) + L.1
        return FastRounding.certify(FastApproximation(v, absoluteError: error), knownSign: maxValue > 0 ? 1 : 0)
    }

    func crossEntropy(_ x: [Double], label t: Int) -> ReferenceValue? {
        if t == maxIndex { return FastRounding.certify(approximateL(), knownSign: 1) }
        guard let v = logProbability(x, t, unscaledL()) else { return nil }
        return ReferenceValue(rounded: -v.rounded, ulpOffset: -v.ulpOffset)
    }

    func gradient(label t: Int, batchSize b: Int) -> [ReferenceValue]? {
        guard var out = probabilities(dividedBy: b, except: t) else { return nil }
        let batch = Double(b)
        let division = b == 1 ? 0 : DoubleWord.errorOfDividedByDouble
        // Element t: −(1 − p_t) / B = −(C / S) / B.
        let a: FastApproximation
        if ultra {
            if t == maxIndex {
                a = .tiny(below: Self.ultraExponent)  // −s/S
            } else {
                a = FastApproximation(DoubleWord(1).divided(by: batch), relativeError: 0x1p-999 + division)
            }
        } else if t == maxIndex {
            a = FastApproximation(sM.times(invS).divided(by: batch), scale: sExp,
                                  relativeError: sError + invSError + DoubleWord.errorOfTimes + division)
        } else {
            let (C, error) = complement(t)
            a = FastApproximation(C.times(invS).divided(by: batch),
                                  relativeError: error + invSError + DoubleWord.errorOfTimes + division)
        }
        var negated = a
        negated.value = a.value.negated
        guard let v = FastRounding.certify(negated, knownSign: -1) else { return nil }
        out[t] = v
        return out
    }

    /// C = S − e_t = 1 + e^D (s' − g_t) for t ≠ k, and a bound on its relative error. s' − g_t may
    /// cancel, but its absolute error is at most about ε s', and C >= 1, C >= S/2 >= s/2 keep that small
    /// relative to C.
    private func complement(_ t: Int) -> (DoubleWord, Double) {
        var difference = sPrime
        var absolute = sPrimeError * sPrime.hi * (1 + 0x1p-40) + 0x1p-1000
        if gExp[t] != Self.dropped {
            let g = gExp[t] >= -960 ? Self.unscaled(DoubleWord(gHi[t], gLo[t]), gExp[t])
                : DoubleWord(Double(sign: .plus, exponent: gExp[t], significand: gHi[t]))
            difference = difference.plus(g.negated)
            absolute += Self.epsExp * g.hi * (1 + 0x1p-40) + DoubleWord.errorOfPlus * difference.hi.magnitude * (1 + 0x1p-40)
        }
        // e^D (s' − g_t) = 2^eDExp · product; its absolute error in those units:
        let product = eD.times(difference)
        let productError = (absolute * (1 + eDError) + (eDError + DoubleWord.errorOfTimes) * difference.hi.magnitude)
            * eD.hi * (1 + 0x1p-40)
        let binade = product.hi == 0 ? Int.min : product.hi.exponent + eDExp
        var C: DoubleWord
        var error: Double
        if binade < -200 {
            C = DoubleWord(1, product.hi == 0 ? 0 : Double(sign: .plus, exponent: eDExp, significand: product.hi))
            error = 0x1p-190
        } else {
            C = product.scaled(eDExp).plus(1.0)
            error = DoubleWord.errorOfPlusDouble * C.hi * (1 + 0x1p-40)
        }
        error += Double(sign: .plus, exponent: eDExp, significand: productError) + 0x1p-1074  // (a bound that underflows)
        return (C, error / (C.hi * (1 - 0x1p-40)))
    }
}
