"""The streaming block path against the in-memory path and playnano 0.5.0, in one run.

Usage::

    python benchmarks/bench_stream.py [--old-python PY] [--repeat 3] [--dir DIR]
                                      [--big-frames 10000] [--skip-big] [--keep]

Every ``playnano process`` runs as a child process (its own peak RSS, ``VmHWM``),
the runs of one comparison interleaved; the machine is shared, so only figures
from one run compare, and the load average is printed beside them.

1. **M** (500 x 512 x 512 float32; written by playnano 0.5.0 when ``--old-python``
   names a python that has it, else by this version): ``process -p
   remove_plane;mask_threshold:threshold=1 -e tif npz h5 gif`` by default (the
   stream), with ``--in-memory``, and by 0.5.0; wall time, peak RSS, the ratio to
   0.5.0, and the fraction of the streamed run's wall time each stage was busy
   (read, steps, each format: its time not spent waiting for blocks), so the
   bottleneck shows. Then each format against its limit over the same bytes
   (``bench_export.py``'s driver: ``tofile``, deflate on every core, LUT+Pillow).
2. **1.5 GB** uncompressed float32 bundle (1,430 x 512 x 512): ``-p remove_plane
   -e h5 tif`` by default and with ``--in-memory``, ``--repeat`` times each
   (median), wall and peak RSS.
3. **10 GB** (``--big-frames`` x 512 x 512 float32, generated streaming):
   ``-e h5 tif`` by default, its throughput against the disk-and-deflate limit
   measured in this run on the same disk (1,000 of its frames: deflated into HDF5
   chunks on every core and written, plus written as the TIFF's raw bytes; scaled
   to the stack). ``--in-memory`` runs only when half the available memory holds
   the stack (it is printed as skipped otherwise). It needs about 3x the input on
   disk in ``--dir`` (default: a temporary folder, removed afterwards).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
M_STEPS = "remove_plane;mask_threshold:threshold=1"
M_FORMATS = ["tif", "npz", "h5", "gif"]

#: playnano 0.5.0 writes the M bundle (its h5py defaults: gzip, chunks of 32^3).
WRITE_050 = """
import sys, numpy as np
from pathlib import Path
from playnano.afm_stack import AFMImageStack
from playnano.io.export_data import save_h5_bundle
data = np.load(sys.argv[1])
# 0.5.0 reads back the frame pixel size of its own bundles
meta = [{"timestamp": 0.1 * i, "frame_pixel_size_nm": 1.0} for i in range(len(data))]
save_h5_bundle(Path(sys.argv[2]), AFMImageStack(data, 1.0, "height_trace", "M", meta))
"""


class Frames:
    """A FrameSource of tilted, noisy float32 frames with bumps (cheap to make)."""

    def __init__(self, n_frames: int, size: int = 512) -> None:
        self.shape = (n_frames, size, size)
        self.dtype = np.dtype(np.float32)
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
        bumps = np.zeros((size, size), np.float32)
        rng = np.random.default_rng(0)
        for cy, cx in rng.uniform(0.2 * size, 0.8 * size, (6, 2)):
            bumps += 4 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 60)
        self.base = 0.03 * xx - 0.02 * yy + bumps
        self.xx = xx

    def read(self, start: int, stop: int) -> np.ndarray:
        out = np.empty((stop - start, *self.shape[1:]), np.float32)
        for i in range(start, stop):
            noise = np.random.default_rng(i).normal(0, 0.3, self.shape[1:])
            # heights on a 0.01 nm grid, as a digitiser gives: deflate finds something
            out[i - start] = self.base + 1e-5 * i * self.xx + np.round(noise, 2)
        return out

    def close(self) -> None:
        pass


def make_bundle(path: Path, n_frames: int, level: int) -> int:
    """Write an HDF5 bundle of ``n_frames`` generated frames (streamed); its bytes."""
    from playnano.afm_stack import AFMImageStack
    from playnano.io.export_data import export_stack
    from playnano.lazy import LazyFrames

    frames = LazyFrames(Frames(n_frames))
    meta = [{"timestamp": 0.05 * i} for i in range(n_frames)]
    stack = AFMImageStack(frames, 1.0, "height_trace", path, meta)
    export_stack(stack, path, "h5", options={"compress_level": level})
    return frames.nbytes


def make_m(root: Path, old_python: str | None) -> Path:
    """The M bundle, written by playnano 0.5.0 when it is given."""
    from playnano.synthetic import synthetic_hsafm

    syn = synthetic_hsafm(n_frames=500, size_px=512)
    if old_python:
        npy = root / "m.npy"
        np.save(npy, syn.data.astype(np.float32))
        path = root / "M.h5"
        subprocess.run([old_python, "-c", WRITE_050, str(npy), str(path)], check=True)
        npy.unlink()
        return path
    from playnano.afm_stack import AFMImageStack
    from playnano.io.export_data import export_stack

    path = root / "M.h5"
    data = syn.data.astype(np.float32)
    stack = AFMImageStack(data, 1.0, syn.channel, None, syn.frame_metadata)
    export_stack(stack, path, "h5")
    return path


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f} {five:.1f} {fifteen:.1f}"


def run_ours(src: Path, out: Path, args: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS bytes and the stages line of one ``process`` child
    (``-v``: the executor logs how busy each stage was)."""
    from bench_ooc import DRIVER  # the CLI, then the child's peak RSS (VmHWM)

    shutil.rmtree(out, ignore_errors=True)
    hwm = out.with_suffix(".hwm")
    cmd = [sys.executable, "-c", DRIVER, str(hwm), "process", str(src), "-o", str(out)]
    os.sync()  # start with no dirty pages of the run before
    t0 = time.perf_counter()
    done = subprocess.run([*cmd, *args, "-v"], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"process {src.name} {args} failed:\n{done.stderr[-2000:]}")
    stages = next(
        (ln.split("stages busy: ", 1)[1] for ln in done.stderr.splitlines()
         if "stages busy: " in ln),
        "",
    )  # fmt: skip
    shutil.rmtree(out, ignore_errors=True)
    return wall, int(hwm.read_text()), stages


