"""A small zip writer for NPZ bundles whose members are deflated in parallel.

Python's :mod:`zipfile` compresses a member itself, in one thread, and has no public
way to take bytes already compressed. This writer follows the zip specification
(PKWARE APPNOTE 6.3, sections 4.3-4.5) for the subset an NPZ needs: one disk, stored
or deflated members, sizes and CRC-32 patched into the local header once a member is
written (no data descriptors), ZIP64 records when a member, an offset or the member
count outgrows the classic fields. Names are UTF-8 (flag bit 11 when not ASCII);
dates are 1980-01-01 00:00, as ``zipfile`` gives a member written by name, so equal
content gives equal files.
"""

from __future__ import annotations

import contextlib
import shutil
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from playnano.io import codec
from playnano.progress_ticks import frames_done

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_EOCD = struct.Struct("<IHHHHIIH")
_EOCD64 = struct.Struct("<IQHHIIQQQQ")
_LOCATOR64 = struct.Struct("<IIQI")
_MAX32 = 0xFFFFFFFF
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01
_DOS_TIME = 0
_UNIX = 3 << 8  # "version made by": upper byte = host system
_COPY_PIECE = 8 << 20  # bytes copied at a time by ZipWriter.add_copy


@dataclass
class _Member:
    name: bytes
    flags: int
    method: int
    crc: int
    csize: int
    usize: int
    offset: int
    zip64: bool


class ZipWriter:
    """Write zip members from streams of bytes; call :meth:`close` to finish.

    ``fh`` must be a seekable binary file opened for writing.
    """

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh
        self.members: list[_Member] = []

    def add(
        self,
        name: str,
        pieces: Iterable[Any],
        size: int,
        level: int,
        n_threads: int | None = None,
        zip64: bool = False,
    ) -> None:
        """Add member ``name`` holding the concatenated ``pieces`` (``size`` bytes).

        ``level`` 0 stores the bytes; 1-9 deflates them with :mod:`playnano.io.codec`.
        ``zip64`` forces ZIP64 sizes (chosen anyway when the member may reach 4 GiB).
        """
        zip64 = zip64 or _needs_zip64(size)
        member = self._header(name, 8 if level else 0, zip64)
        crc, usize, csize = codec.deflate_stream(
            pieces, level, self.fh.write, n_threads
        )
        if usize != size:
            raise ValueError(f"{name}: {usize} bytes written, {size} announced")
        if not zip64 and csize > _MAX32:
            raise ValueError(
                f"{name}: compressed member outgrew 4 GiB"
            )  # pragma: no cover
        self._finish(member, crc, usize, csize)

    def add_copy(self, name: str, source: str) -> None:
        """Add member ``name`` with the content of member ``source``, already written.

        Its compressed bytes are copied from the file (``fh`` must also be readable,
        as with mode ``"w+b"``): the result equals compressing the content again.
        """
        src = next(m for m in self.members if m.name == source.encode("utf-8"))
        start = src.offset + _LOCAL.size + len(src.name) + (20 if src.zip64 else 0)
        member = self._header(name, src.method, src.zip64)
        done = 0
        while done < src.csize:
            self.fh.seek(start + done)
            piece = self.fh.read(min(_COPY_PIECE, src.csize - done))
            if not piece:  # pragma: no cover - the file shrank under us
                raise ValueError(f"{name}: member {source} is cut short")
            self.fh.seek(0, 2)
            self.fh.write(piece)
            done += len(piece)
        self._finish(member, src.crc, src.usize, src.csize)

    def _header(self, name: str, method: int, zip64: bool) -> _Member:
        encoded = name.encode("utf-8")
        flags = 0 if encoded.isascii() else 0x800
        offset = self.fh.tell()
        extra = struct.pack("<HHQQ", 1, 16, 0, 0) if zip64 else b""
        self.fh.write(
            _LOCAL.pack(
                0x04034B50,
                45 if zip64 else 20,
                flags,
                method,
                _DOS_TIME,
                _DOS_DATE,
                0,
                _MAX32 if zip64 else 0,
                _MAX32 if zip64 else 0,
                len(encoded),
                len(extra),
            )
            + encoded
            + extra
        )
        return _Member(encoded, flags, method, 0, 0, 0, offset, zip64)

    def _finish(self, m: _Member, crc: int, usize: int, csize: int) -> None:
        """Patch sizes and CRC into the local header; record the member."""
        end = self.fh.tell()
        self.fh.seek(m.offset + 14)
        if m.zip64:
            self.fh.write(struct.pack("<I", crc))
            self.fh.seek(m.offset + 30 + len(m.name) + 4)
            self.fh.write(struct.pack("<QQ", usize, csize))
        else:
            self.fh.write(struct.pack("<III", crc, csize, usize))
        self.fh.seek(end)
        m.crc, m.usize, m.csize = crc, usize, csize
        self.members.append(m)

    def add_array(
        self, name: str, arr: np.ndarray, level: int, n_threads: int | None = None
    ) -> None:
        """Add ``arr`` as an ``.npy`` member, streamed one frame at a time."""
        header = npy_header(arr)
        self.add(
            name,
            [header, *_frames(arr)],
            len(header) + arr.nbytes,
            level,
            n_threads,
        )

    def add_together(
        self, items: list[tuple[str, Any]], level: int, spill: Path
    ) -> dict[str, Spilled]:
        """Add ``items[0]`` now and compress the others beside it, in one walk.

        The arrays (``(T, H, W)``, or lazy frames) are walked frame by frame, frame
        ``i`` of each before frame ``i + 1`` of any, so a lazy stack's layers are
        computed once. ``items[0]`` is streamed into the zip; the others are
        compressed into files ``spill.<k>`` (in the output's folder), added later by
        :meth:`add_spilled` where the member order puts them. Bytes are those
        :meth:`add_array` writes for each.
        """
        from playnano.io.guard import check_cancelled

        headers = [npy_header(arr) for _, arr in items]
        sizes = [
            len(h) + arr.nbytes for h, (_, arr) in zip(headers, items, strict=True)
        ]
        method = 8 if level else 0
        first = self._header(items[0][0], method, _needs_zip64(sizes[0]))
        paths = [Path(f"{spill}.{k}") for k in range(1, len(items))]
        try:
            with contextlib.ExitStack() as opened, codec.DeflatePool() as pool:
                files = [opened.enter_context(open(p, "w+b")) for p in paths]
                outs = [self.fh.write, *(f.write for f in files)]
                streams = [pool.stream(level, write) for write in outs]
                for stream, header in zip(streams, headers, strict=True):
                    stream.feed(header)
                # layers may differ in length (raw frames before some were dropped)
                for i in range(max(len(arr) for _, arr in items)):
                    check_cancelled()
                    for stream, (_, arr) in zip(streams, items, strict=True):
                        if i < len(arr):
                            frame = np.ascontiguousarray(arr[i])
                            stream.feed(frame.reshape(-1).view(np.uint8))
                    frames_done(1)
                done = [stream.close() for stream in streams]
        except BaseException:
            for p in paths:
                p.unlink(missing_ok=True)
            raise
        for (name, _), size, (_, usize, _) in zip(items, sizes, done, strict=True):
            if usize != size:  # pragma: no cover - arrays changed shape under us
                raise ValueError(f"{name}: {usize} bytes written, {size} announced")
        self._finish(first, *done[0])
        return {
            name: Spilled(p, method, _needs_zip64(size), *d)
            for p, (name, _), size, d in zip(
                paths, items[1:], sizes[1:], done[1:], strict=True
            )
        }

    def add_spilled(self, name: str, spilled: Spilled) -> None:
        """Add member ``name`` from a file :meth:`add_together` compressed it to."""
        member = self._header(name, spilled.method, spilled.zip64)
        with open(spilled.path, "rb") as src:
            shutil.copyfileobj(src, self.fh, _COPY_PIECE)
        spilled.path.unlink()
        self._finish(member, spilled.crc, spilled.usize, spilled.csize)

    def close(self) -> None:
        """Write the central directory and the end records."""
        start = self.fh.tell()
        for m in self.members:
            fields = [m.usize, m.csize] if m.zip64 else []
            if m.offset >= _MAX32:
                fields.append(m.offset)
            extra = (
                struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields)
                if fields
                else b""
            )
            version = 45 if extra else 20
            self.fh.write(
                _CENTRAL.pack(
                    0x02014B50,
                    _UNIX | version,
                    version,
                    m.flags,
                    m.method,
                    _DOS_TIME,
                    _DOS_DATE,
                    m.crc,
                    _MAX32 if m.zip64 else m.csize,
                    _MAX32 if m.zip64 else m.usize,
                    len(m.name),
                    len(extra),
                    0,
                    0,
                    0,
                    0o600 << 16,
                    min(m.offset, _MAX32),
                )
                + m.name
                + extra
            )
        end = self.fh.tell()
        count, cd_size = len(self.members), end - start
        if count > 0xFFFF or cd_size >= _MAX32 or start >= _MAX32:
            self.fh.write(
                _EOCD64.pack(
                    0x06064B50, 44, _UNIX | 45, 45, 0, 0, count, count, cd_size, start
                )
            )
            self.fh.write(_LOCATOR64.pack(0x07064B50, 0, end, 1))
        self.fh.write(
            _EOCD.pack(
                0x06054B50,
                0,
                0,
                min(count, 0xFFFF),
                min(count, 0xFFFF),
                min(cd_size, _MAX32),
                min(start, _MAX32),
                0,
            )
        )


