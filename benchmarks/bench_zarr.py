"""OME-Zarr at session scale: files, peak RSS and throughput beside the HDF5 bundle.

Usage::

    python benchmarks/bench_zarr.py [--frames 20000] [--px 256] [--dir DIR] [--keep]
                                    [--sweep] [--sweep-frames 4096] [--repeat N]
                                    [--skip-big]

Needs playnano-zarr installed (``pip install plugins/playnano-zarr``).

1. Writes an HDF5 bundle of ``--frames`` float32 frames of ``--px`` x ``--px``
   (20,000 x 256 x 256 is 5.2 GB) from a synthetic frame source, streaming.
2. Runs ``playnano process BUNDLE --export zarr --blocks`` and the same with
   ``--export h5`` as children (the block path: the bundle read a block at a time)
   and prints, for each, the wall time, the frames' MB/s, the child's peak RSS
   (``VmHWM``), the files written, the bytes on disk and, for the store, the
   largest ``zarr.json``, against the issue's limits (< 100 files, < 1 GB peak
   RSS, ``zarr.json`` < 100 kB).
   Reading the bundle alone (no export) is timed first: the ceiling of both.
3. Reads the store back a block at a time in a child, compares every frame with
   the bundle's bit for bit and prints the read MB/s.
4. ``--sweep``: on ``--sweep-frames`` frames exported in memory, each chunk size
   (1, 2, 4 MiB), shard size (64 to 512 MiB) and codec: write MB/s, peak RSS,
   files, compression ratio, and the time to read one frame at random (what a
   viewer waits for), the best of ``--repeat`` interleaved runs: the
   measurements behind the defaults. ``--dir /dev/shm`` takes the disk out.

Needs about 3x the stack's size of free disk in ``--dir`` (default: a temporary
folder, removed afterwards unless ``--keep``). The machine is shared: compare only
figures from one run.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from bench_ooc import DRIVER  # the child that records its own peak RSS

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

MB = 1e6


class SyntheticFrames:
    """A FrameSource of tilted float32 frames with noise on a 0.01 nm grid (cheap)."""

    def __init__(self, n_frames: int, size: int) -> None:
        self.shape = (n_frames, size, size)
        self.dtype = np.dtype(np.float32)
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
        self.yy, self.xx = yy, xx
        # 61 noise frames, cycled: a prime longer than a chunk of frames
        self.noise = [
            np.round(np.random.default_rng(i).normal(0, 0.3, (size, size)), 2).astype(
                np.float32
            )
            for i in range(61)
        ]

    def read(self, start: int, stop: int) -> np.ndarray:
        out = np.empty((stop - start, *self.shape[1:]), np.float32)
        for i in range(start, stop):
            tilt = np.float32(0.03 + 1e-6 * i)
            out[i - start] = tilt * self.xx - 0.02 * self.yy + self.noise[i % 61]
        return out

    def close(self) -> None:
        pass


def synthetic_stack(n_frames: int, size: int) -> AFMImageStack:
    """A lazy stack of ``n_frames`` synthetic frames, 0.1 s apart."""
    from playnano.afm_stack import AFMImageStack
    from playnano.lazy import LazyFrames

    meta = [{"timestamp": 0.1 * i} for i in range(n_frames)]
    frames = LazyFrames(SyntheticFrames(n_frames, size))
    return AFMImageStack(frames, 1.0, "height_trace", None, meta)


def tree(path: Path) -> tuple[int, int, int]:
    """Files, bytes and the largest ``zarr.json`` (bytes) under ``path``."""
    if path.is_file():
        return 1, path.stat().st_size, 0
    files = [p for p in path.rglob("*") if p.is_file()]
    metas = [p.stat().st_size for p in files if p.name == "zarr.json"]
    return len(files), sum(p.stat().st_size for p in files), max(metas, default=0)


def child_cpu() -> float:
    """CPU seconds (user + system) of the children that have ended so far."""
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def process(bundle: Path, out: Path, fmt: str) -> tuple[float, float, int, Path]:
    """Wall and CPU seconds, peak RSS and the output of ``playnano process
    --blocks`` (CPU time is what a busy shared machine disturbs least)."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    hwm = out.parent / f"{fmt}.hwm"
    cmd = [sys.executable, "-c", DRIVER, str(hwm), "process", str(bundle)]
    cmd += ["--export", fmt, "-o", str(out), "--blocks", "-q"]
    start, cpu = time.perf_counter(), child_cpu()
    if subprocess.run(cmd, check=False).returncode != 0:
        raise SystemExit(f"playnano process {bundle.name} --export {fmt} failed")
    wall, cpu = time.perf_counter() - start, child_cpu() - cpu
    [written] = list(out.iterdir())
    return wall, cpu, int(hwm.read_text()), written


