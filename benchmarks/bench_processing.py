"""Seconds of ``run_pipeline`` on a synthetic stack, now against another source tree.

Usage::

    git archive main src | tar -x -C /tmp/before     # the tree to compare with
    python benchmarks/bench_processing.py --before /tmp/before/src \\
        [--frames 200] [--size 512] [--steps "remove_plane"] [--repeat 3]

Each repeat runs the steps on the same float32 stack (``playnano.synthetic``) once
with this checkout's playnano and once with the ``--before`` tree's, each in a
fresh subprocess, interleaved, and prints the best time of each, their ratio and
the peak RSS of the processes (stack generation included).
The machine is shared and noisy: compare only figures from one run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"

CHILD = """
import resource, sys, time
import numpy as np
from playnano.synthetic import synthetic_hsafm
from playnano.processing import run_pipeline
stack = synthetic_hsafm(n_frames={frames}, size_px={size}, seed=1)
stack.data = stack.data.astype(np.float32)
t = time.perf_counter()
run_pipeline(stack, {steps!r})
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def time_once(src: Path, frames: int, size: int, steps: str) -> tuple[float, float]:
    """Seconds of the run and the process's peak RSS in MB."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    code = CHILD.format(frames=frames, size=size, steps=steps)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise SystemExit(f"run with {src} failed:\n{out.stderr}")
    seconds, rss_kb = out.stdout.split()[-2:]
    return float(seconds), float(rss_kb) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--steps", default="remove_plane")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    now, before = [], []
    for _ in range(args.repeat):
        before.append(time_once(args.before, args.frames, args.size, args.steps))
        now.append(time_once(SRC, args.frames, args.size, args.steps))
    print(f"{args.frames}x{args.size}^2 float32, steps {args.steps!r}")
    for label, runs in (("before", before), ("now", now)):
        times = ", ".join(f"{t:.2f}" for t, _ in runs)
        best, rss = min(t for t, _ in runs), max(r for _, r in runs)
        print(f"  {label:7s} {best:.3f} s (runs {times}), peak RSS {rss:.0f} MB")
    ratio = min(t for t, _ in before) / min(t for t, _ in now)
    print(f"  ratio:  {ratio:.2f}x faster")


if __name__ == "__main__":
    main()
