"""Sharded arrays: the chunk and shard shapes chosen, the files written, and every
array read back bit for bit by zarr-python (which checks each shard's index CRC).

Small stacks with small ``chunk_mib``/``shard_mib`` walk the same code as a session
of 20,000 frames: several shards, a ragged last shard and last chunk, frames cut
into rows, levels.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import zarr
from playnano.afm_stack import AFMImageStack
from playnano.errors import OptionError
from playnano.io.export_data import export_stack
from playnano.lazy import LazyFrames
from playnano.plugins.registry import readers
from playnano.testing import make_sample_stack

from playnano_zarr.shards import MIB, chunk_layout

#: 12 x 17 float64 frames are 1632 bytes: chunks of 2 frames, shards of 3 chunks.
SMALL = {"chunk_mib": 3300 / MIB, "shard_mib": 10_000 / MIB}


def files(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())


def shard_files(path: Path, array: str) -> list[str]:
    return [f for f in files(path) if f.startswith(f"{array}/c/")]


def frame_shards(path: Path) -> list[str]:
    """Every image array's shard files (not the side data under ``playnano/``)."""
    return [f for f in files(path) if "/c/" in f and not f.startswith("playnano/")]


def meta(path: Path, array: str) -> dict:
    return json.loads((path / array / "zarr.json").read_text())


# ----------------------------------------------------------------- the shapes
@pytest.mark.parametrize(
    ("shape", "itemsize", "chunk", "shard", "want_chunks", "want_shards"),
    [
        # 20,000 frames of 256 x 256 float32 at the defaults: 8 frames a chunk
        # (2 MiB), 1024 a shard (256 MiB)
        ((20_000, 256, 256), 4, 2 * MIB, 256 * MIB, (8, 256, 256), (1024, 256, 256)),
        ((10, 12, 17), 8, 3300, 10_000, (2, 12, 17), (6, 12, 17)),
        # fewer frames than a shard holds: one shard, rounded up to a chunk
        ((5, 12, 17), 8, 3300, 1e9, (2, 12, 17), (6, 12, 17)),
        # a frame larger than a chunk: rows of one frame, shards of whole frames
        ((4, 10, 8), 8, 200, 700, (1, 3, 8), (1, 12, 8)),
        # a chunk target below one row: one row
        ((4, 10, 8), 8, 10, 700, (1, 1, 8), (1, 10, 8)),
    ],
)
def test_chunk_layout(shape, itemsize, chunk, shard, want_chunks, want_shards) -> None:
    lay = chunk_layout(shape, itemsize, chunk, shard)
    assert lay.chunks == want_chunks
    assert lay.shards == want_shards
    assert all(s % c == 0 for s, c in zip(lay.shards, lay.chunks, strict=True))
    frame = shape[1] * shape[2] * itemsize
    assert lay.shards[0] * frame <= max(shard, frame * lay.chunks[0])


def test_default_layout_of_a_session_is_few_files() -> None:
    """20,000 frames of 256 x 256 float32 (5.2 GB): 20 shards of 256 MiB."""
    lay = chunk_layout((20_000, 256, 256), 4)
    assert 1e6 <= np.prod(lay.chunks) * 4 <= 4e6
    assert lay.n_shards == 20


# --------------------------------------------------------- the files written
def test_several_shards_and_a_ragged_last_one(tmp_path: Path) -> None:
    stack = make_sample_stack(11, (12, 17))
    [path] = export_stack(stack, tmp_path / "v", "zarr", options=SMALL)
    # 11 frames, 6 per shard: shards 0 and 1, the last holding 5 frames
    assert shard_files(path, "0") == ["0/c/0/0/0", "0/c/1/0/0"]
    assert shard_files(path, "processed/raw/0") == [
        "processed/raw/0/c/0/0/0",
        "processed/raw/0/c/1/0/0",
    ]
    m = meta(path, "0")
    assert m["chunk_grid"]["configuration"]["chunk_shape"] == [6, 12, 17]
    [sharding] = m["codecs"]
    assert sharding["name"] == "sharding_indexed"
    assert sharding["configuration"]["chunk_shape"] == [2, 12, 17]
    arr = zarr.open_array(path / "0", mode="r")
    assert arr.nchunks_initialized == arr.nchunks == 6  # 5 full chunks + 1 ragged
    assert arr[...].tobytes() == stack.data.tobytes()
    raw = zarr.open_array(path / "processed" / "raw" / "0", mode="r")
    assert raw[...].tobytes() == stack.processed["raw"].tobytes()
    mask = zarr.open_array(path / "labels" / "step_2_mask_threshold" / "0", mode="r")
    assert mask.dtype == np.uint8
    assert np.array_equal(mask[...], stack.masks["step_2_mask_threshold"])


def test_the_layer_that_is_the_data_is_stored_once(tmp_path: Path) -> None:
    stack = make_sample_stack()
    assert stack.processed["step_1_remove_plane"] is stack.data
    [path] = export_stack(stack, tmp_path / "v", "zarr")
    assert not (path / "processed" / "step_1_remove_plane").exists()
    attrs = json.loads((path / "zarr.json").read_text())["attributes"]["playnano"]
    assert attrs["processed"] == {"raw": "processed/raw", "step_1_remove_plane": "."}
    back = readers().resolve("zarr").obj.read(path)
    assert back.processed["step_1_remove_plane"].tobytes() == stack.data.tobytes()


