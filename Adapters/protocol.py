"""The softmax-audit process protocol, for Python workers.

Each request is one line, `FUNCTION ROW`: ROW is whitespace-separated values (hexadecimal floats as
float.hex() writes them, or inf, -inf, nan), preceded by `LABEL:` for cross-entropy and
cross-entropy-gradient. Answer each with one line of values (float.hex() keeps them exact) or the
word `unsupported`. Flush after every answer: the audit waits for it.
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


def serve(functions):
    """Answers requests on standard input with `functions[name](x, label)` until end of input."""
    warnings.simplefilter("ignore")  # overflow warnings would go to standard error and be reported
    np.seterr(all="ignore")
    for line in sys.stdin:
        if not line.strip():
            continue
        function, label, x = parse(line)
        f = functions.get(function)
        if f is None:
            print("unsupported", flush=True)
            continue
        values = np.atleast_1d(np.asarray(f(x, label), dtype=np.float64))
        print(" ".join(float(v).hex() for v in values), flush=True)
