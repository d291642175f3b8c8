#!/usr/bin/env python3
"""Times the same softmax rows through this reference and the arbitrary-precision peers, in one run.

    python3 Benchmarks/compare_references.py [--binary PATH] [--fma-binary PATH] [--lengths 16,1000,100000]
                                             [--seconds 1.5]

Peers, each at 128 bits and rounded to double at the end (the way a reference is usually written
with them; none of them certifies the rounding): mpmath, gmpy2 (MPFR), python-flint (Arb balls).
They are installed with pip when missing. This reference runs as `softmax-audit reference softmax
--timing`, which reads every row first and times the evaluation alone, once with the fast path
(`--path auto`, the default) and once MPFR only (`--path mpfr`); and as the whole command (reading the
rows as hexadecimal text, evaluating, printing; the process's start included), best of three. With
--fma-binary, a build of the same code with FMA (`-Xswiftc -DSOFTMAX_AUDIT_FMA -Xswiftc -target-cpu
-Xswiftc haswell`) is timed beside it. Everything runs on one core. Rows are N(0, 3²) logits from a fixed
seed; the script also checks that every peer's doubles, and the FMA build's, equal ours.
"""
import argparse
import importlib
import os
import random
import re
import subprocess
import sys
import tempfile
import time


def ensure(module, package):
    try:
        return importlib.import_module(module)
    except ImportError:
        print(f"installing {package} with pip ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", package], check=True)
        importlib.invalidate_caches()
        return importlib.import_module(module)


def rows_for(n, count, seed):
    rng = random.Random(seed * 1_000_003 + n)
    return [[rng.gauss(0, 3) for _ in range(n)] for _ in range(count)]


def mpmath_softmax(mpmath):
    mp = mpmath.mp
    mp.prec = 128
    def softmax(row):
        m = max(row)
        e = [mp.exp(mp.mpf(x) - m) for x in row]
        s = mp.fsum(e)
        return [float(v / s) for v in e]
    return softmax


def gmpy2_softmax(gmpy2):
    gmpy2.get_context().precision = 128
    mpfr, exp, fsum = gmpy2.mpfr, gmpy2.exp, gmpy2.fsum
    def softmax(row):
        m = mpfr(max(row))
        e = [exp(mpfr(x) - m) for x in row]
        s = fsum(e)
        return [float(v / s) for v in e]
    return softmax


def flint_softmax(flint):
    flint.ctx.prec = 128
    arb = flint.arb
    def softmax(row):
        m = arb(max(row))
        e = [(arb(x) - m).exp() for x in row]
        s = sum(e[1:], e[0])
        return [float((v / s).mid()) for v in e]
    return softmax


def time_peer(softmax, rows, budget):
    """Rows/s over as many rows as fit in `budget` seconds (at least 2), and their outputs."""
    outputs = []
    start = time.perf_counter()
    for row in rows:
        outputs.append(softmax(row))
        if len(outputs) >= 2 and time.perf_counter() - start > budget:
            break
    return len(outputs) / (time.perf_counter() - start), outputs


def write_rows(rows):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        for row in rows:
            f.write(" ".join(x.hex() for x in row) + "\n")
        return f.name


def time_command(binary, rows, runs=3):
    """Rows/s of the whole `reference softmax` command, best of `runs`."""
    name = write_rows(rows)
    best = float("inf")
    try:
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run([binary, "reference", "softmax", "--input", name], stdout=subprocess.DEVNULL, check=True)
            best = min(best, time.perf_counter() - start)
    finally:
        os.unlink(name)
    return len(rows) / best


def time_ours(binary, path, rows, mode):
    name = write_rows(rows)
    try:
        run = subprocess.run([binary, "reference", "softmax", "--input", name, "--timing", "--path", mode],
                             capture_output=True, text=True, check=True)
    finally:
        os.unlink(name)
    match = re.search(r"(\d+) rows in ([0-9.]+) s", run.stderr)
    if not match:
        sys.exit(f"compare_references: unexpected timing line from {binary}: {run.stderr.strip()}")
    outputs = [[float.fromhex(v) for v in line.split()] for line in run.stdout.splitlines()]
    count, seconds = int(match.group(1)), float(match.group(2))
    return count / seconds, outputs, run.stderr.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/softmax-audit")
    parser.add_argument("--fma-binary", help="the same code built with FMA, timed beside --binary")
    parser.add_argument("--lengths", default="16,1000,100000")
    parser.add_argument("--seconds", type=float, default=1.5, help="time budget per peer and length")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"compare_references: no executable at {args.binary}; build with "
                 "'./with-mpfr swift build -c release' first")

    peers = [
        ("mpmath", mpmath_softmax(ensure("mpmath", "mpmath"))),
        ("gmpy2", gmpy2_softmax(ensure("gmpy2", "gmpy2"))),
        ("python-flint", flint_softmax(ensure("flint", "python-flint"))),
    ]
    versions = {
        "mpmath": ensure("mpmath", "mpmath").__version__,
        "gmpy2": ensure("gmpy2", "gmpy2").version(),
        "python-flint": ensure("flint", "python-flint").__version__,
    }
    print(f"softmax rows/s on one core, N(0, 3²) logits, seed {args.seed}; peers at 128 bits "
          f"(mpmath {versions['mpmath']}, gmpy2 {versions['gmpy2']}, python-flint {versions['python-flint']})")
    print()
    print(f"| n | implementation | rows timed | rows/s | this reference (fast path) is × faster |")
    print(f"|---:|---|---:|---:|---:|")
    mismatches = 0
    for n in [int(v) for v in args.lengths.split(",")]:
        ours_rows = max(4, min(200_000, 2_000_000 // n))
        rows = rows_for(n, ours_rows, args.seed)
        fast, fast_out, _ = time_ours(args.binary, None, rows, "auto")
        mpfr, mpfr_out, _ = time_ours(args.binary, None, rows, "mpfr")
        if fast_out != mpfr_out:
            mismatches += 1
            print(f"MISMATCH: fast path and MPFR path differ at n = {n}", file=sys.stderr)
        print(f"| {n} | softmax-audit reference, fast path | {len(rows)} | {fast:,.0f} | 1 |")
        if args.fma_binary:
            fma, fma_out, _ = time_ours(args.fma_binary, None, rows, "auto")
            if fma_out != fast_out:
                mismatches += 1
                print(f"MISMATCH: the FMA build differs at n = {n}", file=sys.stderr)
            print(f"| {n} | softmax-audit reference, fast path built with FMA | {len(rows)} | {fma:,.0f} "
                  f"| {fast / fma:.2f} |")
        print(f"| {n} | softmax-audit reference, MPFR only | {len(rows)} | {mpfr:,.0f} | {fast / mpfr:.1f} |")
        whole = time_command(args.binary, rows)
        print(f"| {n} | softmax-audit reference, the whole command (parse, evaluate, print) | {len(rows)} "
              f"| {whole:,.0f} | {fast / whole:.2f} |")
        for name, softmax in peers:
            rate, outputs = time_peer(softmax, rows, args.seconds)
            bad = sum(1 for a, b in zip(outputs, fast_out) if a != b)
            mismatches += bad
            note = f" ({bad} rows differ from ours)" if bad else ""
            print(f"| {n} | {name}{note} | {len(outputs)} | {rate:,.1f} | {fast / rate:.1f} |")
        sys.stdout.flush()
    if mismatches:
        print(f"\n{mismatches} row(s) disagree; see above.")
        sys.exit(1)
    print("\nEvery peer's doubles equal this reference's on the rows it computed.")


if __name__ == "__main__":
    main()
