#!/usr/bin/env python3
"""An independent oracle for SoftmaxAudit's certified reference.

It evaluates softmax, log-softmax, logsumexp, cross-entropy and its gradient with mpmath at 3,000 bits
(far above the reference's working precision), using formulas anchored differently from the
reference's (at each element or at the first logit rather than at the maximum, for rows up to 64
logits), and rounds to binary64 with its own integer arithmetic (round to nearest even, gradual
underflow, overflow, the sign of zero). Nothing here shares code with the Swift reference.

    python3 oracle.py fixture OUT [--seed N]       write the fixture the Swift tests read
    python3 oracle.py targets OUT [--seed N]       write the probability-target fixture
    python3 oracle.py binary OUT [--seed N]        write the binary family's fixture
    python3 oracle.py paired OUT [--seed N]        write the paired functions' fixture (KL, binary
                                                   cross-entropy, the weighted logsumexp)
    python3 oracle.py attention OUT [--seed N]     write attention's fixture (the scaled softmax, the
                                                   scaled logsumexp and the output, with scales, biases,
                                                   masks, sinks and values)
    python3 oracle.py check BINARY [--seed N] [--count K]
                                                   compare `BINARY reference` on fresh rows
"""
import math
import random
import struct
import subprocess
import sys

import mpmath
from mpmath import mp, mpf

mp.prec = 3000
BIG = 1.7976931348623157e308
SHORT = 64


def to_double(v, negative_hint=False, beyond=0):
    """Round an mpf to binary64, ties to even, with subnormals and overflow; keeps -0.

    `beyond` = -1 (+1) says the exact value is strictly below (above) v by an amount 3000 bits may
    have lost: log p_i = (x_i - m) - L with L > 0 (a loss L - d_t > -d_t) whose L is below 2^-3000
    relative. If v then lands exactly on a midpoint, the exact value is on that side of it, not a tie.
    """
    if v == 0:
        return -0.0 if negative_hint else 0.0
    sign = -1.0 if v < 0 else 1.0
    man, exp = mpmath.mpf(abs(v)).man_exp  # |v| = man * 2^exp, man odd
    e = man.bit_length() - 1 + exp  # floor(log2 |v|)
    if e < -1076:  # |v| < 2^-1075: rounds to zero
        return math.copysign(0.0, sign)
    if e >= 1024:
        return sign * math.inf
    qexp = max(e, -1022) - 52
    shift = exp - qexp  # |v| / 2^qexp = man * 2^shift
    if shift >= 0:
        k = man << shift
    else:
        k, rem = divmod(man, 1 << (-shift))
        half = 1 << (-shift - 1)
        away = beyond * sign > 0  # the exact value is beyond v, away from zero
        if rem > half or (rem == half and (k % 2 == 1 if beyond == 0 else away)):
            k += 1
    if k == 0:
        return math.copysign(0.0, sign)
    if k.bit_length() + qexp > 1024:  # k * 2^qexp >= 2^1024
        return sign * math.inf
    return sign * math.ldexp(k, qexp)


def hexd(x):
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x.hex()


def exps_from(x, a):
    return [mpmath.exp(mpf(xj) - mpf(a)) for xj in x]


def softmax(x):
    n = len(x)
    if n <= SHORT:
        out = []
        for i in range(n):
            t = mpmath.fsum(mpmath.exp(mpf(xj) - mpf(x[i])) for j, xj in enumerate(x) if j != i)
            out.append(to_double(1 / (1 + t)))
        return out
    m = max(x)
    e = exps_from(x, m)
    total = mpmath.fsum(e)
    return [to_double(ej / total) for ej in e]


def log_softmax(x):
    n = len(x)
    out = []
    if n <= SHORT:
        for i in range(n):
            t = mpmath.fsum(mpmath.exp(mpf(xj) - mpf(x[i])) for j, xj in enumerate(x) if j != i)
            out.append(to_double(-mpmath.log1p(t), negative_hint=n > 1, beyond=-1 if n > 1 else 0))
        return out
    m = max(x)
    k = x.index(m)
    s = mpmath.fsum(mpmath.exp(mpf(xj) - mpf(m)) for j, xj in enumerate(x) if j != k)
    l = mpmath.log1p(s)
    return [to_double(mpf(xi) - mpf(m) - l, negative_hint=n > 1, beyond=-1 if n > 1 else 0) for xi in x]


def logsumexp(x):
    a = x[0] if len(x) <= SHORT else max(x)
    y = mpf(a) + mpmath.log(mpmath.fsum(exps_from(x, a)))
    return to_double(y)


def cross_entropy(x, t):
    s = mpmath.fsum(mpmath.exp(mpf(xj) - mpf(x[t])) for j, xj in enumerate(x) if j != t)
    return to_double(mpmath.log1p(s), beyond=1 if len(x) > 1 else 0)


def gradient(x, t):
    p = softmax(x)
    s = mpmath.fsum(mpmath.exp(mpf(xj) - mpf(x[t])) for j, xj in enumerate(x) if j != t)
    p[t] = to_double(-(s / (1 + s)), negative_hint=len(x) > 1)
    return p


# --- rows -----------------------------------------------------------------------------------

def bits_to_double(rng):
    while True:
        x = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
        if math.isfinite(x):
            return x