def run_050(old_python: str, src: Path, out: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of playnano 0.5.0's ``process`` on M."""
    from bench_export import old_argv, run_child

    shutil.rmtree(out, ignore_errors=True)
    wall, rss = run_child(old_argv(old_python, src, out, M_FORMATS))
    shutil.rmtree(out, ignore_errors=True)
    return wall, rss


def summary(name: str, runs: list[tuple[float, int]]) -> tuple[float, int]:
    wall = statistics.median(w for w, _ in runs)
    rss = max(r for _, r in runs)
    walls = ", ".join(f"{w:.1f}" for w, _ in runs)
    print(
        f"  {name:<12} wall {wall:7.2f} s (runs {walls})   peak RSS {rss / 1e6:6.0f} MB"
    )
    return wall, rss


def bench_m(root: Path, old_python: str | None, repeat: int) -> None:
    src = make_m(root, old_python)
    who = "playnano 0.5.0" if old_python else "this version"
    print(f"\n== M: 500 x 512 x 512 float32 written by {who}; -p {M_STEPS!r} "
          f"-e {' '.join(M_FORMATS)}", flush=True)  # fmt: skip
    fmt = ["-p", M_STEPS, "-e", *M_FORMATS]
    runs: dict[str, list[tuple[float, int]]] = {"stream": [], "--in-memory": []}
    old: list[tuple[float, int]] = []
    stages = ""
    for _ in range(repeat):  # interleaved: the machine is shared
        print(f"  ({load()})", flush=True)
        wall, rss, stages = run_ours(src, root / "out", fmt)
        runs["stream"].append((wall, rss))
        wall, rss, _ = run_ours(src, root / "out", [*fmt, "--in-memory"])
        runs["--in-memory"].append((wall, rss))
        if old_python:
            old.append(run_050(old_python, src, root / "old"))
    stream = summary("stream", runs["stream"])
    summary("--in-memory", runs["--in-memory"])
    if old:
        old_wall, _ = summary("0.5.0", old)
        print(f"  streamed process is {old_wall / stream[0]:.1f}x faster than 0.5.0")
    print(f"  stages busy (last streamed run): {stages}")
    print(f"  ({load()})")
    print("\n  each format against its limit (bench_export.py's driver):", flush=True)
    work = root / "formats"
    work.mkdir()
    from bench_export import DRIVER as FORMATS_DRIVER

    res = json.loads(
        subprocess.run(
            [sys.executable, "-c", FORMATS_DRIVER, str(src), str(work), M_STEPS,
             "0", ",".join(M_FORMATS), "2"],
            capture_output=True, text=True, check=True,
        ).stdout.splitlines()[-1]
    )  # fmt: skip
    for name in M_FORMATS:
        limit = res.get(f"limit_{name}")
        what = {"tif": "tofile", "gif": "LUT+Pillow"}.get(name, "deflate+write")
        line = f"  {name:<4} {res[name]:6.2f} s"
        if limit:
            line += f"   limit ({what}) {limit:6.2f} s   {res[name] / limit:5.2f}x"
        print(line)
    shutil.rmtree(work)
    src.unlink()


def bench_15(root: Path, repeat: int) -> None:
    src = root / "b15.h5"
    nbytes = make_bundle(src, 1430, 0)
    print(f"\n== {nbytes / 1e9:.2f} GB uncompressed float32 bundle (1430 x 512 x 512); "
          "-p remove_plane -e h5 tif", flush=True)  # fmt: skip
    fmt = ["-p", "remove_plane", "-e", "h5", "tif"]
    runs: dict[str, list[tuple[float, int]]] = {"stream": [], "--in-memory": []}
    stages = ""
    for _ in range(repeat):
        print(f"  ({load()})", flush=True)
        wall, rss, stages = run_ours(src, root / "out", fmt)
        runs["stream"].append((wall, rss))
        wall, rss, _ = run_ours(src, root / "out", [*fmt, "--in-memory"])
        runs["--in-memory"].append((wall, rss))
    stream = summary("stream", runs["stream"])
    memory = summary("--in-memory", runs["--in-memory"])
    verdict = "meets" if stream[1] < 800e6 and stream[0] <= memory[0] else "MISSES"
    print(f"  stream / in-memory wall {stream[0] / memory[0]:.2f}x, peak RSS "
          f"{stream[1] / 1e6:.0f} MB ({verdict} <= 1.0x and < 800 MB)")  # fmt: skip
    print(f"  stages busy (last streamed run): {stages}")
    src.unlink()


def limit_big(root: Path, n_frames: int, sample: int = 1000) -> float:
    """Seconds the disk and deflate need for ``-e h5 tif`` of ``n_frames`` frames.

    Measured on ``sample`` generated frames (generated first, not timed): their
    HDF5 chunks deflated on every core (level 4, shuffled) and written, and their
    raw bytes written (the TIFF's pixels); scaled to the stack.
    """
    from playnano.io import codec

    frames = Frames(sample).read(0, sample)
    os.sync()
    t0 = time.perf_counter()
    with open(root / "limit.bin", "wb") as fh:
        for chunk in codec.ordered_map(lambda f: codec.h5_chunk(f, 4), frames):
            fh.write(chunk)
        frames.tofile(fh)
        fh.flush()
        os.fsync(fh.fileno())
    t = time.perf_counter() - t0
    (root / "limit.bin").unlink()
    return t * n_frames / sample


def bench_big(root: Path, n_frames: int, in_memory: bool) -> None:
    from playnano.lazy import available_memory

    src = root / "big.h5"
    t0 = time.perf_counter()
    nbytes = make_bundle(src, n_frames, 0)
    print(f"\n== {nbytes / 1e9:.1f} GB input ({n_frames} x 512 x 512 float32, "
          f"generated in {time.perf_counter() - t0:.0f} s); -e h5 tif", flush=True)  # fmt: skip
    print(f"  ({load()})", flush=True)
    limit = limit_big(root, n_frames)
    wall, rss, stages = run_ours(src, root / "out", ["-e", "h5", "tif"])
    mb = nbytes / 1e6
    print(f"  stream       wall {wall:7.1f} s   peak RSS {rss / 1e6:6.0f} MB "
          f"({'under' if rss < 1e9 else 'OVER'} 1 GB)   {mb / wall:5.0f} MB/s")  # fmt: skip
    print(f"  limit        disk + deflate {limit:6.1f} s   {mb / limit:5.0f} MB/s   "
          f"the stream runs at {limit / wall:.0%} of it")  # fmt: skip
    print(f"  stages busy: {stages}")
    available = available_memory() or 0
    if in_memory and nbytes * 1.2 < available / 2:
        wall, rss, _ = run_ours(src, root / "out", ["-e", "h5", "tif", "--in-memory"])
        print(f"  --in-memory  wall {wall:7.1f} s   peak RSS {rss / 1e6:6.0f} MB")
    else:
        print(f"  --in-memory  not run: it holds {nbytes * 1.2 / 1e9:.1f} GB, and "
              f"{available / 1e9:.1f} GB is available on this shared machine")  # fmt: skip
    print(f"  ({load()})")
    src.unlink()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old-python", default=os.environ.get("PLAYNANO_050_PYTHON"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--m-repeat", type=int, default=1, help="M runs (0.5.0: ~150 s)")
    ap.add_argument("--big-frames", type=int, default=10_000)
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--big-in-memory", action="store_true",
                    help="also run the 10 GB input in memory when it fits")  # fmt: skip
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))  # bench_export's driver and 0.5.0 runner
    root = Path(tempfile.mkdtemp(prefix="bench_stream_", dir=args.dir))
    print(f"cores {os.cpu_count()}, {load()}")
    try:
        bench_m(root, args.old_python, args.m_repeat)
        bench_15(root, args.repeat)
        if not args.skip_big:
            bench_big(root, args.big_frames, args.big_in_memory)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
