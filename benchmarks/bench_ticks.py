"""Cost of the batch bar's frame ticks: ``process``'s path with and without a sink.

Usage::

    python benchmarks/bench_ticks.py [--frames 500] [--size 128] [--repeat 5]

Writes a synthetic HDF5 bundle once, then converts it (a plan carried out by the
executor: ``-p remove_plane --export h5 tif gif``) in this process,
alternately with no sink installed (``playnano process``) and with a batch
task's :class:`~playnano.progress_ticks.StageTicker` receiving every tick and
stage event, and prints the best and median seconds of each and their ratio;
then the cost of one :func:`~playnano.progress_ticks.frames_done` call.
Small frames make the per-frame cost of a tick as large a share as it gets.
The machine is shared and noisy: compare only figures from one run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import timeit
from pathlib import Path

from playnano.io.export_data import save_h5_bundle
from playnano.progress_ticks import WRITE, StageTicker, frames_done, ticking
from playnano.run import RunSettings, execute, plan_run
from playnano.synthetic import synthetic_hsafm

SETTINGS = RunSettings(
    formats=("h5", "tif", "gif"), steps=(("remove_plane", {}),), overwrite=True
)


def convert(src: Path, out: Path, with_sink: bool) -> float:
    """Seconds of one conversion of ``src`` into ``out``."""
    n_steps = len(SETTINGS.steps)
    sent: list[tuple[int, int]] = []
    start = time.perf_counter()
    plan = plan_run(SETTINGS, out, source=src, base="v")
    if not with_sink:
        execute(plan)
    else:
        ticker = StageTicker(
            lambda d, t: sent.append((d, t)),
            1 + n_steps + len(SETTINGS.formats),
            n_steps,
            plan.header.frames if plan.header else None,
        )
        with ticking(ticker.tick):
            execute(plan, progress=lambda d, t, _: ticker.stage(d, t))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.h5"
        save_h5_bundle(src, synthetic_hsafm(n_frames=args.frames, size_px=args.size))
        off: list[float] = []
        on: list[float] = []
        convert(src, Path(tmp), False)  # warm up (imports, caches)
        for _ in range(args.repeat):
            off.append(convert(src, Path(tmp), False))
            on.append(convert(src, Path(tmp), True))
    print(f"{args.frames} frames of {args.size}x{args.size}, {args.repeat} repeats")
    for name, t in (("no sink", off), ("sink", on)):
        print(f"  {name:8s} best {min(t):.3f} s  median {statistics.median(t):.3f} s")
    print(f"  sink / no sink: best {min(on) / min(off):.3f}, "
          f"median {statistics.median(on) / statistics.median(off):.3f}")  # fmt: skip

    calls = 200_000
    bare = timeit.timeit(lambda: frames_done(1), number=calls) / calls
    ticker = StageTicker(lambda d, t: None, 5, 1, args.frames)
    ticker.stage(3, 5)  # writing formats: the most work a tick does
    with ticking(ticker.tick):
        sunk = timeit.timeit(lambda: frames_done(1, WRITE), number=calls) / calls
    print(f"  one tick: {bare * 1e9:.0f} ns without a sink, {sunk * 1e9:.0f} ns with")


if __name__ == "__main__":
    main()
