#!/usr/bin/env python3
"""The whole `softmax-audit reference` command on one core, against its own evaluation.

Writes ROWS rows of N N(0, 10^2) logits (hexadecimal, as float.hex writes them, and decimal, as repr
writes them), then times, best of RUNS each, on one core (taskset -c 0 where it exists):

- the whole command, `softmax-audit reference softmax < rows > /dev/null` (start-up, reading, parsing,
  the evaluation, printing);
- `--timing`'s figure for the evaluation alone on the same rows.

Every binary given is timed in the same run, so that ratios between them mean something on a shared,
noisy machine:

    python3 Benchmarks/reference_command.py .build/release/softmax-audit [/tmp/softmax-audit-before]
"""
import argparse
import random
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path


def write_rows(path: Path, rows: int, n: int, seed: int, form) -> None:
    r = random.Random(seed)
    with path.open("w") as f:
        for _ in range(rows):
            f.write(" ".join(form(r.gauss(0, 10)) for _ in range(n)) + "\n")


def best_wall(command, rows_path: Path, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        with rows_path.open("rb") as rows:
            start = time.perf_counter()
            subprocess.run(command, stdin=rows, stdout=subprocess.DEVNULL, check=True)
            best = min(best, time.perf_counter() - start)
    return best


def best_evaluation(command, rows_path: Path, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        with rows_path.open("rb") as rows:
            done = subprocess.run(command + ["--timing"], stdin=rows, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, check=True, text=True)
        best = min(best, float(re.search(r"rows in ([0-9.]+) s", done.stderr).group(1)))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binaries", nargs="+", help="softmax-audit executables to time side by side")
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    with tempfile.TemporaryDirectory() as directory:
        forms = {"hexadecimal": float.hex, "decimal": repr}
        paths = {}
        for name, form in forms.items():
            paths[name] = Path(directory) / f"{name}.txt"
            write_rows(paths[name], options.rows, options.n, options.seed, form)
        print(f"{options.rows} rows of {options.n} N(0, 10^2) logits, one core, best of {options.runs}\n")
        print("| binary | rows | whole command | rows/s | evaluation alone (--timing) | whole ÷ evaluation |")
        print("|---|---|---:|---:|---:|---:|")
        for binary in options.binaries:
            command = pin + [binary, "reference", "softmax"]
            evaluation = best_evaluation(command, paths["hexadecimal"], options.runs)
            for name, path in paths.items():
                wall = best_wall(command, path, options.runs)
                print(f"| {binary} | {name} | {wall:.3f} s | {options.rows / wall:,.0f} | {evaluation:.3f} s "
                      f"({options.rows / evaluation:,.0f} rows/s) | {wall / evaluation:.2f} |")


if __name__ == "__main__":
    main()
