"""read_lazy: OME-Zarr frames, layers and masks read on demand, bit for bit read()'s.

Runs where playnano-zarr is installed; the reader is the one the registry found.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import zarr
from playnano.errors import ChannelError, ReadError
from playnano.io.export_data import export_stack
from playnano.lazy import LazyFrames
from playnano.plugins.registry import readers
from playnano.testing import make_sample_stack


def reader():
    return readers().resolve("zarr").obj


def blocks_equal(lazy: LazyFrames, full: np.ndarray) -> None:
    """Every frame of ``lazy`` equals ``full``'s, read in blocks of 1, 7 and all,
    and out of order."""
    n = full.shape[0]
    assert lazy.shape == full.shape and lazy.dtype == full.dtype
    for size in (1, 7, n):
        parts = [lazy.read(s, min(n, s + size)) for s in range(0, n, size)]
        got = np.concatenate(parts)
        assert got.tobytes() == full.tobytes(), size
    for i in [n - 1, 0, n // 2, n - 1, 1 % n]:
        assert lazy[i].tobytes() == full[i].tobytes(), i


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int16])
def test_playnano_store_reads_lazily_as_read(tmp_path: Path, dtype: type) -> None:
    stack = make_sample_stack(9, (6, 5), dtype)
    [path] = export_stack(stack, tmp_path / "v", "zarr")
    full = reader().read(path)
    lazy = reader().read_lazy(path)
    assert isinstance(lazy.data, LazyFrames)
    blocks_equal(lazy.data, full.data)
    assert set(lazy.processed) == set(full.processed) != set()
    assert set(lazy.masks) == set(full.masks) != set()
    for key, arr in full.processed.items():
        blocks_equal(lazy.processed[key], arr)
    for key, arr in full.masks.items():
        assert lazy.masks[key].dtype == np.bool_
        blocks_equal(lazy.masks[key], arr)
    assert lazy.pixel_size_nm == full.pixel_size_nm
    assert lazy.channel == full.channel
    assert lazy.frame_metadata == full.frame_metadata
    assert lazy.provenance == full.provenance
    assert lazy.state_backups == full.state_backups


def test_a_block_reads_only_its_shards(tmp_path: Path) -> None:
    """With the shard of frames 0-1 removed, an open lazy stack still reads frame 3
    (only its shard); opening the damaged store lazily is refused as read() is."""
    # 6 x 5 float64 frames are 240 bytes: chunks of 1 frame, shards of 2
    opts = {"chunk_mib": 240 / 2**20, "shard_mib": 480 / 2**20}
    stack = make_sample_stack(4, (6, 5))
    [path] = export_stack(stack, tmp_path / "v", "zarr", options=opts)
    lazy = reader().read_lazy(path)
    full = reader().read(path)
    shutil.rmtree(path / "0" / "c" / "0")
    assert lazy.data[3].tobytes() == full.data[3].tobytes()
    with pytest.raises(ReadError, match=r"v.ome.zarr: '0' has 2 of 4 frame chunks"):
        reader().read_lazy(path)


def test_foreign_ngff_channel_and_axes(tmp_path: Path) -> None:
    """A t, c, z, y, x image: the chosen channel's frames, as read() gives them."""
    data = np.arange(5 * 2 * 1 * 4 * 3, dtype=np.uint16).reshape(5, 2, 1, 4, 3)
    root = zarr.create_group(tmp_path / "other.zarr", zarr_format=2)
    root.create_array("0", data=data, chunks=(2, 1, 1, 4, 3))
    root.attrs.update(
        {
            "multiscales": [
                {
                    "version": "0.4",
                    "axes": [
                        {"name": "t", "type": "time", "unit": "second"},
                        {"name": "c", "type": "channel"},
                        {"name": "z", "type": "space"},
                        {"name": "y", "type": "space"},
                        {"name": "x", "type": "space"},
                    ],
                    "datasets": [{"path": "0"}],
                }
            ],
            "omero": {"channels": [{"label": "height"}, {"label": "phase"}]},
        }
    )
    path = tmp_path / "other.zarr"
    with pytest.raises(ChannelError, match="2 channels"):
        reader().read_lazy(path)
    full = reader().read(path, channel="phase")
    lazy = reader().read_lazy(path, channel="phase")
    blocks_equal(lazy.data, full.data)
    np.testing.assert_array_equal(np.asarray(lazy.data), data[:, 1, 0])
    assert lazy.channel == full.channel == "phase"
    assert lazy.frame_metadata == full.frame_metadata
    assert lazy.provenance["source"]["ngff_version"] == "0.4"


def test_single_image_without_t_axis(tmp_path: Path) -> None:
    data = np.arange(12, dtype=np.float32).reshape(4, 3)
    root = zarr.create_group(tmp_path / "one.zarr", zarr_format=2)
    root.create_array("0", data=data)
    root.attrs.update(
        {"multiscales": [{"axes": ["y", "x"], "datasets": [{"path": "0"}]}]}
    )
    lazy = reader().read_lazy(tmp_path / "one.zarr")
    assert lazy.data.shape == (1, 4, 3)
    assert lazy.data[0].tobytes() == data.tobytes()


def test_closed_source_refuses_reads(tmp_path: Path) -> None:
    [path] = export_stack(make_sample_stack(3, (6, 5)), tmp_path / "v", "zarr")
    lazy = reader().read_lazy(path)
    lazy.data.close()
    with pytest.raises(ReadError, match=r"v\.ome\.zarr: '0' was closed"):
        lazy.data.read(0, 1)
