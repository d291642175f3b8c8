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
    /// Added to every absolute error built from products and sums of small numbers (Jᵀv): each of the
    /// few operations that may underflow loses at most 2^-1075, and a bound rounded to 0 would claim
    /// exactness.
    static let underflowAllowance = 0x1p-1068

    /// FastRounding.certify in this row's format.
    func certify(_ a: FastApproximation, knownSign: Int, magnitudeAbove limit: DoubleWord? = nil) -> ReferenceValue? {
        FastRounding.certify(a, knownSign: knownSign, magnitudeAbove: limit, format: format)
    }

    func softmax() -> [ReferenceValue]? { probabilities(dividedBy: 1, except: nil) }

    /// p_j / B for every j but `except` (left +0), certified; dropped terms are +0 (below 2^-1100).
    private func probabilities(dividedBy b: Int, except: Int?) -> [ReferenceValue]? {
        var out = [ReferenceValue](repeating: ReferenceValue(rounded: 0, ulpOffset: 0), count: count)
        if ultra {
            if maxIndex != except {
                guard
                    let v = certify(
                        FastApproximation(
                            DoubleWord(1).divided(by: Double(b)),
                            relativeError: 0x1p-999 + DoubleWord.errorOfDividedByDouble), knownSign: 1)
                else { return nil }
                out[maxIndex] = v
            }
            return out
        }
        let batch = Double(b)
        let division = b == 1 ? 0 : DoubleWord.errorOfDividedByDouble
        let c = eDOverS
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
            guard let v = certify(a, knownSign: 1) else { return nil }
            out[j] = v
        }
        return out
    }

    /// L as one unscaled double word with its absolute error.
    func unscaledL() -> (DoubleWord, Double) {
        if ultra { return (DoubleWord(0), 0x1p-1000) }
        return Self.unscaled(Lm, LExp, relativeError: LError)
    }

    /// 2^e · m (m > 0, 2^e · m below 2^1000) as one double word with its absolute error, from m's relative
    /// error: below 2^-900 it is 0, off by less than 2^(binade + 2).
    static func unscaled(_ m: DoubleWord, _ e: Int, relativeError: Double) -> (DoubleWord, Double) {
        let binade = m.hi.exponent + e
        if binade >= -900 {
            let v = m.scaled(e)
            return (v, 2 * relativeError * v.hi * boundRoundingUp + 0x1p-1073)
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
        let error = DoubleWord.errorOfPlus * v.hi.magnitude * boundRoundingUp + L.1
        return certify(FastApproximation(v, scale: scale, absoluteError: error), knownSign: -1, magnitudeAbove: d)
    }

    func logSoftmax(_ x: [Double]) -> [ReferenceValue]? {
        var out: [ReferenceValue] = []
        out.reserveCapacity(count)
        let L = unscaledL()
        for j in 0..<count {
            if j == maxIndex {
                var minusL = approximateL()
                minusL.value = minusL.value.negated
                guard let v = certify(minusL, knownSign: -1) else { return nil }
                out.append(v)
            } else {
                guard let v = logProbability(x, j, L) else { return nil }
                out.append(v)
            }
        }
        return out
    }

    func logSumExp() -> ReferenceValue? {
        if maxValue == 0 { return certify(approximateL(), knownSign: 1) }
        let L = unscaledL()
        let v = L.0.plus(maxValue)
        let error = DoubleWord.errorOfPlusDouble * v.hi.magnitude * boundRoundingUp + L.1
        // y > m (L > 0): for m > 0 that is |y| > |m|, which settles an m on a midpoint of the format.
        return certify(
            FastApproximation(v, absoluteError: error), knownSign: maxValue > 0 ? 1 : 0,
            magnitudeAbove: maxValue > 0 ? DoubleWord(maxValue) : nil)
    }

    func crossEntropy(_ x: [Double], label t: Int) -> ReferenceValue? {
        if t == maxIndex { return certify(approximateL(), knownSign: 1) }
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
            a = FastApproximation(
                sM.times(invS).divided(by: batch), scale: sExp,
                relativeError: sError + invSError + DoubleWord.errorOfTimes + division)
        } else {
            let (C, error) = complement(t)
            a = FastApproximation(
                C.times(invS).divided(by: batch),
                relativeError: error + invSError + DoubleWord.errorOfTimes + division)
        }
        var negated = a
        negated.value = a.value.negated
        guard let v = certify(negated, knownSign: -1) else { return nil }
        out[t] = v
        return out
    }

    /// C = S − e_t = 1 + e^D (s' − g_t) for t ≠ k, and a bound on its relative error. s' − g_t may
    /// cancel, but its absolute error is at most about ε s', and C >= 1, C >= S/2 >= s/2 keep that small
    /// relative to C.
    private func complement(_ t: Int) -> (DoubleWord, Double) {
        var difference = sPrime
        var absolute = sPrimeError * sPrime.hi * boundRoundingUp + 0x1p-1000
        if gExp[t] != Self.dropped {
            let g = Self.term(DoubleWord(gHi[t], gLo[t]), gExp[t])
            difference = difference.plus(g.negated)
            absolute +=
                Self.epsExp * g.hi * boundRoundingUp + DoubleWord.errorOfPlus * difference.hi.magnitude
                * boundRoundingUp
        }
        // e^D (s' − g_t) = 2^eDExp · product; its absolute error in those units:
        let product = eD.times(difference)
        let productError =
            (absolute * (1 + eDError) + (eDError + DoubleWord.errorOfTimes) * difference.hi.magnitude)
            * eD.hi * boundRoundingUp
        let onePlus = Self.plus(1, scaled: product, eDExp)  // (product >= 0 up to its error)
        let C = onePlus.value
        let error =
            onePlus.error * C.hi * boundRoundingUp
            + Double(sign: .plus, exponent: eDExp, significand: productError) + 0x1p-1074  // (a bound that underflows)
        return (C, error / (C.hi * boundRoundingDown))
    }
}

