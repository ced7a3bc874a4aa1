"""Sharded Zarr 3 arrays written as a stream: frames in, one file per shard out.

Zarr's ``sharding_indexed`` codec stores many chunks in one file (a shard): the
encoded chunks one after the other, then an index of ``(offset, nbytes)`` per
chunk (little-endian uint64, ``2**64 - 1`` for an empty chunk) followed by the
index's CRC-32C. :class:`ShardWriter` writes exactly that for one array whose
``zarr.json`` zarr-python has created: frames are fed in order, cut into chunks,
encoded (the ``bytes`` codec, then the compressor) in :mod:`playnano.io.codec`'s thread pool
by whoever drives the jobs, and appended to the open shard file, so memory holds a
few chunks, never a shard. Each shard file has one writer and is written once, in
order, whatever the thread count (the bytes do not depend on it).

:func:`chunk_layout` chooses the chunk and shard shapes from byte targets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: Default uncompressed bytes of a chunk (several whole frames when they fit): what
#: a viewer reads and decodes to show one frame. Measured in benchmarks/bench_zarr.py.
CHUNK_MIB = 2.0
#: Default uncompressed bytes of a shard (one file): few files for file systems,
#: object stores and repository uploads. Measured in benchmarks/bench_zarr.py.
SHARD_MIB = 256.0
MIB = 2**20
#: Index entry of a chunk that is not stored (it reads as the fill value).
EMPTY = 2**64 - 1


@dataclass(frozen=True)
class ChunkLayout:
    """Chunk and shard shapes of a ``(t, y, x)`` array.

    Shards always hold whole frames; a chunk holds whole frames, or rows of one
    frame when a frame is larger than the chunk target.
    """

    shape: tuple[int, int, int]
    chunks: tuple[int, int, int]
    shards: tuple[int, int, int]

    @property
    def chunks_per_shard(self) -> tuple[int, int, int]:
        """The shard's chunk grid."""
        return tuple(s // c for s, c in zip(self.shards, self.chunks, strict=True))  # type: ignore[return-value]

    @property
    def n_shards(self) -> int:
        """Shards the array is cut into (along t)."""
        return -(-self.shape[0] // self.shards[0])


def chunk_layout(
    shape: tuple[int, ...],
    itemsize: int,
    chunk_bytes: float = CHUNK_MIB * MIB,
    shard_bytes: float = SHARD_MIB * MIB,
) -> ChunkLayout:
    """Chunks of about ``chunk_bytes`` and shards of about ``shard_bytes``.

    A chunk is as many whole frames as fit in ``chunk_bytes`` (at least one); a
    frame larger than that is cut into rows. A shard is as many whole chunks of
    frames as fit in ``shard_bytes`` (at least one), and never more frames than the
    array has, rounded up to a chunk.
    """
    t, h, w = (int(n) for n in shape)
    frame = max(1, h * w * itemsize)
    if frame <= chunk_bytes:
        ct = max(1, min(t, int(chunk_bytes // frame)))
        chunks = (ct, h, w)
    else:
        rows = max(1, min(h, int(chunk_bytes // max(1, w * itemsize))))
        ct, chunks = 1, (1, rows, w)
    per_shard = max(1, int(shard_bytes // (frame * ct)))
    st = ct * min(per_shard, max(1, -(-t // ct)))
    rows = chunks[1]
    shards = (st, -(-h // rows) * rows, w)
    return ChunkLayout((t, h, w), chunks, shards)


def encode_job(job: tuple[ShardWriter, tuple[int, int, int], np.ndarray]) -> Any:
    """Encode one chunk (in a worker thread): ``(writer, coords, bytes)``."""
    writer, coords, chunk = job
    return writer, coords, writer.encode(chunk)


class ShardWriter:
    """Write one sharded array's shard files from frames fed in order.

    Parameters
    ----------
    folder : pathlib.Path
        The array's folder (where its ``zarr.json`` is).
    layout : ChunkLayout
        Its chunk and shard shapes (as in its ``zarr.json``).
    dtype : numpy.dtype
        Its data type; chunks are stored little-endian.
    compressor : callable or None
        A contiguous little-endian chunk to its compressed bytes, or None for
        uncompressed chunks.
    chunk_key : callable
        Chunk grid coordinates to the key below ``folder`` (``c/0/0/0``).
    """

    def __init__(
        self,
        folder: Path,
        layout: ChunkLayout,
        dtype: np.dtype,
        compressor: Callable[[np.ndarray], bytes] | None,
        chunk_key: Callable[[tuple[int, ...]], str],
    ) -> None:
        self.folder, self.layout = Path(folder), layout
        self.dtype = np.dtype(dtype).newbyteorder("<")
        self.compressor, self.chunk_key = compressor, chunk_key
        self._pending: np.ndarray | None = None  # frames short of a chunk row
        self._next_t = 0  # first frame not yet cut into chunks
        self._shard: int | None = None
        self._file: Any = None
        self._offset = 0
        self._index: np.ndarray | None = None

    # ------------------------------------------------------------ cutting
    def jobs(self, frames: np.ndarray) -> Iterator[tuple[Any, ...]]:
        """Encoding jobs for the chunks the next ``frames`` complete.

        Frames short of a whole chunk of frames wait for the next call (or for
        :meth:`final_jobs`).
        """
        ct = self.layout.chunks[0]
        if self._pending is not None:
            # complete the waiting row with the first frames (not a copy of all)
            need = ct - len(self._pending)
            head = np.concatenate([self._pending, frames[:need]])
            self._pending, frames = None, frames[need:]
            if len(head) < ct:
                self._pending = head
                return
            yield from self._row(head)
        whole = len(frames) // ct * ct
        for start in range(0, whole, ct):
            yield from self._row(frames[start : start + ct])
        if whole < len(frames):
            # a copy: the caller's block may be released before the next call
            self._pending = np.array(frames[whole:])

    def final_jobs(self) -> Iterator[tuple[Any, ...]]:
        """Jobs for the frames left over at the end (the ragged last chunk)."""
        if self._pending is not None:
            rest, self._pending = self._pending, None
            yield from self._row(rest)

    def _row(self, frames: np.ndarray) -> Iterator[tuple[Any, ...]]:
        """Jobs for one row of chunks in t (``chunks[0]`` frames or fewer at the end)."""
        ti = self._next_t // self.layout.chunks[0]
        self._next_t += len(frames)
        _, ch, cw = self.layout.chunks
        _, h, w = self.layout.shape
        for yi, y in enumerate(range(0, h, ch)):
            for xi, x in enumerate(range(0, w, cw)):
                yield self, (ti, yi, xi), frames[:, y : y + ch, x : x + cw]

    # ----------------------------------------------------------- encoding
    def encode(self, chunk: np.ndarray) -> bytes:
        """A chunk's stored bytes: padded to the chunk shape, little-endian, compressed.

        Zarr encodes every chunk at its full shape; the part outside the array is
        the fill value (0).
        """
        shape = self.layout.chunks
        if chunk.shape != shape:
            full = np.zeros(shape, self.dtype)
            full[tuple(slice(0, n) for n in chunk.shape)] = chunk
            chunk = full
        raw = np.ascontiguousarray(chunk, dtype=self.dtype)
        return raw.tobytes() if self.compressor is None else bytes(self.compressor(raw))

    # ------------------------------------------------------------ storing
    def put(self, coords: tuple[int, int, int], data: bytes) -> None:
        """Append chunk ``coords`` (encoded) to its shard file; chunks come in order."""
        per_shard = self.layout.chunks_per_shard
        shard = coords[0] // per_shard[0]
        if shard != self._shard:
            self._finish()
            self._open(shard)
        assert self._index is not None
        local = (coords[0] % per_shard[0], coords[1], coords[2])
        self._index[local] = (self._offset, len(data))
        self._file.write(data)
        self._offset += len(data)

    def _open(self, shard: int) -> None:
        key = self.chunk_key((shard, 0, 0))
        path = self.folder / key
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "wb")  # noqa: SIM115 - closed by _finish
        self._shard, self._offset = shard, 0
        self._index = np.full((*self.layout.chunks_per_shard, 2), EMPTY, "<u8")

    def _finish(self) -> None:
        """Write the open shard's index and checksum and close its file."""
        if self._file is None:
            return
        import google_crc32c

        assert self._index is not None
        index = self._index.tobytes()
        crc = np.uint32(google_crc32c.value(index)).astype("<u4").tobytes()
        self._file.write(index + crc)
        self._file.close()
        self._file = self._index = None

    def close(self) -> None:
        """Finish the last shard (call once every chunk is put)."""
        self._finish()

    def abort(self) -> None:
        """Close the open shard file without finishing it (an error stopped us)."""
        if self._file is not None:
            self._file.close()
            self._file = self._index = None
