"""Frames of an NPZ bundle's ``.npy`` member, read on demand (a FrameSource).

A member is an ``.npy`` file inside the zip: a header, then the array's values in
C order, so frame ``i`` is ``frame_bytes`` at ``header + i * frame_bytes`` of the
member. A stored member is read by seeking in the file. A deflated one is inflated
as a stream with a cursor (:meth:`zipfile.ZipExtFile.seek`): a read at or after
the cursor inflates on from it, a read before it restarts the member. Either way
the bytes inflated are bounded by the member's declared size, which
:func:`~playnano.formats.npz.members.declared` has checked against its
compressed size (no zip bombs), and the member's CRC-32 is checked whenever its
frames have been read through to the end in order.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any

import numpy as np

from playnano.errors import ReadError
from playnano.formats.npz.members import Member

_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, ..., name and extra lengths


#: Bytes inflated per call: the only copy besides the frames themselves.
_INFLATE_STEP = 1 << 20


def _inflate_into(fh: IO[bytes], raw: Any) -> int:
    """Fill ``raw`` from the member stream a MiB at a time; the bytes filled."""
    got = 0
    while got < raw.size:
        chunk = fh.read(min(_INFLATE_STEP, raw.size - got))
        if not chunk:
            break
        raw[got : got + len(chunk)] = np.frombuffer(chunk, np.uint8)
        got += len(chunk)
    return got


class NpyMemberFrames:
    """Frames ``start`` to ``stop`` of one C-ordered ``(T, H, W)`` ``.npy`` member.

    Parameters
    ----------
    path : pathlib.Path
        The bundle (opened at the first read, closed by :meth:`close`).
    member : Member
        What the member's zip entry and ``.npy`` header declare.
    """

    def __init__(self, path: Path, member: Member) -> None:
        self.path = path
        self.member = member
        self.shape: tuple[int, int, int] = member.shape  # type: ignore[assignment]
        self.dtype = member.dtype
        self.frame_bytes = int(np.prod(member.shape[1:])) * member.dtype.itemsize
        self.stored = member.info.compress_type == zipfile.ZIP_STORED
        self._zip: zipfile.ZipFile | None = None
        self._fh: IO[bytes] | None = None
        self._data_start = 0  # where the .npy bytes start in the file (stored)
        self._crc_at = -1  # member bytes in the CRC so far (stored; -1: none)
        self._crc = 0
        #: A CRC-32 found wrong: every later read fails with it too (a second
        #: reader of the last block must not get frames the first was refused).
        self._corrupt: ReadError | None = None

    def _error(self, what: str) -> ReadError:
        return ReadError(f"{self.path}: member {self.member.key!r} {what}")

    def _open(self) -> IO[bytes]:
        if self._fh is not None:
            return self._fh
        info = self.member.info
        if self.stored:
            fh = open(self.path, "rb")  # noqa: SIM115 (closed by close())
            fh.seek(info.header_offset)
            head = fh.read(_LOCAL_HEADER.size)
            if len(head) != _LOCAL_HEADER.size or head[:4] != b"PK\x03\x04":
                fh.close()
                raise self._error("has no valid local zip header")
            _, name_len, extra_len = _LOCAL_HEADER.unpack(head)
            self._data_start = info.header_offset + len(head) + name_len + extra_len
            if self._data_start + info.compress_size > self.path.stat().st_size:
                fh.close()
                raise self._error("runs past the end of the file")
            self._fh = fh
        else:
            self._zip = zipfile.ZipFile(self.path)
            self._fh = self._zip.open(info)
        return self._fh

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames ``start`` to ``stop`` as a new ``(stop-start, H, W)`` array."""
        if self._corrupt is not None:
            raise self._corrupt
        out = np.empty((stop - start, *self.shape[1:]), self.dtype)
        raw = out.reshape(-1).view(np.uint8)
        at = self.member.header_bytes + start * self.frame_bytes
        try:
            fh = self._open()
            fh.seek(self._data_start + at if self.stored else at)
            got = fh.readinto(raw) if self.stored else _inflate_into(fh, raw)  # type: ignore[attr-defined]
        except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
            raise self._error(f"is unreadable ({exc})") from None
        if got != raw.size:
            raise self._error(
                f"ends after {at + got} of {self.member.info.file_size} bytes"
            )
        if self.stored:
            self._check_crc(at, raw)
        return out

    def _check_crc(self, at: int, raw: Any) -> None:
        """Carry the CRC-32 over reads in order; compare it at the member's end."""
        if at == self.member.header_bytes and self._crc_at != -2:
            assert self._fh is not None  # frame 0 onwards: start with the header
            self._fh.seek(self._data_start)
            self._crc, self._crc_at = zlib.crc32(self._fh.read(at)), at
        elif at != self._crc_at:
            return
        self._crc = zlib.crc32(raw, self._crc)
        self._crc_at += raw.size
        if self._crc_at == self.member.info.file_size:
            self._crc_at = -2  # checked
            if self._crc != self.member.info.CRC:
                self._corrupt = self._error("is corrupt (its CRC-32 does not match)")
                raise self._corrupt

    def close(self) -> None:
        """Close the file."""
        for handle in (self._fh, self._zip):
            if handle is not None:
                handle.close()
        self._fh = self._zip = None
