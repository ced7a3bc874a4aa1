"""Export speed and peak memory of each installed format against the raw-write limit.

Usage::

    python benchmarks/bench_export.py [--frames 200] [--size 256] [--repeat 3]

For each format it reports the median wall time over ``--repeat`` runs, the ratio to
writing the same bytes with ``ndarray.tofile`` (the raw-write limit of this disk), and
the peak extra memory (tracemalloc) as a multiple of the stack's size. With
``PLAYNANO_050_PYTHON`` set to a python that has playnano 0.5.0, the same stack is
exported by 0.5.0's ``save_*`` functions for comparison. Figures from one run only are
comparable: this machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from playnano.io.export_data import export_stack
from playnano.plugins.registry import exporters
from playnano.synthetic import synthetic_hsafm

OLD_DRIVER = """
import sys, time, json, numpy as np
from pathlib import Path
from playnano.afm_stack import AFMImageStack
from playnano.io.export_data import save_npz_bundle, save_h5_bundle, save_ome_tiff_stack
data = np.load(sys.argv[1]); out = Path(sys.argv[2]); repeat = int(sys.argv[3])
meta = [{"timestamp": 0.5 * i, "frame_pixel_size_nm": 1.0} for i in range(len(data))]
res = {}
for name, fn, suf in [("npz", save_npz_bundle, ".npz"), ("h5", save_h5_bundle, ".h5"), ("tif", save_ome_tiff_stack, ".ome.tif")]:
    times = []
    for r in range(repeat):
        stack = AFMImageStack(data, 1.0, "height_trace", out / "in", meta)
        t0 = time.perf_counter(); fn(out / f"old{r}{suf}", stack); times.append(time.perf_counter() - t0)
    res[name] = sorted(times)[len(times) // 2]
print(json.dumps(res))
"""


def _time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--formats", nargs="*", default=None)
    args = ap.parse_args()
    stack = synthetic_hsafm(n_frames=args.frames, size_px=args.size)
    nbytes = stack.data.nbytes
    print(f"stack: {stack.data.shape} {stack.data.dtype} = {nbytes / 2**20:.1f} MiB")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        counter = iter(range(10**6))
        limit = _time(
            lambda: stack.data.tofile(out / f"raw{next(counter)}.bin"), args.repeat
        )
        print(f"{'raw tofile':<10} {limit:8.3f} s   1.00x limit")
        names = args.formats or [
            e.name for e in exporters().entries() if e.status() == "ok"
        ]
        ours: dict[str, float] = {}
        for name in names:
            suffix = exporters().resolve(name).obj.suffix

            def write(name: str = name, suffix: str = suffix) -> None:
                export_stack(stack, out / f"x{next(counter)}{suffix}", name)

            t = _time(write, args.repeat)
            tracemalloc.start()
            write()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            ours[name] = t
            print(
                f"{name:<10} {t:8.3f} s {t / limit:6.2f}x limit   peak +{peak / nbytes:.2f}x stack"
            )
        old_py = os.environ.get("PLAYNANO_050_PYTHON")
        if old_py:
            np.save(out / "data.npy", stack.data)
            res = subprocess.run(
                [
                    old_py,
                    "-c",
                    OLD_DRIVER,
                    str(out / "data.npy"),
                    str(out),
                    str(args.repeat),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            old = json.loads(res.stdout.strip().splitlines()[-1])
            for name, t_old in old.items():
                if name in ours:
                    print(
                        f"0.5.0 {name:<4} {t_old:8.3f} s   ours/0.5.0 = {ours[name] / t_old:.2f}"
                    )


if __name__ == "__main__":
    sys.exit(main())