def rows(rng, count):
    """(name, logits) pairs: random and adversarial rows (docs/design.md#input-classes)."""
    out = []
    def add(name, x):
        out.append((name, [float(v) for v in x]))
    for _ in range(count):
        n = rng.choice([1, 2, 3, 4, 5, 8, 13, 31, 64, 65, 100, 513, 777])
        kind = rng.randrange(14)
        if kind == 0:
            scale = 10 ** rng.uniform(-3, 3)
            add("normal", [rng.gauss(0, scale) for _ in range(n)])
        elif kind == 1:
            c = rng.choice([1e4, 1e8, 1e16, 1e300, -1e300, 1e200])
            add("offset", [c + c * 1e-15 * rng.randint(-50, 50) for _ in range(n)])
        elif kind == 2:
            c = rng.choice([709.78, -745.13, 709.0, -744.0, 710.0])
            add("exp-limits", [c + rng.uniform(-2, 2) for _ in range(n)])
        elif kind == 3:
            add("extremes", [rng.choice([BIG, -BIG, 1e308, -1e308, 0.0, 1.0]) for _ in range(max(n, 2))])
        elif kind == 4:
            add("subnormal", [rng.choice([5e-324, -5e-324, 2.2e-308, 1e-310, -3e-320, 0.0]) * rng.randint(1, 9) for _ in range(n)])
        elif kind == 5:
            v = rng.gauss(0, 10)
            add("ties", [v] * n)
        elif kind == 6:
            v = rng.gauss(0, 100)
            row = [v - abs(rng.gauss(0, 3)) for _ in range(n)]
            row[0] = v
            row[-1] = math.nextafter(v, math.inf) if rng.random() < 0.5 else v
            add("near-ties", row)
        elif kind == 7:
            lead = rng.choice([16, 36, 37.5, 40, 745, 746, 1e4, 1e300])
            row = [rng.uniform(-1, 1) - lead for _ in range(n)]
            row[rng.randrange(n)] = rng.uniform(-1, 1)
            add("dominant", row)
        elif kind == 8:
            add("bit-patterns", [bits_to_double(rng) for _ in range(n)])
        elif kind == 9:
            add("uniform-int", [float(rng.randint(-3, 3)) for _ in range(n)])
        elif kind == 10:
            add("wide-spread", [rng.uniform(-1, 1) * 10 ** rng.uniform(0, 308) for _ in range(n)])
        elif kind == 11:
            add("log-spaced", [math.log(rng.randint(1, 5)) for _ in range(n)])
        elif kind == 12:
            add("tiny-scale", [rng.gauss(0, 1e-20) for _ in range(n)])
        else:
            add("mixed", [rng.choice([-1e300, -800.0, -40.0, 0.0, 1.0, 2.0]) + rng.uniform(0, 1e-3) for _ in range(n)])
    return out


def cases(rng, count):
    """(function, label or None, logits, expected values)."""
    result = []
    for name, x in rows(rng, count):
        t = rng.choice([x.index(max(x)), x.index(min(x)), rng.randrange(len(x))])
        result.append(("softmax", None, x, softmax(x)))
        result.append(("log-softmax", None, x, log_softmax(x)))
        result.append(("logsumexp", None, x, [logsumexp(x)]))
        result.append(("cross-entropy", t, x, [cross_entropy(x, t)]))
        result.append(("cross-entropy-gradient", t, x, gradient(x, t)))
    return result


def fixed_cases():
    """Hand-picked rows the fixture always holds (the issue's examples)."""
    base = [
        [0.0, 0.0], [0.0, math.log(3)], [1e8, 1e8], [1e308, -1e308], [BIG, -BIG], [0.0, -40.0],
        [0.0, -745.2, -1e300], [5e-324, 0.0, -5e-324], [709.78, 709.79, -745.13],
        [0.0, -690.0], [0.0, -700.0], [1e300 + 0, 1e300 * (1 + 2**-52)],
    ]
    out = []
    for x in base:
        for t in sorted({0, len(x) - 1}):
            out.append(("cross-entropy", t, x, [cross_entropy(x, t)]))
            out.append(("cross-entropy-gradient", t, x, gradient(x, t)))
        out.append(("softmax", None, x, softmax(x)))
        out.append(("log-softmax", None, x, log_softmax(x)))
        out.append(("logsumexp", None, x, [logsumexp(x)]))
    rng = random.Random(99)
    long_row = [rng.gauss(0, 5) for _ in range(10_000)]
    out.append(("softmax", None, long_row, softmax(long_row)))
    out.append(("logsumexp", None, long_row, [logsumexp(long_row)]))
    long_row2 = [1e8 + rng.uniform(0, 64) for _ in range(12_000)]
    out.append(("logsumexp", None, long_row2, [logsumexp(long_row2)]))
    return out


# --- probability targets ---------------------------------------------------------------------

def target_loss(x, q):
    """-sum q_i log p_i, with -log p_i = log1p(sum_{j != i} exp(x_j - x_i)) anchored at each logit."""
    terms = []
    for i, qi in enumerate(q):
        if qi == 0:
            continue
        t = mpmath.fsum(mpmath.exp(mpf(xj) - mpf(x[i])) for j, xj in enumerate(x) if j != i)
        terms.append(mpf(qi) * mpmath.log1p(t))
    return to_double(mpmath.fsum(terms)) if terms else 0.0


