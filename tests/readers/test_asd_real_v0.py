"""Real version-0 (and one version-1) ``.asd`` files from AFMReader 0.0.7's sdist.

The files are fetched at test time (see ``tests/afmreader_files.py``). These tests
need no AFMReader: every frame of an ``.asd`` file starts with a 32-byte frame
header holding the frame number and the minimum and maximum level of that frame,
and the frames end exactly at the end of the file. So the frames' true positions
are known from the file size alone, and each frame the reader returns must be
exactly those levels, converted. The frame-for-frame comparison with AFMReader
itself is in ``tests/compat/test_afmreader_asd.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from playnano.readers import load
from tests.afmreader_files import FILES, asd_files

FRAME_HEADER = [("number", "<i4"), ("max", "<i2"), ("min", "<i2"), ("_", "V24")]


def _frames_from_the_end(path, n, ny, nx, channels=2):
    """(frame headers, levels) of channel 1, located back from the end of file."""
    block = np.dtype([*FRAME_HEADER, ("z", "<i2", (ny, nx))])
    start = path.stat().st_size - channels * n * block.itemsize
    blocks = np.fromfile(path, dtype=block, count=n, offset=start)
    return blocks, blocks["z"]


@pytest.fixture(scope="module")
def resources():
    return asd_files()


@pytest.mark.parametrize("name", sorted(FILES))
def test_real_asd_frames_are_the_stored_frames(resources, name):
    version, n = FILES[name]
    path = resources / name
    stack = load(path)
    _, ny, nx = stack.data.shape
    assert stack.data.shape[0] == n
    assert stack.provenance["source"]["acquisition"]["asd_file_version"] == version
    headers, levels = _frames_from_the_end(path, n, ny, nx)
    # the located blocks really are frames 1..n; in the v0 files each frame header
    # also holds that frame's exact min and max level (the v1 file's are not exact)
    assert headers["number"].tolist() == list(range(1, n + 1))
    if version == 0:
        flat = levels.reshape(n, -1)
        assert (headers["max"] == flat.max(axis=1)).all()
        assert (headers["min"] == flat.min(axis=1)).all()
    # bipolar 5 V, 12 bits in all three files: (5 - 2 * level * 5 / 4096) * k
    k = {0: 2.0 * 45.0, 1: 5.0 * 12.850000381469727}[version]
    expected = (5.0 - 2.0 * levels.astype(np.float64) * 5.0 / 4096.0) * k
    for i in range(n):
        np.testing.assert_allclose(stack.data[i], expected[i], rtol=1e-12, atol=0)


def test_real_v0_geometry(resources):
    stack = load(resources / "sample_0.asd")
    assert stack.pixel_size_nm == 200 / 256
    assert stack.data.shape == (142, 256, 256)
    assert stack.get_frame_times()[1] == pytest.approx(0.4126285705566406)
