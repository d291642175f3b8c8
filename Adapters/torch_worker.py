#!/usr/bin/env python3
"""A softmax-audit worker for PyTorch on CPU, called as its users call it: torch.softmax, log_softmax and
logsumexp along the row; F.cross_entropy on a batch of one row (it is nll_loss of log_softmax) and the
batch loss with weight, ignore_index, label_smoothing and reduction; torch.sigmoid, F.logsigmoid and
F.softplus (its default threshold 20 included); F.kl_div of log_softmax; F.binary_cross_entropy_with_logits
with pos_weight; attention's scaled softmax (torch.softmax, or torch._safe_softmax for zeros on a fully
masked row), its logsumexp, and its output through F.scaled_dot_product_attention; every gradient through autograd (.backward() of the loss, of the sum of an elementwise
function). PyTorch's defaults are kept: its own thread count, no deterministic or precision flags, float16
and bfloat16 computed as PyTorch's CPU kernels compute them (they accumulate in float).

    softmax-audit external --name torch -- python3 Adapters/torch_worker.py
    softmax-audit external --name torch-bfloat16 --format bfloat16 --precision -- python3 Adapters/torch_worker.py
"""
import numpy as np
import torch
import torch.nn.functional as F

from protocol import answer_version, serve

answer_version(f"torch {torch.__version__}; CPU, {torch.get_num_threads()} threads, no determinism or precision flags")

DTYPES = {"float64": torch.float64, "float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def tensor(x, grad=False):
    """The row as a tensor of its format (exact: the values are that format's), optionally for autograd."""
    t = torch.from_numpy(np.asarray(x, dtype=np.float64)).to(DTYPES[str(np.asarray(x).dtype)])
    return t.requires_grad_(True) if grad else t


def out(t):
    return t.detach().to(torch.float64).numpy()


def gradient(loss, x):
    """The gradient of loss(tensor) with respect to x, through autograd."""
    t = tensor(x, grad=True)
    loss(t).backward()
    return out(t.grad)


def cross_entropy(t, label):
    return F.cross_entropy(t.unsqueeze(0), torch.tensor([label]))


def softplus(t, o):
    return F.softplus(t, beta=float(o.get("beta", 1)), threshold=float(o.get("threshold", 20)))


def bce(t, y, o):
    weight = torch.tensor(float(o.get("pos_weight", 1)), dtype=t.dtype)
    return F.binary_cross_entropy_with_logits(t, tensor(y), pos_weight=weight, reduction="none")


def batch_loss(rows, targets, options, grad=False):
    """F.cross_entropy over the batch (rows stacked: a batch's rows have one length) with its options."""
    x = tensor(np.stack(rows), grad=grad)
    if isinstance(targets[0], int):
        target = torch.tensor(targets)
    else:
        target = tensor(np.stack(targets).astype(np.stack(rows).dtype))
    weight = None if options["weight"] is None else tensor(options["weight"].astype(np.stack(rows).dtype))
    loss = F.cross_entropy(
        x, target, weight=weight, ignore_index=options["ignore_index"],
        label_smoothing=float(options["label_smoothing"]), reduction=options["reduction"])
    if not grad:
        return [out(loss)]
    loss.sum().backward()
    return list(out(x.grad))


def attention_scores(t, o):
    """scale * x + bias in the row's dtype, masked keys at -inf (masked_fill), the sink's logit appended."""
    z = t * torch.tensor(float(o["scale"]), dtype=t.dtype)
    if o["bias"] is not None:
        z = z + tensor(o["bias"])
    if o["masked"] is not None:
        z = z.masked_fill(torch.from_numpy(o["masked"]), float("-inf"))
    if o["sink"] is not None:
        z = torch.cat([z, torch.tensor([float(o["sink"])], dtype=t.dtype)])
    return z


def scaled_softmax(t, o):
    """torch.softmax of the scores, the sink's column dropped (as gpt-oss's reference code does); for
    fully_masked=zeros, torch._safe_softmax, the softmax scaled_dot_product_attention's math path uses
    (pytorch PR #131060: zeros on a row of -inf)."""
    z = attention_scores(t, o)
    soft = torch._safe_softmax if o["fully_masked"] == "zeros" and hasattr(torch, "_safe_softmax") else torch.softmax
    return soft(z, 0)[: t.shape[0]]


def attention_output(t, o):
    """F.scaled_dot_product_attention with q = [1], keys x and values v (so the scores are scale * x + the
    float mask) for fully_masked=zeros and no sink; otherwise the scaled softmax times v."""
    v = tensor(o["v"])
    if o["fully_masked"] == "zeros" and o["sink"] is None:
        mask = torch.zeros_like(t) if o["bias"] is None else tensor(o["bias"])
        if o["masked"] is not None:
            mask = mask.masked_fill(torch.from_numpy(o["masked"]), float("-inf"))
        q = torch.ones(1, 1, dtype=t.dtype)
        return F.scaled_dot_product_attention(
            q, t.reshape(-1, 1), v.reshape(-1, 1), attn_mask=mask.reshape(1, -1), scale=float(o["scale"]))[0, 0]
    return scaled_softmax(t, o) @ v


serve({
    "scaled-softmax": lambda x, o: out(scaled_softmax(tensor(x), o)),
    "scaled-logsumexp": lambda x, o: [out(torch.logsumexp(attention_scores(tensor(x), o), dim=0))],
    "attention-output": lambda x, o: [out(attention_output(tensor(x), o))],
    "softmax": lambda x, t: out(torch.softmax(tensor(x), dim=0)),
    "log-softmax": lambda x, t: out(torch.log_softmax(tensor(x), dim=0)),
    "logsumexp": lambda x, t: [out(torch.logsumexp(tensor(x), dim=0))],
    "cross-entropy": lambda x, t: [out(cross_entropy(tensor(x), t))],
    "cross-entropy-gradient": lambda x, t: gradient(lambda v: cross_entropy(v, t), x),
    "sigmoid": lambda x, t: out(torch.sigmoid(tensor(x))),
    "log-sigmoid": lambda x, t: out(F.logsigmoid(tensor(x))),
    "softplus": lambda x, t, o={}: out(softplus(tensor(x), o)),
    "sigmoid-gradient": lambda x, t: gradient(lambda v: torch.sigmoid(v).sum(), x),
    "log-sigmoid-gradient": lambda x, t: gradient(lambda v: F.logsigmoid(v).sum(), x),
    "softplus-gradient": lambda x, t, o={}: gradient(lambda v: softplus(v, o).sum(), x),
    "kl-divergence": lambda x, q, o: [out(F.kl_div(torch.log_softmax(tensor(x), 0), tensor(q), reduction="sum"))],
    "kl-divergence-gradient": lambda x, q, o: gradient(
        lambda v: F.kl_div(torch.log_softmax(v, 0), tensor(q), reduction="sum"), x),
    "binary-cross-entropy": lambda x, y, o: out(bce(tensor(x), y, o)),
    "binary-cross-entropy-gradient": lambda x, y, o: gradient(lambda v: bce(v, y, o).sum(), x),
    "cross-entropy-loss": lambda rows, targets, o: batch_loss(rows, targets, o),
    "cross-entropy-loss-gradient": lambda rows, targets, o: batch_loss(rows, targets, o, grad=True),
}, formats=("double", "float", "float16", "bfloat16"))