def target_gradient(x, q):
    """The derivative of target_loss: p_j * sum(q) - q_j, the sum exact, p_j anchored at x_j."""
    total = mpmath.fsum(mpf(v) for v in q)
    out = []
    for i in range(len(x)):
        t = mpmath.fsum(mpmath.exp(mpf(xj) - mpf(x[i])) for j, xj in enumerate(x) if j != i)
        # (sum(q) - q_i - q_i t) / (1 + t): the numerator keeps a t far below 2^-3000 of 1.
        out.append(to_double((total - mpf(q[i]) - mpf(q[i]) * t) / (1 + t)))
    return out


def target_cases(rng, count):
    """(logits, q) pairs: q normalized in doubles (a sum near, not at, 1), unnormalized, one-hot,
    label-smoothed, sparse; rows normal, dominant, tied; and the issue's two examples."""
    out = [([2.0, 1.0], [2.0, 0.0]), ([0.0, -60.0, -70.0], [0.9, 0.05, 0.05])]
    for k in range(count):
        n = rng.choice([2, 3, 5, 8, 17, 64])
        kind = k % 4
        if kind == 0:
            x = [rng.gauss(0, 3) for _ in range(n)]
        elif kind == 1:
            x = [-40 - rng.random() * 5 for _ in range(n)]
            x[rng.randrange(n)] = rng.gauss(0, 1)
        elif kind == 2:
            top = rng.gauss(0, 10)
            x = [top - rng.random() * 8 for _ in range(n)]
            x[0] = x[-1] = top
        else:
            x = [rng.gauss(0, 30) for _ in range(n)]
        shape = k % 5
        if shape == 0:
            raw = [rng.random() for _ in range(n)]
            s = sum(raw)
            q = [v / s for v in raw]
        elif shape == 1:
            q = [rng.random() * 3 for _ in range(n)]
        elif shape == 2:
            q = [0.0] * n
            q[rng.randrange(n)] = 1.0
        elif shape == 3:
            eps = rng.choice([0.1, 0.05, 0.2])
            t = rng.randrange(n)
            q = [(1 - eps) * (1.0 if j == t else 0.0) + eps / n for j in range(n)]
        else:
            q = [rng.random() if rng.random() < 0.3 else 0.0 for _ in range(n)]
        out.append((x, q))
    return out


# --- the binary family ---------------------------------------------------------------------------
# One formula for every x (the reference branches on the sign of x): mpmath's exponent range is
# unbounded, so exp(1e300) is a number here.

def sigmoid(x):
    return [to_double(1 / (1 + mpmath.exp(-mpf(v)))) for v in x]


def log_sigmoid(x):
    # log sigma(x) < min(x, 0): beyond -1 where 3000 bits may have lost the log1p term.
    return [to_double(-mpmath.log1p(mpmath.exp(-mpf(v))), negative_hint=True, beyond=-1) for v in x]


def softplus(x):
    # softplus(x) > max(x, 0).
    return [to_double(mpmath.log1p(mpmath.exp(mpf(v))), beyond=1) for v in x]


def sigmoid_gradient(x):
    """sigma(x) sigma(-x), each factor with its own exp."""
    return [to_double(1 / ((1 + mpmath.exp(-mpf(v))) * (1 + mpmath.exp(mpf(v))))) for v in x]


def binary_rows(rng, count):
    """Rows across sigma's saturation points in binary64 (1 above 36.7, e^-x overflowing below -709.78,
    sigma underflowing below -745.13), tiny and huge magnitudes, subnormals, and normal values."""
    edges = [0.0, 5e-324, -5e-324, 1e-300, -1e-300, 36.0, 36.8, 37.5, -36.8, 709.7, 709.8, -709.7, -709.8,
             -745.1, -745.2, -744.0, 745.1, 1e300, -1e300, 1e16, -1e16, 40.0, -40.0, 1.0, -1.0, 0.5]
    out = [edges]
    for k in range(count):
        n = rng.choice([1, 3, 8, 16])
        scale = [1, 10, 40, 750, 1e5][k % 5]
        out.append([rng.uniform(-scale, scale) for _ in range(n)])
        out.append([bits_to_double(rng) for _ in range(n)])
    return out


def softplus_beta_rows(rng, count):
    """(beta, row) pairs: beta from 0.01 to 100 and subnormal-small to huge, x around 20/beta (PyTorch's
    threshold) and across exp's range in beta x."""
    out = []
    for k in range(count):
        beta = rng.choice([0.01, 0.1, 0.5, 2.0, 3.0, 10.0, 100.0, 1e-300, 1e300, rng.uniform(0.01, 100)])
        n = rng.choice([1, 4, 8])
        row = []
        for _ in range(n):
            kind = rng.random()
            if kind < 0.4:
                row.append((20 + rng.uniform(-4, 4)) / beta)
            elif kind < 0.8:
                row.append(rng.uniform(-745, 710) / beta)
            else:
                row.append(bits_to_double(rng))
        out.append((beta, row))
    return out


