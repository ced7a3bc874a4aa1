"""The one guarded opening of an NPZ bundle: what its members declare, checked first.

A zip's central directory and each ``.npy`` header say how large a member is; a
hostile file can say gigabytes in a few kB (a zip bomb) or disagree with itself.
:func:`open_npz`, which every door of the NPZ reader starts at, reads only the
directory and the headers (a few hundred inflated bytes per member,
:func:`declared`) and refuses what no honest bundle holds, so a bundle is inflated
only once its members agree with each other.
"""

from __future__ import annotations

import itertools
import math
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from playnano.errors import ReadError
from playnano.formats import bundle
from playnano.formats.npz import layout

#: Deflate cannot inflate more than 1032 times (plus a small constant).
_MAX_DEFLATE_RATIO = 1032
#: Other methods zipfile inflates; their sizes are checked against the headers.
_OTHER_METHODS = {zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
#: Members read as numbers or names must be small.
SMALL_MEMBER_BYTES = 64 << 10


@dataclass(frozen=True)
class Member:
    """One ``<key>.npy`` member: its zip entry and what its header declares."""

    key: str
    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    dtype: np.dtype
    #: True when the array is stored in Fortran (column-major) order.
    fortran: bool = False
    #: Bytes of the ``.npy`` magic and header before the array's values.
    header_bytes: int = 0


def _check_directory(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    """Entries that fit in the file, do not overlap, and could inflate as declared."""
    size = path.stat().st_size
    ends: list[tuple[int, int, str]] = []
    for info in infos:
        name = info.filename.removesuffix(layout.MEMBER_SUFFIX)
        if info.compress_type == zipfile.ZIP_STORED:
            if info.file_size != info.compress_size:
                raise ReadError(
                    f"{path}: member {name!r} is stored as {info.compress_size} "
                    f"bytes but declares {info.file_size}"
                )
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            if info.file_size > _MAX_DEFLATE_RATIO * info.compress_size + 1024:
                raise ReadError(
                    f"{path}: member {name!r} declares {info.file_size} bytes from "
                    f"{info.compress_size} compressed; deflate cannot inflate that far"
                )
        elif info.compress_type not in _OTHER_METHODS:
            raise ReadError(
                f"{path}: member {name!r} uses unknown zip compression method "
                f"{info.compress_type}"
            )
        end = info.header_offset + info.compress_size
        if end > size:
            raise ReadError(f"{path}: member {name!r} runs past the end of the file")
        ends.append((info.header_offset, end, name))
    ends.sort()
    for (_, end, name), (start, _, _) in itertools.pairwise(ends):
        if start < end:
            raise ReadError(f"{path}: member {name!r} overlaps the next member")


def npy_header(fh: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype]:
    """``(shape, fortran_order, dtype)`` of the ``.npy`` stream ``fh`` (at its start)."""
    fmt = np.lib.format
    version = fmt.read_magic(fh)
    read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
    return read(fh)


def _header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> Member:
    key = info.filename[: -len(layout.MEMBER_SUFFIX)]
    try:
        with zf.open(info) as fh:
            shape, fortran, dtype = npy_header(fh)
            header_bytes = fh.tell()
    except (ValueError, OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise ReadError(f"{path}: member {key!r} is unreadable ({exc})") from None
    if not dtype.hasobject:
        nbytes = math.prod(shape) * dtype.itemsize
        if header_bytes + nbytes != info.file_size:
            raise ReadError(
                f"{path}: member {key!r} declares {shape} {dtype} ({nbytes} bytes) "
                f"but holds {info.file_size - header_bytes}"
            )
    return Member(key, info, tuple(shape), dtype, bool(fortran), header_bytes)


def declared(zf: zipfile.ZipFile, path: Path) -> dict[str, Member]:
    """Every ``.npy`` member by key, once the bundle's declarations agree."""
    infos = [i for i in zf.infolist() if i.filename.endswith(layout.MEMBER_SUFFIX)]
    _check_directory(path, zf.infolist())
    members = {m.key: m for m in (_header(zf, i, path) for i in infos)}
    data = members.get(layout.DATA)
    if data is not None and len(data.shape) != 3:
        raise ReadError(
            f"{path}: 'data' must be a 3D (frames, height, width) array; "
            f"got shape {data.shape}"
        )
    frames = [
        m.shape[0]
        for m in members.values()
        if (m.key == layout.DATA or m.key.startswith(layout.LAYER_PREFIX)) and m.shape
    ]
    text_budget = bundle.text_budget(max(frames, default=0))
    for m in members.values():
        if m.key.startswith(layout.MASK_PREFIX) and data is not None:
            if m.shape != data.shape:
                raise ReadError(
                    f"{path}: mask {m.key[len(layout.MASK_PREFIX) :]!r} has shape "
                    f"{m.shape}; "
                    f"'data' is {data.shape}"
                )
        elif m.key in layout.SCALARS and m.info.file_size > SMALL_MEMBER_BYTES:
            raise ReadError(
                f"{path}: member {m.key!r} holds {m.info.file_size} bytes; "
                "it should be a single value"
            )
        elif m.key in layout.TEXTS and m.info.file_size > text_budget:
            raise ReadError(
                f"{path}: member {m.key!r} holds {m.info.file_size} bytes of text "
                f"for {max(frames, default=0)} frames; refusing to inflate it"
            )
    return members


@contextmanager
def open_npz(path: Path) -> Iterator[tuple[zipfile.ZipFile, dict[str, Member]]]:
    """The open zip of the NPZ at ``path`` and its members, once they agree.

    Raises
    ------
    ReadError
        Not a zip file, or members whose declarations no honest bundle makes
        (see :func:`declared`).
    """
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ReadError(f"{path}: not an NPZ file ({exc})") from None
    with zf:
        yield zf, declared(zf, path)
