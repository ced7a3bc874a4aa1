"""Wall time of ``playnano batch`` over synthetic files with 1 and 2 local workers.

Usage::

    python benchmarks/bench_batch.py [--files 16] [--frames 100] [--size 256]

Writes ``--files`` synthetic NPZ videos (S size: 100 x 256 x 256) to a temporary
folder, then times ``playnano batch -p remove_plane;gaussian_filter:sigma=1 -e h5 tif``
over them with ``--workers 1`` (in-process, serial) and ``--workers 2`` (an embedded
Dask LocalCluster of two worker processes; its start-up is included), alternating the
two ``--repeat`` times, and checks that both wrote the same arrays. The machine is
shared and noisy: only figures from one run are comparable.
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


def _run(src: Path, out: Path, workers: int) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "playnano", "batch", str(src), "-p", STEPS,
         "-e", "h5", "tif", "-o", str(out), "-w", str(workers), "-q", "--force",
         "--overwrite"],
        check=True,
    )  # fmt: skip
    return time.perf_counter() - start


def main() -> None:
    """Time the batch; print seconds per worker count and the speed-up."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=16)
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        for i in range(args.files):
            stack = synthetic_hsafm(n_frames=args.frames, size_px=args.size, seed=i)
            save_npz_bundle(src / f"video{i:02d}.npz", stack)
        times: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(args.repeat):
            for workers in (1, 2):
                times[workers].append(_run(src, Path(tmp) / f"out{workers}", workers))
        for name in sorted(p.name for p in (Path(tmp) / "out1").glob("*.h5")):
            a = load(Path(tmp) / "out1" / name).data
            b = load(Path(tmp) / "out2" / name).data
            assert np.array_equal(a, b), name
    shape = f"{args.frames}x{args.size}x{args.size}"
    print(f"playnano batch: {args.files} files of {shape}, -p {STEPS} -e h5 tif")
    best = {w: min(t) for w, t in times.items()}
    for w, t in times.items():
        print(
            f"  --workers {w}: best {best[w]:.2f} s, median {statistics.median(t):.2f} s"
            f" ({args.repeat} runs)"
        )
    print(f"  speed-up with 2 workers: {best[1] / best[2]:.2f}x (same arrays: yes)")


if __name__ == "__main__":
    main()
