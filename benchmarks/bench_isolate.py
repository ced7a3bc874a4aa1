"""What ``batch --timeout`` costs an input on the serial path: a child process vs none.

Usage::

    python benchmarks/bench_isolate.py [--rounds 7]

With a time limit the serial batch runs its inputs in a child process it can stop
(:class:`playnano.batch.isolate.IsolatedRunner`); without one, in this process. This
runs the same inputs both ways, alternating, and prints the median seconds per input
and their ratio, for tiny synthetic bundles (where any overhead shows) and for the
real ``asd_sample_0.asd`` (``$PLAYNANO_TEST_DATA/afm``, ``../shared/data/afm`` by
default). Also the first input's extra cost (starting the child) and the cost of
replacing a child after a timeout. Only figures from one run are comparable.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from playnano.batch.isolate import IsolatedRunner
from playnano.io.export_data import save_npz_bundle
from playnano.run import RunSettings, run_one
from playnano.synthetic import synthetic_hsafm


def per_input(inputs: list[str], out: Path, settings: RunSettings, runner) -> float:
    start = time.perf_counter()
    for path in inputs:
        record = (
            run_one(path, str(out), settings)
            if runner is None
            else runner.run(path, str(out), settings, None, 3600)
        )
        assert record["status"] == "ok", record
    return (time.perf_counter() - start) / len(inputs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_isolate_"))
    tiny = []
    for i in range(20):
        path = tmp / f"v{i}.npz"
        save_npz_bundle(path, synthetic_hsafm(n_frames=5, size_px=48, seed=i))
        tiny.append(str(path))
    root = Path(
        os.environ.get(
            "PLAYNANO_TEST_DATA", Path(__file__).parents[1] / ".." / "shared" / "data"
        )
    )
    cases = {"20 tiny bundles (5 x 48 x 48) -> npz": (tiny, ("npz",))}
    asd = root / "afm" / "asd" / "asd_sample_0.asd"
    if asd.is_file():
        cases["asd_sample_0.asd x 5 -> h5 tif"] = ([str(asd)] * 5, ("h5", "tif"))
    runner = IsolatedRunner()
    for label, (inputs, formats) in cases.items():
        settings = RunSettings(
            formats=formats, steps=(("remove_plane", {}),), overwrite=True
        )
        settings.check()
        here, there = [], []
        for _ in range(args.rounds):  # alternate: the machine's noise hits both
            here.append(per_input(inputs, tmp / "here", settings, None))
            there.append(per_input(inputs, tmp / "child", settings, runner))
        a, b = statistics.median(here), statistics.median(there)
        print(
            f"{label}: in process {a * 1000:.1f} ms/input, in a child "
            f"{b * 1000:.1f} ms/input (x{b / a:.2f}, {1000 * (b - a):+.1f} ms)"
        )
    runner.close()
    starts = []
    for _ in range(args.rounds):
        fresh = IsolatedRunner()
        t = time.perf_counter()
        fresh.run(tiny[0], str(tmp / "child"), settings, None, 3600)
        starts.append(time.perf_counter() - t)
        fresh.close()
    print(
        f"first input with a new child (start + run): "
        f"{statistics.median(starts) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
