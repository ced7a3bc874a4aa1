"""Wall time of ``playnano batch`` over synthetic files with 1 and 2 local workers.

Usage::

    python benchmarks/bench_batch.py [--files 16] [--frames 100] [--size 256]

Writes ``--files`` synthetic NPZ videos (S size: 100 x 256 x 256) to a temporary
folder, then times ``playnano batch -p remove_plane;gaussian_filter:sigma=1 -e h5 tif``
over them in five ways, taking turns ``--repeat`` times:

* ``--workers 1 --threads 1``: in-process, serial, one compression thread;
* ``--workers 1``: in-process, serial, compressing with every core (the default);
* ``--workers 2``: an embedded Dask LocalCluster of two single-threaded worker
  processes (its start-up and shut-down are included);
* ``--scheduler`` on a cluster of 1, then of 2, single-threaded workers started
  before the clock starts (the same workers :func:`playnano.batch.dask_engine.local_cluster`
  makes, fresh for each run). These two rows are the engine's own scaling: the
  same tasks on one and on two workers, without the cluster's start-up.

Each run's outputs are removed once their arrays are hashed (``--dir`` sets where
inputs and outputs go: ``/dev/shm`` takes the disk out of the figures). For each
row it prints the best wall time and how many of the machine's cores were
busy during that run (from ``/proc/stat``: this counts every process, so a figure
above the engine's workers says the run also paid for kernel writeback or other
load). It checks that all five wrote the same arrays and prints the speed-ups. The
machine is shared and noisy: only figures from one run are comparable.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
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


#: (label, batch options, workers of a cluster started before the clock, or 0)
CONFIGS = [
    ("--workers 1 --threads 1", ["-w", "1", "--threads", "1"], 0),
    ("--workers 1", ["-w", "1"], 0),
    ("--workers 2", ["-w", "2"], 0),
    ("--scheduler, 1 worker up", ["--threads", "1"], 1),
    ("--scheduler, 2 workers up", ["--threads", "1"], 2),
]


def _busy_ticks() -> tuple[int, int] | None:
    """(busy, all) clock ticks of every core since boot, or None off Linux."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split()[1:9]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _run(src: Path, out: Path, options: list[str], up: int) -> tuple[float, float]:
    """Wall seconds of one batch and the cores busy meanwhile (nan off Linux)."""
    cluster = None
    if up:
        from playnano.batch.dask_engine import local_cluster

        cluster = local_cluster(up)
        options = [*options, "--scheduler", cluster.scheduler_address]
    try:
        before = _busy_ticks()
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "playnano", "batch", str(src), "-p", STEPS,
             "-e", "h5", "tif", "-o", str(out), *options, "-q", "--force",
             "--overwrite"],
            check=True,
        )  # fmt: skip
        wall = time.perf_counter() - start
        after = _busy_ticks()
    finally:
        if cluster is not None:
            cluster.close()
    cores = float("nan")
    if before is not None and after is not None and after[1] > before[1]:
        n = os.cpu_count() or 1
        cores = n * (after[0] - before[0]) / (after[1] - before[1])
    return wall, cores


def _digests(out: Path) -> dict[str, str]:
    """SHA-256 of every output bundle's processed array, by file name."""
    return {
        p.name: hashlib.sha256(np.ascontiguousarray(load(p).data).tobytes()).hexdigest()
        for p in sorted(out.glob("*.h5"))
    }


def main() -> None:
    """Time the batch; print seconds per configuration and the speed-ups."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=16)
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="folder for the inputs and outputs (default: a temporary folder; "
        "/dev/shm takes the disk out of the figures)",
    )
    args = ap.parse_args()
    times: dict[str, list[tuple[float, float]]] = {c[0]: [] for c in CONFIGS}
    digests: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        for i in range(args.files):
            stack = synthetic_hsafm(n_frames=args.frames, size_px=args.size, seed=i)
            save_npz_bundle(src / f"video{i:02d}.npz", stack)
        for _ in range(args.repeat):
            for label, options, up in CONFIGS:
                out = Path(tmp) / "out"
                times[label].append(_run(src, out, options, up))
                digests[label] = _digests(out)
                shutil.rmtree(out)  # 2.9 GB a run at the default size
    first = digests[CONFIGS[0][0]]
    assert len(first) == args.files
    for label, _, _ in CONFIGS[1:]:
        assert digests[label] == first, label
    shape = f"{args.frames}x{args.size}x{args.size}"
    print(f"playnano batch: {args.files} files of {shape}, -p {STEPS} -e h5 tif")
    best = {label: min(t) for label, t in times.items()}
    for label, t in times.items():
        walls = [w for w, _ in t]
        print(
            f"  {label:<26} best {best[label][0]:6.2f} s ({best[label][1]:.2f} "
            f"cores busy), median {statistics.median(walls):6.2f} s "
            f"({args.repeat} runs)"
        )
    for a, b in [
        ("--workers 2", "--workers 1 --threads 1"),
        ("--workers 2", "--workers 1"),
        ("--scheduler, 2 workers up", "--scheduler, 1 worker up"),
    ]:
        print(f"  speed-up of {a} over {b}: {best[b][0] / best[a][0]:.2f}x")
    print(f"  same arrays in all {len(CONFIGS)}: yes")


if __name__ == "__main__":
    main()
