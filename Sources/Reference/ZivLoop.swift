// Ziv's strategy: evaluate at a working precision P with a rigorous error bound, certify each output's
// rounding, and raise P (doubling it) for the outputs that are not yet decided. Exact results carry no
// error (MPFR's ternary values say so), so they certify at once and the loop always ends for them;
// any other result is a real number that is not a binary64 midpoint (a transcendental or a
// non-dyadic rational), so a finite P decides it. A precision limit turns a pathological row into a
// clear error instead of a hang.
import Catalogue
import MPFR

/// The approximations of one evaluation at precision P, with their error bounds.
final class Candidates {
    private(set) var values: [MPFRFloat] = []
    private(set) var errorExponents: [Int?] = []
    private(set) var knownSigns: [Int] = []
    /// An exact value the result is known to be strictly below (upper) or above (lower), if any.
    private(set) var limits: [(MPFRFloat, upper: Bool)?] = []
    private(set) var precision = 0
    private(set) var count = 0
    /// log2 of the absolute allowance for terms below MPFR's range, if any underflowed.
    var underflowExponent: Int? = nil

    func prepare(count n: Int, precision p: Int) {
        count = n
        precision = p
        underflowExponent = nil
        while values.count < n {
            values.append(MPFRFloat(precision: p))
            errorExponents.append(nil)
            knownSigns.append(0)
            limits.append(nil)
        }
        for j in 0..<n { limits[j] = nil }
        for j in 0..<n { values[j].precision = p }
    }

    /// Records output j: exact, or within Σ c_i · 2^−P · |m_i| (+ the underflow allowance) of the
    /// exact value. The constants c_i come from the error analysis beside each formula.
    func record(_ j: Int, exact: Bool, sign: Int, _ bounds: (Int, MPFRFloat)...) {
        record(j, exact: exact, sign: sign, exponents: bounds.map { ($0.0, $0.1.isRegular ? $0.1.exponent : nil) })
    }

    /// The same with each magnitude given by its MPFR exponent e (|m_i| < 2^e; nil for zero).
    func record(_ j: Int, exact: Bool, sign: Int, exponents bounds: [(Int, Int?)]) {
        knownSigns[j] = sign
        if exact && underflowExponent == nil {
            errorExponents[j] = nil
            return
        }
        var exponent: Int? = underflowExponent
        for case let (c, magnitude?) in bounds {
            let term = magnitude - precision + ceilLog2(c)
            exponent = max(exponent ?? term, term)
        }
        // Σ of k terms each <= 2^t is <= 2^(t + ceil(log2 k)).
        errorExponents[j] = (exponent ?? MPFREnvironment.minimumExponent) + ceilLog2(bounds.count + 1)
    }

    /// Records output j with an absolute error below 2^errorExponent (nil: exact), the underflow allowance
    /// added: for errors worked out by the caller (a logarithm's of a cancelling sum).
    func record(_ j: Int, sign: Int, errorExponent: Int?) {
        knownSigns[j] = sign
        guard let e = errorExponent else {
            errorExponents[j] = underflowExponent.map { $0 + 1 }
            return
        }
        errorExponents[j] = max(e, underflowExponent ?? e) + 1
    }

    /// Records output j as exact whatever underflowed: for values decided exactly by other means
    /// (the VJP's exact zeros).
    func recordExact(_ j: Int) {
        knownSigns[j] = 0
        errorExponents[j] = nil
    }

    /// Records that output j's exact value is strictly below (`upper`) or above `limit`, an exact value
    /// that must stay untouched until the outputs are certified. This settles results whose error
    /// interval never leaves a rounding midpoint: log p_j = d_j − L when d_j is itself a binary64
    /// midpoint and L > 0 is far below any precision's reach.
    func limit(_ j: Int, _ limit: MPFRFloat, upper: Bool) { limits[j] = (limit, upper) }

    private func ceilLog2(_ c: Int) -> Int { c <= 1 ? 0 : Int.bitWidth - (c - 1).leadingZeroBitCount }
}

extension SoftmaxReference {
    /// The first working precision: enough for typical rows to certify in one pass (53 bits of
    /// result, 24 of offset, the error constants and log2 of long rows' sums).
    public static let initialPrecision = 128

    /// ⌈1000 log2 10⌉ = ⌈3321.93⌉: bits per thousand decimal digits.
    static let bitsPerThousandDigits = 3322
    /// Guard bits beyond the digits' own, so that the last printed digit is right.
    static let decimalGuardBits = 6
    /// For an approximation of zero (a result below MPFR's range), the error must lie below
    /// 2^(zeroDigitsExponent − 4·digits): far below every binary64 (2^-1074), 4 > log2 10 bits per digit.
    static let zeroDigitsExponent = -1200

    /// Whether an error of 2^errorExponent fixes `digits` significant decimal digits of v (error below
    /// 10^-(digits+1) relative).
    static func fixes(_ digits: Int, of v: MPFRFloat, errorExponent: Int?) -> Bool {
        guard let error = errorExponent else { return true }
        if v.isRegular { return error <= v.exponent - digits * bitsPerThousandDigits / 1000 - decimalGuardBits }
        return error <= zeroDigitsExponent - digits * 4
    }

    /// Runs Ziv's loop over `count` outputs; `evaluate` fills `candidates` at its precision.
    func certified(_ function: AuditFunction, count: Int, _ evaluate: (Candidates) -> Void) throws -> [ReferenceValue] {
        MPFREnvironment.useWidestExponentRange()
        var results = [ReferenceValue?](repeating: nil, count: count)
        var remaining = count
        var precision = Self.initialPrecision
        while remaining > 0 {
            candidates.prepare(count: count, precision: precision)
            evaluate(candidates)
            for j in 0..<count where results[j] == nil {
                let v = candidates.values[j]
                let error = candidates.errorExponents[j]
                guard
                    var value = certifier.certify(
                        v, errorExponent: error, knownSign: candidates.knownSigns[j],
                        limit: candidates.limits[j], format: format)
                else { continue }
                if let digits = decimalDigits {
                    guard Self.fixes(digits, of: v, errorExponent: error) else { continue }
                    if v.isZero, let error {
                        // Nonzero but below anything MPFR represents here: say so rather than print 0.
                        value.decimal = (value.rounded.sign == .minus ? "-" : "") + "(nonzero, below 2^\(error + 1))"
                    } else {
                        value.decimal = v.decimalString(digits: digits)
                    }
                }
                results[j] = value
                remaining -= 1
            }
            if remaining == 0 { break }
            guard precision < maximumPrecision else {
                throw ReferenceError.uncertified(function: function, precision: precision)
            }
            precision = min(2 * precision, maximumPrecision)
        }
        lastPrecision = precision
        return results.map { $0! }
    }
}