// MARK: - Jacobian, vector-Jacobian product, mean batch loss
//
//     J_ii = p_i (1 − p_i),  1 − p_i = C_i / S     ε_p + ε_C + ε_inv + 2·7u²   (C_k = s)
//     J_ij = −p_i p_j                              2 ε_p + 7u²
//     (Jᵀv)_i = p_i (v_i − c), c = Σ_j p_j v_j:    v_i − c may cancel, so c carries an absolute bound
//              (each term's 2ε_p + 3u², n · 3.01u² Σ|p_j v_j| for the sum, 2^-1100 |v_j| per p_j below
//              2^-1100) and each element |p_i| |error of v_i − c| + |w_i| (2ε_p + 7u²). A result whose
//              bound does not settle its sign (an exact or near cancellation) goes to MPFR, which decides
//              exact zeros exactly.
//     mean CE       Σ_b CE_b / B, terms >= 0: the rows' absolute errors, (B + 1)·3.01u² of the sum, 3.5u².

extension FastRow {
    /// p_j = 2^scale · P with P's relative error (first order); nil when p_j < 2^-1100 (a dropped term,
    /// or any j ≠ k of an ultra row).
    func probabilityWord(_ j: Int) -> (P: DoubleWord, scale: Int, error: Double)? {
        if ultra { return j == maxIndex ? (DoubleWord(1), 0, 0x1p-999) : nil }
        if j == maxIndex { return (invS, 0, invSError) }
        if gExp[j] == Self.dropped { return nil }
        return (
            eDOverS.times(DoubleWord(gHi[j], gLo[j])), eDExp + gExp[j],
            invSError + eDError + 2 * DoubleWord.errorOfTimes + Self.epsExp
        )
    }

    /// An integer E with p_j < 2^E for a j that `probabilityWord` leaves out (p_j < 2^-1100).
    func probabilityExponentBound(_ j: Int) -> Int {
        if ultra || gExp[j] != Self.dropped { return -1100 }
        // p_j = e^D g_j / S <= 2^(eDExp + 1) · 2^b.
        return min(-1100, eDExp + 1 + Int(max(gHi[j], Self.infinitelyFarExponent)))
    }

    /// 1 − p_j = 2^scale · Q with Q's relative error; nil when it is below 2^-1100 (j = k of an ultra row).
    private func complementWord(_ j: Int) -> (Q: DoubleWord, scale: Int, error: Double)? {
        if ultra { return j == maxIndex ? nil : (DoubleWord(1), 0, 0x1p-999) }
        if j == maxIndex { return (sM.times(invS), sExp, sError + invSError + DoubleWord.errorOfTimes) }
        let (C, error) = complement(j)
        return (C.times(invS), 0, error + invSError + DoubleWord.errorOfTimes)
    }

