"""Wall time of ``playnano batch`` over synthetic files with 1 and 2 local workers.

Usage::

    python benchmarks/bench_batch.py [--files 16] [--frames 100] [--size 256]

Writes ``--files`` synthetic NPZ videos (S size: 100 x 256 x 256) to a temporary
folder, then times ``playnano batch -p remove_plane;gaussian_filter:sigma=1 -e h5 tif``
over them in three ways, taking turns ``--repeat`` times:

* ``--workers 1 --threads 1``: in-process, serial, one core;
* ``--workers 1``: in-process, serial, compressing with every core (the default);
* ``--workers 2``: an embedded Dask LocalCluster of two single-threaded worker
  processes (its start-up is included).

It checks that all three wrote the same arrays and prints the speed-up of two workers
over each in-process row: over one core, and over the default in-process path, which
already uses the other core for compression. The machine is shared and noisy: only
figures from one run are comparable.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from playnano.io.export_data import save_npz_bundle
from playnano.readers import load
from playnano.synthetic import synthetic_hsafm

STEPS = "remove_plane;gaussian_filter:sigma=1"


#: (label, batch options)
CONFIGS = [
    ("--workers 1 --threads 1", ["-w", "1", "--threads", "1"]),
    ("--workers 1", ["-w", "1"]),
    ("--workers 2", ["-w", "2"]),
]


def _run(src: Path, out: Path, options: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "playnano", "batch", str(src), "-p", STEPS,
         "-e", "h5", "tif", "-o", str(out), *options, "-q", "--force",
         "--overwrite"],
        check=True,
    )  # fmt: skip
    return time.perf_counter() - start


def main() -> None:
    """Time the batch; print seconds per configuration and the speed-ups."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=16)
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    times: dict[str, list[float]] = {label: [] for label, _ in CONFIGS}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        for i in range(args.files):
            stack = synthetic_hsafm(n_frames=args.frames, size_px=args.size, seed=i)
            save_npz_bundle(src / f"video{i:02d}.npz", stack)
        for _ in range(args.repeat):
            for n, (label, options) in enumerate(CONFIGS):
                times[label].append(_run(src, Path(tmp) / f"out{n}", options))
        first = Path(tmp) / "out0"
        names = sorted(p.name for p in first.glob("*.h5"))
        assert len(names) == args.files
        for n in range(1, len(CONFIGS)):
            for name in names:
                a = load(first / name).data
                b = load(Path(tmp) / f"out{n}" / name).data
                assert np.array_equal(a, b), (CONFIGS[n][0], name)
    shape = f"{args.frames}x{args.size}x{args.size}"
    print(f"playnano batch: {args.files} files of {shape}, -p {STEPS} -e h5 tif")
    best = {label: min(t) for label, t in times.items()}
    for label, t in times.items():
        print(
            f"  {label:<24} best {best[label]:6.2f} s, median "
            f"{statistics.median(t):6.2f} s ({args.repeat} runs)"
        )
    two = best["--workers 2"]
    print(
        f"  speed-up of --workers 2 over --workers 1 --threads 1: "
        f"{best['--workers 1 --threads 1'] / two:.2f}x"
    )
    print(
        f"  speed-up of --workers 2 over --workers 1 (default threads): "
        f"{best['--workers 1'] / two:.2f}x"
    )
    print("  same arrays in all three: yes")


if __name__ == "__main__":
    main()
