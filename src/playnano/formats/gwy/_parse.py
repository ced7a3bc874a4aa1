"""A bounded parser of Gwyddion's serialisation (``.gwy`` files, any writer).

Every size is checked against the bytes that hold it before anything is read, so a
truncated or hostile file is a one-line :class:`~playnano.errors.ReadError` and
never a large allocation. Arrays are not read: they come back as
:class:`ArrayRef` (where they are), read when asked.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from playnano.errors import ReadError
from playnano.formats.gwy import layout

_SCALARS = {
    "b": ("<B", 1),
    "c": ("<B", 1),
    "i": ("<i", 4),
    "q": ("<q", 8),
    "d": ("<d", 8),
}
_ARRAYS: dict[str, np.dtype] = {
    "C": np.dtype("u1"),
    "I": np.dtype("<i4"),
    "Q": np.dtype("<i8"),
    "D": np.dtype("<f8"),
}
#: Objects nested deeper than this are refused (Gwyddion's own files nest 3 deep).
MAX_DEPTH = 32


@dataclass(frozen=True)
class ArrayRef:
    """An array in the file: ``count`` items of type ``code`` at ``offset``."""

    offset: int
    count: int
    code: str

    def read(self, buf: Any) -> np.ndarray:
        """The array's items (a copy, independent of ``buf``)."""
        dtype = _ARRAYS[self.code]
        return np.frombuffer(buf, dtype, self.count, self.offset).copy()


@dataclass
class GwyObject:
    """One serialised object: its type name and its components by name."""

    name: str
    items: dict[str, Any] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        """The component ``key``, or ``default``."""
        return self.items.get(key, default)


class _Parser:
    def __init__(self, buf: Any, path: Path) -> None:
        self.buf = buf
        self.path = path

    def fail(self, pos: int, what: str) -> ReadError:
        return ReadError(f"{self.path}: not a valid .gwy file: {what} at byte {pos}")

    def cstring(self, pos: int, end: int) -> tuple[str, int]:
        stop = self.buf.find(b"\0", pos, end)
        if stop < 0:
            raise self.fail(pos, "a name or string runs past its object")
        raw = bytes(self.buf[pos:stop])
        return raw.decode("utf-8", "replace"), stop + 1

    def object(self, pos: int, end: int, depth: int) -> tuple[GwyObject, int]:
        if depth > MAX_DEPTH:
            raise self.fail(pos, f"objects nested more than {MAX_DEPTH} deep")
        name, pos = self.cstring(pos, end)
        if pos + 4 > end:
            raise self.fail(pos, f"object {name!r} has no size")
        (size,) = struct.unpack_from("<I", self.buf, pos)
        pos += 4
        stop = pos + size
        if stop > end:
            raise self.fail(pos, f"object {name!r} declares {size} bytes past its end")
        obj = GwyObject(name)
        while pos < stop:
            key, pos = self.cstring(pos, stop)
            if pos >= stop:
                raise self.fail(pos, f"component {key!r} has no type")
            code = chr(self.buf[pos])
            obj.items[key], pos = self.value(code, pos + 1, stop, depth, key)
            obj.types[key] = code
        return obj, stop

    def value(self, code: str, pos: int, end: int, depth: int, key: str) -> Any:
        if code in _SCALARS:
            fmt, size = _SCALARS[code]
            if pos + size > end:
                raise self.fail(pos, f"component {key!r} is cut short")
            return struct.unpack_from(fmt, self.buf, pos)[0], pos + size
        if code == "s":
            return self.cstring(pos, end)
        if code == "o":
            return self.object(pos, end, depth + 1)
        if pos + 4 > end:
            raise self.fail(pos, f"array {key!r} has no length")
        (count,) = struct.unpack_from("<I", self.buf, pos)
        pos += 4
        if code in _ARRAYS:
            stop = pos + count * _ARRAYS[code].itemsize
            if stop > end:
                raise self.fail(
                    pos, f"array {key!r} of {count} items runs past its end"
                )
            return ArrayRef(pos, count, code), stop
        if code in "SO":
            items = []
            for _ in range(count):
                if pos >= end:
                    raise self.fail(pos, f"array {key!r} has fewer than {count} items")
                item, pos = (
                    self.cstring(pos, end)
                    if code == "S"
                    else self.object(pos, end, depth + 1)
                )
                items.append(item)
            return items, pos
        raise self.fail(pos - 5, f"component {key!r} has unknown type {code!r}")


@contextmanager
def opened(path: Path) -> Iterator[tuple[Any, GwyObject]]:
    """The file's bytes (memory-mapped) and its root container, parsed."""
    with open(path, "rb") as fh:
        size = fh.seek(0, 2)
        if size < len(layout.MAGIC) + 1:
            raise ReadError(f"{path}: not a .gwy file ({size} bytes)")
        buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        if buf[: len(layout.MAGIC)] != layout.MAGIC:
            raise ReadError(f"{path}: not a .gwy file (no GWYP signature)")
        parser = _Parser(buf, path)
        root, _ = parser.object(len(layout.MAGIC), size, 0)
        if root.name != layout.CONTAINER:
            raise ReadError(f"{path}: the file holds a {root.name}, not a GwyContainer")
        yield buf, root
    finally:
        buf.close()
