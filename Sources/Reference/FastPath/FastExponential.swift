// exp in double-word arithmetic with a proven relative error bound, for the certified fast path.
//
// exp(d) for d = dh + dl (|dl| <= ulp(dh)/2) is returned as 2^E · m, m a double word in about [1, 2).
//
// Argument reduction (CORE-MATH's scheme with a 2^16-entry grid held as two 256-entry tables):
//     k = round(dh · 2^16 / ln 2),  r = d − k · c,  c = ln 2 / 2^16 = c1 + c2 + c3
//     exp(d) = 2^(k >> 16) · T1[(k >> 8) & 255] · T2[k & 255] · exp(r),
//     T1[i] = 2^(i/256), T2[j] = 2^(j/65536)   (computed once with MPFR at 320 bits, rounded to
//                                               double words: relative error <= u²(1 + u) each)
// c1 has 27 significant bits, c2 53 and c3 53 (MPFR at 320 bits, |c − c1 − c2 − c3| < 2^-170).
//
// `narrow` (|dh| <= 709, so |k| < 2^26): k·c1 is exact (26 + 27 bits) and k·c2 is Dekker's exact
// product with k as its own high half; the three differences are twoSums and the remaining low terms
// (each below 2^-69) are summed in double: |r̃ − r| <= 2^-116.
// `wide` (|dh| <= 2^20, |k| < 2^37): both products by twoProduct, the low terms accumulated by
// DWPlusFP (5 steps of 2u² on partial sums below 2^-7): |r̃ − r| <= 2^-110.
// In both, |r| <= (1/2 + 2^-15) c < 2^-17.52.
//
// exp(r) = 1 + r + r²/2 + r³ (1/6 + r/24 + r²/120) + R,   |R| <= r⁶/720 · e^|r| < 2^-114
//     1 + rh and + r²/2 are exact fastTwoSums; the cubic tail is in double (relative error <= 8u,
//     rh³ for r³ included): <= 8u · |r|³/6 < 2^-105; the low words are summed in double, four
//     roundings on partial sums below 2^-51.7: <= 2^-104.
// So |P − exp(r)| <= 2^-103 (exp(r) >= 1 − 2^-17, relative alike), and with the tables (2 · 1.01u²)
// and the two DWTimesDW1 products (2 · 7u²): relative error <= 2^-103 + 16.02u² + 2^-110 < 2^-101.
// The fast path charges `relativeError` = 2^-99, four times that. FastPathTests measures the largest
// error against MPFR on a million arguments (it is below 2^-104).
import MPFR

enum FastExponential {
    /// The relative error bound charged for every exp (see above).
    static let relativeError = 0x1p-99
    /// The largest |dh| `narrow` accepts.
    static let narrowLimit = 709.0
    /// The largest |dh| `wide` accepts.
    static let wideLimit = 0x1p20

    /// The reduction constants and the tables (held by pointer: an array here would be retained and
    /// released on every call).
    struct Constants: @unchecked Sendable {
        let invc: Double
        let c1: Double
        let c2: Double
        let c2h: Double
        let c2l: Double
        let c3: Double
        let t1: UnsafePointer<DoubleWord>
        let t2: UnsafePointer<DoubleWord>
    }

    static let constants: Constants = makeConstants()

    /// exp(dh + dl) for |dh| <= 709 (precondition). Relative error <= `relativeError`.
    @inline(__always)
    static func narrow(_ dh: Double, _ dl: Double) -> (m: DoubleWord, e: Int) {
        let c = constants
        let (r, kf) = narrowReduction(dh, dl, c)
        let k = Int(kf)
        return (c.t1[(k >> 8) & 255].times(c.t2[k & 255]).times(polynomial(r)), k >> 16)
    }

    /// Two exponentials at once (SIMD2 lanes), for |dh| <= 709 in both lanes: the same operations as
    /// `narrow`, lane by lane, so the same bound.
    @inline(__always)
    static func narrow2(_ dh: SIMD2<Double>, _ dl: SIMD2<Double>) -> (m: DW<SIMD2<Double>>, e0: Int, e1: Int) {
        let c = constants
        let (r, kf) = narrowReduction(dh, dl, c)
        let k0 = Int(kf[0]), k1 = Int(kf[1])
        let a0 = c.t1[(k0 >> 8) & 255], a1 = c.t1[(k1 >> 8) & 255]
        let b0 = c.t2[k0 & 255], b1 = c.t2[k1 & 255]
        let t = DW(SIMD2(a0.hi, a1.hi), SIMD2(a0.lo, a1.lo)).times(DW(SIMD2(b0.hi, b1.hi), SIMD2(b0.lo, b1.lo)))
        return (t.times(polynomial(r)), k0 >> 16, k1 >> 16)
    }