def softplus_beta(beta, x):
    # softplus(beta x)/beta > max(x, 0): the exact product beta x, never its rounding.
    return [to_double(mpmath.log1p(mpmath.exp(mpf(beta) * mpf(v))) / mpf(beta), beyond=1) for v in x]


def softplus_beta_gradient(beta, x):
    return [to_double(1 / (1 + mpmath.exp(-mpf(beta) * mpf(v)))) for v in x]


# --- the paired functions ------------------------------------------------------------------------
# Each from its definition, without the reference's rearrangements: KL term by term with -log p_i
# anchored at x_i, binary cross-entropy from both softplus terms as written, the weighted logsumexp from
# the plain sum of b_i exp(x_i) (mpmath's exponent range is unbounded).

# A value below this magnitude is a cancellation of terms that are exactly opposite (KL of equal logits
# with dyadic n q_i): 3000 bits leave noise of about 2^-3000 where the exact value is 0.
ZERO = mpf(2) ** -2800


def kl_divergence(x, q):
    terms = []
    for i, qi in enumerate(q):
        if qi == 0:
            continue
        if x[i] == -math.inf:
            return math.inf
        t = mpmath.fsum(mpmath.exp(mpf(xj) - mpf(x[i])) for j, xj in enumerate(x) if j != i and xj != -math.inf)
        terms.append(mpf(qi) * (mpmath.log(mpf(qi)) + mpmath.log1p(t)))
    v = mpmath.fsum(terms)
    return 0.0 if abs(v) < ZERO else to_double(v)


def binary_cross_entropy(x, y, w):
    out = []
    for xi, yi in zip(x, y):
        a, b = 1 - mpf(yi), mpf(w) * mpf(yi)
        v = b * mpmath.log1p(mpmath.exp(-mpf(xi))) + a * mpmath.log1p(mpmath.exp(mpf(xi)))
        # Above a|x| (a the weight of |x|'s side) by a log1p 3000 bits may have lost.
        out.append(to_double(v, beyond=1 if a + b > 0 else 0))
    return out


def binary_cross_entropy_gradient(x, y, w):
    out = []
    for xi, yi in zip(x, y):
        a, b = 1 - mpf(yi), mpf(w) * mpf(yi)
        v = a / (1 + mpmath.exp(-mpf(xi))) - b / (1 + mpmath.exp(mpf(xi)))
        # Just below 1 - y for x >= 0, just above -w y below: t = e^-|x| may be below 2^-3000.
        near = (-1 if xi > 0 else 1) if a + b > 0 and xi != 0 else 0  # at x = 0, t = 1: v is exact
        out.append(to_double(v, negative_hint=(xi > 0 or a == 0) and b > 0, beyond=near))
    return out


def weighted_logsumexp(x, b):
    """s = B e^m (1 + r), with B the weight of the largest logit m whose weights do not cancel, so that
    log|s| = m + log|B| + log|1 + r| keeps an r far below 2^-3000."""
    weights = {}
    for xi, bi in zip(x, b):
        weights[xi] = weights.get(xi, mpf(0)) + mpf(bi)
    groups = sorted(((xi, w) for xi, w in weights.items() if w != 0), reverse=True)
    if not groups:
        return [-math.inf, 0.0]
    m, top = groups[0]
    r = mpmath.fsum(w * mpmath.exp(mpf(xi) - mpf(m)) for xi, w in groups[1:]) / top
    one = 1 + r
    value = mpf(m) + mpmath.log(abs(top)) + (mpmath.log1p(r) if one > 0 else mpmath.log(-one))
    beyond = 1 if all(w > 0 for _, w in groups) else 0
    return [to_double(value, beyond=beyond), 1.0 if top * one > 0 else -1.0]


