"""Hostile ``.h5-jpk`` files: declared data the file does not hold, or holds elsewhere.

Each must end in a one-line ReadError naming the file before any data is read
(real HDF5 files written with h5py; nothing is mocked).
"""

from __future__ import annotations

import subprocess
import sys
import zlib

import h5py
import numpy as np
import pytest

from playnano.errors import ReadError
from playnano.readers import load
from tests.readers.test_h5jpk import _write_scan

PIXELS, GRID = 16384, 128  # a 128x128 scan: 16384 values per frame


def _scan(path, make_channel, *, times=False):
    """A valid scan (see test_h5jpk) whose channel dataset ``make_channel`` makes."""
    _write_scan(path, times=times)
    with h5py.File(path, "a") as f:
        m = f["Measurement_000"]
        m.attrs["position-pattern.grid.ilength"] = GRID
        m.attrs["position-pattern.grid.jlength"] = GRID
        del m["Channel_000/Height"]
        make_channel(m["Channel_000"], "Height")


def _error(path):
    with pytest.raises(ReadError) as err:
        load(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message


def test_unallocated_chunked_channel_is_refused(tmp_path):
    path = tmp_path / "empty.h5-jpk"
    _scan(
        path,
        lambda g, n: g.create_dataset(
            n, shape=(PIXELS, 2000), dtype="<i4", chunks=(PIXELS, 1)
        ),
    )
    assert path.stat().st_size < 100_000  # declares 131 MB, holds nothing
    message = _error(path)
    assert "2000 chunks" in message and "stores 0 of them" in message


def test_unallocated_contiguous_channel_is_refused(tmp_path):
    path = tmp_path / "empty.h5-jpk"
    _scan(path, lambda g, n: g.create_dataset(n, shape=(PIXELS, 2000), dtype="<i4"))
    assert "the file stores 0 bytes" in _error(path)


def test_partly_written_channel_is_refused(tmp_path):
    def partial(g, n):
        d = g.create_dataset(n, shape=(PIXELS, 4), dtype="<i4", chunks=(PIXELS, 1))
        d[:, 0] = 7

    path = tmp_path / "partial.h5-jpk"
    _scan(path, partial)
    assert "in 4 chunks but the file stores 1 of them" in _error(path)


def test_compressed_bomb_is_refused(tmp_path):
    frames = 1100  # 72 MB of zeros declared, a few hundred kB stored

    def bomb(g, n):
        d = g.create_dataset(
            n, shape=(PIXELS, frames), dtype="<i4", chunks=(PIXELS, 1),
            compression="gzip",
        )  # fmt: skip
        zeros = zlib.compress(bytes(PIXELS * 4), 9)
        for i in range(frames):
            d.id.write_direct_chunk((0, i), zeros)

    path = tmp_path / "bomb.h5-jpk"
    _scan(path, bomb)
    assert "refusing to inflate" in _error(path)


def test_virtual_channel_onto_another_file_is_refused(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["data"] = np.full((PIXELS, 2), 5, np.int32)

    def virtual(g, n):
        layout = h5py.VirtualLayout(shape=(PIXELS, 2), dtype="<i4")
        layout[:] = h5py.VirtualSource(str(other), "data", shape=(PIXELS, 2))
        g.create_virtual_dataset(n, layout)

    path = tmp_path / "virtual.h5-jpk"
    _scan(path, virtual)
    assert "virtual dataset" in _error(path)


def test_virtual_channel_onto_itself_is_refused(tmp_path):
    path = tmp_path / "loop.h5-jpk"

    def loop(g, n):
        layout = h5py.VirtualLayout(shape=(PIXELS, 2), dtype="<i4")
        layout[:] = h5py.VirtualSource(".", g.name + "/" + n, shape=(PIXELS, 2))
        g.create_virtual_dataset(n, layout)

    _scan(path, loop)
    # in a child process: reading such a dataset kills the process inside HDF5
    code = (
        "import sys\nfrom playnano.errors import ReadError\n"
        "from playnano.readers import load\n"
        "try:\n    load(sys.argv[1])\nexcept ReadError as e:\n    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith(f"{path}: ")
    assert "virtual dataset" in out.stdout


def test_external_raw_storage_is_refused(tmp_path):
    raw = tmp_path / "raw.bin"
    raw.write_bytes(np.full((PIXELS, 2), 3, "<i4").tobytes())
    path = tmp_path / "external.h5-jpk"
    _scan(
        path,
        lambda g, n: g.create_dataset(
            n, shape=(PIXELS, 2), dtype="<i4", external=[(str(raw), 0, PIXELS * 8)]
        ),
    )
    assert "external files" in _error(path)


def test_external_link_channel_is_refused(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["data"] = np.full((PIXELS, 2), 5, np.int32)
    path = tmp_path / "link.h5-jpk"
    _scan(path, lambda g, n: g.__setitem__(n, h5py.ExternalLink(str(other), "data")))
    assert "external link to" in _error(path)


def test_external_link_channel_group_is_refused(tmp_path):
    other = tmp_path / "other.h5"
    path = tmp_path / "scan.h5-jpk"
    _write_scan(other)
    _write_scan(path)
    with h5py.File(path, "a") as f:
        del f["Measurement_000/Channel_000"]
        f["Measurement_000/Channel_000"] = h5py.ExternalLink(
            str(other), "Measurement_000/Channel_000"
        )
    assert "external link to" in _error(path)


def test_unallocated_frame_times_are_refused(tmp_path):
    path = tmp_path / "times.h5-jpk"
    _write_scan(path, times=True)
    with h5py.File(path, "a") as f:
        meta = f["Measurement_000/meta-data"]
        del meta["start-times"]
        meta.create_dataset("start-times", shape=(2, 1), dtype="<i8", chunks=(1, 1))
    assert "start-times" in _error(path)