    /// r = d − k c and k for |dh| <= 709 (|k| < 2^26): see above.
    @inline(__always)
    private static func narrowReduction<T: Lanes>(_ dh: T, _ dl: T, _ c: Constants) -> (DW<T>, T) {
        let magic = T(broadcast: 0x1.8p52)
        let kf = (dh * T(broadcast: c.invc) + magic) - magic  // round to nearest even: |dh · invc| < 2^26
        let p = kf * T(broadcast: c.c1)  // exact
        let qh = kf * T(broadcast: c.c2)
        let ql = (kf * T(broadcast: c.c2h) - qh) + kf * T(broadcast: c.c2l)  // Dekker: kf·c2 = qh + ql exactly
        let a = twoSum(dh, -p)
        let b = twoSum(a.hi, -qh)
        let t = twoSum(b.hi, dl)
        let low = ((a.lo + b.lo) + t.lo) - (ql + kf * T(broadcast: c.c3))
        return (twoSum(t.hi, low), kf)
    }

    /// exp(dh + dl) for |dh| <= 2^20 (nil beyond). Relative error <= `relativeError`.
    static func wide(_ dh: Double, _ dl: Double) -> (m: DoubleWord, e: Int)? {
        guard dh.magnitude <= wideLimit else { return nil }
        let c = constants
        let kf = (dh * c.invc + 0x1.8p52) - 0x1.8p52  // round to nearest even: |dh · invc| < 2^37
        let p = twoProduct(kf, c.c1)
        let q = twoProduct(kf, c.c2)
        var r = twoSum(dh, -p.hi)
        r = r.plus(-q.hi)
        r = r.plus(-p.lo)
        r = r.plus(dl)
        r = r.plus(-(q.lo + kf * c.c3))
        guard r.hi.magnitude <= 0x1.7p-18 else { return nil }  // |r| < 2^-17.52 < 0x1.7p-18: never taken
        let k = Int(kf)
        return (c.t1[(k >> 8) & 255].times(c.t2[k & 255]).times(polynomial(r)), k >> 16)
    }

    /// exp(r) for |r| < 2^-17.52, within 2^-103.
    @inline(__always)
    private static func polynomial<T: Lanes>(_ r: DW<T>) -> DW<T> {
        let rh = r.hi
        let half = T(broadcast: 0.5)
        let sq = twoProduct(rh, rh)
        let sql = sq.lo + T(broadcast: 2) * rh * r.lo
        let tail = sq.hi * rh * (T(broadcast: 1.0 / 6) + rh * (T(broadcast: 1.0 / 24) + rh * T(broadcast: 1.0 / 120)))
        let h = fastTwoSum(T(broadcast: 1), rh)
        let h2 = fastTwoSum(h.hi, half * sq.hi)
        let low = (((half * sql + r.lo) + tail) + h.lo) + h2.lo
        return fastTwoSum(h2.hi, low)
    }

    private static func makeConstants() -> Constants {
        MPFREnvironment.useWidestExponentRange()
        let precision = 320
        let ln2 = MPFRFloat(precision: precision)
        let two = MPFRFloat(precision: precision)
        two.set(2.0)
        ln2.log(two)
        let c = MPFRFloat(precision: precision)
        c.scale(ln2, byPowerOfTwo: -16)
        let short = MPFRFloat(precision: 27)
        short.set(c)
        let c1 = short.double()
        let rest = MPFRFloat(precision: precision)
        rest.subtract(c, c1)
        let c2 = rest.double()
        rest.subtract(rest, c2)
        let c3 = rest.double()
        let (c2h, c2l) = split(c2)
        let invc = 65536 / ln2.double()

        func table(_ count: Int, step: Int) -> UnsafePointer<DoubleWord> {
            let v = MPFRFloat(precision: precision)
            let w = MPFRFloat(precision: precision)
            // Allocated once for the life of the process.
            let entries = UnsafeMutablePointer<DoubleWord>.allocate(capacity: count)
            for i in 0..<count {
                v.multiply(ln2, i)
                v.scale(v, byPowerOfTwo: -step)
                w.exp(v)
                let hi = w.double()
                w.subtract(w, hi)
                entries[i] = DoubleWord(hi, w.double())
            }
            return UnsafePointer(entries)
        }
        return Constants(
            invc: invc, c1: c1, c2: c2, c2h: c2h, c2l: c2l, c3: c3,
            t1: table(256, step: 8), t2: table(256, step: 16))
    }
}
