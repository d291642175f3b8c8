// The binary family, elementwise: sigmoid σ(x) = 1/(1 + e^−x), log-sigmoid log σ(x), and softplus
// log1p(e^x) = −log σ(−x). Each element is certified on its own, from formulas without cancellation
// (η = 2^−P; t = e^−|x| <= 1 is never above 1, so nothing overflows):
//
//     σ(x),  x >= 0   1/(1 + t)               t: η, 1 + t: 2η, the quotient: 3η     -> 8η |V|
//            x < 0    t/(1 + t)               4η                                    -> 8η |V|
//     log σ, x >= 0   −log1p(t)               log1p is 1-conditioned: 2η            -> 4η |V|, V < 0
//            x < 0    x − log1p(t)            both terms <= 0: 3η                    -> 8η |V|, V < x
//     softplus, x <= 0  log1p(t)              2η                                    -> 4η |V|, V > 0
//            x > 0    x + log1p(t)            both terms >= 0: 3η                    -> 8η |V|, V > x
//     σ'(x)           t/(1 + t)^2             t: η, 1 + t: 2η, squared 5η, quotient 7η -> 16η |V|, V > 0
//
// The other gradients are sigmoids: (log σ)'(x) = σ(−x) and softplus'(x) = σ(x), the negation exact.
//
// Softplus with PyTorch's β > 0 is softplus(βx)/β, its gradient σ(βx): the formulas above on y = βx,
// formed exactly (106 bits), and one more rounding for the division by β (6η and 10η for softplus);
// softplus_β(x) > x for x > 0 still decides a midpoint's doorstep. (PyTorch's `threshold` is how its
// kernel approximates the function, not part of it: the reference has none.)
//
// A t below MPFR's range (|x| beyond about 3e18) is 0 with the underflow allowance U in every bound;
// the strict inequalities (one-sided limits) then decide the rounding, as for log-softmax: x − L with
// x a midpoint of a narrower format and L far below any precision. Special values: NaN gives NaN;
// σ(+inf) = 1, σ(−inf) = 0; log σ(+inf) = 0, log σ(−inf) = −inf; softplus(+inf) = +inf,
// softplus(−inf) = 0 — the limits.
import Catalogue
import MPFR

extension SoftmaxReference {
    /// σ(x_j) = 1/(1 + e^−x_j) for each element, correctly rounded.
    public func sigmoid(_ x: [Double]) throws -> [ReferenceValue] {
        try tagged(elementwise(.sigmoid, x) { v in v > 0 ? .exactly(1) : .exactly(0) })
    }

    /// log σ(x_j) = −log1p(e^−x_j) for each element, correctly rounded.
    public func logSigmoid(_ x: [Double]) throws -> [ReferenceValue] {
        // log σ(+inf) is the limit of negative values: −0, as a negative value that rounds to zero is.
        try tagged(elementwise(.logSigmoid, x) { v in v > 0 ? .exactly(-0.0) : .infinity(negative: true) })
    }

    /// softplus(x_j) = log1p(e^x_j) for each element, correctly rounded; with β, softplus(βx_j)/β
    /// (PyTorch's `beta`, finite and > 0).
    public func softplus(_ x: [Double], beta: Double = 1) throws -> [ReferenceValue] {
        try requireBeta(beta)
        return try tagged(
            elementwise(.softplus, x, beta: beta) { v in v > 0 ? .infinity(negative: false) : .exactly(0) })
    }

    /// σ'(x_j) = σ(x_j) σ(−x_j) for each element, correctly rounded (0 at ±inf).
    public func sigmoidGradient(_ x: [Double]) throws -> [ReferenceValue] {
        try tagged(elementwise(.sigmoidGradient, x) { _ in .exactly(0) })
    }

    /// (log σ)'(x_j) = σ(−x_j) for each element.
    public func logSigmoidGradient(_ x: [Double]) throws -> [ReferenceValue] { try sigmoid(x.map { -$0 }) }

    /// softplus'(x_j) = σ(x_j) for each element; with β, σ(βx_j).
    public func softplusGradient(_ x: [Double], beta: Double = 1) throws -> [ReferenceValue] {
        try requireBeta(beta)
        return try tagged(elementwise(.sigmoid, x, beta: beta) { v in v > 0 ? .exactly(1) : .exactly(0) })
    }

    private func requireBeta(_ beta: Double) throws {
        guard beta.isFinite && beta > 0 else { throw ReferenceError.invalidBeta(beta) }
    }

