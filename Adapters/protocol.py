"""The softmax-audit process protocol, for Python workers.

Each request is one line, `FUNCTION ROW`: ROW is whitespace-separated values (hexadecimal floats as
float.hex() writes them, or inf, -inf, nan), preceded by `LABEL:` for cross-entropy and
cross-entropy-gradient; for the paired functions (kl-divergence, binary-cross-entropy, the weighted
logsumexp and their gradients) followed by ` | ` and the paired vector; then any options as NAME=VALUE
(`pos_weight=0x1.0p+1` for binary-cross-entropy, `beta=0x1.0p+1 threshold=0x1.4p+4` for softplus).
cross-entropy-loss and its gradient take a batch on one line (`parse_batch`). The attention functions
(scaled-softmax, scaled-logsumexp, attention-output, attention-states) take the row x, then `scale=`, `bias=`, `masked=`
(1 masks a key), `sink=`, `v=`, `blocks=` and `fully_masked=` (`parse_attention`). FUNCTION may name a format, `softmax@float16`: the values are then that
format's (sent as the hexadecimal floats of their exact binary64 value) and the answers must be too.
Answer each with one line of values (float.hex() keeps them exact) or the word `unsupported`. Flush
after every answer: the audit waits for it.
"""
import sys
import warnings

import numpy as np


def values(text):
    return np.array([float.fromhex(v) for v in text.split()], dtype=np.float64)


def parse(line):
    """(function, label, x, pair, options): label None without a colon, pair None without a bar."""
    function, _, row = line.strip().partition(" ")
    label = None
    if ":" in row:
        head, _, row = row.partition(":")
        label = int(head)
    tokens = row.split()
    options = {k: float.fromhex(v) for k, _, v in (t.partition("=") for t in tokens if "=" in t)}
    row = " ".join(t for t in tokens if "=" not in t)
    pair = None
    if "|" in row:
        row, _, tail = row.partition("|")
        pair = values(tail)
    return function, label, values(row), pair, options


def parse_batch(line):
    """For cross-entropy-loss and its gradient: (function, rows, targets, options). rows is a list of
    arrays; targets a list of class indices (the ignore index included) or of probability arrays;
    options has weight (an array or None), ignore_index, label_smoothing and reduction, PyTorch's
    defaults where the line gives none: `1: 0x0p+0 0x1p+0 ; -100: ... weight=0x1p+0,0x1p-1 reduction=sum`."""
    function, _, rest = line.strip().partition(" ")
    tokens = rest.split()
    given = dict(t.partition("=")[::2] for t in tokens if "=" in t)
    body = " ".join(t for t in tokens if "=" not in t)
    options = {
        "weight": values(given["weight"].replace(",", " ")) if "weight" in given else None,
        "ignore_index": int(given.get("ignore_index", "-100")),
        "label_smoothing": float.fromhex(given["label_smoothing"]) if "label_smoothing" in given else 0.0,
        "reduction": given.get("reduction", "mean"),
    }
    rows, targets = [], []
    for part in body.split(";"):
        if "|" in part:
            row, _, target = part.partition("|")
            rows.append(values(row))
            targets.append(values(target))
        else:
            label, _, row = part.partition(":")
            rows.append(values(row))
            targets.append(int(label))
    return function, rows, targets, options


# The attention functions: `functions[name](x, options)`, options from `parse_attention`.
ATTENTION_FUNCTIONS = ("scaled-softmax", "scaled-logsumexp", "attention-output", "attention-states")


def parse_attention(line):
    """For the attention functions: (function, x, options) with options scale (a float), bias (an array or
    None), masked (a bool array or None), sink (a float or None), v (an array), blocks (an int) and
    fully_masked ("nan" or "zeros"), the defaults where the line gives none:
    `scaled-softmax 0x1p+0 -0x1p+1 scale=0x1p-3 masked=0,1 v=0x1p+0,-0x1p+0`."""
    function, _, rest = line.strip().partition(" ")
    tokens = rest.split()
    given = dict(t.partition("=")[::2] for t in tokens if "=" in t)
    x = values(" ".join(t for t in tokens if "=" not in t))

    def listed(name):
        return values(given[name].replace(",", " ")) if name in given else None

    masked = listed("masked")
    options = {
        "scale": float.fromhex(given["scale"]) if "scale" in given else 1.0,
        "bias": listed("bias"),
        "masked": None if masked is None else masked == 1,
        "sink": float.fromhex(given["sink"]) if "sink" in given else None,
        "v": listed("v"),
        "blocks": int(given.get("blocks", "1")),
        "fully_masked": given.get("fully_masked", "nan"),
    }
    return function, x, options


