"""HDF5 frame datasets compressed and inflated on every core, with standard filters.

:func:`write_frames` creates an ordinary dataset chunked one frame per chunk with the
shuffle and gzip filters built into every HDF5 library, compresses the chunks itself
in :mod:`playnano.io.codec`'s thread pool and stores them with h5py's direct chunk
write; h5py, h5dump, MATLAB and playnano 0.5.0 read the file with no plugin.
:func:`read_array` does the reverse for any gzip (+ shuffle) dataset, ours or 0.5.0's
(whatever its chunk shape): raw chunks are read in order and inflated in threads.
Anything else is read by h5py as usual.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from playnano.io import codec
from playnano.progress_ticks import READ, frames_done


@contextmanager
def guarded_hdf5(path: Path) -> Iterator[Any]:
    """A new HDF5 file at ``path`` (``h5py.File``) written through a guarded file.

    A full disk stops the writer without corrupting HDF5 (see
    :func:`playnano.io.guard.guarded_file`), and the guard's interrupt waits until
    h5py's ``close`` has returned: stopped between closing the objects and the
    file, it left the file open for HDF5 to flush at exit, a crash.
    """
    import h5py

    from playnano.io.guard import finish_before_interrupt, guarded_file

    finish_before_interrupt(h5py.File.close)
    with guarded_file(path) as fh, h5py.File(fh, "w") as f:
        yield f


_SHUFFLE = 2  # H5Z_FILTER_SHUFFLE
_DEFLATE = 1  # H5Z_FILTER_DEFLATE


def create_frames(
    parent: Any,
    name: str,
    shape: tuple[int, ...],
    dtype: Any,
    level: int,
    chunks: tuple[int, ...] | None = None,
) -> Any:
    """Create dataset ``name`` chunked one frame per chunk, gzip at ``level``.

    ``level`` 0 stores it uncompressed. ``chunks``, when given, must be one
    frame: ``(1, H, W)``. Its frames are written by :func:`write_layers`.
    """
    _, h, w = shape
    if chunks is not None and tuple(chunks) != (1, h, w):
        raise ValueError(f"chunks must be one frame, (1, {h}, {w}), not {chunks}")
    filters: dict[str, Any] = (
        {"compression": "gzip", "compression_opts": level, "shuffle": True}
        if level > 0
        else {}
    )
    return parent.create_dataset(
        name, shape=shape, dtype=dtype, chunks=(1, h, w), **filters
    )


def write_layers(pairs: list[tuple[Any, Any]], level: int) -> None:
    """Write each ``(dataset, frames)`` pair, frame by frame, the layers interleaved.

    Frame ``i`` of every layer is written before frame ``i + 1`` of any: a lazy
    stack's layers are then all computed from the same block, once, and the file
    is the same however the frames were held. Chunks are compressed a few at a
    time in threads (:mod:`playnano.io.codec`), so memory holds a handful of
    frames, never a layer.
    """
    from playnano.io.guard import check_cancelled

    if not pairs:
        return
    # layers may differ in length (the raw snapshot before frames were dropped)
    lengths = [arr.shape[0] for _, arr in pairs]
    direct = [level > 0 and ds.dtype == arr.dtype and arr.size > 0 for ds, arr in pairs]

    def frames() -> Any:
        for i in range(max(lengths)):
            check_cancelled()
            for j, (_, arr) in enumerate(pairs):
                if i < lengths[j]:
                    yield i, j, arr[i]

    def encode(item: tuple[int, int, np.ndarray]) -> tuple[int, int, Any]:
        i, j, frame = item
        return i, j, codec.h5_chunk(frame, level) if direct[j] else frame

    for i, j, chunk in codec.ordered_map(encode, frames()):
        ds = pairs[j][0]
        if direct[j]:
            ds.id.write_direct_chunk((i, 0, 0), chunk, filter_mask=0)
        else:
            ds[i] = chunk
        if j == max(k for k, n in enumerate(lengths) if n > i):
            frames_done(1)  # frame i of every layer is written


def write_frames(
    parent: Any,
    name: str,
    arr: np.ndarray,
    level: int,
    chunks: tuple[int, ...] | None = None,
) -> Any:
    """Create dataset ``name`` of ``arr``, one frame per chunk, compressed at ``level``.

    ``level`` 0 stores it uncompressed. Frames are compressed a few at a time in
    threads, so memory holds a handful of frames, never the layer. ``chunks``,
    when given, must be one frame: ``(1, H, W)``.
    """
    ds = create_frames(parent, name, arr.shape, arr.dtype, level, chunks)
    write_layers([(ds, arr)], level)
    return ds


def _pipeline(ds: Any) -> list[int] | None:
    """The dataset's filter ids when it is chunked, else None."""
    if ds.chunks is None:
        return None
    dcpl = ds.id.get_create_plist()
    return [dcpl.get_filter(i)[0] for i in range(dcpl.get_nfilters())]