#: Compares a store with a bundle frame by frame (both read a block at a time).
READBACK = r"""
import sys, time
from playnano.readers import load
store, bundle = load(sys.argv[1], lazy=True), load(sys.argv[2], lazy=True)
assert store.data.shape == bundle.data.shape and store.data.dtype == bundle.data.dtype
spent, n, step = 0.0, 0, store.data.block
for first in range(0, store.data.shape[0], step):
    start = time.perf_counter()  # the store's reads alone are timed
    frames = store.data.read(first, first + step)
    spent += time.perf_counter() - start
    want = bundle.data.read(first, first + step)
    assert frames.tobytes() == want.tobytes(), f"frames {first}+ differ"
    n += frames.nbytes
assert store.frame_metadata == bundle.frame_metadata
print(f"{spent:.3f} {n}")
"""


#: Reads a file a block at a time and does nothing else: the block path's ceiling.
READ_ONLY = r"""
import sys, time
from playnano.readers import load
start = time.perf_counter()
stack = load(sys.argv[1], lazy=True)
for _ in stack.data.blocks():
    pass
print(f"{time.perf_counter() - start:.3f}")
"""


def big_run(root: Path, n_frames: int, px: int) -> None:
    """The session-scale export through the block path, zarr beside h5."""
    from playnano.io.export_data import export_stack

    t0 = time.perf_counter()
    bundle = root / "session.h5"
    stack = synthetic_stack(n_frames, px)
    export_stack(stack, bundle, "h5", options={"compress_level": 1})
    nbytes = stack.data.nbytes
    print(
        f"input: {n_frames} x {px}x{px} float32 = {nbytes / 1e9:.2f} GB of frames, "
        f"bundle {bundle.stat().st_size / 1e9:.2f} GB, made in "
        f"{time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    got = subprocess.run(
        [sys.executable, "-c", READ_ONLY, str(bundle)],
        capture_output=True,
        text=True,
        check=True,
    )
    secs = float(got.stdout)
    print(
        f"reading the bundle alone, a block at a time: {secs:.1f} s "
        f"({nbytes / secs / MB:.0f} MB/s), the ceiling of both exports below",
        flush=True,
    )
    results = {}
    for fmt in ("zarr", "h5"):
        wall, cpu, rss, out = process(bundle, root / f"out_{fmt}", fmt)
        files, size, meta = tree(out)
        results[fmt] = (wall, cpu)
        line = (
            f"{fmt:>4}: {wall:6.1f} s  {nbytes / wall / MB:6.0f} MB/s  CPU {cpu:6.1f} s"
            f"  peak RSS "
            f"{rss / 1e9:.2f} GB ({'under' if rss < 1e9 else 'OVER'} 1 GB)  "
            f"{files} files, {size / 1e9:.2f} GB (ratio {nbytes / size:.2f})"
        )
        if fmt == "zarr":
            line += (
                f", largest zarr.json {meta / 1e3:.1f} kB "
                f"({'under' if files < 100 and meta < 100e3 else 'OVER'} the limits)"
            )
            got = subprocess.run(
                [sys.executable, "-c", READBACK, str(out), str(bundle)],
                capture_output=True,
                text=True,
                check=False,
            )
            if got.returncode != 0:
                raise SystemExit(f"read back failed: {got.stderr.strip()}")
            secs, read = got.stdout.split()
            line += (
                f"; read back bit for bit at {int(read) / float(secs) / MB:.0f} MB/s"
            )
        print(line, flush=True)
        shutil.rmtree(out.parent, ignore_errors=True)
    (zw, zc), (hw, hc) = results["zarr"], results["h5"]
    print(f"zarr / h5: wall time {zw / hw:.2f}, CPU time {zc / hc:.2f}")


