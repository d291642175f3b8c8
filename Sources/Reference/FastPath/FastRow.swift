// The quantities of a finite row (n >= 2) in double words, each with a proven relative error: the
// fast path's counterpart of ShiftedExponentials.swift. u = 2^-53; ε_exp = FastExponential.relativeError.
//
// With m = x_k the (first) maximum and m2 = x_k2 the largest of the others, every term is anchored at
// m2 so that the exponentials stay in double range whatever the gap to m:
//
//     D   = m2 − m <= 0                        exact (twoSum; overflow -> MPFR)
//     g_j = exp(x_j − m2) for j ≠ k            x_j − m2 exact; g_k2 = 1 exactly; ε_exp each.
//                                              A term with x_j − m2 < −763 is below 2^-1100: dropped and
//                                              charged 2^-1100 absolute (s' >= 1, so relative).
//     s'  = Σ_{j≠k} g_j in [1, n − 1]          AccurateDWPlusDW, one per term:
//                                              ε_s' = ε_exp + (n + 3)·3.01u² + n·2^-1000
//                                              (the last covers dropped terms, subnormal low words, and
//                                              terms below 2^-959 added as one double)
//     s   = e^D · s' = 2^sExp · sM             ε_s = ε_s' + ε_exp + 7u²   (ε_exp only if D ≠ 0)
//     S   = 1 + s in [1, n]                    ε_S = ε_s + 2u² (+ 2^-190 when s < 2^-199 is added as
//                                              one double)
//     1/S                                      ε_inv = ε_S + 20u²
//     L   = log1p(s) = 2^LExp · Lm             relative error ε_L:
//       s >= 2^-10: one Newton step on the certified exp: y0 = log(S.hi) (libm, any accuracy),
//           z = S · exp(−y0) = 1 + t (|t| <= 2^-40 is checked, not assumed), L = y0 + log1p(t) with
//           log1p(t) = t − t²/2 + t³/3 (remainder < 2^-160). Absolute error
//           <= ε_S + ε_exp + 7u² + 2^-120 + 2u²L, divided by L >= 2^-10.01 for ε_L.
//       s < 2^-10: log1p(s) = 2 atanh(w), w = s/(2 + s) <= 2^-11, = 2w(1 + w²/3 + w⁴/5 + w⁶/7 + w⁸/9)
//           (remainder < 2^-113): w²/3 in double words, the rest in double (<= 2^-97.3); ε_L =
//           ε_w + 2^-96 + 7u², ε_w = ε_s + ε_{2+s} + 20u² + 7u².
// Each output adds its own steps (FastFormulas.swift). When D < −2^20 every term but the maximum is
// below 2^(−1.5e6) ("ultra"): s is then only bounded, which settles every output by itself.
import Foundation

final class FastRow {
    /// The format outputs are rounded to.
    var format: BinaryFormat = .double
    private(set) var count = 0
    private(set) var maxIndex = 0
    private(set) var maxValue = 0.0
    private(set) var secondIndex = 0
    private(set) var secondValue = 0.0

    /// g_j = 2^gExp[j] · (gHi[j] + gLo[j]); gExp[j] = dropped for terms below 2^-1100, whose gHi[j] then
    /// holds an integer b with g_j < 2^b. Buffers that
    /// grow to the longest row seen (pointers: arrays in a class pay exclusivity and uniqueness checks
    /// on every element access).
    private(set) var gHi = UnsafeMutablePointer<Double>.allocate(capacity: 1)
    private(set) var gLo = UnsafeMutablePointer<Double>.allocate(capacity: 1)
    private(set) var gExp = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    /// Indices of the terms `narrow2` evaluates in pairs.
    private var narrowIndices = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    private var capacity = 1
    static let dropped = Int.min
    /// Below this difference from m2 a term is under 2^-1100 (e^-763 < 2^-1100.7): dropped.
    static let droppedDifference = -763.0
    /// log2(e), rounded to nearest: the integer exponent bound of a dropped term adds 2 for this
    /// rounding and for the difference's.
    static let log2e = 1.4426950408889634
    /// The exponent bound of a term whose difference is −inf: 2^(−2^40), below anything a double or
    /// MPFR's range can hold.
    static let infinitelyFarExponent = -0x1p40
    /// |t| for the Newton step's log1p(t) series: at most 2^-40, so t⁴/4 < 2^-162.
    static let newtonStepLimit = 0x1p-40

