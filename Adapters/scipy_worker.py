#!/usr/bin/env python3
"""A softmax-audit worker for SciPy: scipy.special.softmax, log_softmax and logsumexp, with the
cross-entropy and its gradient formed the way users do with them (-log_softmax(x)[t], softmax(x) - onehot),
and the binary family: scipy.special.expit, log_expit and softplus.

    softmax-audit external --name scipy -- python3 Adapters/scipy_worker.py
"""
import sys

import numpy as np
from scipy import special

from protocol import serve


def cross_entropy(x, t):
    return [-special.log_softmax(x)[t]]


def gradient(x, t):
    g = special.softmax(x)
    g[t] -= 1
    return g


serve({
    "softmax": lambda x, t: special.softmax(x),
    "log-softmax": lambda x, t: special.log_softmax(x),
    "logsumexp": lambda x, t: [special.logsumexp(x)],
    "cross-entropy": cross_entropy,
    "cross-entropy-gradient": gradient,
    "sigmoid": lambda x, t: special.expit(x),
    "log-sigmoid": lambda x, t: special.log_expit(x),
    "softplus": lambda x, t: special.softplus(x),
})
