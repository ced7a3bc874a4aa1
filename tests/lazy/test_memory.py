"""Peak memory of the block path is bounded by the block size, not the stack.

A behaviour check in child processes (their peak RSS, ``VmHWM``, which unlike a
forked child's ``ru_maxrss`` does not start from the parent's size), not a timing.
The children shrink the levelling filters' batch (``BATCH_BYTES``) to 2 MB so that a
block, which holds whole batches, is a few MB and the stack many blocks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.lazy.conftest import write_bundle

BATCH_BYTES = 2 << 20
DRIVER = f"""
import atexit, sys
import playnano.processing.apply as p
p.BATCH_BYTES = {BATCH_BYTES}

from playnano.lazy import peak_rss

def hwm():
    with open(sys.argv.pop(1), "w") as out:
        out.write(str(peak_rss()))

atexit.register(hwm)
from playnano.cli import cli
cli.main(sys.argv[2:], standalone_mode=False)
"""


def peak_rss(tmp: Path, bundle: Path, *mode: str) -> int:
    """Peak RSS (bytes) of ``playnano process BUNDLE -p remove_plane -e h5 tif``."""
    out = tmp / f"out{len(list(tmp.iterdir()))}"
    hwm = tmp / f"{out.name}.hwm"
    cmd = [sys.executable, "-c", DRIVER, str(hwm), "process", str(bundle)]
    cmd += ["-p", "remove_plane"]
    cmd += ["--export", "h5", "tif", "-o", str(out), "-q", *mode]
    log = tmp / f"{out.name}.err"
    with open(log, "wb") as fh:
        code = subprocess.run(cmd, stderr=fh, check=False).returncode
    assert code == 0, log.read_text()
    assert (out / f"{bundle.stem}_filtered.h5").is_file()
    assert (out / f"{bundle.stem}_filtered.ome.tif").is_file()
    return int(hwm.read_text())


@pytest.mark.skipif(
    not Path("/proc/self/status").is_file(), reason="needs /proc (Linux) for VmHWM"
)
def test_block_path_peak_rss_follows_the_block_not_the_stack(tmp_path):
    # 1200 frames of 128x128 float64: 150 MiB of frames, a block of 16 frames 2 MiB
    big = write_bundle(tmp_path / "big.h5", 1200, 128, 128, level=1)
    small = write_bundle(tmp_path / "small.h5", 20, 128, 128, level=1)
    stack_bytes = 1200 * 128 * 128 * 8
    runs = tmp_path / "runs"
    runs.mkdir()
    base = peak_rss(runs, small, "--blocks", "--block-frames", "16")
    blocks = peak_rss(runs, big, "--blocks", "--block-frames", "16")
    in_memory = peak_rss(runs, big, "--in-memory")
    # in memory: the raw data and the levelled layer are both held
    print(base, blocks, in_memory, stack_bytes)
    assert in_memory > base + 1.5 * stack_bytes
    # blocks: a few blocks (input, result, the filter's work) over the small run
    assert blocks < base + 0.25 * stack_bytes, (base, blocks, stack_bytes)


@pytest.mark.skipif(
    not Path("/proc/self/status").is_file(), reason="needs /proc (Linux) for VmHWM"
)
def test_peak_rss_is_the_child_own_peak_and_grows_with_touched_memory() -> None:
    """``playnano.lazy.peak_rss`` in a fresh interpreter: not the parent's peak."""
    import resource

    code = (
        "import json, numpy\n"
        "from playnano.lazy import peak_rss\n"
        "before = peak_rss()\n"
        "a = numpy.ones(200 * 2**20 // 8)\n"  # 200 MiB, every page touched
        "print(json.dumps([before, peak_rss()]))\n"
    )
    ballast = np.ones(300 * 2**20 // 8)  # this process's peak: above the child's start
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    before, after = json.loads(out)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert ballast.sum() > 0 and own > 300 * 2**20
    assert 0 < before < own - 150 * 2**20  # not inherited from this process
    assert after - before >= 190 * 2**20
