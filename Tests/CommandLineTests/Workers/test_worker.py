#!/usr/bin/env python3
"""Workers that misbehave on purpose, for the tests of `softmax-audit external` (pure Python, no NumPy).

    python3 test_worker.py MODE
MODE: good (an accurate shifted softmax), unshifted (exp(x) / sum: overflows), crash (exits on a
logit above 100), hang (sleeps on a logit above 100), garbage, wrong-count, unsupported, stderr,
late-unsupported (answers, then says unsupported from the fifth request on), noisy (answers, then
writes 200 kB to standard error), extra-line (answers the third request twice, a stray line that would
put every later answer one request late), stderr-once (writes a warning naming the fourth softmax
request's first value), padded (200 blanks between values: a line longer than the row needs),
descriptors (says on standard error which descriptors beyond the
three standard ones it was started with).
"""
import math
import os
import sys
import time

mode = sys.argv[1]
inherited = sorted(int(fd) for fd in os.listdir("/proc/self/fd") if int(fd) > 2)
# (listdir's own descriptor is closed again by now)
inherited = [fd for fd in inherited if os.path.exists(f"/proc/self/fd/{fd}")]


def softmax(x, shift=True):
    m = max(x) if shift else 0.0
    e = [math.exp(v - m) if v - m < 709 else math.inf for v in x]
    s = sum(e)
    return [v / s if s > 0 else math.nan for v in e]


count = 0
answered = 0
for line in sys.stdin:
    count += 1
    function, _, row = line.strip().partition(" ")
    # The function first: rows of other functions may have other syntax (labels, a bar and a paired vector).
    if mode == "unsupported" or function != "softmax" or (mode == "late-unsupported" and count >= 5):
        print("unsupported", flush=True)
        continue
    x = [float.fromhex(v) for v in row.split()]
    big = any(v > 100 for v in x)
    if mode == "crash" and big:
        sys.exit(3)
    if mode == "hang" and big:
        time.sleep(3600)
    if mode == "garbage":
        print("hello world", flush=True)
        continue
    if mode == "stderr":
        print("warning: something", file=sys.stderr, flush=True)
    if mode == "stderr-once" and answered == 3:
        print(f"warning: about {row.split()[0]}", file=sys.stderr, flush=True)
    if mode == "descriptors" and inherited:
        print(f"started with descriptors {inherited}", file=sys.stderr, flush=True)
    p = softmax(x, shift=(mode != "unshifted"))
    if mode == "wrong-count":
        p = p[:1] + p
    print((" " * 200 if mode == "padded" else " ").join(v.hex() for v in p), flush=True)
    answered += 1
    if mode == "extra-line" and answered == 3:
        print(" ".join(v.hex() for v in p), flush=True)
    if mode == "noisy":
        sys.stderr.write("x" * 200_000 + "\n")
        sys.stderr.flush()
