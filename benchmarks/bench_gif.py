"""Seconds per frame of the GIF exporter against a naive matplotlib-per-frame render.

Usage::

    python benchmarks/bench_gif.py [--frames 200] [--size 256] [--repeat 3]

Both write the same annotated animation (afmhot, one z scale for the stack, a 100 nm
scale bar, a timestamp per frame) of a synthetic ``--frames`` x ``--size`` x
``--size`` stack:

- ``playnano gif``: the builtin exporter (numpy colour table, frames streamed);
- ``matplotlib per frame``: a figure per frame (imshow, Rectangle, text), drawn with
  Agg, kept as RGB and saved with ``Image.save(save_all=True)`` -- the usual way.

With ``PLAYNANO_050_PYTHON`` set to a python that has playnano 0.5.0, its
``export_gif`` is timed on the same stack too (it enlarges frames to 512 px with
OpenCV, so it does more work per frame than ours at 256 px). The machine is shared and noisy: only
figures from one run are comparable.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from playnano.io.export_data import export_stack
from playnano.synthetic import synthetic_hsafm

OLD_DRIVER = """
import sys, time, logging, numpy as np
from pathlib import Path
from playnano.afm_stack import AFMImageStack
from playnano.io.gif_export import export_gif
logging.disable(logging.WARNING)
data = np.load(sys.argv[1]); out = Path(sys.argv[2]); repeat = int(sys.argv[3])
meta = [{"timestamp": 0.5 * i, "frame_pixel_size_nm": 1.0} for i in range(len(data))]
times = []
for r in range(repeat):
    stack = AFMImageStack(data, 1.0, "height_trace", out / f"old{r}", meta)
    t0 = time.perf_counter()
    export_gif(stack, True, str(out), f"old{r}", 100, zmin=None, zmax=None)
    times.append(time.perf_counter() - t0)
print(sorted(times)[len(times) // 2])
"""


def _median_time(fn: Callable[[int], object], repeat: int) -> float:
    times = []
    for r in range(repeat):
        t0 = time.perf_counter()
        fn(r)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def naive_matplotlib_gif(
    data: np.ndarray, times: list, px_nm: float, path: Path
) -> None:
    """One matplotlib figure per frame, rasterised, then Pillow's save_all."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    from PIL import Image

    lo, hi = float(np.nanmin(data)), float(np.nanmax(data))
    h, w = data.shape[1:]
    images = []
    for frame, t in zip(data, times, strict=True):
        fig = plt.figure(figsize=(w / 100, h / 100), dpi=100)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.imshow(frame, cmap="afmhot", vmin=lo, vmax=hi, interpolation="nearest")
        ax.add_patch(Rectangle((8, h - 12), 100 / px_nm, 4, color="white"))
        ax.text(8, 14, f"{t:.2f} s", color="white")
        ax.set_axis_off()
        fig.canvas.draw()
        rgba = np.asarray(fig.canvas.buffer_rgba())
        images.append(Image.fromarray(rgba[..., :3].copy()))
        plt.close(fig)
    images[0].save(path, save_all=True, append_images=images[1:], duration=500, loop=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    stack = synthetic_hsafm(n_frames=args.frames, size_px=args.size)
    data, n = stack.data, stack.n_frames
    print(
        f"stack: {n} frames of {args.size}x{args.size} {data.dtype}, "
        f"{stack.pixel_size_nm:g} nm/px; median of {args.repeat} runs"
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        results: dict[str, float] = {}
        results["playnano gif"] = _median_time(
            lambda r: export_stack(stack, out / f"ours{r}.gif", "gif"), args.repeat
        )
        results["matplotlib per frame"] = _median_time(
            lambda r: naive_matplotlib_gif(
                data, stack.get_frame_times(), stack.pixel_size_nm, out / f"mpl{r}.gif"
            ),
            args.repeat,
        )
        old_python = os.environ.get("PLAYNANO_050_PYTHON")
        if old_python:
            np.save(out / "data.npy", data)
            res = subprocess.run(
                [
                    old_python,
                    "-c",
                    OLD_DRIVER,
                    str(out / "data.npy"),
                    tmp,
                    str(args.repeat),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            results["playnano 0.5.0 export_gif"] = float(
                res.stdout.strip().splitlines()[-1]
            )
        ours = results["playnano gif"]
        for name, seconds in results.items():
            print(
                f"{name:28s} {seconds / n * 1e3:8.2f} ms/frame  "
                f"{seconds:7.2f} s total  {seconds / ours:6.1f}x"
            )


if __name__ == "__main__":
    main()