    deinit {
        gHi.deallocate()
        gLo.deallocate()
        gExp.deallocate()
        narrowIndices.deallocate()
    }

    /// D = m2 − m < −2^20: s < n · 2^(−1.5e6), below anything the outputs can see.
    private(set) var ultra = false
    /// exp(D) = 2^eDExp · eD, relative error eDError (0 when D = 0).
    private(set) var eD = DoubleWord(1)
    private(set) var eDExp = 0
    private(set) var eDError = 0.0
    private(set) var sPrime = DoubleWord(0)
    private(set) var sPrimeError = 0.0
    /// s = 2^sExp · sM.
    private(set) var sM = DoubleWord(0)
    private(set) var sExp = 0
    private(set) var sError = 0.0
    private(set) var S = DoubleWord(1)
    private(set) var SError = 0.0
    private(set) var invS = DoubleWord(1)
    private(set) var invSError = 0.0
    /// e^D / S, the factor of every p_j (j ≠ k) = 2^eDExp · eDOverS · g_j; its error is eDError + invSError + 7u².
    private(set) var eDOverS = DoubleWord(1)
    /// L = log1p(s) = 2^LExp · Lm.
    private(set) var Lm = DoubleWord(0)
    private(set) var LExp = 0
    private(set) var LError = 0.0

    static let u2 = DoubleWord.u2
    static let epsExp = FastExponential.relativeError

    /// Evaluates the row's quantities; false when the row is out of the fast path's reach (a difference
    /// of logits overflows, or a checked assumption fails) and the MPFR path must answer.
    func evaluate(_ x: [Double]) -> Bool {
        precondition(x.count >= 2)
        locateMaxima(x)
        reserve(x.count)
        // m2 − m overflows only when the gap exceeds 2^1023: an ultra row.
        let D = twoSum(secondValue, -maxValue)
        ultra = !(D.hi >= -FastExponential.wideLimit)
        if ultra { return true }
        guard sumTerms(x) else { return false }
        guard scaleSum(by: D) else { return false }
        guard let L = Self.log1p(sM, sExp, error: sError, onePlus: S, error: SError) else { return false }
        (Lm, LExp, LError) = (L.m, L.e, L.error)
        return true
    }

    /// m = x_k, the first maximum, and m2 = x_k2, the largest of the others.
    private func locateMaxima(_ x: [Double]) {
        let n = x.count
        count = n
        maxIndex = 0
        for j in 1..<n where x[j] > x[maxIndex] { maxIndex = j }
        maxValue = x[maxIndex]
        secondIndex = maxIndex == 0 ? 1 : 0
        for j in 0..<n where j != maxIndex && x[j] > x[secondIndex] { secondIndex = j }
        secondValue = x[secondIndex]
    }

    /// Buffers for rows of n logits.
    private func reserve(_ n: Int) {
        guard capacity < n else { return }
        gHi.deallocate()
        gLo.deallocate()
        gExp.deallocate()
        narrowIndices.deallocate()
        capacity = n
        gHi = .allocate(capacity: n)
        gLo = .allocate(capacity: n)
        gExp = .allocate(capacity: n)
        narrowIndices = .allocate(capacity: n)
    }

    /// The terms g_j and their sum s' (the k2 term is exactly 1). The common terms (x_j − m2 >= −709)
    /// are evaluated two at a time (SIMD2 lanes) into a two-lane accumulator; the others one at a time.
    /// The bound counts n + 3 additions, each within 3.01u² of a partial sum <= s'.
    private func sumTerms(_ x: [Double]) -> Bool {
        let n = x.count
        let gHi = self.gHi, gLo = self.gLo, gExp = self.gExp, narrowIndices = self.narrowIndices
        var sum = DoubleWord(1)
        var pending = 0
        let m2 = secondValue
        for j in 0..<n where j != maxIndex {
            if j == secondIndex {
                gHi[j] = 1
                gLo[j] = 0
                gExp[j] = 0
                continue
            }
            let dh = x[j] - m2
            if dh >= -FastExponential.narrowLimit {
                narrowIndices[pending] = j
                pending += 1
                continue
            }
            if !(dh >= Self.droppedDifference) {
                gExp[j] = Self.dropped
                // log2 g_j = dh · log2(e) (dh >= x_j − m2 − ulp/2): an integer bound with room to spare.
                gHi[j] = dh.isFinite ? (dh * Self.log2e).rounded(.down) + 2 : Self.infinitelyFarExponent
                continue
            }
            let d = twoSum(x[j], -m2)
            guard let g = FastExponential.wide(d.hi, d.lo) else { return false }
            gHi[j] = g.m.hi
            gLo[j] = g.m.lo
            gExp[j] = g.e
            sum = sum.plus(Self.term(g.m, g.e))
        }
        addNarrowTerms(x, pending, to: &sum)
        sPrime = sum
        sPrimeError = Self.epsExp + Double(n + 3) * DoubleWord.errorOfPlus + Double(n) * 0x1p-1000
        return true
    }