def _needs_zip64(size: int) -> bool:
    """ZIP64 sizes for a member of ``size`` bytes, decided before it is written:
    deflate can outgrow its input by a few bytes per block."""
    return size + size // 64 + (1 << 20) >= _MAX32


@dataclass
class Spilled:
    """A member compressed into a file of its own, waiting for its place."""

    path: Path
    method: int
    zip64: bool
    crc: int
    usize: int
    csize: int


def npy_header(arr: np.ndarray) -> bytes:
    """The ``.npy`` header ``np.save`` writes for ``arr`` in C order."""
    import io

    fmt = np.lib.format
    meta = {
        "descr": fmt.dtype_to_descr(arr.dtype),
        "fortran_order": False,
        "shape": arr.shape,
    }
    buf = io.BytesIO()
    try:
        fmt.write_array_header_1_0(buf, meta)
    except ValueError:  # pragma: no cover - a header over 64 KiB
        buf = io.BytesIO()
        fmt.write_array_header_2_0(buf, meta)
    return buf.getvalue()


def _frames(arr: np.ndarray) -> Iterable[np.ndarray]:
    """``arr``'s bytes in C order, a frame at a time (a copy of one frame at most)."""
    if arr.ndim < 2:
        yield np.ascontiguousarray(arr).reshape(-1).view(np.uint8)
        return
    for frame in arr:
        yield np.ascontiguousarray(frame).reshape(-1).view(np.uint8)
        frames_done(1 if arr.ndim == 3 else 0)  # a 2-D array's rows are no frames
