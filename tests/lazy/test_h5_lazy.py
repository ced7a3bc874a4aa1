"""read_lazy of HDF5 bundles: any chunking (0.5.0's h5py-chosen chunks too), bit for bit."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from playnano.errors import ReadError
from playnano.formats.h5.chunks import read_range
from playnano.readers import load


def write_050_style(path, data, layers, masks, **dataset_kw):
    """A bundle as playnano 0.5.0 writes it: no version, h5py's own chunking."""
    with h5py.File(path, "w") as f:
        f.create_dataset("data", data=data, **dataset_kw)
        g = f.create_group("processed")
        for k, v in layers.items():
            g.create_dataset(k, data=v, **dataset_kw)
        m = f.create_group("masks")
        for k, v in masks.items():
            m.create_dataset(k, data=v, **dataset_kw)
        meta = [{"timestamp": 0.5 * i} for i in range(len(data))]
        f.create_dataset("frame_metadata_json", data=np.bytes_(json.dumps(meta)))
        f.create_dataset("provenance_json", data=np.bytes_(json.dumps({})))
        f.attrs["pixel_size_nm"] = 1.5
        f.attrs["channel"] = "height_trace"


@pytest.mark.parametrize(
    "dataset_kw",
    [
        {"compression": "gzip", "chunks": (4, 7, 9)},  # chunks straddle blocks, edges
        {"compression": "gzip", "shuffle": True, "chunks": (3, 16, 20)},
        {"compression": "gzip"},  # h5py's automatic chunks
        {},  # contiguous, uncompressed: h5py reads the frames
    ],
)
@pytest.mark.parametrize("block", [1, 5])
def test_lazy_read_of_a_050_bundle_is_bit_for_bit(tmp_path, dataset_kw, block):
    rng = np.random.default_rng(1)
    data = rng.normal(size=(11, 16, 20)).astype(np.float32)
    layers = {"raw": data, "step_1_x": rng.normal(size=(11, 16, 20))}
    masks = {"step_2_m": rng.random((11, 16, 20)) > 0.5}
    path = tmp_path / "old.h5"
    write_050_style(path, data, layers, masks, **dataset_kw)
    mem = load(path)
    with load(path, lazy=True) as lazy:
        assert lazy.is_lazy and lazy.masks["step_2_m"].dtype == np.bool_
        pairs = [(lazy.data, mem.data)]
        pairs += [(lazy.processed[k], v) for k, v in mem.processed.items()]
        pairs += [(lazy.masks[k], v) for k, v in mem.masks.items()]
        for got, want in pairs:
            got.set_block(block)
            assert got.dtype == want.dtype
            assert b"".join(b.tobytes() for _, b in got.blocks()) == want.tobytes()
        for prov in (lazy.provenance, mem.provenance):
            del prov["source"]["read_at"]
        assert lazy.provenance == mem.provenance
        assert lazy.frame_metadata == mem.frame_metadata


def test_read_range_takes_only_the_chunks_of_those_frames(tmp_path):
    arr = np.arange(10 * 4 * 4, dtype=np.int16).reshape(10, 4, 4)
    with h5py.File(tmp_path / "a.h5", "w") as f:
        ds = f.create_dataset("a", data=arr, chunks=(3, 4, 4), compression="gzip")
        assert read_range(ds, 4, 8).tobytes() == arr[4:8].tobytes()
        assert read_range(ds, 9, 10).tobytes() == arr[9:10].tobytes()


def test_a_damaged_chunk_is_a_read_error_naming_the_file(tmp_path):
    from tests.lazy.conftest import write_bundle

    path = write_bundle(tmp_path / "b.h5", 6, 8, 8, level=1)
    with h5py.File(path) as f:
        offset = f["data"].id.get_chunk_info(3).byte_offset
    with open(path, "r+b") as fh:  # scribble over frame 3's deflate stream
        fh.seek(offset + 8)
        fh.write(b"\xff" * 64)
    with load(path, lazy=True) as stack:
        stack.data.set_block(2)
        assert stack.data[0].shape == (8, 8)
        with pytest.raises(ReadError, match=r"b\.h5: /data frames 2-3 are unreadable"):
            stack.data[3]


