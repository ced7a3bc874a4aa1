"""Stacks larger than memory: the block path's peak RSS and wall time.

Usage::

    python benchmarks/bench_ooc.py [--gb 4] [--compare-gb 1] [--dir DIR] [--keep]

1. Generates an HDF5 bundle of ``--gb`` GiB of float64 frames (512x512, gzip level
   1) streaming: the frames come from a :class:`~playnano.lazy.FrameSource` and go
   through the h5 exporter a block at a time, so the generator stays small too.
2. Runs ``playnano process BUNDLE -p remove_plane --export h5 tif --blocks`` as a
   child and prints its wall time and peak RSS (the child's ``VmHWM``) against the input's
   in-memory size (issue 10: under 1 GB for a 4 GB stack).
3. With ``--compare-gb`` (default 1; 0 skips it) a smaller bundle is exported both
   ways, ``--in-memory`` and ``--blocks``, interleaved, and the wall time ratio and
   both peak RSS figures are printed.

It needs about 3x ``--gb`` of free disk (input, h5 and tif outputs) in ``--dir``
(default: a temporary folder, removed afterwards unless ``--keep``). The machine is
shared: compare only figures from one run.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SIZE_PX = 512
STEPS = "remove_plane"


class SyntheticFrames:
    """A FrameSource of tilted, noisy frames with a few bumps (cheap to make)."""

    def __init__(self, n_frames: int, size: int = SIZE_PX) -> None:
        self.shape = (n_frames, size, size)
        self.dtype = np.dtype(np.float64)
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
        bumps = np.zeros((size, size))
        rng = np.random.default_rng(0)
        for cy, cx in rng.uniform(0.2 * size, 0.8 * size, (6, 2)):
            bumps += 4.0 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 60.0)
        self.yy, self.xx, self.bumps = yy, xx, bumps

    def read(self, start: int, stop: int) -> np.ndarray:
        out = np.empty((stop - start, *self.shape[1:]))
        for i in range(start, stop):
            rng = np.random.default_rng(i)
            tilt = 0.03 + 1e-5 * i
            out[i - start] = tilt * self.xx - 0.02 * self.yy + self.bumps
            # heights on a 0.01 nm grid, as a digitiser gives: gzip finds something
            out[i - start] += np.round(rng.normal(0, 0.3, self.shape[1:]), 2)
        return out

    def close(self) -> None:
        pass


def make_bundle(path: Path, gib: float) -> int:
    """Write a bundle of ``gib`` GiB of frames to ``path``; return its data bytes."""
    from playnano.afm_stack import AFMImageStack
    from playnano.io.export_data import export_stack
    from playnano.lazy import LazyFrames

    n = max(1, int(gib * 2**30 // (8 * SIZE_PX * SIZE_PX)))
    frames = LazyFrames(SyntheticFrames(n))
    meta = [{"timestamp": 0.05 * i} for i in range(n)]
    stack = AFMImageStack(frames, 1.0, "height_trace", path, meta)
    export_stack(stack, path, "h5", options={"compress_level": 1})
    return frames.nbytes


#: Runs the CLI, then writes the process's VmHWM (peak RSS) to argv[1]. A forked
#: child's ru_maxrss starts from the parent's size; VmHWM is the new program's own.
DRIVER = """
import atexit, sys
from playnano.lazy import peak_rss
def hwm():
    with open(sys.argv[1], "w") as out:
        out.write(str(peak_rss()))
atexit.register(hwm)
from playnano.cli import cli
cli.main(sys.argv[2:])
"""


def run_child(bundle: Path, out: Path, mode: str) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one ``playnano process`` child."""
    shutil.rmtree(out, ignore_errors=True)
    hwm = out.with_suffix(".hwm")
    cmd = [
        sys.executable,
        "-c",
        DRIVER,
        str(hwm),
        "process",
        str(bundle),
        "-p",
        STEPS,
        "--export",
        "h5",
        "tif",
        "-o",
        str(out),
        mode,
        "-q",
    ]
    start = time.perf_counter()
    code = subprocess.run(cmd, check=False).returncode
    wall = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"playnano process {bundle.name} {mode} failed")
    shutil.rmtree(out, ignore_errors=True)
    return wall, int(hwm.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gb", type=float, default=4.0, help="GiB of frames (default 4)")
    ap.add_argument("--compare-gb", type=float, default=1.0)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench_ooc_", dir=args.dir))
    try:
        t0 = time.perf_counter()
        bundle = root / "big.h5"
        nbytes = make_bundle(bundle, args.gb)
        gen_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(
            f"generated {bundle.name}: {nbytes / 2**30:.2f} GiB of frames, "
            f"{bundle.stat().st_size / 2**30:.2f} GiB on disk in "
            f"{time.perf_counter() - t0:.0f} s (generator peak RSS "
            f"{gen_rss / 2**20:.0f} MiB)",
            flush=True,
        )
        wall, rss = run_child(bundle, root / "out", "--blocks")
        print(
            f"process -p {STEPS} --export h5 tif --blocks: {wall:.0f} s, peak RSS "
            f"{rss / 2**20:.0f} MiB = {rss / nbytes:.3f} x the stack "
            f"({'under' if rss < 2**30 else 'OVER'} 1 GiB)",
            flush=True,
        )
        bundle.unlink()
        if args.compare_gb > 0:
            small = root / "small.h5"
            nsmall = make_bundle(small, args.compare_gb)
            runs: dict[str, list[tuple[float, int]]] = {
                "--in-memory": [],
                "--blocks": [],
            }
            for _ in range(2):  # interleaved: the machine is shared
                for mode, got in runs.items():
                    got.append(run_child(small, root / "out", mode))
            best = {m: min(r) for m, r in runs.items()}
            mem, blk = best["--in-memory"], best["--blocks"]
            print(
                f"{nsmall / 2**30:.2f} GiB stack, best of 2: in memory {mem[0]:.1f} s "
                f"/ {mem[1] / 2**20:.0f} MiB; blocks {blk[0]:.1f} s / "
                f"{blk[1] / 2**20:.0f} MiB; wall ratio blocks/in-memory "
                f"{blk[0] / mem[0]:.2f}"
            )
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
