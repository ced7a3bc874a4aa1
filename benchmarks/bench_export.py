"""``playnano process`` end to end on a synthetic HS-AFM video, against its limits.

Usage::

    python benchmarks/bench_export.py [--size S|M] [--old-python PY] [--repeat N]
                                      [--limit-repeat N] [--threads N]
                                      [--formats tif,npz,h5,gif]

``--size S`` (default) is 100 frames of 256x256, ``M`` 500 frames of 512x512, both
float32 (``--frames``/``--px`` override). The video (:mod:`playnano.synthetic`) is
written once as an HDF5 bundle both tools read, then:

1. ``playnano process BUNDLE -p STEPS --export tif,npz,h5 --make-gif`` runs as a child
   process; its wall time, peak RSS (the child's ``ru_maxrss``) and output sizes are
   printed. With ``--old-python`` (or ``PLAYNANO_050_PYTHON``) naming a python that has
   playnano 0.5.0, 0.5.0's ``process`` runs on the same input with the same steps,
   interleaved with ours, and the ratio is printed.
2. A child process reads and processes the bundle the same way, then times each
   format's export and, right after it, its limits over the same bytes on the same
   disk: ``ndarray.tofile``; the chosen deflate engine (:mod:`playnano.io.codec`) on
   all cores writing its output (zip blocks for npz, shuffled frame chunks for h5);
   a numpy colour table + Pillow GIF. Each timing starts after ``os.sync()`` and its
   files are deleted after it; the best of ``--limit-repeat`` runs (default 3)
   counts, as one write of 0.5 GB into the page cache varies several-fold with
   writeback.
3. The memory rule: peak RSS against 1.25 x (raw snapshot + processed layers + masks,
   each counted once) + 200 MB.

The machine is shared: only figures from one run are comparable.
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

SIZES = {"S": (100, 256), "M": (500, 512)}
STEPS = "remove_plane;mask_threshold:threshold=1.0"

DRIVER = r"""
import json, os, shutil, sys, time
from pathlib import Path
import numpy as np
from playnano.io import codec
from playnano.io.export_data import export_stack
from playnano.processing import parse_steps, run_pipeline, validate_steps
from playnano.readers import load

src, out, steps, threads, formats, repeat = sys.argv[1:7]
out, threads, formats, repeat = Path(out), int(threads) or None, formats.split(","), int(repeat)
stack = load(src)
run_pipeline(stack, validate_steps(parse_steps(steps)))
res = {"engine": codec.engine_name(), "threads": threads or codec.default_threads()}

def unique(arrays):
    seen, keep = set(), []
    for a in arrays:
        key = (a.__array_interface__["data"][0], a.shape, a.strides)
        if key not in seen:
            seen.add(key)
            keep.append(a)
    return keep

data = stack.data
members = [data, *stack.processed.values(), *stack.masks.values()]
# the memory rule: raw snapshot + processed layers + masks, each counted once
rule = unique([stack.export_source(raw=True)[0], *stack.processed.values(), *stack.masks.values()])
res["held_bytes"] = sum(a.nbytes for a in rule)

def tofile(arrays):
    with open(out / "raw.bin", "wb") as fh:
        for a in arrays:
            a.tofile(fh)

def zip_deflate(arrays, level):
    with open(out / "deflate.bin", "wb") as fh:
        for a in arrays:
            codec.deflate_stream(
                (np.ascontiguousarray(f).reshape(-1).view(np.uint8) for f in a),
                level, fh.write, threads)

def h5_chunks(arrays, level):
    with open(out / "chunks.bin", "wb") as fh:
        for a in arrays:
            for chunk in codec.ordered_map(lambda f: codec.h5_chunk(f, level), a, threads):
                fh.write(chunk)

def lut_gif():
    from PIL import Image
    from playnano.render import colormap_palette
    lut = colormap_palette("afmhot").reshape(-1).tolist()
    lo, hi = float(np.nanmin(data)), float(np.nanmax(data))
    scale = 255.0 / (hi - lo)
    frames = []
    for f in data:
        im = Image.fromarray(np.clip((f - lo) * scale, 0, 255).astype(np.uint8), "P")
        im.putpalette(lut)
        frames.append(im)
    frames[0].save(out / "lut.gif", save_all=True, append_images=frames[1:], duration=500, loop=0)

h5_arrays = unique(members)
jobs = {
    "tif": [("limit", lambda: tofile([data]))],
    "npz": [("limit", lambda: zip_deflate(members, 1)), ("raw", lambda: tofile(unique(members)))],
    "h5": [("limit", lambda: h5_chunks(h5_arrays, 4)), ("raw", lambda: tofile(h5_arrays))],
    "gif": [("limit", lut_gif)],
}

def clock(fn):
    os.sync()  # every run starts with no dirty pages of another
    t0 = time.perf_counter()
    fn()
    t = time.perf_counter() - t0
    for p in out.iterdir():
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    return t

with codec.using_threads(threads):
    for r in range(repeat):  # each format then its limits, back to back
        for name in formats:
            runs = [(name, lambda: export_stack(stack, out / f"fmt_{name}", name, threads=threads))]
            runs += [(f"{kind}_{name}", fn) for kind, fn in jobs.get(name, [])]
            for key, fn in runs:
                t = clock(fn)
                res[key] = min(t, res.get(key, t))
print(json.dumps(res))
"""


def run_child(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Run ``argv``; return (wall seconds, peak RSS bytes of the child)."""
    os.sync()  # start with no dirty pages left by the run before
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({proc.returncode}):\n{err[-2000:]}")
    return wall, usage.ru_maxrss * 1024  # kilobytes on Linux


