"""Deflate engines on AFM data: stdlib zlib, zlib-ng and python-isal, speed and size.

Usage::

    python benchmarks/bench_engines.py [--frames 60] [--size 256]

Compresses every frame (float32, as HDF5 chunks: with and without the shuffle
filter) of a synthetic HS-AFM stack and of the real files in
``$PLAYNANO_TEST_DATA/afm`` (``../shared/data/afm`` by default), one thread, and
prints MB/s and compressed/raw size per engine and level. Engines that are not
installed (``pip install isal zlib-ng``) are skipped. This is how
:mod:`playnano.io.codec` chose isal; only figures from one run are comparable.
"""

from __future__ import annotations

import argparse
import importlib
import os
import time
import zlib
from pathlib import Path

import numpy as np

from playnano.io.codec import shuffle
from playnano.synthetic import synthetic_hsafm

ENGINES = [
    ("zlib", "zlib", (1, 4, 6)),
    ("zlib-ng", "zlib_ng.zlib_ng", (1, 4, 6)),
    ("isal", "isal.isal_zlib", (0, 1, 2)),
]
REAL = ["asd/asd_sample_0.asd", "jpk_folder/streptavidin_hs", "h5-jpk/sample_0.h5-jpk"]


def stacks(frames: int, size: int) -> dict[str, np.ndarray]:
    out = {"synthetic": synthetic_hsafm(n_frames=frames, size_px=size).data}
    root = Path(
        os.environ.get(
            "PLAYNANO_TEST_DATA", Path(__file__).parents[1] / ".." / "shared" / "data"
        )
    )
    import playnano

    for rel in REAL:
        if (root / "afm" / rel).exists():
            out[rel.split("/")[0]] = playnano.load(root / "afm" / rel).data
    return {k: v.astype(np.float32) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--size", type=int, default=256)
    args = ap.parse_args()
    engines = []
    for label, module, levels in ENGINES:
        try:
            engines.append((label, importlib.import_module(module), levels))
        except ImportError:
            print(f"{label}: not installed, skipped")
    print(f"{'data':<10} {'shuffle':<7} {'engine':<8} level    MB/s   size/raw")
    for name, data in stacks(args.frames, args.size).items():
        for shuffled in (False, True):
            frames = [shuffle(f).tobytes() if shuffled else f.tobytes() for f in data]
            raw = sum(map(len, frames))
            for label, mod, levels in engines:
                for level in levels:
                    t0 = time.perf_counter()
                    out = [mod.compress(f, level) for f in frames]
                    dt = time.perf_counter() - t0
                    assert zlib.decompress(out[0]) == frames[0]  # a standard stream
                    size = sum(map(len, out)) / raw
                    print(
                        f"{name:<10} {shuffled!s:<7} {label:<8} {level:>5} "
                        f"{raw / dt / 1e6:7.0f} {size:9.3f}"
                    )


if __name__ == "__main__":
    main()
