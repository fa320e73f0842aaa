#!/usr/bin/env python3
"""Attaché benchmark: translate N Mappings (issue 8's synthetic sets) with the release build and print figures.

Usage: scripts/bench [N ...]   (default: 100 1000 10000 50000)

For each N: wall time (best of 5), peak RSS (of the best run), input and output bytes, and the stage times
(read, parse, translate, write) that `attache translate --timings` reports for the best run. Figures only: no
pass/fail; compare them with the targets in README.md.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.path.join(ROOT, ".build", "release", "attache")


def run_once(input_path, output_dir):
    """One translate run in a child process: wall seconds and the stage timings it reports."""
    start = time.perf_counter()
    proc = subprocess.run([BINARY, "translate", "--timings", "--output", output_dir, input_path],
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"translate failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    stages = dict((k, float(v)) for k, v in re.findall(r"(\w+) ([0-9.]+) ms", proc.stderr.split("timings:")[-1]))
    return wall, stages


def peak_rss_mb(input_path, output_dir):
    """Peak RSS of one run, from GNU time (the resource module only reports the max over all children)."""
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", BINARY, "translate", "--output", output_dir, input_path],
                          capture_output=True, text=True)
    return int(proc.stderr.strip().splitlines()[-1]) / 1024


def directory_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [100, 1000, 10000, 50000]
    subprocess.run(["swift", "build", "-c", "release", "-q", "--package-path", ROOT, "--product", "attache"], check=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="attache-bench-") as work:
        for n in sizes:
            input_path = os.path.join(work, f"{n}.yaml")
            subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "benchmark", "generate.py"), str(n), input_path], check=True)
            output_dir = os.path.join(work, f"out-{n}")
            runs = [run_once(input_path, output_dir) for _ in range(5)]
            wall, stages = min(runs, key=lambda r: r[0])
            rss = peak_rss_mb(input_path, output_dir)
            rows.append((n, wall, rss, os.path.getsize(input_path), directory_bytes(output_dir), stages))
            print(f"  N={n}: best {wall * 1000:.0f} ms", file=sys.stderr)
    print()
    print("| Mappings (+twins) | wall, best of 5 | peak RSS | input | output | read | parse | translate | write |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n, wall, rss, inb, outb, st in rows:
        total = n + 2 * (n // 5)
        print(f"| {n:,} ({total:,}) | {wall * 1000:.0f} ms | {rss:.0f} MB | {inb / 1e6:.1f} MB | {outb / 1e6:.1f} MB | "
              f"{st.get('read', 0):.0f} ms | {st.get('parse', 0):.0f} ms | {st.get('translate', 0):.0f} ms | {st.get('write', 0):.0f} ms |")


if __name__ == "__main__":
    main()