@pytest.mark.parametrize(
    "dtype", [np.float64, np.float32, np.int16, np.uint16, np.dtype(">f8")]
)
@pytest.mark.parametrize("compression", ["blosc-zstd", "blosc-lz4", "zstd", "none"])
def test_every_dtype_and_codec_reads_back_exactly(
    tmp_path: Path, dtype, compression: str
) -> None:
    stack = make_sample_stack(7, (12, 17), dtype)
    if stack.data.dtype.kind == "f":
        stack.data[0, 0, :3] = [-0.0, np.nan, np.inf]
    [path] = export_stack(
        stack, tmp_path / "v", "zarr", options={**SMALL, "compression": compression}
    )
    arr = zarr.open_array(path / "0", mode="r")
    got = arr[...]
    assert got.dtype == stack.data.dtype.newbyteorder("=")
    assert got.tobytes() == stack.data.astype(got.dtype).tobytes()
    inner = meta(path, "0")["codecs"][0]["configuration"]["codecs"]
    names = [c["name"] for c in inner]
    want = {"none": [], "zstd": ["zstd"]}.get(compression, ["blosc"])
    assert names == ["bytes", *want]
    if compression.startswith("blosc"):
        assert inner[1]["configuration"]["shuffle"] == "shuffle"
        assert inner[1]["configuration"]["cname"] == compression.split("-")[1]


def test_blosc_shrinks_heights_more_than_zstd(tmp_path: Path, afm: Path) -> None:
    """The byte shuffle is why blosc-zstd is the default: real HS-AFM heights."""
    import playnano
    from playnano.processing.pipeline import run_pipeline

    stack = playnano.load(afm / "asd" / "asd_sample_0.asd")
    run_pipeline(stack, "remove_plane")
    sizes = {}
    for codec in ("blosc-zstd", "zstd", "none"):
        [path] = export_stack(
            stack, tmp_path / codec, "zarr", options={"compression": codec}
        )
        sizes[codec] = sum((path / f).stat().st_size for f in shard_files(path, "0"))
    assert sizes["blosc-zstd"] < 0.9 * sizes["zstd"] < sizes["none"]


def test_frames_larger_than_a_chunk_are_cut_into_rows(tmp_path: Path) -> None:
    stack = make_sample_stack(5, (10, 8), processed=False, masks=False)
    opts = {"chunk_mib": 200 / MIB, "shard_mib": 1400 / MIB, "levels": 2}
    [path] = export_stack(stack, tmp_path / "v", "zarr", options=opts)
    sharding = meta(path, "0")["codecs"][0]["configuration"]
    assert sharding["chunk_shape"] == [1, 3, 8]
    assert meta(path, "0")["chunk_grid"]["configuration"]["chunk_shape"] == [2, 12, 8]
    assert len(shard_files(path, "0")) == 3
    assert zarr.open_array(path / "0", mode="r")[...].tobytes() == stack.data.tobytes()


def test_bytes_do_not_depend_on_the_thread_count(tmp_path: Path) -> None:
    stack = make_sample_stack(11, (12, 17))
    opts = {**SMALL, "levels": 2}
    [one] = export_stack(stack, tmp_path / "one", "zarr", options=opts, threads=1)
    [four] = export_stack(stack, tmp_path / "four", "zarr", options=opts, threads=4)
    # the frames' shards (the provenance differs: the second lists the first export)
    names = frame_shards(one)
    assert names == frame_shards(four) != []
    for name in names:
        assert (one / name).read_bytes() == (four / name).read_bytes(), name


# ------------------------------------------------------------- lazy sources
class CountingFrames:
    """A FrameSource that counts the frames read."""

    def __init__(self, arr: np.ndarray) -> None:
        self.arr, self.shape, self.dtype = arr, arr.shape, arr.dtype
        self.frames_read = 0

    def read(self, start: int, stop: int) -> np.ndarray:
        self.frames_read += stop - start
        return self.arr[start:stop].copy()

    def close(self) -> None:
        pass


def test_a_lazy_pipeline_reads_its_source_once(tmp_path: Path) -> None:
    """Every layer of a lazy stack is written from the same block of the source:
    the file is read once, not once per layer."""
    from playnano.processing.pipeline import run_pipeline

    frames = make_sample_stack(23, (12, 17), processed=False, masks=False).data
    source = CountingFrames(frames)
    meta_ = [{"timestamp": 0.5 * i} for i in range(23)]
    lazy = AFMImageStack(LazyFrames(source, block=5), 1.5, "height", None, meta_)
    run_pipeline(lazy, "zero_mean;mask_threshold:threshold=0")
    memory = AFMImageStack(frames.copy(), 1.5, "height", None, meta_)
    run_pipeline(memory, "zero_mean;mask_threshold:threshold=0")
    from playnano.render import resolve_z_range

    source.frames_read = 0  # what the two colour ranges (image, raw layer) read
    resolve_z_range(lazy.data)
    resolve_z_range(lazy.processed["raw"])
    sampled, source.frames_read = source.frames_read, 0
    [a] = export_stack(lazy, tmp_path / "lazy", "zarr", options=SMALL)
    # one pass over the 23 frames (a pass per layer and mask would read 4 x 23)
    assert source.frames_read <= 23 + sampled < 3 * 23
    [b] = export_stack(memory, tmp_path / "memory", "zarr", options=SMALL)
    names = frame_shards(a)
    assert names == frame_shards(b) != []
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_display_copy_needs_64_bit_data(tmp_path: Path) -> None:
    stack = make_sample_stack(dtype=np.float32)
    with pytest.warns(UserWarning, match="float32, which viewers show; no display"):
        [path] = export_stack(
            stack, tmp_path / "v", "zarr", options={"display_copy": True}
        )
    assert not (path / "display").exists()


def test_levels_and_sizes_are_checked_before_writing(tmp_path: Path) -> None:
    stack = make_sample_stack()
    for bad in ({"levels": 0}, {"chunk_mib": 0}, {"compression_level": 10}):
        with pytest.raises(OptionError):
            export_stack(stack, tmp_path / "v", "zarr", options=bad)
    assert list(tmp_path.iterdir()) == []
