"""Walk a TIFF's chain of image file directories (IFDs) before tifffile does.

Each IFD ends with the offset of the next; a damaged or hostile file can point back
at an earlier IFD, and tifffile then yields pages for ever (a 300-byte file hung a
reader), or declare a sample format no library can decode (tifffile asserted).
:func:`walk_ifds` follows the chain itself, reading each IFD's entries, and refuses
a loop, an offset outside the file, IFDs that overlap, sample formats or bit
depths TIFF does not define, a tag that sizes the image holding no integer or
several where TIFF has one, and an image without a width or length (tifffile
compared bytes with ints, or divided by zero), with a one-line
:class:`~playnano.errors.ReadError` naming the file. Used by :func:`~playnano.readers.guarded.tiff.open_tiff`.
"""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playnano.errors import ReadError

#: Tags read from every IFD: width, length, bits, compression, samples, format.
_TAGS = {256: "width", 257: "length", 258: "bits", 259: "compression"}
_TAGS |= {277: "samples", 339: "sample_format"}
#: StripOffsets and TileOffsets: where a page's image data lies.
_OFFSETS = frozenset({273, 324})
#: Integer TIFF field types tifffile reads as numbers (a BYTE or UNDEFINED field
#: comes as bytes): byte size and struct code of one value.
_TYPES = {3: (2, "H"), 4: (4, "I"), 16: (8, "Q"), 8: (2, "h"), 9: (4, "i")}
#: TIFF field type names (TIFF 6.0 and BigTIFF).
_TYPE_NAMES = {1: "BYTE", 2: "ASCII", 3: "SHORT", 4: "LONG", 5: "RATIONAL"}
_TYPE_NAMES |= {6: "SBYTE", 7: "UNDEFINED", 8: "SSHORT", 9: "SLONG", 10: "SRATIONAL"}
_TYPE_NAMES |= {11: "FLOAT", 12: "DOUBLE", 13: "IFD", 16: "LONG8", 17: "SLONG8"}
#: Tags tifffile sizes a page with, by name; each must hold integers.
_NAMES = {256: "ImageWidth", 257: "ImageLength", 258: "BitsPerSample"}
_NAMES |= {259: "Compression", 277: "SamplesPerPixel", 278: "RowsPerStrip"}
_NAMES |= {322: "TileWidth", 323: "TileLength", 339: "SampleFormat"}
#: Those that hold one value (the others may hold one per sample or strip).
_ONE = frozenset({256, 257, 259, 277, 322, 323})
#: SampleFormat values TIFF defines (uint, int, float, void, complex int/float).
SAMPLE_FORMATS = frozenset(range(1, 7))


@dataclass(frozen=True)
class Ifd:
    """One image file directory: where it is and the image it declares."""

    index: int
    offset: int
    #: Offset just past the IFD (its entries and the next IFD's offset).
    end: int = 0
    #: How many StripOffsets or TileOffsets it lists (0: it says not where its
    #: image data lies).
    strips: int = 0
    width: int | None = None
    length: int | None = None
    bits: int | None = None
    compression: int | None = None
    samples: int | None = None
    sample_format: int | None = None

    def image(self) -> tuple[int | None, ...]:
        """What a page of a uniform stack must share with the first."""
        # a missing tag means TIFF's default: one sample, 1 bit, unsigned integers
        return (
            self.width,
            self.length,
            self.bits or 1,
            self.samples or 1,
            self.sample_format or 1,
        )


