"""Every image of a store written in one pass over the frames, a block at a time.

An :class:`ImageOut` is one NGFF image being written: its source frames (an array
or :class:`playnano.lazy.LazyFrames`) and, per level, the sharded arrays that
receive them (the root image and its float32 display copy share the frames and the
levels). :func:`write_images` walks the frames in blocks that follow the lazy
source's own blocks and never straddle a shard of the root image, hands each block
to every image (the layers of a lazy stack compute from the same cached block, so
the source is read once), and lets :mod:`playnano.io.codec`'s thread pool encode
the chunks while the next block is read; each shard file is appended to by its
own writer, in order.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from playnano.errors import ExportError

from playnano_zarr import layout, pyramid
from playnano_zarr.compression import Compression
from playnano_zarr.shards import ChunkLayout, ShardWriter, chunk_layout, encode_job


@dataclass(frozen=True)
class Sizes:
    """Chunk and shard targets (bytes), the compression, the number of levels."""

    chunk_bytes: float
    shard_bytes: float
    compression: Compression
    levels: int


@dataclass
class ImageOut:
    """One image being written: source frames and the writers of each level.

    ``writers[level]`` holds one writer per copy (the image, and its display copy).
    ``mask`` images store 0/1 as uint8 and downsample by majority.
    """

    source: Any
    writers: list[list[ShardWriter]]
    mask: bool = False
    shard_frames: int = 1
    lo: float = math.inf
    hi: float = -math.inf

    @property
    def extremes(self) -> tuple[float, float]:
        """The finite minimum and maximum seen (NaN, NaN when none)."""
        return (self.lo, self.hi) if self.lo <= self.hi else (math.nan, math.nan)

    def jobs(self, start: int, stop: int) -> Iterator[tuple[Any, ...]]:
        """Encoding jobs for frames ``start:stop`` at every level."""
        frames = np.asarray(self.source[start:stop])
        if self.mask:
            frames = frames.view(np.uint8)
        else:
            self._see(frames)
        for level, copies in enumerate(self.writers):
            if level:
                down = pyramid.majority_2x2 if self.mask else pyramid.mean_2x2
                frames = down(frames)
            for writer in copies:
                yield from writer.jobs(frames)

    def final_jobs(self) -> Iterator[tuple[Any, ...]]:
        """Jobs for every writer's ragged last chunk."""
        for copies in self.writers:
            for writer in copies:
                yield from writer.final_jobs()

    def _see(self, frames: np.ndarray) -> None:
        """Widen the finite extremes by ``frames`` (two passes when all are finite)."""
        if not frames.size:
            return
        lo, hi = float(frames.min()), float(frames.max())
        if not (math.isfinite(lo) and math.isfinite(hi)):  # NaN or inf among them
            finite = frames[np.isfinite(frames)]
            if not finite.size:
                return
            lo, hi = float(finite.min()), float(finite.max())
        self.lo, self.hi = min(self.lo, lo), max(self.hi, hi)


def add_image(
    store: Path,
    groups: Sequence[Any],
    source: Any,
    dtypes: Sequence[np.dtype],
    sizes: Sizes,
    *,
    mask: bool = False,
) -> ImageOut:
    """Create the level arrays of one image in each of ``groups`` (one dtype each).

    ``store`` is the store's folder; the arrays' ``zarr.json`` are written now,
    their shards by :func:`write_images`.
    """
    image = ImageOut(source, [], mask=mask)
    for level in range(sizes.levels):
        shape = pyramid.level_shape(source.shape, level)
        copies = []
        for group, dtype in zip(groups, dtypes, strict=True):
            lay = chunk_layout(
                shape, dtype.itemsize, sizes.chunk_bytes, sizes.shard_bytes
            )
            copies.append(_sharded(store, group, str(level), dtype, lay, sizes))
        if not level:
            image.shard_frames = copies[0].layout.shards[0]
        image.writers.append(copies)
    return image


def _sharded(
    store: Path, group: Any, name: str, dtype: np.dtype, lay: ChunkLayout, sizes: Sizes
) -> ShardWriter:
    """A sharded array's ``zarr.json`` (by zarr-python) and its shard writer."""
    codec = sizes.compression.zarr_codec(dtype)
    try:
        arr = group.create_array(
            name,
            shape=lay.shape,
            dtype=dtype,
            chunks=lay.chunks,
            shards=lay.shards,
            compressors=codec,
            dimension_names=layout.DIMENSION_NAMES,
            fill_value=0,
        )
    except (TypeError, ValueError) as exc:
        raise ExportError(
            f"{store.name}: zarr cannot store dtype {dtype} ({exc})"
        ) from exc
    expected = [] if codec is None else [codec.to_dict()]
    _check_codecs(arr.metadata.to_dict()["codecs"], lay, expected, store)
    return ShardWriter(
        store / arr.path,
        lay,
        dtype,
        sizes.compression.encoder(dtype),
        arr.metadata.encode_chunk_key,
    )


def _check_codecs(
    codecs: Any, lay: ChunkLayout, compressors: list[Any], store: Path
) -> None:
    """Refuse a codec chain other than the one :class:`ShardWriter` writes.

    A zarr-python that chose other defaults would otherwise get shards it cannot
    decode; this turns that into a clear error before any frame is written.
    """

    def named(c: Any) -> tuple[str, dict[str, Any]]:
        return c.get("name"), c.get("configuration") or {}

    try:
        [(name, conf)] = [named(c) for c in codecs]
        inner = [named(c) for c in conf["codecs"]]
        index = [named(c) for c in conf["index_codecs"]]
        ok = (
            name == "sharding_indexed"
            and tuple(conf["chunk_shape"]) == lay.chunks
            and conf.get("index_location", "end") == "end"
            and inner[0][0] == "bytes"
            and inner[0][1].get("endian", "little") == "little"
            and inner[1:] == [named(c) for c in compressors]
            and index == [("bytes", {"endian": "little"}), ("crc32c", {})]
        )
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        ok = False
    if not ok:
        raise ExportError(
            f"{store.name}: this zarr-python describes sharded arrays with codecs "
            f"playnano-zarr does not write ({codecs}); report it to playnano-zarr"
        )


def blocks(n: int, block: int, shard: int) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` ranges of ``block`` frames, also cut at every ``shard``."""
    start = 0
    while start < n:
        stop = min(n, (start // block + 1) * block, (start // shard + 1) * shard)
        yield start, stop
        start = stop


def write_images(images: Sequence[ImageOut], n_frames: int, block: int) -> None:
    """Write every image's shards in one pass over the frames.

    ``block`` is the frames per read (a lazy source's own block); blocks also stop
    at every shard boundary of the first image (the root image), so a shard's
    frames never come from two reads that straddle it.
    """
    from playnano.io.codec import ordered_map
    from playnano.io.guard import check_cancelled
    from playnano.progress_ticks import frames_done

    shard = images[0].shard_frames

    def jobs() -> Iterator[tuple[Any, ...]]:
        for start, stop in blocks(n_frames, max(1, block), shard):
            check_cancelled()  # an export in a side thread stops between blocks
            for image in images:
                yield from image.jobs(start, stop)
            frames_done(stop - start)
        for image in images:
            yield from image.final_jobs()

    writers = [w for image in images for copies in image.writers for w in copies]
    try:
        for writer, coords, data in ordered_map(encode_job, jobs()):
            writer.put(coords, data)
        for writer in writers:
            writer.close()
    except BaseException:
        for writer in writers:
            writer.abort()
        raise