    func jacobian() -> [ReferenceValue]? {
        let n = count
        let p = (0..<n).map { probabilityWord($0) }
        var out: [ReferenceValue] = []
        out.reserveCapacity(n * n)
        for i in 0..<n {
            for j in 0..<n {
                let a: FastApproximation
                let sign: Int
                if i == j {
                    sign = 1
                    if let pi = p[i], let qi = complementWord(i) {
                        a = FastApproximation(
                            pi.P.times(qi.Q), scale: pi.scale + qi.scale,
                            relativeError: pi.error + qi.error + DoubleWord.errorOfTimes)
                    } else {
                        a = .tiny(below: -1100)  // p_i (1 − p_i) <= min(p_i, 1 − p_i) < 2^-1100
                    }
                } else {
                    sign = -1
                    if let pi = p[i], let pj = p[j] {
                        a = FastApproximation(
                            pi.P.times(pj.P).negated, scale: pi.scale + pj.scale,
                            relativeError: pi.error + pj.error + DoubleWord.errorOfTimes)
                    } else {
                        a = .tiny(below: -1100)  // p_i p_j <= min(p_i, p_j) < 2^-1100
                    }
                }
                guard let v = certify(a, knownSign: sign) else { return nil }
                out.append(v)
            }
        }
        return out
    }

    func vectorJacobianProduct(_ v: [Double]) -> [ReferenceValue]? {
        if ultra { return ultraVectorJacobianProduct(v) }
        if let grouped = groupedVectorJacobianProduct(v) { return grouped }
        let n = count
        let u2 = DoubleWord.u2
        var c = DoubleWord(0)
        var cError = 0.0
        var magnitude = 0.0
        var p: [(P: DoubleWord, scale: Int, error: Double)?] = []
        p.reserveCapacity(n)
        for j in 0..<n {
            let pj = probabilityWord(j)
            p.append(pj)
            guard let pj, pj.scale + pj.P.hi.exponent >= -900 else {
                // p_j < 2^-899 (or < 2^-1100): left out of c, charged in full.
                cError += v[j].magnitude * 0x1p-898
                continue
            }
            let term = Self.unscaled(pj.P, pj.scale).times(v[j])
            magnitude += term.hi.magnitude
            cError += term.hi.magnitude * (2 * pj.error + 3 * u2) * boundRoundingUp + 0x1p-1070
            c = c.plus(term)
        }
        cError =
            (cError + Double(n + 1) * DoubleWord.errorOfPlus * magnitude) * boundRoundingUp + Self.underflowAllowance
        guard c.hi.isFinite, cError.isFinite else { return nil }
        var out: [ReferenceValue] = []
        out.reserveCapacity(n)
        for i in 0..<n {
            let r = c.negated.plus(v[i])
            let rError =
                (cError + DoubleWord.errorOfPlusDouble * r.hi.magnitude) * boundRoundingUp + Self.underflowAllowance
            let a: FastApproximation
            var sign = 0
            if let pi = p[i] {
                let w = pi.P.times(r)
                let error =
                    (pi.P.hi.magnitude * rError * (1 + 2 * pi.error)
                        + w.hi.magnitude * (2 * pi.error + DoubleWord.errorOfTimes)) * boundRoundingUp
                    + Self.underflowAllowance
                a = FastApproximation(w, scale: pi.scale, absoluteError: error)
            } else {
                // p_i < 2^E: |w_i| < 2^E (|r| + error), with r's sign when the error allows.
                let bound = (r.hi.magnitude + rError) * 2
                guard bound > 0, bound.isFinite else { return nil }
                if r.hi.magnitude > rError { sign = r.hi < 0 ? -1 : 1 }
                a = .tiny(below: probabilityExponentBound(i) + bound.exponent + 1)
            }
            guard let value = certify(a, knownSign: sign) else { return nil }
            out.append(value)
        }
        return out
    }