# The functions whose request is a whole batch on one line: `functions[name](rows, targets, options)`
# answers with a list of values or arrays (one loss per row for reduction none, else one; the
# gradient's rows), flattened in order.
BATCH_FUNCTIONS = ("cross-entropy-loss", "cross-entropy-loss-gradient")

DTYPES = {"double": np.float64, "float": np.float32, "float16": np.float16}
try:  # bfloat16 as NumPy knows it through ml_dtypes (which JAX and TensorFlow install)
    import ml_dtypes

    DTYPES["bfloat16"] = ml_dtypes.bfloat16
except ImportError:
    pass


class Unsupported(Exception):
    """Raised by a function for a format or an input its library does not support: the answer is
    `unsupported` (and the audit stops asking that function)."""


def answer_version(text):
    """`WORKER --version` prints the library's name and version (for the league's reports) and exits."""
    if "--version" in sys.argv[1:]:
        missing = "" if "bfloat16" in DTYPES else "; no bfloat16 here (ml_dtypes is not installed)"
        print(text + missing, flush=True)
        sys.exit(0)


def serve(functions, formats=("double",)):
    """Answers requests on standard input with `functions[name](x, label)` (`(x, label, options)` when
    the request has options, as softplus's beta), or for a paired function `functions[name](x, pair,
    options)`, until end of input. With a format (`softmax@float16`) in
    `formats`, x and the pair arrive as that NumPy dtype and the answers are cast to it; other formats
    are unsupported."""
    warnings.simplefilter("ignore")  # overflow warnings would go to standard error and be reported
    np.seterr(all="ignore")
    for line in sys.stdin:
        if not line.strip():
            continue
        name, _, fmt = line.partition(" ")[0].partition("@")
        fmt = fmt or "double"
        f = functions.get(name)
        if f is None or fmt not in formats or fmt not in DTYPES:
            print("unsupported", flush=True)
            continue
        dtype = DTYPES[fmt]
        try:
            answer_line(f, name, line, dtype)
        except Unsupported:
            print("unsupported", flush=True)


def answer_line(f, name, line, dtype):
    """Parses one request, calls its function and prints the answer."""
    if name in BATCH_FUNCTIONS:
        _, rows, targets, options = parse_batch(line)
        rows = [r.astype(dtype) for r in rows]
        answer = np.concatenate([np.atleast_1d(np.asarray(v, dtype=np.float64))
                                 for v in f(rows, targets, options)] or [np.zeros(0)])
        print(" ".join(float(v).hex() for v in answer.astype(dtype).astype(np.float64)), flush=True)
        return
    if name in ATTENTION_FUNCTIONS:
        _, x, options = parse_attention(line)
        cast = {k: (v.astype(dtype) if isinstance(v, np.ndarray) and v.dtype != bool else v)
                for k, v in options.items()}
        for k in ("scale", "sink"):
            if cast[k] is not None:
                cast[k] = dtype(cast[k])
        answer = f(x.astype(dtype), cast)
        out = np.atleast_1d(np.asarray(answer, dtype=dtype)).astype(np.float64)
        print(" ".join(float(v).hex() for v in out), flush=True)
        return
    _, label, x, pair, options = parse(line)
    if pair is None and options:
        answer = f(x.astype(dtype), label, {k: dtype(v) for k, v in options.items()})
    elif pair is None:
        answer = f(x.astype(dtype), label)
    else:
        answer = f(x.astype(dtype), pair.astype(dtype), {k: dtype(v) for k, v in options.items()})
    out = np.atleast_1d(np.asarray(answer, dtype=dtype)).astype(np.float64)
    print(" ".join(float(v).hex() for v in out), flush=True)
