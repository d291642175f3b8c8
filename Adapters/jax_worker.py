#!/usr/bin/env python3
"""A softmax-audit worker for JAX on CPU, called as its users call it: jax.nn.softmax and log_softmax,
jax.scipy.special.logsumexp (with b= and return_sign for the weighted logsumexp), optax's losses
(softmax_cross_entropy_with_integer_labels, kl_divergence of log_softmax), jax.nn.sigmoid, log_sigmoid and
softplus, the binary cross-entropy as optax.sigmoid_binary_cross_entropy forms it from log_sigmoid (written
out here, since optax has no pos_weight), and every gradient through jax.grad (of the loss, of the sum of
an elementwise function).

Each function is jax.jit-compiled once per row length (jit's own cache, keyed by shape and dtype, and JAX's
persistent compilation cache between runs): rows are never padded. float64 needs `jax_enable_x64`, which this worker sets (JAX's default is float32 only);
nothing else is changed from JAX's defaults (its CPU backend, its default matmul precision).

    softmax-audit external --name jax -- python3 Adapters/jax_worker.py
    softmax-audit external --name jax-bfloat16 --format bfloat16 --precision -- python3 Adapters/jax_worker.py
"""
import os

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")
# Compiling takes about 0.1 s per function and row length; JAX's persistent cache keeps the executables
# between runs (the same code, loaded instead of compiled again). JAX_COMPILATION_CACHE_DIR moves it.
jax.config.update(
    "jax_compilation_cache_dir",
    os.environ.get("JAX_COMPILATION_CACHE_DIR", os.path.expanduser("~/.cache/softmax-audit-jax")))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from jax.scipy.special import logsumexp  # noqa: E402

from protocol import answer_version, serve  # noqa: E402

answer_version(
    f"jax {jax.__version__}, jaxlib {jax.lib.__version__}, optax {optax.__version__}; CPU, jit per row length, "
    "jax_enable_x64 on (for float64), other settings JAX's defaults")


def out(v):
    return np.asarray(v, dtype=np.float64)


def cross_entropy(x, t):
    return optax.losses.softmax_cross_entropy_with_integer_labels(x, t)


def softplus(x, beta):
    return jax.nn.softplus(beta * x) / beta


def bce(x, y, w):
    # optax has no pos_weight: w y log σ(x) + (1 − y) log σ(−x) as optax's own formula weighs it.
    return -(w * y * jax.nn.log_sigmoid(x) + (1 - y) * jax.nn.log_sigmoid(-x))


def kl(x, q):
    return optax.losses.kl_divergence(jax.nn.log_softmax(x), q)


_softmax = jax.jit(jax.nn.softmax)
_log_softmax = jax.jit(jax.nn.log_softmax)
_logsumexp = jax.jit(logsumexp)
_weighted = jax.jit(lambda x, b: logsumexp(x, b=b, return_sign=True))
_ce = jax.jit(cross_entropy)
_ce_grad = jax.jit(jax.grad(cross_entropy))
_sigmoid = jax.jit(jax.nn.sigmoid)
_log_sigmoid = jax.jit(jax.nn.log_sigmoid)
_softplus = jax.jit(softplus)
_sigmoid_grad = jax.jit(jax.grad(lambda x: jnp.sum(jax.nn.sigmoid(x))))
_log_sigmoid_grad = jax.jit(jax.grad(lambda x: jnp.sum(jax.nn.log_sigmoid(x))))
_softplus_grad = jax.jit(jax.grad(lambda x, beta: jnp.sum(softplus(x, beta))))
_kl = jax.jit(kl)
_kl_grad = jax.jit(jax.grad(kl))
_bce = jax.jit(bce)
_bce_grad = jax.jit(jax.grad(lambda x, y, w: jnp.sum(bce(x, y, w))))


def beta(x, o):
    return jnp.asarray(o.get("beta", 1), dtype=x.dtype)


def weight(x, o):
    return jnp.asarray(o.get("pos_weight", 1), dtype=x.dtype)


serve({
    "softmax": lambda x, t: out(_softmax(x)),
    "log-softmax": lambda x, t: out(_log_softmax(x)),
    "logsumexp": lambda x, t: [out(_logsumexp(x))],
    "cross-entropy": lambda x, t: [out(_ce(x, t))],
    "cross-entropy-gradient": lambda x, t: out(_ce_grad(x, t)),
    "sigmoid": lambda x, t: out(_sigmoid(x)),
    "log-sigmoid": lambda x, t: out(_log_sigmoid(x)),
    "softplus": lambda x, t, o={}: out(_softplus(x, beta(x, o))),
    "sigmoid-gradient": lambda x, t: out(_sigmoid_grad(x)),
    "log-sigmoid-gradient": lambda x, t: out(_log_sigmoid_grad(x)),
    "softplus-gradient": lambda x, t, o={}: out(_softplus_grad(x, beta(x, o))),
    "kl-divergence": lambda x, q, o: [out(_kl(x, q))],
    "kl-divergence-gradient": lambda x, q, o: out(_kl_grad(x, q)),
    "binary-cross-entropy": lambda x, y, o: out(_bce(x, y, weight(x, o))),
    "binary-cross-entropy-gradient": lambda x, y, o: out(_bce_grad(x, y, weight(x, o))),
    "weighted-logsumexp": lambda x, b, o: [float(v) for v in _weighted(x, b)],
}, formats=("double", "float", "float16", "bfloat16"))