def walk_ifds(path: Path) -> list[Ifd]:
    """Every IFD of the main chain of the TIFF at ``path``, read without tifffile.

    Raises
    ------
    ReadError
        Not a TIFF; the chain loops, leaves the file or its IFDs overlap; an IFD
        declares a sample format or bit depth TIFF does not define, sizes its
        image with a tag holding no integer (or several where TIFF has one), or
        declares no (or a zero) ImageWidth or ImageLength.
    """
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
        ifds: list[Ifd] = []
        seen: set[int] = set()
        spans: list[tuple[int, int]] = []
        read_bytes = 0
        while offset:
            where = f"IFD {len(ifds)} at offset {offset}"
            if offset in seen:
                raise ReadError(
                    f"{path}: the TIFF's IFD chain loops (IFD {len(ifds) - 1} "
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
            read_bytes += link + link_size - offset
            if read_bytes > size:  # IFDs that fit one by one but overlap
                raise ReadError(f"{path}: the TIFF's IFDs overlap; the file is damaged")
            spans.append((offset, link + link_size))
            entries = fh.read(n * entry)
            where_ifd = (len(ifds), offset, link + link_size)
            ifds.append(_parse(fh, path, order, big, entries, where_ifd, size))
            fh.seek(link)
            offset = struct.unpack(order + link_fmt, fh.read(link_size))[0]
    spans.sort()
    for (start, end), (nxt, _) in itertools.pairwise(spans):
        if nxt < end:
            raise ReadError(
                f"{path}: the TIFF's IFDs at offsets {start} and {nxt} overlap; "
                "the file is damaged"
            )
    for ifd in ifds:  # every image has both (tifffile divides by them)
        for name, extent in (("ImageWidth", ifd.width), ("ImageLength", ifd.length)):
            if not extent:
                said = "no" if extent is None else "a zero"
                raise ReadError(
                    f"{path}: IFD {ifd.index} declares {said} {name}; "
                    "the file is damaged"
                )
    return ifds


def _parse(
    fh: Any,
    path: Path,
    order: str,
    big: bool,
    entries: bytes,
    where: tuple[int, int, int],
    size: int,
) -> Ifd:
    """The tags of :data:`_TAGS` of one IFD (the first value of each), checked.

    ``where`` is the IFD's index in the chain, its offset and the offset past it.
    """
    index = where[0]
    entry, inline = (20, 8) if big else (12, 4)
    head = order + ("HHQ" if big else "HHI")
    found: dict[str, int] = {}
    for at in range(0, len(entries), entry):
        code, typ, count = struct.unpack_from(head, entries, at)
        if code in _OFFSETS:
            found["strips"] = count
        if code in _NAMES:
            _check_field(path, index, code, typ, count)
        if code not in _TAGS:
            continue
        width, fmt = _TYPES[typ]
        value = entries[at + entry - inline : at + entry]
        if width * count > inline:  # stored elsewhere: its first value only
            (at_value,) = struct.unpack(order + ("Q" if big else "I"), value)
            if at_value + width > size:
                continue  # tifffile reports the tag; the page check sizes the data
            fh.seek(at_value)
            value = fh.read(width)
        found[_TAGS[code]] = struct.unpack_from(order + fmt, value)[0]
    ifd = Ifd(*where, **found)
    fmt_code = ifd.sample_format
    if fmt_code is not None and fmt_code not in SAMPLE_FORMATS:
        raise ReadError(
            f"{path}: IFD {index} declares SampleFormat {fmt_code}, which TIFF does "
            "not define; the file is damaged"
        )
    if ifd.bits is not None and not 1 <= ifd.bits <= 128:
        raise ReadError(
            f"{path}: IFD {index} declares {ifd.bits} bits per sample; "
            "the file is damaged"
        )
    return ifd


def _check_field(path: Path, index: int, code: int, typ: int, count: int) -> None:
    """Refuse a sizing tag that holds no integer, or many where TIFF has one."""
    name = _NAMES[code]
    if typ not in _TYPES:
        kind = _TYPE_NAMES.get(typ, "undefined")
        raise ReadError(
            f"{path}: IFD {index}'s tag {name} holds {kind} values (TIFF field "
            f"type {typ}); TIFF stores it as SHORT or LONG; the file is damaged"
        )
    if count < 1 or (count > 1 and code in _ONE):
        raise ReadError(
            f"{path}: IFD {index}'s tag {name} holds {count} values; expected one; "
            "the file is damaged"
        )
