#!/usr/bin/env python3
"""A softmax-audit worker for TensorFlow on CPU (tensorflow-cpu), called as its users call it, eagerly:
tf.nn.softmax and log_softmax, tf.reduce_logsumexp, tf.nn.sparse_softmax_cross_entropy_with_logits,
tf.math.sigmoid,
log_sigmoid and softplus, tf.nn.weighted_cross_entropy_with_logits (sigmoid_cross_entropy_with_logits when
pos_weight is 1), and every gradient through tf.GradientTape. TensorFlow's defaults are kept (its thread
pools, no determinism flags; oneDNN as the wheel enables it). tf.keras.losses.KLDivergence takes
probabilities, not logits, so KL is not asked; nor is the batch loss (TensorFlow's has no ignore_index or
class weights to match PyTorch's options).

    softmax-audit external --name tensorflow -- python3 Adapters/tensorflow_worker.py
"""
import os

import numpy as np

from protocol import answer_version, serve

# TensorFlow's start-up notices (oneDNN's, absl's) go to standard error, which the audit reports as the
# worker's problems: it is silenced while TensorFlow loads and runs its first operation, then restored.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
_stderr = os.dup(2)
os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
try:
    import tensorflow as tf

    tf.nn.softmax(tf.constant([0.0, 1.0]))
finally:  # an import error is still said
    os.dup2(_stderr, 2)

answer_version(f"tensorflow {tf.__version__}; CPU, eager, oneDNN as the wheel enables it, no determinism flags")

DTYPES = {"float64": tf.float64, "float32": tf.float32, "float16": tf.float16, "bfloat16": tf.bfloat16}


def tensor(x):
    """The row as a tensor of its format (exact: the values are that format's)."""
    return tf.cast(tf.constant(np.asarray(x, dtype=np.float64)), DTYPES[str(np.asarray(x).dtype)])


def out(t):
    return tf.cast(t, tf.float64).numpy()


def gradient(f, x):
    v = tf.Variable(tensor(x))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(f(v))
    return out(tape.gradient(loss, v))


def cross_entropy(v, t):
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[t], logits=tf.expand_dims(v, 0))


def scalar(value, v):
    """An option as a tensor of v's dtype (tf.cast of a Python float would go through float32 first)."""
    return tf.constant(float(value), dtype=v.dtype)


def softplus(v, o):
    b = scalar(o.get("beta", 1), v)
    return tf.math.softplus(b * v) / b


def bce(v, y, o):
    w = float(o.get("pos_weight", 1))
    if w == 1:
        return tf.nn.sigmoid_cross_entropy_with_logits(labels=tensor(y), logits=v)
    return tf.nn.weighted_cross_entropy_with_logits(labels=tensor(y), logits=v, pos_weight=scalar(w, v))


serve({
    "softmax": lambda x, t: out(tf.nn.softmax(tensor(x))),
    "log-softmax": lambda x, t: out(tf.nn.log_softmax(tensor(x))),
    "logsumexp": lambda x, t: [out(tf.reduce_logsumexp(tensor(x)))],
    "cross-entropy": lambda x, t: out(cross_entropy(tensor(x), t)),
    "cross-entropy-gradient": lambda x, t: gradient(lambda v: cross_entropy(v, t), x),
    "sigmoid": lambda x, t: out(tf.math.sigmoid(tensor(x))),
    "log-sigmoid": lambda x, t: out(tf.math.log_sigmoid(tensor(x))),
    "softplus": lambda x, t, o={}: out(softplus(tensor(x), o)),
    "sigmoid-gradient": lambda x, t: gradient(tf.math.sigmoid, x),
    "log-sigmoid-gradient": lambda x, t: gradient(tf.math.log_sigmoid, x),
    "softplus-gradient": lambda x, t, o={}: gradient(lambda v: softplus(v, o), x),
    "binary-cross-entropy": lambda x, y, o: out(bce(tensor(x), y, o)),
    "binary-cross-entropy-gradient": lambda x, y, o: gradient(lambda v: bce(v, y, o), x),
}, formats=("double", "float", "float16", "bfloat16"))
