#!/usr/bin/env python3
"""A softmax-audit worker for plain NumPy expressions, as written in tutorials and notebooks, in
float64, float32 and float16 (NumPy computes float16 and float32 arrays in their own dtype):

    softmax-audit external --name numpy -- python3 Adapters/numpy_worker.py
    softmax-audit external --name numpy-float16 --format float16 --precision -- python3 Adapters/numpy_worker.py
"""
import numpy as np

from protocol import answer_version, serve

answer_version(f"numpy {np.__version__}")


def softmax(x, t=None):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


def log_softmax(x, t=None):
    m = np.max(x)
    return x - m - np.log(np.sum(np.exp(x - m)))


def binary_cross_entropy(x, y, options):
    w = options.get("pos_weight", 1)
    s = 1 / (1 + np.exp(-x))
    return -(w * y * np.log(s) + (1 - y) * np.log(1 - s))


def binary_cross_entropy_gradient(x, y, options):
    w = options.get("pos_weight", 1)
    return (1 + (w - 1) * y) / (1 + np.exp(-x)) - w * y


def weighted_logsumexp(x, b, options):
    m = np.max(x)
    s = np.sum(b * np.exp(x - m))
    return [m + np.log(np.abs(s)), np.sign(s)]


def attention_scores(x, o):
    """The scores as users write them: scale * x + bias, -inf where masked, the sink appended."""
    z = o["scale"] * x + (o["bias"] if o["bias"] is not None else 0)
    if o["masked"] is not None:
        z = np.where(o["masked"], -np.inf, z)
    if o["sink"] is not None:
        z = np.concatenate([z, np.array([o["sink"]], dtype=x.dtype)])
    return z


def scaled_softmax(x, o):
    """softmax(scale * x + bias) with the sink's column dropped; a fully masked row is NaN, or zeros
    as PyTorch's safe softmax where asked."""
    z = attention_scores(x, o)
    e = np.exp(z - np.max(z))
    p = (e / np.sum(e))[:len(x)]
    if o["fully_masked"] == "zeros" and np.all(z == -np.inf):
        p = np.zeros_like(p)
    return p


def scaled_logsumexp(x, o):
    z = attention_scores(x, o)
    m = np.max(z)
    return [m + np.log(np.sum(np.exp(z - m)))]


def attention_states(x, o):
    """Each block's (lse, o) over its kept keys (block k: keys k n // B to (k + 1) n // B - 1), the sink left
    out, as a split-K kernel computes them: m = max, e = exp(z - m), (m + log sum e, e @ v / sum e); an empty
    block's (-inf, 0)."""
    n, blocks = len(x), o["blocks"]
    z = attention_scores(x, dict(o, sink=None))
    states = []
    for k in range(blocks):
        lo, hi = k * n // blocks, (k + 1) * n // blocks
        zk = z[lo:hi]
        if hi == lo or np.all(zk == -np.inf):
            states += [-np.inf, 0.0]
            continue
        m = np.max(zk)
        e = np.exp(zk - m)
        states += [m + np.log(np.sum(e)), (e @ o["v"][lo:hi]) / np.sum(e)]
    return states


serve({
    # Attention as users write it: scores = scale * x + bias, masked to -inf, softmax, then p @ v.
    "scaled-softmax": scaled_softmax,
    "scaled-logsumexp": scaled_logsumexp,
    "attention-output": lambda x, o: [scaled_softmax(x, o) @ o["v"]],
    "attention-states": attention_states,
    "softmax": softmax,
    "log-softmax": log_softmax,
    "logsumexp": lambda x, t: [np.max(x) + np.log(np.sum(np.exp(x - np.max(x))))],
    "cross-entropy": lambda x, t: [-np.log(softmax(x)[t])],
    "cross-entropy-gradient": lambda x, t: softmax(x) - np.eye(len(x), dtype=x.dtype)[t],
    # The binary family as tutorials write it: 1 / (1 + exp(-x)), its log, log(1 + exp(x)).
    "sigmoid": lambda x, t: 1 / (1 + np.exp(-x)),
    "log-sigmoid": lambda x, t: np.log(1 / (1 + np.exp(-x))),
    "softplus": lambda x, t, o={}: np.log(1 + np.exp(o.get("beta", 1) * x)) / o.get("beta", 1),
    # KL as sum(q * log(q / softmax(x))) (0 * log 0 is NaN here), binary cross-entropy from the sigmoid and
    # its autograd-style gradient, logsumexp with weights taking the maximum over every x.
    "kl-divergence": lambda x, q, o: [np.sum(q * np.log(q / softmax(x)))],
    "kl-divergence-gradient": lambda x, q, o: softmax(x) * np.sum(q) - q,
    "binary-cross-entropy": binary_cross_entropy,
    "binary-cross-entropy-gradient": binary_cross_entropy_gradient,
    "weighted-logsumexp": weighted_logsumexp,
}, formats=("double", "float", "float16"))