def read_range(ds: Any, start: int, stop: int) -> np.ndarray:
    """Frames ``start:stop`` of the 3D dataset ``ds``, inflated in threads when gzip.

    Only the chunks holding those frames are read (for a lazy stack's block).

    Raises
    ------
    OSError
        If a chunk is damaged.
    """
    filters = _pipeline(ds)
    t, h, w = ds.shape
    grid = [-(-s // c) for s, c in zip(ds.shape, ds.chunks or ds.shape, strict=True)]
    if (
        filters not in ([_DEFLATE], [_SHUFFLE, _DEFLATE])
        or ds.dtype.kind not in "biuf"
        or ds.size == 0
        or ds.id.get_num_chunks() != int(np.prod(grid))  # unwritten chunks: h5py
    ):
        return np.asarray(ds[start:stop])
    shuffled = filters[0] == _SHUFFLE
    ct, ch, cw = ds.chunks
    dtype, chunk_shape = ds.dtype, tuple(ds.chunks)
    out = np.empty((stop - start, h, w), dtype)
    offsets = [
        (c0, y, x)
        for c0 in range(start // ct * ct, stop, ct)
        for y in range(0, h, ch)
        for x in range(0, w, cw)
    ]

    def inflate(offset: tuple[int, int, int]) -> Any:
        mask, raw = ds.id.read_direct_chunk(offset)
        if mask:  # a filter was skipped for this chunk: let HDF5 decode it
            return offset, None
        try:
            return offset, codec.h5_unchunk(raw, dtype, chunk_shape, shuffled)
        except codec.ERRORS as exc:
            raise OSError(f"chunk at {offset} does not inflate ({exc})") from None

    from playnano.io.guard import check_cancelled

    # raw chunks are read by one thread at a time (h5py's lock); inflating is parallel
    for (c0, y, x), chunk in codec.ordered_map(inflate, offsets):
        check_cancelled()  # a stopped stream stops reading between chunks
        t0, t1 = max(c0, start), min(c0 + ct, stop, t)
        ys, xs = slice(y, min(y + ch, h)), slice(x, min(x + cw, w))
        dest = out[t0 - start : t1 - start, ys, xs]
        if chunk is None:
            dest[...] = ds[t0:t1, ys, xs]
        else:
            dest[...] = chunk[t0 - c0 : t1 - c0, : ys.stop - y, : xs.stop - x]
    return out


def read_array(ds: Any) -> np.ndarray:
    """The whole dataset ``ds`` as an array, inflated in threads when it is gzip.

    Raises
    ------
    OSError
        If a chunk is damaged (as h5py raises for the datasets it reads itself).
    """
    filters = _pipeline(ds)
    if (
        filters not in ([_DEFLATE], [_SHUFFLE, _DEFLATE])
        or ds.dtype.kind not in "biuf"
        or ds.size == 0
    ):
        return np.asarray(ds[()])
    shuffled = filters[0] == _SHUFFLE
    n = ds.id.get_num_chunks()
    n_grid = int(
        np.prod([-(-s // c) for s, c in zip(ds.shape, ds.chunks, strict=True)])
    )
    out = (
        np.empty(ds.shape, ds.dtype)
        if n == n_grid
        else np.full(ds.shape, ds.fillvalue, ds.dtype)
    )
    chunk_shape = tuple(ds.chunks)
    dtype = ds.dtype

    def raw_chunks() -> Iterator[tuple[tuple[int, ...], int, bytes]]:
        for i in range(n):
            offset = tuple(ds.id.get_chunk_info(i).chunk_offset)
            mask, raw = ds.id.read_direct_chunk(offset)
            yield offset, mask, raw

    def inflate(item: tuple[tuple[int, ...], int, bytes]) -> Any:
        offset, mask, raw = item
        if mask:  # a filter was skipped for this chunk: let HDF5 decode it
            return offset, None
        try:
            return offset, codec.h5_unchunk(raw, dtype, chunk_shape, shuffled)
        except codec.ERRORS as exc:  # as h5py reports a chunk that fails to inflate
            raise OSError(f"chunk at {offset} does not inflate ({exc})") from None

    for offset, chunk in codec.ordered_map(inflate, raw_chunks()):
        where = tuple(
            slice(o, min(o + c, s))
            for o, c, s in zip(offset, chunk_shape, ds.shape, strict=True)
        )
        if chunk is None:
            out[where] = ds[where]
        else:
            out[where] = chunk[tuple(slice(0, w.stop - w.start) for w in where)]
        if ds.ndim == 3 and not any(offset[1:]):  # a row of chunks begins: frames
            frames_done(where[0].stop - where[0].start, READ)
    return out
