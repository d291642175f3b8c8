"""The softmax-audit process protocol, for Python workers.

Each request is one line, `FUNCTION ROW`: ROW is whitespace-separated values (hexadecimal floats as
float.hex() writes them, or inf, -inf, nan), preceded by `LABEL:` for cross-entropy and
cross-entropy-gradient. FUNCTION may name a format, `softmax@float16`: the values are then that
format's (sent as the hexadecimal floats of their exact binary64 value) and the answers must be too.
Answer each with one line of values (float.hex() keeps them exact) or the word `unsupported`. Flush
after every answer: the audit waits for it.
"""
import sys
import warnings

import numpy as np


def parse(line):
    function, _, row = line.strip().partition(" ")
    label = None
    if ":" in row:
        head, _, row = row.partition(":")
        label = int(head)
    return function, label, np.array([float.fromhex(v) for v in row.split()], dtype=np.float64)


DTYPES = {"double": np.float64, "float": np.float32, "float16": np.float16}


def serve(functions, formats=("double",)):
    """Answers requests on standard input with `functions[name](x, label)` until end of input. With a
    format (`softmax@float16`) in `formats`, x arrives as that NumPy dtype and the answers are cast to it;
    other formats are unsupported."""
    warnings.simplefilter("ignore")  # overflow warnings would go to standard error and be reported
    np.seterr(all="ignore")
    for line in sys.stdin:
        if not line.strip():
            continue
        function, label, x = parse(line)
        function, _, fmt = function.partition("@")
        fmt = fmt or "double"
        f = functions.get(function)
        if f is None or fmt not in formats or fmt not in DTYPES:
            print("unsupported", flush=True)
            continue
        dtype = DTYPES[fmt]
        values = np.atleast_1d(np.asarray(f(x.astype(dtype), label), dtype=dtype)).astype(np.float64)
        print(" ".join(float(v).hex() for v in values), flush=True)