def folder_sizes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file()}


def make_input(path: Path, frames: int, px: int) -> None:
    import numpy as np

    from playnano.afm_stack import AFMImageStack
    from playnano.io.export_data import export_stack
    from playnano.synthetic import synthetic_hsafm

    syn = synthetic_hsafm(n_frames=frames, size_px=px)
    stack = AFMImageStack(
        syn.data.astype(np.float32),
        syn.pixel_size_nm,
        syn.channel,
        None,
        syn.frame_metadata,
    )
    export_stack(stack, path, "h5")


def old_argv(old_python: str, bundle: Path, out: Path, formats: list[str]) -> list[str]:
    lossless = ",".join(f for f in formats if f != "gif")
    argv = [old_python, "-c", "from playnano.cli.entrypoint import main; main()"]
    argv += ["process", str(bundle), "--processing", STEPS, "--output-folder", str(out)]
    argv += ["--export", lossless] if lossless else []
    return argv + (["--make-gif"] if "gif" in formats else [])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="S")
    ap.add_argument("--frames", type=int, default=None)
    ap.add_argument("--px", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=1, help="end-to-end runs")
    ap.add_argument(
        "--limit-repeat",
        type=int,
        default=3,
        help="runs of each format and its limits (best counts; page-cache writeback "
        "makes single writes of 0.5 GB vary 2-10x on a shared disk)",
    )
    ap.add_argument("--threads", type=int, default=0, help="0: all cores")
    ap.add_argument("--formats", default="tif,npz,h5,gif")
    ap.add_argument(
        "--old-python", default=os.environ.get("PLAYNANO_050_PYTHON") or None
    )
    args = ap.parse_args()
    frames, px = SIZES[args.size]
    frames, px = args.frames or frames, args.px or px
    formats = args.formats.split(",")
    gb = frames * px * px * 4 / 1e9
    print(f"input: {frames} x {px} x {px} float32 ({gb:.2f} GB), steps {STEPS!r}")
    with tempfile.TemporaryDirectory(prefix="playnano-bench-") as tmp:
        root = Path(tmp)
        bundle = root / "input.h5"
        make_input(bundle, frames, px)
        ours_argv = [sys.executable, "-m", "playnano", "process", str(bundle)]
        ours_argv += ["-p", STEPS, "--export", ",".join(formats), "-q", "--overwrite"]
        if args.threads:
            ours_argv += ["--threads", str(args.threads)]
        runs: dict[str, list[tuple[float, int]]] = {"ours": [], "0.5.0": []}
        sizes: dict[str, dict[str, int]] = {}
        for r in range(args.repeat):
            out = root / f"ours{r}"
            runs["ours"].append(run_child([*ours_argv, "-o", str(out)]))
            sizes.setdefault("ours", folder_sizes(out))
            shutil.rmtree(out)
            if args.old_python:
                old_out = root / f"old{r}"
                runs["0.5.0"].append(
                    run_child(old_argv(args.old_python, bundle, old_out, formats))
                )
                sizes.setdefault("0.5.0", folder_sizes(old_out))
                shutil.rmtree(old_out)
        print(f"\n`playnano process` ({args.repeat} run(s), median):")
        table = {k: v for k, v in runs.items() if v}
        for who, rs in table.items():
            wall = statistics.median(w for w, _ in rs)
            rss = max(m for _, m in rs)
            print(f"  {who:<6} wall {wall:8.2f} s   peak RSS {rss / 1e9:6.2f} GB")
        if len(table) == 2:
            ratio = statistics.median(o for o, _ in runs["0.5.0"]) / statistics.median(
                w for w, _ in runs["ours"]
            )
            print(f"  ours is {ratio:.1f}x faster than playnano 0.5.0")
        print("\noutput sizes (MB):")
        for who, files in sizes.items():
            listing = ", ".join(f"{k} {v / 1e6:.1f}" for k, v in files.items())
            print(f"  {who:<6} {listing}")

        work = root / "formats"
        work.mkdir()
        res = json.loads(
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    DRIVER,
                    str(bundle),
                    str(work),
                    STEPS,
                    str(args.threads),
                    ",".join(formats),
                    str(args.limit_repeat),
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.splitlines()[-1]
        )
        print(
            f"\neach format against its limit (same bytes, same disk, {res['engine']} "
            f"on {res['threads']} thread(s), best of {args.limit_repeat}):"
        )
        for name in formats:
            t = res[name]
            limit = res.get(f"limit_{name}")
            raw = res.get(f"raw_{name}")
            line = f"  {name:<4} {t:7.2f} s"
            if limit:
                what = {"tif": "tofile", "gif": "LUT+Pillow"}.get(name, "deflate+write")
                line += f"   limit ({what}) {limit:7.2f} s   {t / limit:5.2f}x"
            if raw:
                line += f"   tofile {raw:6.2f} s"
            print(line)
        held = res["held_bytes"]
        bound = 1.25 * held + 200e6
        rss = max(m for _, m in runs["ours"])
        verdict = "meets" if rss <= bound else "EXCEEDS"
        print(
            f"\nmemory: held arrays {held / 1e9:.2f} GB, rule 1.25x + 200 MB = "
            f"{bound / 1e9:.2f} GB, peak RSS {rss / 1e9:.2f} GB ({verdict} the rule)"
        )


if __name__ == "__main__":
    main()
