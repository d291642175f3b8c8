// The quantities every certified formula is built from, at a working precision P (docs/design.md,
// "The reference").
//
// For a row of finite logits x_0..x_{n−1} with maximum m = x_k (k the first index of the maximum):
//
//     d_j = x_j − m <= 0                     (rounded to P + 64 bits)
//     e_j = exp(d_j) in (0, 1],  e_k = 1      (rounded to P bits)
//     s   = Σ_{j≠k} e_j in [0, n − 1]         (mpfr_sum: one rounding)
//     S   = 1 + s = Σ_j e_j                   (the softmax denominator, >= 1)
//     L   = log1p(s) = log S                  (so logsumexp = m + L and log p_j = d_j − L)
//
// Every term is non-negative, so no sum cancels and a modest precision always suffices. With
// η = 2^−P, these hold (first order, with room to spare; U = 2^(emin + 2300) when a term underflowed
// MPFR, else 0):
//
//     |d̃_j − d_j| <= 2^−(P+64) |d_j|            (so <= η/4 while |d_j| <= 2^62)
//     |ẽ_j − e_j| <= 2η e_j                    (exp's rounding plus the effect of d's)
//     |s̃ − s|     <= 4η s + U
//     |S̃ − S|     <= 6η S + U
//     |L̃ − L|     <= 6η L + U                  (log1p is 1/(1+s)-Lipschitz and s/(1+s) <= log1p(s))
//
// A term with d_j < −2^62 is below 2^(emin) (MPFR's smallest exponent, about −4.6e18), as is any term
// whose exp underflows: it is set to zero and counted, contributing at most 2^emin each to U — a
// known absolute error far below any binary64 concern, never a silent exact zero.
import MPFR

final class ShiftedExponentials {
    private(set) var count = 0
    private(set) var maxIndex = 0
    private(set) var maxValue = 0.0
    private(set) var precision = 0

    /// d_j at P + 64 bits, and whether it is exact. (Arrays grow to the longest row seen and are
    /// reused; only the first `count` entries belong to the current row.)
    private(set) var d: [MPFRFloat] = []
    private(set) var dExact: [Bool] = []
    /// e_j at P bits (e_k = 1; 0 for a term below MPFR's range), and whether it is exact.
    private(set) var e: [MPFRFloat] = []
    private(set) var eExact: [Bool] = []
    private(set) var eUnderflowed: [Bool] = []
    private(set) var underflowCount = 0

    let s = MPFRFloat(precision: 64)
    let S = MPFRFloat(precision: 64)
    let L = MPFRFloat(precision: 64)
    private(set) var sExact = true
    private(set) var SExact = true
    private(set) var LExact = true

    /// A difference d_j below −2^62 makes e^(d_j) < 2^(emin): such a term is not asked of exp.
    static let negligibleDifferenceExponent = 62

    /// The underflow allowance U = 2^(emin + margin). Each term below MPFR's range is below 2^emin, and
    /// there are fewer than 2^64 of them; every output multiplies their sum by at most a weight q_i or v_j
    /// (< 2^1024) and sums fewer than 2^64 such products: 64 + 1024 + 64 = 1152 bits, doubled for room.
    static let underflowMargin = 2300

    /// log2 of U in the current thread's exponent range.
    static var underflowAllowanceExponent: Int { MPFREnvironment.minimumExponent + underflowMargin }

    /// log2 of the absolute-error allowance for terms below MPFR's range (nil when none underflowed).
    var underflowErrorExponent: Int? {
        underflowCount == 0 ? nil : Self.underflowAllowanceExponent
    }

    /// Evaluates the row at precision P. Precondition: `x` is non-empty and finite.
    func evaluate(_ x: [Double], precision p: Int) {
        precondition(!x.isEmpty)
        var k = 0
        for j in 1..<x.count where x[j] > x[k] { k = j }
        maxValue = x[k]
        let mpMax = MPFRFloat(maxValue)
        evaluate(count: x.count, maxIndex: k, precision: p) { dj, j in dj.subtract(x[j], mpMax) == 0 }
    }

    /// Evaluates a row of exact MPFR values (attention's scores s·x_j + b_j, which binary64 may not hold) at
    /// precision P; `maxValue` is then unset. Precondition: `z` is non-empty and finite.
    func evaluate(scores z: [MPFRFloat], precision p: Int) {
        precondition(!z.isEmpty)
        var k = 0
        for j in 1..<z.count where z[j].compare(z[k]) > 0 { k = j }
        maxValue = .nan
        evaluate(count: z.count, maxIndex: k, precision: p) { dj, j in dj.subtract(z[j], z[k]) == 0 }
    }

    /// The evaluation of a row of n values whose maximum is at k; `difference(d, j)` sets d to the row's
    /// x_j − x_k rounded to d's precision, and says whether that is exact.
    private func evaluate(
        count n: Int, maxIndex k: Int, precision p: Int, difference: (MPFRFloat, Int) -> Bool
    ) {
        count = n
        precision = p
        maxIndex = k
        grow(to: n)

        underflowCount = 0
        var allExact = true
        for j in 0..<n {
            let dj = d[j]
            let ej = e[j]
            dj.precision = p + 64
            ej.precision = p
            dExact[j] = difference(dj, j)
            eUnderflowed[j] = false
            if j == maxIndex {
                // e_k stays out of the sum s; it is set to 1 below.
                ej.setZero()
                eExact[j] = true
                continue
            }
            if !dj.isZero && dj.exponent > Self.negligibleDifferenceExponent {
                // d_j < −2^62: e^(d_j) < 2^(emin); no need to ask exp.
                ej.setZero()
                eUnderflowed[j] = true
            } else {
                MPFREnvironment.clearUnderflow()
                let ternary = ej.exp(dj)
                if MPFREnvironment.underflowed {
                    ej.setZero()
                    eUnderflowed[j] = true
                } else {
                    eExact[j] = ternary == 0 && dExact[j]
                }
            }
            if eUnderflowed[j] {
                underflowCount += 1
                eExact[j] = false
            }
            allExact = allExact && eExact[j]
        }
        s.precision = p
        S.precision = p
        L.precision = p
        sExact = s.sum(e, count: n) == 0 && allExact
        e[maxIndex].set(1)
        SExact = S.add(s, 1.0) == 0 && sExact
        LExact = L.log(onePlus: s) == 0 && sExact
    }

    private func grow(to n: Int) {
        while d.count < n {
            d.append(MPFRFloat(precision: 64))
            e.append(MPFRFloat(precision: 64))
            dExact.append(true)
            eExact.append(true)
            eUnderflowed.append(false)
        }
    }
}
