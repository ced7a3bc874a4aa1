"""Walk a TIFF's chain of image file directories (IFDs) before tifffile does.

Each IFD ends with the offset of the next; a damaged or hostile file can point back
at an earlier IFD, and tifffile then yields pages forever (a 300-byte file hangs a
reader). :func:`count_pages` follows the chain itself, reading a few bytes per page,
and refuses a loop, an offset outside the file or more pages than the file could
hold, with a one-line :class:`~playnano.errors.ReadError` naming the file.
"""

from __future__ import annotations

import itertools
import struct
from pathlib import Path
from typing import Any

from playnano.errors import ReadError
from playnano.readers._common import check_tiff_page


def count_pages(path: Path) -> int:
    """The number of IFDs in the main chain of the TIFF at ``path``."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(16)
        if len(head) < 8 or head[:2] not in (b"II", b"MM"):
            raise ReadError(f"{path}: not a TIFF file (no TIFF signature)")
        order = "<" if head[:2] == b"II" else ">"
        magic = struct.unpack(order + "H", head[2:4])[0]
        big = magic == 43
        if magic not in (42, 43) or (big and len(head) < 16):
            raise ReadError(f"{path}: not a TIFF file (no TIFF signature)")
        count_fmt, entry, link_fmt = ("Q", 20, "Q") if big else ("H", 12, "I")
        count_size, link_size = struct.calcsize(count_fmt), struct.calcsize(link_fmt)
        first = head[8:16] if big else head[4:8]
        offset = struct.unpack(order + link_fmt, first)[0]
        seen: set[int] = set()
        spans: list[tuple[int, int]] = []
        while offset:
            where = f"IFD {len(seen)} at offset {offset}"
            if offset in seen:
                raise ReadError(
                    f"{path}: the TIFF's IFD chain loops (IFD {len(seen) - 1} "
                    f"points back at offset {offset}); the file is damaged"
                )
            if offset < (16 if big else 8) or offset + count_size > size:
                raise ReadError(
                    f"{path}: file is truncated or corrupt after {size} bytes "
                    f"({where} lies outside it)"
                )
            seen.add(offset)
            fh.seek(offset)
            n = struct.unpack(order + count_fmt, fh.read(count_size))[0]
            link = offset + count_size + n * entry
            if n == 0:
                raise ReadError(f"{path}: {where} is empty; the file is damaged")
            if link + link_size > size:
                raise ReadError(
                    f"{path}: file is truncated or corrupt after {size} bytes "
                    f"({where} declares {n} entries)"
                )
            spans.append((offset, link + link_size))
            fh.seek(link)
            offset = struct.unpack(order + link_fmt, fh.read(link_size))[0]
    spans.sort()
    for (start, end), (nxt, _) in itertools.pairwise(spans):
        if nxt < end:
            raise ReadError(
                f"{path}: the TIFF's IFDs at offsets {start} and {nxt} overlap; "
                "the file is damaged"
            )
    return len(seen)


def check_series(path: Path, series: Any) -> None:
    """Refuse a series its pages cannot fill, before tifffile allocates it.

    Each page must lie within the file and store its declared image
    (:func:`~playnano.readers._common.check_tiff_page`), and the series must be made
    of its pages, not of sizes the metadata alone claims.
    """
    for i, page in enumerate(series.pages):
        if page is not None:
            check_tiff_page(path, page, f"image data of page {i}")
    offset = series.dataoffset  # set when the whole series is one contiguous block
    if offset is not None:
        size = path.stat().st_size
        if offset + int(series.nbytes) > size:
            raise ReadError(
                f"{path}: the image is declared as {series.shape} "
                f"({series.nbytes} bytes from offset {offset}) but the file has "
                f"{size} bytes"
            )
        return
    pages = [p for p in series.pages if p is not None]
    if len(pages) != len(series.pages):
        raise ReadError(f"{path}: the image lacks some of its pages")
    if sum(int(p.size) for p in pages) < int(series.size):
        raise ReadError(
            f"{path}: the image is declared as {series.shape} but its "
            f"{len(pages)} pages hold less"
        )
