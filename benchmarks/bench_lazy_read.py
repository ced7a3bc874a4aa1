"""Lazy readers: time and peak memory of reading a generated bundle whole (read())
against walking it in blocks (read_lazy()), each in a fresh child process.

    python benchmarks/bench_lazy_read.py [--frames 200] [--side 512] [--block 8]

Reports, per format, the wall time and the child's peak RSS growth over its
imports (VmHWM) for both paths, and the ratios measured in this run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

from playnano.afm_stack import AFMImageStack
from playnano.io.export_data import export_stack

CHILD = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path

    from playnano.lazy import peak_rss

    def peak_mb():
        return peak_rss() / 2**20

    import numpy, tifffile, h5py
    from playnano.lazy import LazyFrames
    from playnano.readers import reader_for

    path, mode, block = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    reader = reader_for(path).obj
    reader.read_lazy(path).data.close()  # the reader's own imports
    base, t0 = peak_mb(), time.perf_counter()
    total = 0.0
    if mode == "read":
        total = float(reader.read(path).data.sum(dtype=numpy.float64))
    else:
        stack = reader.read_lazy(path)
        for _, frames in LazyFrames(stack.data.source, block=block).blocks():
            total += float(frames.sum(dtype=numpy.float64))
        stack.data.close()
    seconds = time.perf_counter() - t0
    print(json.dumps({"s": seconds, "growth": peak_mb() - base, "sum": total}))
    """
)


def measure(path: Path, mode: str, block: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), mode, str(block)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--side", type=int, default=512)
    parser.add_argument("--block", type=int, default=8, help="frames per block")
    args = parser.parse_args()
    ramp = (np.arange(args.side**2, dtype=np.float32) % 251).reshape(
        args.side, args.side
    )
    data = np.stack([ramp * (1 + i % 7) + i for i in range(args.frames)])
    meta = [{"timestamp": 0.1 * i} for i in range(args.frames)]
    stack = AFMImageStack(data, 1.0, "height", None, meta)
    size_mb = data.nbytes / 2**20
    block_mb = size_mb * args.block / args.frames
    print(f"{args.frames} frames of {args.side}², float32: {size_mb:.0f} MiB; "
          f"blocks of {args.block} frames ({block_mb:.1f} MiB)")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for name, options in (
            ("stored.npz", {"compress_level": 0}),
            ("deflated.npz", {"compress_level": 1}),
            ("stack.ome.tif", {}),
        ):
            [path] = export_stack(stack, Path(tmp) / name, options=options)
            full = measure(path, "read", args.block)
            lazy = measure(path, "lazy", args.block)
            assert lazy["sum"] == full["sum"] or np.isclose(lazy["sum"], full["sum"])
            print(
                f"{name:14s} read(): {full['s']:6.2f} s, +{full['growth']:6.1f} MB | "
                f"read_lazy() in blocks: {lazy['s']:6.2f} s, "
                f"+{lazy['growth']:6.1f} MB | time x{lazy['s'] / full['s']:.2f}, "
                f"memory x{lazy['growth'] / max(full['growth'], 1e-9):.3f}"
            )


if __name__ == "__main__":
    main()