    /// Adds the `count` terms listed in narrowIndices, evaluated in pairs, to `sum`.
    private func addNarrowTerms(_ x: [Double], _ count: Int, to sum: inout DoubleWord) {
        let gHi = self.gHi, gLo = self.gLo, gExp = self.gExp, narrowIndices = self.narrowIndices
        let m2 = secondValue
        var pairs = DW(SIMD2<Double>(0, 0), SIMD2<Double>(0, 0))
        var p = 0
        while p + 1 < count {
            let j0 = narrowIndices[p], j1 = narrowIndices[p + 1]
            let d = twoSum(SIMD2(x[j0], x[j1]), SIMD2(repeating: -m2))
            let g = FastExponential.narrow2(d.hi, d.lo)
            gHi[j0] = g.m.hi[0]
            gLo[j0] = g.m.lo[0]
            gExp[j0] = g.e0
            gHi[j1] = g.m.hi[1]
            gLo[j1] = g.m.lo[1]
            gExp[j1] = g.e1
            if g.e0 >= -960 && g.e1 >= -960 {
                let scale = SIMD2(FastRounding.powerOfTwo(g.e0), FastRounding.powerOfTwo(g.e1))
                pairs = pairs.plus(DW(g.m.hi * scale, g.m.lo * scale))
            } else {
                sum = sum.plus(Self.term(DoubleWord(g.m.hi[0], g.m.lo[0]), g.e0))
                sum = sum.plus(Self.term(DoubleWord(g.m.hi[1], g.m.lo[1]), g.e1))
            }
            p += 2
        }
        if p < count {
            let j = narrowIndices[p]
            let d = twoSum(x[j], -m2)
            let g = FastExponential.narrow(d.hi, d.lo)
            gHi[j] = g.m.hi
            gLo[j] = g.m.lo
            gExp[j] = g.e
            sum = sum.plus(Self.term(g.m, g.e))
        }
        sum = sum.plus(DoubleWord(pairs.hi[0], pairs.lo[0]).plus(DoubleWord(pairs.hi[1], pairs.lo[1])))
    }

    /// s = e^D · s', S = 1 + s, 1/S and e^D / S.
    private func scaleSum(by D: DoubleWord) -> Bool {
        if D.hi == 0 && D.lo == 0 {
            eD = DoubleWord(1)
            eDExp = 0
            eDError = 0
        } else {
            let narrow = D.hi >= -FastExponential.narrowLimit
            guard let e = narrow ? FastExponential.narrow(D.hi, D.lo) : FastExponential.wide(D.hi, D.lo) else {
                return false
            }
            eD = e.m
            eDExp = e.e
            eDError = Self.epsExp
        }
        sM = eD.times(sPrime)
        sExp = eDExp
        sError = sPrimeError + eDError + DoubleWord.errorOfTimes
        let onePlusS = Self.plus(1, scaled: sM, sExp)
        S = onePlusS.value
        SError = sError + onePlusS.error
        invS = S.reciprocal
        invSError = SError + DoubleWord.errorOfReciprocal
        eDOverS = eD.times(invS)
        return true
    }

    /// L = log1p(s) = 2^e · m for s = 2^sExp · sM > 0 known to relative error sError, S = 1 + s known to
    /// relative error SError, with L's relative error; nil when a checked assumption fails.
    static func log1p(
        _ sM: DoubleWord, _ sExp: Int, error sError: Double, onePlus S: DoubleWord, error SError: Double
    ) -> (m: DoubleWord, e: Int, error: Double)? {
        if sM.hi.exponent + sExp >= -10 { return newtonLogarithm(S, error: SError) }
        return atanhLogarithm(sM, sExp, error: sError)
    }