    /// Jᵀv with v_i − c written as Σ_j p_j (v_i − v_j) = (1/S) [(v_i − v_k) + e^D Σ_w G_w (v_i − w)], the
    /// sum over the distinct values w of v (at most 32; nil beyond) with G_w = Σ_{j ≠ k, v_j = w} g_j. The
    /// maximum's share, whose cancellation against v_i is what loses accuracy in v_i − c, drops out
    /// exactly when v_i = v_k; every difference v_i − w is exact (twoSum) and the G_w are sums of
    /// positive terms (relative error ε_s'). Each element carries the absolute error of its bracket.
    private func groupedVectorJacobianProduct(_ v: [Double]) -> [ReferenceValue]? {
        guard let (values, group) = Self.distinctValues(v, count: count) else { return nil }
        let (G, GError) = groupSums(group, values.count)
        var out: [ReferenceValue] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            guard let (B, bError) = bracketTail(v[i], values, group[i], G, GError),
                let (A, aScale, aError) = bracket(v, i, B, bError)
            else { return nil }
            // w_i = p_i · (1/S) · A_i.
            let a: FastApproximation
            var sign = 0
            if let pi = probabilityWord(i) {
                let factor = pi.P.times(invS)
                let factorError = pi.error + invSError + DoubleWord.errorOfTimes
                let w = factor.times(A)
                let error =
                    (factor.hi.magnitude * aError * (1 + 2 * factorError)
                        + w.hi.magnitude * (2 * factorError + DoubleWord.errorOfTimes)) * boundRoundingUp
                    + Self.underflowAllowance
                a = FastApproximation(w, scale: pi.scale + aScale, absoluteError: error)
            } else {
                let bound = (A.hi.magnitude + aError) * 2
                guard bound > 0, bound.isFinite else { return nil }
                if A.hi.magnitude > aError { sign = A.hi < 0 ? -1 : 1 }
                a = .tiny(below: probabilityExponentBound(i) + aScale + bound.exponent + 1)
            }
            guard let value = certify(a, knownSign: sign) else { return nil }
            out.append(value)
        }
        return out
    }

    /// The distinct values of v (at most `maximumGroups`; nil beyond) and each element's group.
    private static func distinctValues(_ v: [Double], count n: Int) -> ([Double], [Int])? {
        var values: [Double] = []
        var group = [Int](repeating: 0, count: n)
        for j in 0..<n {
            if let g = values.firstIndex(of: v[j]) {
                group[j] = g
            } else {
                guard values.count < maximumGroups else { return nil }
                group[j] = values.count
                values.append(v[j])
            }
        }
        return (values, group)
    }

    /// The most distinct values of v the grouped evaluation takes (its cost grows with their number).
    static let maximumGroups = 32

    /// G_w = Σ_{j ≠ k, v_j = w} g_j per group, each with its absolute error.
    private func groupSums(_ group: [Int], _ groups: Int) -> ([DoubleWord], [Double]) {
        var G = [DoubleWord](repeating: DoubleWord(0), count: groups)
        var GError = [Double](repeating: 0, count: groups)  // absolute
        for j in 0..<count where j != maxIndex {
            let g = group[j]
            guard gExp[j] != Self.dropped else {
                GError[g] += 0x1p-1074  // g_j < 2^-1100, but no smaller bound is a double
                continue
            }
            let term = Self.term(DoubleWord(gHi[j], gLo[j]), gExp[j])
            G[g] = G[g].plus(term)
            GError[g] +=
                Self.epsExp * term.hi * boundRoundingUp + DoubleWord.errorOfPlus * G[g].hi * boundRoundingUp
                + (gExp[j] >= -960 ? 0x1p-1070 : 0x1p-1000)
        }
        return (G, GError)
    }

    /// B_i = Σ_w G_w (v_i − w) over the other groups, with its absolute error.
    private func bracketTail(
        _ vi: Double, _ values: [Double], _ own: Int, _ G: [DoubleWord],
        _ GError: [Double]
    ) -> (DoubleWord, Double)? {
        var B = DoubleWord(0)
        var bError = 0.0
        var bMagnitude = 0.0
        for (g, w) in values.enumerated() where g != own && (G[g].hi != 0 || GError[g] != 0) {
            let difference = twoSum(vi, -w)
            guard difference.hi.isFinite, difference.lo.isFinite else { return nil }
            let product = G[g].times(difference)
            B = B.plus(product)
            bMagnitude += product.hi.magnitude
            bError +=
                GError[g] * difference.hi.magnitude * boundRoundingUp + DoubleWord.errorOfTimes * product.hi.magnitude
        }
        bError =
            (bError + Double(values.count + 1) * DoubleWord.errorOfPlus * bMagnitude) * boundRoundingUp
            + Self.underflowAllowance
        return (B, bError)
    }

    /// A_i = (v_i − v_k) + e^D B_i, at scale aScale with absolute error aError (in those units).
    private func bracket(_ v: [Double], _ i: Int, _ B: DoubleWord, _ bError: Double) -> (DoubleWord, Int, Double)? {
        let eB = eD.times(B)
        let eBError =
            (bError * (1 + eDError) + (eDError + DoubleWord.errorOfTimes) * B.hi.magnitude) * eD.hi * boundRoundingUp
            + Self.underflowAllowance
        let head = twoSum(v[i], -v[maxIndex])
        guard head.hi.isFinite, head.lo.isFinite else { return nil }
        var A: DoubleWord
        var aScale = 0
        var aError: Double
        if head.hi == 0 {
            A = eB
            aScale = eDExp
            aError = eBError
        } else if eDExp + (eB.hi == 0 ? -2000 : eB.hi.exponent) >= -900 && eDExp <= 900 {
            let tail = Self.scaledWord(eB, eDExp)
            A = head.plus(tail)
            aError =
                eBError * FastRounding.powerOfTwo(max(eDExp, -1022)) + DoubleWord.errorOfPlus * A.hi.magnitude
                + 0x1p-1070
            if eDExp < -1022 { aError = .infinity }
        } else {
            // e^D B_i is below 2^-899: the head decides, the rest is error.
            A = head
            aError = (eB.hi.magnitude * 2 + eBError) * FastRounding.powerOfTwo(max(eDExp, -1022))
            if eDExp < -1022 { aError = (eB.hi.magnitude * 2 + eBError) * 0x1p-1022 }
        }
        guard aError.isFinite else { return nil }
        return (A, aScale, aError)
    }

    /// Jᵀv on an ultra row (every p_j, j ≠ k, below 2^(−1.5e6)): w_i = p_i (v_i − v_k + e^D B_i) / S. Where
    /// v_i ≠ v_k, w_i is ±0 for i ≠ k with the sign of v_i − v_k; where v_i = v_k, it is e^D-small with the
    /// sign of B_i = Σ_{j≠k} g_j (v_i − v_j), known when those differences do not change sign (g_j > 0);
    /// all zero makes w exactly 0. Otherwise nil.
    private func ultraVectorJacobianProduct(_ v: [Double]) -> [ReferenceValue]? {
        let vk = v[maxIndex]
        var positive = false, negative = false
        for j in 0..<count where j != maxIndex {
            if vk > v[j] { positive = true }
            if vk < v[j] { negative = true }
        }
        if positive && negative { return nil }
        let sameSign = positive ? 1 : negative ? -1 : 0
        return v.indices.map { i in
            if v[i] != vk { return ReferenceValue(rounded: v[i] < vk ? -0.0 : 0.0, ulpOffset: v[i] < vk ? -0.0 : 0.0) }
            if sameSign == 0 { return ReferenceValue(rounded: 0, ulpOffset: 0) }  // v is constant: exactly 0
            let zero = sameSign < 0 ? -0.0 : 0.0
            return ReferenceValue(rounded: zero, ulpOffset: zero)
        }
    }

    /// 2^e · m for −900 <= e + exponent(m) and e <= 900, as one double word (low word may go subnormal).
    private static func scaledWord(_ m: DoubleWord, _ e: Int) -> DoubleWord {
        e >= -1022 ? unscaled(m, e) : m.scaled(e)
    }

    /// The loss −log p_t of the evaluated row as one unscaled double word with its absolute error.
    func crossEntropyWord(_ x: [Double], label t: Int) -> (DoubleWord, Double)? {
        let L = unscaledL()
        if t == maxIndex { return L }
        let d = twoSum(x[t], -maxValue)
        guard d.hi.isFinite, d.lo.isFinite else { return nil }
        let v = d.negated.plus(L.0)
        return (v, DoubleWord.errorOfPlus * v.hi.magnitude * boundRoundingUp + L.1)
    }
}