    /// The function on every element: NaN gives NaN, ±inf the limit `infinite`, the finite elements
    /// their certified values.
    private func elementwise(
        _ f: AuditFunction, _ x: [Double], beta: Double = 1,
        infinite: (Double) -> ReferenceValue
    ) throws -> [ReferenceValue] {
        var out = [ReferenceValue](repeating: .undefined, count: x.count)
        var finite = x.indices.filter { x[$0].isFinite }
        for j in x.indices where x[j].isInfinite { out[j] = infinite(x[j]) }
        guard !finite.isEmpty else { return out }
        // The fast path first, element by element; MPFR answers only the elements it leaves.
        finite = fastElementwise(finite, into: &out) { j in
            FastBinaryFamily.value(f, x[j], beta: beta, format: format)
        }
        guard !finite.isEmpty else { return out }
        let values = try certifiedElementwise(f, finite.map { x[$0] }, beta: beta)
        for (value, j) in zip(values, finite) { out[j] = value }
        return out
    }

    private func certifiedElementwise(_ f: AuditFunction, _ x: [Double], beta: Double) throws -> [ReferenceValue] {
        let space = workspaces.binary
        return try certified(f, count: x.count) { c in
            let p = c.precision
            // −|βx| exactly: two doubles' product.
            space.argument.precision = max(p + 1, 2 * 53)
            space.exponential.precision = p
            space.logarithm.precision = p
            for j in 0..<x.count {
                let exact = elementExponential(x[j], beta: beta, argument: space.argument, into: space.exponential, c)
                record(f, j, x[j], exact, c, beta: beta)
            }
        }
    }

    /// t = e^−|βx| into `t`, the argument formed exactly in `argument`; returns whether t is exact (only at
    /// x = 0). Below MPFR's range t is 0, with the allowance U in the candidates' bound: each element of the
    /// binary family stands alone, so the allowance is set (or cleared) per element.
    func elementExponential(
        _ x: Double, beta: Double = 1, argument: MPFRFloat, into t: MPFRFloat, _ c: Candidates
    ) -> Bool {
        argument.set(-x.magnitude)
        if beta != 1 { argument.multiply(argument, beta) }
        MPFREnvironment.clearUnderflow()
        let exact = t.exp(argument) == 0
        c.underflowExponent = nil
        guard MPFREnvironment.underflowed else { return exact }
        t.setZero()
        c.underflowExponent = ShiftedExponentials.underflowAllowanceExponent
        return false
    }

    /// Candidate j from t = e^−|βx| (in the workspace), with its bound, sign and one-sided limit.
    private func record(_ f: AuditFunction, _ j: Int, _ x: Double, _ exactT: Bool, _ c: Candidates, beta: Double) {
        let space = workspaces.binary
        let v = c.values[j], t = space.exponential, l = space.logarithm
        switch f {
        case .sigmoid:
            var exact = l.add(t, 1.0) == 0 && exactT
            exact = (x >= 0 ? v.divide(1.0, l) : v.divide(t, l)) == 0 && exact
            c.record(j, exact: exact, sign: 1, (8, v))
        case .logSigmoid where x >= 0:
            let exact = v.log(onePlus: t) == 0 && exactT
            v.negate(v)
            c.record(j, exact: exact, sign: -1, (4, v))
        case .logSigmoid:
            var exact = l.log(onePlus: t) == 0 && exactT
            exact = v.subtract(x, l) == 0 && exact
            c.record(j, exact: exact, sign: -1, (8, v))
            c.limit(j, limitValue(j, x), upper: true)
        case .sigmoidGradient:
            var exact = l.add(t, 1.0) == 0 && exactT
            exact = l.multiply(l, l) == 0 && exact
            exact = v.divide(t, l) == 0 && exact
            c.record(j, exact: exact, sign: 1, (16, v))
        case .softplus where x <= 0:
            var exact = v.log(onePlus: t) == 0 && exactT
            if beta != 1 { exact = v.divide(v, beta) == 0 && exact }
            c.record(j, exact: exact, sign: 1, (beta == 1 ? 4 : 6, v))
        case .softplus:
            var exact = l.log(onePlus: t) == 0 && exactT
            if beta == 1 {
                exact = v.add(l, x) == 0 && exact
            } else {
                // (βx + log1p(t))/β = x + log1p(t)/β: the division first keeps x exact in the sum.
                exact = l.divide(l, beta) == 0 && exact
                exact = v.add(l, x) == 0 && exact
            }
            c.record(j, exact: exact, sign: 1, (beta == 1 ? 8 : 10, v))
            c.limit(j, limitValue(j, x), upper: false)
        default:
            preconditionFailure("\(f.rawValue) is not of the binary family")
        }
    }

    /// x as an exact MPFR value that stays put until the element is certified.
    private func limitValue(_ j: Int, _ x: Double) -> MPFRFloat {
        let limit = workspaces.binary.limits.value(j, precision: 53)
        limit.set(x)
        return limit
    }
}

extension MPFRFloat {
    /// self = a / b for a double a.
    @discardableResult
    func divide(_ a: Double, _ b: MPFRFloat) -> Int {
        set(a)
        return divide(self, b)
    }
}
