"""Reading a ~200 MB bundle lazily, block by block, keeps a child's peak RSS far
below the data's size, and every frame still comes back right.

The child reports its own peak (``VmHWM``) after its imports and after walking the
frames in blocks of 8 MiB; the parent checks the per-frame sums against the array it
wrote. (How fast is measured in benchmarks, not here.)
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from playnano.afm_stack import AFMImageStack
from playnano.io.export_data import export_stack

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path("/proc/self/status").exists(),
        reason="a child's peak memory is read from /proc/self/status (Linux only)",
    ),
]

FRAMES, SIDE = 200, 512  # float32: 200 MiB
BLOCK_FRAMES = 8  # 8 MiB a block

_CHILD = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path

    from playnano.lazy import peak_rss

    def peak_mb():
        return peak_rss() / 2**20

    import numpy, tifffile, h5py
    from playnano.lazy import LazyFrames
    from playnano.readers import reader_for

    path = Path(sys.argv[1])
    reader = reader_for(path).obj
    reader.read_lazy(path).data.close()  # imports whatever the reader imports
    base = peak_mb()
    stack = reader.read_lazy(path)
    frames = LazyFrames(stack.data.source, block=int(sys.argv[2]))
    sums = []
    for _, block in frames.blocks():
        sums.extend(float(f.sum(dtype=numpy.float64)) for f in block)
    stack.close()
    print("RESULT " + json.dumps({"base": base, "peak": peak_mb(), "sums": sums}))
    """
)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, Path]:
    """A 200-frame 512x512 float32 stack (200 MiB) and the folder to write it to."""
    ramp = (np.arange(SIDE * SIDE, dtype=np.float32) % 251).reshape(SIDE, SIDE)
    data = np.empty((FRAMES, SIDE, SIDE), np.float32)
    for i in range(FRAMES):
        data[i] = ramp * (1 + i % 7) + i
    return data, tmp_path_factory.mktemp("big")


@pytest.mark.parametrize(
    ("name", "options"),
    [("stored.npz", {"compress_level": 0}), ("deflated.npz", {"compress_level": 1}),
     ("big.ome.tif", {})],
)  # fmt: skip
def test_peak_rss_is_bounded_by_the_block(
    big: tuple[np.ndarray, Path], name: str, options: dict[str, int]
) -> None:
    data, folder = big
    meta = [{"timestamp": 0.1 * i} for i in range(FRAMES)]
    stack = AFMImageStack(data, 1.0, "height", None, meta)
    [path] = export_stack(stack, folder / name, options=options, overwrite=True)
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", _CHILD, str(path), str(BLOCK_FRAMES)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-2000:]
    result = json.loads(lines[0][len("RESULT ") :])
    want = [float(f.sum(dtype=np.float64)) for f in data]
    assert result["sums"] == want
    data_mb = data.nbytes / 2**20
    growth = result["peak"] - result["base"]
    # a block is 8 MiB; a few of them (read buffer, inflate window) may be alive
    assert growth < 48, (growth, data_mb)
    assert growth < data_mb / 4