    /// L = log S by one Newton step from libm's log (s >= 2^-10, so L >= 2^-10.01).
    private static func newtonLogarithm(
        _ S: DoubleWord, error SError: Double
    ) -> (m: DoubleWord, e: Int, error: Double)? {
        let y0 = Foundation.log(S.hi)
        guard y0 > 0, y0 <= FastExponential.narrowLimit else { return nil }
        let e = FastExponential.narrow(-y0, 0)
        let z = S.times(e.m).scaled(e.e)
        let t = twoSum(z.hi - 1, z.lo)  // z.hi - 1 is exact (z.hi in [1/2, 2])
        guard t.hi.magnitude <= Self.newtonStepLimit else { return nil }
        let correction = t.hi * t.hi * (-0.5 + t.hi / 3)
        let L = t.plus(correction).plus(y0)
        let absolute =
            (SError + Self.epsExp + DoubleWord.errorOfTimes) * (1 + 0x1p-30) + 0x1p-120
            + DoubleWord.errorOfPlusDouble * L.hi * (1 + 0x1p-30)
        return (L, 0, absolute / (L.hi * (1 - 0x1p-30)))
    }

    /// L = 2 atanh(s / (2 + s)) by its series (s < 2^-10).
    private static func atanhLogarithm(
        _ sM: DoubleWord, _ sExp: Int, error sError: Double
    ) -> (m: DoubleWord, e: Int, error: Double) {
        let twoPlusS = Self.plus(2, scaled: sM, sExp)
        let twoPlusSError = sError + twoPlusS.error
        let w = sM.times(twoPlusS.value.reciprocal)  // w = s / (2 + s) = 2^sExp · w
        let wError = sError + twoPlusSError + DoubleWord.errorOfReciprocal + DoubleWord.errorOfTimes
        var F = DoubleWord(1)
        var FError = 0x1p-999
        if w.hi.exponent + sExp >= -500 {
            let wu = w.scaled(sExp)
            let sq = twoProduct(wu.hi, wu.hi)
            let w2 = fastTwoSum(sq.hi, sq.lo + 2 * wu.hi * wu.lo)
            let w2h = w2.hi
            let rest = w2h * w2h * (1.0 / 5 + w2h * (1.0 / 7 + w2h * (1.0 / 9)))
            F = w2.divided(by: 3).plus(rest).plus(1.0)
            FError = 0x1p-96
        }
        return (w.times(F), sExp + 1, wError + FError + DoubleWord.errorOfTimes)
    }

    /// 2^e · m for −1022 <= e <= 1023: exact but for a low word that becomes subnormal (off by < 2^-1074).
    @inline(__always)
    static func unscaled(_ m: DoubleWord, _ e: Int) -> DoubleWord {
        let p = FastRounding.powerOfTwo(e)
        return DoubleWord(m.hi * p, m.lo * p)
    }

    /// k + 2^e · m for k >= 1 and 2^e · m >= 0 or far below k (1 + s, 2 + s, and 1 + e^D (s' − g_t), where
    /// s' − g_t may cancel to a tiny negative), with the step's
    /// relative error: DWPlusFP's 2u², or below 2^-200 the tail as one low word, off by < 2^-190.
    static func plus(_ k: Double, scaled m: DoubleWord, _ e: Int) -> (value: DoubleWord, error: Double) {
        if m.hi != 0 && m.hi.exponent + e >= -200 { return (m.scaled(e).plus(k), DoubleWord.errorOfPlusDouble) }
        return (DoubleWord(k, m.hi == 0 ? 0 : Double(sign: .plus, exponent: e, significand: m.hi)), 0x1p-190)
    }

    /// A term of s' as one double word: 2^e · m, or below 2^-959 its high word alone (off by < 2^-1000).
    @inline(__always)
    static func term(_ m: DoubleWord, _ e: Int) -> DoubleWord {
        e >= -960 ? unscaled(m, e) : DoubleWord(Double(sign: .plus, exponent: e, significand: m.hi))
    }

}