#: Exports a stack in memory with some options; prints wall, peak RSS, files, size.
SWEEP_CHILD = r"""
import json, shutil, sys, time
sys.path.insert(0, sys.argv[1])
from bench_zarr import synthetic_stack, tree
from playnano.io.export_data import export_stack
from playnano.lazy import peak_rss
out, n, px, fmt, opts = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], json.loads(sys.argv[6])
warm = synthetic_stack(8, px)  # imports and first calls are not what is measured
warm.data = warm.data.read(0, 8)
[done] = export_stack(warm, out + "_warm", fmt, options=opts)
shutil.rmtree(done, ignore_errors=True) if done.is_dir() else done.unlink()
stack = synthetic_stack(n, px)
stack.data = stack.data.read(0, n)  # in memory: the codec's and the layout's cost
start = time.perf_counter()
[path] = export_stack(stack, out, fmt, options=opts)
wall = time.perf_counter() - start
print(json.dumps([wall, peak_rss(), *tree(path), str(path)]))
"""


def frame_latency_ms(store: Path, n_frames: int, repeat: int = 40) -> float:
    """Median ms to open the store cold and read one frame at random."""
    import zarr

    rng = np.random.default_rng(1)
    times = []
    for i in rng.integers(0, n_frames, repeat):
        start = time.perf_counter()
        np.asarray(zarr.open_array(store / "0", mode="r")[int(i)])
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e3)


def sweep_case(root: Path, n_frames: int, px: int, fmt: str, opts: dict) -> list:
    """One export in a child: wall, peak RSS, files, bytes, ms to read a frame."""
    out = root / "sweep"
    cmd = [sys.executable, "-c", SWEEP_CHILD, str(Path(__file__).parent), str(out)]
    cmd += [str(n_frames), str(px), fmt, json.dumps(opts)]
    got = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if got.returncode != 0:
        raise SystemExit(f"{fmt} {opts} failed: {got.stderr.strip()}")
    wall, rss, files, size, _, path = json.loads(got.stdout.splitlines()[-1])
    latency = frame_latency_ms(Path(path), n_frames) if fmt == "zarr" else None
    if Path(path).is_file():
        Path(path).unlink()
    shutil.rmtree(Path(path), ignore_errors=True)
    return [wall, rss, files, size, latency]


def sweep(root: Path, n_frames: int, px: int, repeat: int) -> None:
    """Chunk sizes, shard sizes and codecs on one stack, in memory; the best of
    ``repeat`` runs, interleaved (the machine is shared)."""
    nbytes = n_frames * px * px * 4
    print(
        f"sweep: {n_frames} x {px}x{px} float32 ({nbytes / 1e9:.2f} GB) in memory, "
        f"best of {repeat}"
    )
    cases: list[tuple[str, dict]] = [("h5", {})]
    cases += [
        ("zarr", {"chunk_mib": c, "shard_mib": s})
        for c in (1, 2, 4)
        for s in (64, 128, 256, 512)
    ]
    cases += [
        ("zarr", {"compression": codec}) for codec in ("blosc-lz4", "zstd", "none")
    ]
    cases += [("zarr", {"compression_level": 3})]
    best: dict[int, list] = {}
    for _ in range(repeat):
        for i, (fmt, opts) in enumerate(cases):
            got = sweep_case(root, n_frames, px, fmt, opts)
            if i not in best or got[0] < best[i][0]:
                best[i] = got
    for i, (fmt, opts) in enumerate(cases):
        wall, rss, files, size, latency = best[i]
        label = ", ".join(f"{k}={v}" for k, v in opts.items()) or "defaults"
        print(
            f"  {fmt:>4} {label:32s} {nbytes / wall / MB:6.0f} MB/s  peak "
            f"{rss / 1e6:5.0f} MB  {files:4d} files  ratio {nbytes / size:.3f}"
            + (f"  one frame {latency:5.1f} ms" if latency is not None else "")
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=20_000)
    ap.add_argument("--px", type=int, default=256)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--sweep-frames", type=int, default=4096)
    ap.add_argument("--repeat", type=int, default=1, help="sweep: best of N runs")
    ap.add_argument("--skip-big", action="store_true", help="only the sweep")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench_zarr_", dir=args.dir))
    try:
        if not args.skip_big:
            big_run(root, args.frames, args.px)
        if args.sweep:
            sweep(root, args.sweep_frames, args.px, args.repeat)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