@pytest.fixture
def runs(monkeypatch) -> list[tuple[int, int]]:
    """Every ``(start, stop)`` the HDF5 reader reads, as it reads it (the real
    read runs)."""
    from playnano.formats.h5 import reader as h5reader

    seen: list[tuple[int, int]] = []
    real = h5reader.read_range

    def counted(ds, start, stop):
        seen.append((start, stop))
        return real(ds, start, stop)

    monkeypatch.setattr(h5reader, "read_range", counted)
    return seen


def test_a_sample_reads_each_run_of_frames_once(tmp_path, runs) -> None:
    """0.5.0's chunks span 32 frames: the GIF's 64 sampled frames of a 500-frame
    video read each run they touch once (through the reader's error-naming
    wrapper too), not once per sampled frame (a run per sample cost 8 s on M)."""
    from playnano.render.zrange import frame_samples

    data = np.random.default_rng(2).normal(size=(500, 8, 8)).astype(np.float32)
    path = tmp_path / "old.h5"
    write_050_style(path, data, {}, {}, compression="gzip", chunks=(32, 8, 8))
    with load(path, lazy=True) as lazy:
        sample = frame_samples(lazy.data)
    assert len(sample) == 64
    np.testing.assert_array_equal(sample[10][1], data[sample[10][0]].ravel())
    assert len(runs) == len(set(runs)) == 16  # every run touched, each once
    assert all(a % 32 == 0 and (b - a == 32 or b == 500) for a, b in runs)


def test_a_sample_of_a_file_stored_in_runs_reads_four_runs(tmp_path, runs):
    """The GIF's automatic range on 0.5.0's 500 frames in runs of 32 reads 4 of the
    16 runs (the first, the last, two between), each once, not the whole file a
    second time (2 s of inflating on M); read in memory, the same file gives the
    stack the same ``read_unit``, so both reads sample the same frames."""
    from playnano.render import resolve_z_range
    from playnano.render.zrange import SAMPLE_RUNS, frame_samples

    rng = np.random.default_rng(3)
    # every run sits at its own height: a sample missing runs would show in the range
    data = rng.normal(size=(500, 8, 8)) + np.arange(500)[:, None, None] // 32
    data = data.astype(np.float32)
    path = tmp_path / "old.h5"
    write_050_style(path, data, {}, {}, compression="gzip", chunks=(32, 8, 8))
    with load(path, lazy=True) as lazy:
        assert lazy.read_unit == 32
        sample = frame_samples(lazy.data, unit=lazy.read_unit)
        assert sorted(runs) == [(0, 32), (160, 192), (320, 352), (480, 500)]
        assert len(runs) == SAMPLE_RUNS  # each run read once
        lazy_range = resolve_z_range(lazy.data, unit=lazy.read_unit)
    frames = [i for i, _ in sample]
    assert 60 <= len(frames) <= 64 and frames[0] == 0 and frames[-1] == 499
    for i, heights in sample:
        np.testing.assert_array_equal(heights, data[i].ravel())
    mem = load(path)
    assert mem.read_unit == 32
    assert resolve_z_range(mem.data, unit=mem.read_unit) == lazy_range
    # the range spans the first run to the last (drift is seen whole)
    assert lazy_range[0] < data[:32].mean() and lazy_range[1] > data[-20:].mean()


# the run the sample misses is drawn clipped, and said so
@pytest.mark.filterwarnings("ignore::playnano.errors.ExportWarning")
def test_a_file_stored_in_runs_gives_the_same_gif_streamed_and_in_memory(tmp_path):
    """The sample follows the stored runs in both reads: the same range, one GIF."""
    from click.testing import CliRunner

    from playnano.cli import cli

    rng = np.random.default_rng(4)
    data = rng.normal(size=(300, 16, 16))
    data[48:64] *= 2  # a run the four sampled runs miss and an even sample sees
    path = tmp_path / "old.h5"
    write_050_style(
        path, data.astype(np.float32), {}, {}, compression="gzip", chunks=(16, 16, 16)
    )
    outs = {}
    for mode in ("--blocks", "--in-memory"):
        out = tmp_path / mode.strip("-")
        args = ["process", str(path), "-p", "remove_plane", "-e", "gif", "-o", str(out)]
        result = CliRunner().invoke(cli, [*args, mode])
        assert result.exit_code == 0, result.output
        outs[mode] = (out / "old_filtered.gif").read_bytes()
    assert outs["--blocks"] == outs["--in-memory"]