def paired_cases(rng, count):
    """(function, x, pair, pos_weight) across the threads' inputs and the exact zeros."""
    out = []
    kl = [([0.0, 0.0], [0.5, 0.5]), ([0.0] * 8, [0.25, 1 / 16, 1 / 16, 1 / 16, 1 / 16, 0.0, 0.0, 0.0]),
          ([3.0] * 4, [0.25] * 4), ([1.0, 1.0], [0.5, 0.25]), ([-math.inf, 0.0, 0.0], [0.0, 0.5, 0.5]),
          ([0.0, -1e5], [1.0, 0.0]), ([0.0, -1e20], [1.0, 0.0]), ([5.0, 5.0, -3.0], [0.5, 0.5, 0.0]),
          ([0.0, -40.0], [0.0, 1.0]), ([2.0, 1.0], [2.0, 0.0]), ([0.0, -60.0, -70.0], [0.9, 0.05, 0.05])]
    for x, q in target_cases(rng, count // 2):
        kl.append((x, q))
    for k in range(count // 4):
        # pytorch#32520: q = softmax(x) in doubles, so KL(q || softmax(x)) is tiny, of either sign.
        n = rng.choice([2, 3, 10, 50])
        x = [rng.gauss(0, 4) for _ in range(n)]
        m = max(x)
        e = [math.exp(v - m) for v in x]
        total = sum(e)
        kl.append((x, [v / total for v in e]))
    for x, q in kl:
        out.append(("kl-divergence", x, q, None))
        if all(math.isfinite(v) for v in x):
            out.append(("kl-divergence-gradient", x, q, None))
    edges = [0.0, 5e-324, -1e-300, 1.0, -1.0, 20.0, 36.8, -36.8, 40.0, -40.0, 120.0, -120.0, 709.8, -709.8,
             745.2, -745.2, 1e16, -1e16, 1e300, -1e300]
    targets = [0.0, 1.0, 0.5, 0.9, 0.1, 2.0 ** -54, 1 - 2.0 ** -53, 0.75]
    for w in [1.0, 2.0, 0.0, 0.5, 10.0, 3.0]:
        for y in targets:
            out.append(("binary-cross-entropy", edges, [y] * len(edges), w))
            out.append(("binary-cross-entropy-gradient", edges, [y] * len(edges), w))
    for k in range(count):
        n = rng.choice([1, 4, 8])
        scale = [1, 10, 40, 750, 1e5][k % 5]
        x = [rng.uniform(-scale, scale) for _ in range(n)]
        y = [rng.choice([0.0, 1.0, rng.random()]) for _ in range(n)]
        w = rng.choice([1.0, 1.0, 0.25, 4.0, 100.0])
        out.append(("binary-cross-entropy", x, y, w))
        out.append(("binary-cross-entropy-gradient", x, y, w))
    lse = [([-1000.0, -2.0], [1.0, 0.0]), ([0.0, 0.0], [1.0, -1.0]), ([1.0, 1.0, 2.0], [1.0, -1.0, 1.0]),
           ([0.0, 1e-10], [1.0, -1.0]), ([0.0, -1e5], [1.0, 1.0]), ([0.5, -1e5], [1.0, -1.0]),
           ([3.0, 2.0], [-1.0, 2.0]), ([0.0, 0.0, 0.0], [0.1, 0.2, -0.3]), ([700.0, -700.0], [1e-300, 1e300]),
           ([0.0], [1.0]), ([7.0], [-3.0]), ([0.0, -1e20], [-1.0, 1.0])]
    for k in range(count):
        n = rng.choice([2, 3, 6, 20])
        x = [rng.gauss(0, [1, 10, 100][k % 3]) for _ in range(n)]
        kind = k % 4
        if kind == 0:
            b = [rng.random() for _ in range(n)]
        elif kind == 1:
            b = [rng.choice([0.0, 1.0, 0.5, 2.0]) for _ in range(n)]
            b[x.index(max(x))] = 0.0  # jax#5370: b = 0 on the max
        elif kind == 2:
            b = [rng.uniform(-1, 1) for _ in range(n)]
        else:
            # Near cancellation: equal weights of opposite signs on close logits.
            x[1] = x[0] + rng.choice([1e-12, 1e-6, -1e-9])
            b = [1.0, -1.0] + [rng.uniform(-1, 1) * 1e-3 for _ in range(n - 2)]
        lse.append((x, b))
    for x, b in lse:
        out.append(("weighted-logsumexp", x, b, None))
    return out


def paired_values(fn, x, pair, w):
    if fn == "kl-divergence":
        return [kl_divergence(x, pair)]
    if fn == "kl-divergence-gradient":
        return target_gradient(x, pair)
    if fn == "binary-cross-entropy":
        return binary_cross_entropy(x, pair, w)
    if fn == "binary-cross-entropy-gradient":
        return binary_cross_entropy_gradient(x, pair, w)
    return weighted_logsumexp(x, pair)


def loss_row(x, a):
    """sum_c a_c (-log p_c), a_c >= 0 exact; -log p_c = log1p(sum_{j != c} exp(x_j - x_c)) anchored at x_c."""
    if any(math.isnan(v) for v in x):
        return mpmath.nan
    if all(v == 0 for v in a):
        return mpf(0)
    kept = [j for j, v in enumerate(x) if v != -math.inf]
    if not kept:
        return mpmath.nan  # no distribution
    if any(a[c] > 0 and x[c] == -math.inf for c in range(len(x))):
        return mpmath.inf
    terms = []
    for c in kept:
        if a[c] == 0:
            continue
        t = mpmath.fsum(mpmath.exp(mpf(x[j]) - mpf(x[c])) for j in kept if j != c)
        terms.append(a[c] * mpmath.log1p(t))
    return mpmath.fsum(terms) if terms else mpf(0)


def cross_entropy_loss(rows, targets, weights, ignore, eps, reduction):
    """torch.nn.functional.cross_entropy, exactly: A_ic = w_c (C(1 - eps) t_ic + eps), rows sum A (-log p) / C."""
    C = len(rows[0])
    w = [mpf(v) for v in weights] if weights is not None else [mpf(1)] * C
    losses, total = [], mpf(0)
    for i, x in enumerate(rows):
        t = targets[i]
        if isinstance(t, int):
            if t == ignore:
                losses.append(mpf(0))
                continue
            t = [1.0 if c == t else 0.0 for c in range(C)]
            total += w[targets[i]]
        else:
            total += 1
        a = [w[c] * (C * (1 - mpf(eps)) * mpf(t[c]) + mpf(eps)) for c in range(C)]
        losses.append(loss_row(x, a) / C)
    if reduction == "none":
        return [to_double(v) if mpmath.isfinite(v) else (math.nan if mpmath.isnan(v) else math.inf) for v in losses]
    v = mpmath.fsum(losses)
    if mpmath.isnan(v):
        return [math.nan]
    if reduction == "mean":
        if total == 0:
            return [math.nan if v == 0 else math.inf]
        v = v / total
    return [to_double(v) if mpmath.isfinite(v) else math.inf]


def loss_gradient(rows, targets, weights, ignore, eps, reduction):
    """(p_ij sum_c A_ic - A_ij) / (C D) per element (D = 1 for none and sum; NaN throughout for D = 0)."""
    C = len(rows[0])
    w = [mpf(v) for v in weights] if weights is not None else [mpf(1)] * C
    total_weight = mpf(0)
    coefficient_rows = []
    for i, x in enumerate(rows):
        t = targets[i]
        if isinstance(t, int):
            if t == ignore:
                coefficient_rows.append(None)
                continue
            total_weight += w[t]
            t = [1.0 if c == t else 0.0 for c in range(C)]
        else:
            total_weight += 1
        coefficient_rows.append([w[c] * (C * (1 - mpf(eps)) * mpf(t[c]) + mpf(eps)) for c in range(C)])
    D = total_weight if reduction == "mean" else mpf(1)
    if D == 0:
        return [math.nan] * (len(rows) * C)
    out = []
    tiny = mpf(2) ** -2900
    for x, a in zip(rows, coefficient_rows):
        if a is None or all(v == 0 for v in a):
            out += [0.0] * C
            continue
        kept = [j for j in range(C) if x[j] != -math.inf]
        total = mpmath.fsum(a)
        m = max(x[j] for j in kept)
        tops = [j for j in kept if x[j] == m]
        tail = mpmath.fsum(mpmath.exp(mpf(x[j]) - mpf(m)) for j in kept if x[j] != m)
        all_equal = len(tops) == len(kept)
        for j in range(C):
            if x[j] == -math.inf:
                out.append(to_double(-a[j] / (C * D)))
                continue
            p = 1 / mpmath.fsum(mpmath.exp(mpf(x[k]) - mpf(x[j])) for k in kept)
            beyond = 0
            if not all_equal and p < tiny:
                beyond = 1  # p_j > 0 was lost: the exact value is above
            elif not all_equal and j in tops and 0 < tail < tiny * len(tops):
                beyond = -1  # p_j < 1/k: the exact value is below
            # A value lost to 0 keeps the sign its lost part has.
            out.append(to_double((p * total - a[j]) / (C * D), negative_hint=beyond < 0, beyond=beyond))
    return out


def loss_cases(rng, count):
    out = []
    for k in range(count):
        B = rng.choice([1, 1, 2, 3, 4])
        C = rng.choice([1, 2, 3, 5, 8, 13, 40])
        kind = rng.choice(["normal", "dominant", "ties", "mask", "offset", "tiny"])
        rows = []
        for _ in range(B):
            if kind == "normal":
                x = [rng.gauss(0, 5) for _ in range(C)]
            elif kind == "dominant":
                x = [rng.gauss(0, 1) for _ in range(C)]
                x[rng.randrange(C)] += rng.choice([40.0, 745.0, 1e4])
            elif kind == "ties":
                x = [float(rng.choice([0, 0, 1])) for _ in range(C)]
            elif kind == "mask":
                x = [rng.gauss(0, 3) if rng.random() < 0.6 else -math.inf for _ in range(C)]
                x[rng.randrange(C)] = rng.gauss(0, 3)
            elif kind == "offset":
                x = [1e8 + rng.choice([-1.0, 0.0, 2.0, 0.5]) for _ in range(C)]
            else:
                x = [rng.gauss(0, 1) * 1e-300 for _ in range(C)]
            rows.append(x)
        ignore = rng.choice([-100, -100, 0])
        if rng.random() < 0.3:
            targets = []
            for _ in range(B):
                q = [rng.choice([0.0, rng.random(), 0.25]) for _ in range(C)]
                targets.append(q)
        else:
            targets = [rng.choice([rng.randrange(C), ignore]) for _ in range(B)]
            if k % 11 == 0:
                targets = [ignore] * B  # every row ignored: mean is 0/0
        weights = None if rng.random() < 0.4 else [rng.choice([0.0, 1.0, 0.5, 2.0, rng.random()]) for _ in range(C)]
        eps = rng.choice([0.0, 0.1, 0.25, 1.0, rng.random()])
        if kind == "mask" and rng.random() < 0.7:
            eps = 0.0
        reduction = rng.choice(["none", "sum", "mean"])
        out.append((rows, targets, weights, ignore, eps, reduction))
    return out


def loss_line(rows, targets, weights, ignore, eps, reduction):
    values = cross_entropy_loss(rows, targets, weights, ignore, eps, reduction)
    gradient = loss_gradient(rows, targets, weights, ignore, eps, reduction)
    t = "; ".join(str(v) if isinstance(v, int) else row_text(None, v) for v in targets)
    w = "-" if weights is None else row_text(None, weights)
    r = "; ".join(row_text(None, x) for x in rows)
    return (f"{reduction} | {hexd(eps)} | {ignore} | {w} | {t} | {r} | {' '.join(hexd(v) for v in values)} | "
            f"{' '.join(hexd(v) for v in gradient)}\n")


def row_text(label, x):
    values = " ".join(hexd(v) for v in x)
    return values if label is None else f"{label}: {values}"



# --- attention ------------------------------------------------------------------------------

EXACT_SCORE_PREC = 5000  # s*x + b of doubles is exact at 4,300 bits


def attention_terms(x, scale, bias, masked, sink):
    """The exact scores of the kept keys (positions, mpf values) and the sink's logit (or None)."""
    keep = []
    with mpmath.workprec(EXACT_SCORE_PREC):
        for j, xj in enumerate(x):
            b = bias[j] if bias else 0.0
            if (masked and masked[j]) or xj == -math.inf or b == -math.inf:
                continue
            keep.append((j, mpf(scale) * mpf(xj) + mpf(b)))
    return keep, (None if sink is None or sink == -math.inf else mpf(sink))


def attention_values(x, scale, bias, masked, sink, v, fully_masked):
    """(softmax, logsumexp, output) of the exact scores, correctly rounded; formulas anchored at each key
    (softmax, up to 16 terms; at the last term beyond), at the first term (logsumexp) and at the first key (the
    output), unlike the reference's max."""
    n = len(x)
    keep, s = attention_terms(x, scale, bias, masked, sink)
    if not keep:
        if s is None:
            fill = 0.0 if fully_masked == "zeros" else math.nan
            return [fill] * n, -math.inf, fill
        return [0.0] * n, to_double(s), 0.0
    with mpmath.workprec(EXACT_SCORE_PREC):
        terms = [z for _, z in keep] + ([s] if s is not None else [])
        p = [0.0] * n
        a = terms[-1]
        e = [mpmath.exp(z - a) for z in terms]
        total = mpmath.fsum(e)
        for i, (j, zj) in enumerate(keep):
            if len(terms) <= 16:
                p[j] = to_double(1 / mpmath.fsum(mpmath.exp(z - zj) for z in terms))
            else:
                p[j] = to_double(e[i] / total)
        a = terms[0]
        lse = to_double(a + mpmath.log(mpmath.fsum(mpmath.exp(z - a) for z in terms)), beyond=1 if len(terms) > 1 else 0)
        a = keep[0][1]
        num = mpmath.fsum(mpf(v[j]) * mpmath.exp(z - a) for j, z in keep)
        den = mpmath.fsum(mpmath.exp(z - a) for z in terms)
        out = to_double(num / den) if num != 0 else 0.0
    return p, lse, out


def attention_cases(rng, count):
    """(x, scale, bias, masked, sink, v, fully_masked): the attention classes' shapes (docs/design.md)."""
    out = []
    for i in range(count):
        n = rng.choice([1, 2, 3, 4, 5, 8, 13, 16, 31, 64, 100])
        kind = i % 10
        x = [rng.gauss(0, 4) for _ in range(n)]
        scale = 2.0 ** rng.randint(-10, 10) * rng.choice([1.0, 1 / math.sqrt(80), 1 / math.sqrt(96)])
        bias = None
        masked = None
        sink = None
        v = [float(rng.randint(-3, 3)) for _ in range(n)]
        if kind == 1:  # a temperature that makes s*x overflow binary64
            scale = 2.0 ** rng.randint(1000, 1023)
            x = [rng.uniform(-8, 8) for _ in range(n)]
        elif kind == 2:  # ALiBi: slope * (j - (n - 1)), slopes 2^(-8k/H)
            slope = 2.0 ** (-8 * rng.randint(1, 8) / 8)
            bias = [slope * (j - (n - 1)) for j in range(n)]
        elif kind == 3:  # masks: some, all but one, all
            which = rng.randrange(3)
            if which == 0:
                masked = [rng.random() < 0.4 for _ in range(n)]
            elif which == 1:
                keep = rng.randrange(n)
                masked = [j != keep for j in range(n)]
            else:
                masked = [True] * n
        elif kind == 4:  # a sink that dominates, or sits among the scores
            sink = rng.choice([60.0, 745.0, 1e5, rng.gauss(0, 2)])
            if rng.random() < 0.3:
                masked = [True] * n
        elif kind == 5:  # values that cancel: tied scores with opposite values
            k = max(1, n // 2)
            x = [rng.choice([0.0, 1.0, 2.5]) for _ in range(n)]
            v = [float(rng.choice([-1, 1])) for _ in range(n)]
            if n >= 2:
                x[1] = x[0]
                v[1] = -v[0]
        elif kind == 6:  # an additive mask: -inf in the bias or the logits
            bias = [rng.choice([0.0, -math.inf, -1.5]) for _ in range(n)]
            if rng.random() < 0.5:
                x[rng.randrange(n)] = -math.inf
        elif kind == 7:  # large logits, small scales: s*x + b is not a double
            x = [rng.uniform(-1, 1) * 2.0 ** rng.randint(20, 1000) for _ in range(n)]
            scale = 2.0 ** rng.randint(-1074, -900) * 1.5
            bias = [rng.gauss(0, 1) for _ in range(n)]
        elif kind == 8:  # bits: arbitrary doubles
            x = [bits_to_double(rng) for _ in range(n)]
            v = [bits_to_double(rng) for _ in range(n)]
        fully = rng.choice(["nan", "zeros"])
        out.append((x, scale, bias, masked, sink, v, fully))
    return out


def optional_text(values, render=hexd):
    return "-" if values is None else " ".join(render(v) for v in values)


def main():
    args = sys.argv[1:]
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 2026
    count = int(args[args.index("--count") + 1]) if "--count" in args else 150
    rng = random.Random(seed)
    if args[0] == "fixture":
        with open(args[1], "w") as f:
            f.write("# function | row | correctly rounded values (generated by oracle.py; mpmath at 3000 bits)\n")
            for fn, label, x, expected in fixed_cases() + cases(rng, count):
                f.write(f"{fn} | {row_text(label, x)} | {' '.join(hexd(v) for v in expected)}\n")
        return
    if args[0] == "targets":
        with open(args[1], "w") as f:
            f.write("# q | logits | cross-entropy | gradient p*sum(q) - q (generated by oracle.py; mpmath at 3000 bits)\n")
            for x, q in target_cases(rng, count):
                loss = target_loss(x, q)
                grad = target_gradient(x, q)
                f.write(f"{row_text(None, q)} | {row_text(None, x)} | {hexd(loss)} | {' '.join(hexd(v) for v in grad)}\n")
        return
    if args[0] == "binary":
        with open(args[1], "w") as f:
            f.write("# function | row | correctly rounded values (generated by oracle.py; mpmath at 3000 bits)\n")
            for x in binary_rows(rng, count):
                for fn, values in (("sigmoid", sigmoid(x)), ("log-sigmoid", log_sigmoid(x)), ("softplus", softplus(x)),
                                   ("sigmoid-gradient", sigmoid_gradient(x)),
                                   ("log-sigmoid-gradient", sigmoid([-v for v in x])),
                                   ("softplus-gradient", sigmoid(x))):
                    f.write(f"{fn} | {row_text(None, x)} | {' '.join(hexd(v) for v in values)}\n")
        return
    if args[0] == "softplus-beta":
        with open(args[1], "w") as f:
            f.write("# beta | row | softplus(beta x)/beta | sigmoid(beta x) (generated by oracle.py; mpmath at 3000 bits)\n")
            for beta, x in softplus_beta_rows(rng, count):
                values = softplus_beta(beta, x)
                gradient = softplus_beta_gradient(beta, x)
                f.write(f"{hexd(beta)} | {row_text(None, x)} | {' '.join(hexd(v) for v in values)} | "
                        f"{' '.join(hexd(v) for v in gradient)}\n")
        return
    if args[0] == "paired":
        with open(args[1], "w") as f:
            f.write("# function | row | paired vector | pos_weight | correctly rounded values (generated by oracle.py; "
                    "mpmath at 3000 bits)\n")
            for fn, x, pair, w in paired_cases(rng, count):
                values = paired_values(fn, x, pair, w)
                option = "-" if w is None else hexd(w)
                f.write(f"{fn} | {row_text(None, x)} | {row_text(None, pair)} | {option} | "
                        f"{' '.join(hexd(v) for v in values)}\n")
        return
    if args[0] == "losses":
        with open(args[1], "w") as f:
            f.write("# reduction | label_smoothing | ignore_index | weight | targets (a label, or q) per row | rows | "
                    "values | gradient (generated by oracle.py; mpmath at 3000 bits)\n")
            for case in loss_cases(rng, count):
                f.write(loss_line(*case))
        return
    if args[0] == "attention":
        with open(args[1], "w") as f:
            f.write("# x | scale | bias | masked | sink | v | fully_masked | softmax | logsumexp | output "
                    "(generated by oracle.py; mpmath at 5000 bits)\n")
            for x, scale, bias, masked, sink, v, fully in attention_cases(rng, count):
                p, lse, o = attention_values(x, scale, bias, masked, sink, v, fully)
                flags = optional_text(masked, lambda m: "1" if m else "0")
                f.write(f"{row_text(None, x)} | {hexd(scale)} | {optional_text(bias)} | {flags} | "
                        f"{'-' if sink is None else hexd(sink)} | {row_text(None, v)} | {fully} | "
                        f"{' '.join(hexd(q) for q in p)} | {hexd(lse)} | {hexd(o)}\n")
        return
    if args[0] == "check":
        binary = args[1]
        by_function = {}
        for fn, label, x, expected in cases(rng, count):
            by_function.setdefault(fn, []).append((label, x, expected))
        failures = 0
        total = 0
        for fn, items in by_function.items():
            text = "".join(row_text(label, x) + "\n" for label, x, _ in items)
            run = subprocess.run([binary, "reference", fn], input=text, capture_output=True, text=True)
            if run.returncode != 0:
                print(f"{fn}: exit {run.returncode}: {run.stderr.strip()}")
                failures += 1
                continue
            for (label, x, expected), line in zip(items, run.stdout.splitlines()):
                total += 1
                got = line.split(" ")
                want = [hexd(v) for v in expected]
                if got != want:
                    failures += 1
                    bad = [i for i in range(len(want)) if i >= len(got) or got[i] != want[i]][:3]
                    print(f"MISMATCH {fn} row={row_text(label, x)[:200]}")
                    for i in bad:
                        print(f"   [{i}] want {want[i]} got {got[i] if i < len(got) else '-'}")
        print(f"{total} rows checked, {failures} mismatches")
        sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
