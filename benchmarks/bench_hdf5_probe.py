"""What the HDF5 metadata walk costs per file: every HDF5 door walks the file's
metadata in another process before it opens it (playnano.readers.guarded.hdf5_probe).

For the real ``.h5-jpk`` file (when ``$PLAYNANO_TEST_DATA`` has it), a generated
``.h5-jpk`` of 2000 frames (9 channels of 32x32, one chunk per frame: 18 000
chunks), and an HDF5 bundle of 200 frames with layers and masks, it times, each the
median of several runs in this process:

- the walk alone, in this process (what the walker does);
- the probe in a forked walker (a process with one thread: the command line);
- the probe through the helper process (a process with other threads running),
  and the helper's start once;
- ``playnano.info.inspect`` and ``playnano.load`` with the probe, and with it
  replaced by nothing, so the ratio is the price a user pays.

Run: ``python benchmarks/bench_hdf5_probe.py`` (``nox -s bench`` runs it too).
Figures are ratios within one run; this machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np


def _median_s(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _h5jpk(path: Path, frames: int) -> Path:
    import h5py

    with h5py.File(path, "w") as f:
        m = f.create_group("Measurement_000")
        m.attrs.update(
            {
                "position-pattern.grid.ilength": 32,
                "position-pattern.grid.jlength": 32,
                "position-pattern.grid.ulength": 1.5e-7,
                "timing-settings.scanRate": 500.0,
            }
        )
        for attr in range(300):  # a real file's measurement has ~360 attributes
            m.attrs[f"setting.{attr}"] = np.bytes_(f"value {attr}")
        rng = np.random.default_rng(0)
        for c, name in enumerate(["height"] * 3 + ["error"] * 3 + ["phase"] * 3):
            g = m.create_group(f"Channel_{c:03d}")
            g.attrs.update({"channel.name": name.encode(), "retrace": c % 2 == 1})
            for attr in range(50):
                g.attrs[f"net-encoder.setting.{attr}"] = float(attr)
            g.create_dataset(
                name.capitalize(),
                data=rng.integers(0, 2**16, (1024, frames), np.int32),
                chunks=(1024, 1),
                compression="gzip",
                compression_opts=1,
            )
    return path


def _bundle(path: Path, frames: int) -> Path:
    from playnano.io.export_data import export_stack
    from playnano.testing import make_sample_stack

    stack = make_sample_stack(frames, (128, 128))
    return export_stack(stack, path, "h5")[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    import playnano.info
    from playnano.readers import load
    from playnano.readers.guarded import hdf5_probe

    work = Path(tempfile.mkdtemp(prefix="playnano-bench-probe-"))
    files = {
        "generated .h5-jpk, 2000 frames": _h5jpk(work / "big.h5-jpk", 2000),
        "HDF5 bundle, 200 frames": _bundle(work / "bundle", 200),
    }
    data = Path(os.environ.get("PLAYNANO_TEST_DATA", "../shared/data")) / "afm"
    real = data / "h5-jpk" / "sample_0.h5-jpk"
    if real.is_file():
        files = {"real .h5-jpk (2.2 MB)": real, **files}

    def forget() -> None:
        hdf5_probe._verdicts.clear()

    def fresh_probe(path: Path) -> Callable[[], object]:
        return lambda: (forget(), hdf5_probe.probe(path))

    print(f"{'file':34} {'size':>9} {'walk':>8} {'forked':>8} {'helper':>8}")
    for label, path in files.items():
        size = path.stat().st_size / 2**20
        walk = _median_s(lambda p=path: hdf5_probe.walk(str(p)), args.runs)
        forked = _median_s(fresh_probe(path), args.runs)
        stop = threading.Event()
        other = threading.Thread(target=stop.wait)  # a second thread: the helper
        other.start()
        try:
            start = time.perf_counter()
            fresh_probe(path)()
            first = time.perf_counter() - start
            helper = _median_s(fresh_probe(path), args.runs)
        finally:
            stop.set()
            other.join()
        print(
            f"{label:34} {size:7.1f}MB {walk * 1e3:6.0f}ms {forked * 1e3:6.0f}ms "
            f"{helper * 1e3:6.0f}ms  (helper's first call {first * 1e3:.0f} ms)"
        )

    print(f"\n{'door, with / without the probe':44} {'with':>8} {'without':>8} ratio")
    for label, path in files.items():
        for door, fn in (
            ("inspect", lambda p=path: playnano.info.inspect(p)),
            ("load", lambda p=path: load(p)),
        ):
            with_probe = _median_s(lambda fn=fn: (forget(), fn()), args.runs)
            probe = hdf5_probe.probe  # open_hdf5 looks it up at each call
            hdf5_probe.probe = lambda *a, **k: None  # type: ignore[assignment]
            try:
                without = _median_s(fn, args.runs)
            finally:
                hdf5_probe.probe = probe  # type: ignore[assignment]
            name = f"{door} {label}"
            print(
                f"{name:44} {with_probe * 1e3:6.0f}ms {without * 1e3:6.0f}ms "
                f"{with_probe / without:5.2f}"
            )


if __name__ == "__main__":
    main()
