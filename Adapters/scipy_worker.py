#!/usr/bin/env python3
"""A softmax-audit worker for SciPy: scipy.special.softmax, log_softmax and logsumexp, with the
cross-entropy and its gradient formed the way users do with them (-log_softmax(x)[t], softmax(x) - onehot),
the binary family: scipy.special.expit, log_expit and softplus; KL as rel_entr(q, softmax(x)).sum(),
binary cross-entropy from log_expit, and logsumexp(x, b=b, return_sign=True).

    softmax-audit external --name scipy -- python3 Adapters/scipy_worker.py
"""
import sys

import numpy as np
import scipy
from scipy import special

from protocol import answer_version, serve

answer_version(f"scipy {scipy.__version__}, numpy {np.__version__}")


def cross_entropy(x, t):
    return [-special.log_softmax(x)[t]]


def gradient(x, t):
    g = special.softmax(x)
    g[t] -= 1
    return g


def binary_cross_entropy(x, y, options):
    w = options.get("pos_weight", 1.0)
    return -(w * y * special.log_expit(x) + (1 - y) * special.log_expit(-x))


def binary_cross_entropy_gradient(x, y, options):
    w = options.get("pos_weight", 1.0)
    return (1 - y) * special.expit(x) - w * y * special.expit(-x)


def weighted_logsumexp(x, b, options):
    value, sign = special.logsumexp(x, b=b, return_sign=True)
    return [value, sign]


serve({
    "softmax": lambda x, t: special.softmax(x),
    "log-softmax": lambda x, t: special.log_softmax(x),
    "logsumexp": lambda x, t: [special.logsumexp(x)],
    "cross-entropy": cross_entropy,
    "cross-entropy-gradient": gradient,
    "sigmoid": lambda x, t: special.expit(x),
    "log-sigmoid": lambda x, t: special.log_expit(x),
    "softplus": lambda x, t, o={}: special.softplus(o.get("beta", 1) * x) / o.get("beta", 1),
    "kl-divergence": lambda x, q, o: [np.sum(special.rel_entr(q, special.softmax(x)))],
    "kl-divergence-gradient": lambda x, q, o: special.softmax(x) * np.sum(q) - q,
    "binary-cross-entropy": binary_cross_entropy,
    "binary-cross-entropy-gradient": binary_cross_entropy_gradient,
    "weighted-logsumexp": weighted_logsumexp,
})
