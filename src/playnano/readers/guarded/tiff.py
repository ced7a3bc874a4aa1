"""The one guarded opening of a TIFF file, used by every door of every TIFF reader.

:func:`open_tiff` walks the chain of image file directories (IFDs) itself before
tifffile sees the file, then checks what the file declares against what it holds,
all before tifffile builds a series (which is where a hostile file makes it loop or
allocate gigabytes):

- the IFD chain must not loop, leave the file, overlap, or hold more IFDs than the
  file has room for; each IFD's sample format and bit depth must be ones TIFF
  defines (a 300-byte file with a looping chain made tifffile run for ever; a
  SampleFormat of 0xFFFFFFFF reached tifffile's ``assert``);
- OME-XML sizes (``SizeX``/``SizeY`` against the first page, ``SizeZ x SizeC x
  SizeT`` against the IFDs) and references to other files are refused before
  tifffile sizes an OME series; an ImageJ description's image count must fit in
  the file.

:func:`checked_series` then builds a series and checks that every IFD says where
its image data lies, and that the series' pages lie within the file, can decode to
their declared size, and are all the keyframe's shape and type; an image read as
one contiguous block must be the data its pages' IFDs describe (a description
claiming frames the pages do not store made tifffile read the file's own IFDs as
frames). tifffile's logged errors become a ReadError (:func:`tifffile_guard`).
Every refusal is one :class:`~playnano.errors.ReadError` line naming the file.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playnano.errors import ReadError
from playnano.readers.common import check_size
from playnano.readers.guarded.tiff_ifds import Ifd, walk_ifds

__all__ = [
    "Ifd",
    "OpenTiff",
    "check_ome_sizes",
    "check_tiff_page",
    "checked_series",
    "open_tiff",
    "tifffile_guard",
    "walk_ifds",
]

#: Most decoded bytes per stored byte: uncompressed (8 for 1-bit pixels), PackBits,
#: deflate (its format's limit is 1032).
_TIFF_RATIO = {1: 8, 32773: 128, 8: 1032, 32946: 1032}
#: The same for any other codec (LZW reaches ~2700), with room.
MAX_DECODE_RATIO = 4096


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = re.sub(r"^<[^>]*>\s*", "", record.getMessage().splitlines()[0])
        self.messages.append(text)


@contextmanager
def tifffile_guard(path: Path) -> Iterator[None]:
    """Silence tifffile's log while reading ``path``; its errors become a ReadError.

    tifffile reports a truncated or damaged file by logging errors (an IFD offset
    past the end, unreadable tags) and returning what it could read; a partial
    stack must not pass for a whole one. Its exceptions become a ReadError too.
    """
    import tifffile

    log = logging.getLogger("tifffile")
    handler = _Collect()
    propagate = log.propagate
    log.addHandler(handler)
    log.propagate = False

    def damaged(exc: Exception | None = None) -> ReadError | None:
        messages = list(handler.messages)
        if isinstance(exc, tifffile.TiffFileError):
            messages.append(str(exc))
        if not messages:
            return None
        size = path.stat().st_size
        return ReadError(
            f"{path}: file is truncated or corrupt after {size} bytes "
            f"(tifffile: {messages[0]})"
        )

    try:
        yield
    except ReadError:
        raise
    except Exception as exc:
        error = damaged(exc)
        if error is not None:
            raise error from exc
        if isinstance(exc, (OSError, ValueError, IndexError)):
            raise ReadError(f"{path}: unreadable TIFF ({exc})") from exc
        raise
    finally:
        log.removeHandler(handler)
        log.propagate = propagate
    error = damaged()
    if error is not None:
        raise error


@dataclass
class OpenTiff:
    """A TIFF opened by :func:`open_tiff`: tifffile's file and the IFDs walked."""

    path: Path
    tif: Any
    ifds: list[Ifd]


@contextmanager
def open_tiff(path: Path) -> Iterator[OpenTiff]:
    """Open the TIFF at ``path`` once its IFDs and declared sizes are checked.

    Yields an :class:`OpenTiff`; take series through :func:`checked_series`.
    Everything tifffile logs or raises inside the block becomes one ReadError.
    """
    import tifffile

    path = Path(path)
    ifds = walk_ifds(path)
    with tifffile_guard(path), tifffile.TiffFile(path) as tif:
        first = tif.pages.first
        if first.dtype is None:
            raise ReadError(
                f"{path}: the first page's sample format {first.sampleformat} with "
                f"{first.bitspersample} bits per sample is not a pixel type"
            )
        if tif.is_ome and tif.ome_metadata:
            check_ome_sizes(path, tif.ome_metadata, len(ifds), first.shaped[-3:-1])
        if tif.is_imagej:
            _check_imagej_images(path, tif, len(ifds))
        yield OpenTiff(path, tif, ifds)


def check_ome_sizes(
    path: Path, xml: str, n_pages: int, first_yx: tuple[int, ...]
) -> None:
    """Refuse OME sizes the pages cannot hold, and data in other files."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise ReadError(f"{path}: OME-XML is malformed ({exc})") from None
    for uuid in root.findall(".//{*}UUID"):
        name = uuid.get("FileName")
        if name is not None and name.lower() != path.name.lower():
            raise ReadError(
                f"{path}: OME-XML puts planes in another file ({name!r}); "
                "only data stored in the file itself is read"
            )
    planes = 0
    for i, pixels in enumerate(root.findall(".//{*}Pixels")):
        try:
            sizes = {k: int(pixels.get(f"Size{k}", "1")) for k in "XYZCT"}
        except ValueError as exc:
            raise ReadError(f"{path}: OME-XML size not understood ({exc})") from None
        if min(sizes.values()) < 1:
            raise ReadError(f"{path}: OME-XML declares a size below 1 ({sizes})")
        if i == 0 and (sizes["Y"], sizes["X"]) != tuple(first_yx):
            raise ReadError(
                f"{path}: OME-XML declares SizeX {sizes['X']} x SizeY {sizes['Y']} "
                f"but the first page is {first_yx[1]} x {first_yx[0]}"
            )
        planes += sizes["Z"] * sizes["C"] * sizes["T"]
        if planes > n_pages:
            raise ReadError(
                f"{path}: OME-XML declares {planes} planes (SizeZ {sizes['Z']} x "
                f"SizeC {sizes['C']} x SizeT {sizes['T']}) but the file has "
                f"{n_pages} pages"
            )


def _check_imagej_images(path: Path, tif: Any, n_pages: int) -> None:
    """Refuse an ImageJ image count the file has no room for (stored contiguously)."""
    meta = tif.imagej_metadata or {}
    counts = [meta.get(k, 1) for k in ("frames", "slices", "channels")]
    if not all(isinstance(c, int) for c in [*counts, meta.get("images", 1)]):
        raise ReadError(
            f"{path}: the ImageJ description's image counts are not numbers"
        )
    declared = max(meta.get("images", 1), counts[0] * counts[1] * counts[2])
    page = tif.pages.first
    if declared > n_pages and declared * int(page.nbytes) > path.stat().st_size:
        raise ReadError(
            f"{path}: the ImageJ description declares {declared} images of "
            f"{page.shape} {page.dtype} but the file has {n_pages} pages and "
            f"{path.stat().st_size} bytes"
        )


def check_tiff_page(path: Path, page: Any, what: str) -> None:
    """Refuse a page whose image data runs past the end of file, or whose declared
    pixels need more bytes than its stored data can decode to (a tiny file must not
    make tifffile allocate gigabytes)."""
    size = path.stat().st_size
    ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts, strict=True)]
    check_size(path, size, max(ends, default=0), what)
    ratio = _TIFF_RATIO.get(int(page.compression), MAX_DECODE_RATIO)
    declared = int(page.nbytes or 0)
    stored = sum(int(n) for n in page.databytecounts)
    if declared > ratio * stored + 4096:
        shape = " x ".join(map(str, page.shape))
        raise ReadError(
            f"{path}: {what} declares {shape} {page.dtype} ({declared} bytes) "
            f"but stores {stored} bytes"
        )


def checked_series(opened: OpenTiff, index: int = 0) -> Any:
    """Series ``index`` of an opened TIFF, refused unless its pages can fill it.

    Each page must say where its image data lies, lie within the file and store
    its declared image, be the first page's shape and type (as its own IFD
    declares it), and the series must be made of its pages, not of sizes the
    metadata alone claims.
    """
    path, tif = opened.path, opened.tif
    for ifd in opened.ifds:
        if not ifd.strips:
            raise ReadError(
                f"{path}: IFD {ifd.index} lists no StripOffsets or TileOffsets, so "
                "where its image data lies is unknown; the file is damaged"
            )
    try:  # tifffile raises RuntimeError for pages of one image stored unalike
        if len(tif.series) <= index:
            raise ReadError(f"{path}: holds no image")
        series = tif.series[index]
        if series.dtype is None:
            raise ReadError(f"{path}: the image's pixel type is not understood")
        pages = _checked_pages(opened, series)
    except RuntimeError as exc:
        if type(exc) is not RuntimeError or "keyframe" not in str(exc):
            raise  # not tifffile's word for pages stored unalike
        raise ReadError(_unalike(opened, exc)) from exc
    _check_series_size(opened, series, pages)
    return series


#: What the size checks need of a page: its IFD's offset, its first strip's or
#: tile's offset, its image's bytes and its number of pixels (tifffile's pages
#: themselves are not kept: tens of thousands alive slow the garbage collector).
_Page = tuple[int, int, int, int]


def _checked_pages(opened: OpenTiff, series: Any) -> list[_Page]:
    """The pages of ``series`` that are there, each checked against the first."""
    path = opened.path
    by_offset = {ifd.offset: ifd for ifd in opened.ifds}
    first: Ifd | None = None
    pages: list[_Page] = []
    for i, page in enumerate(series.pages):
        if page is None:
            continue
        start = int(page.dataoffsets[0]) if len(page.dataoffsets) else -1
        pages.append((int(page.offset), start, int(page.nbytes), int(page.size)))
        ifd = by_offset.get(page.offset)
        if ifd is not None:
            first = first or ifd
            if ifd.image() != first.image():
                raise ReadError(
                    f"{path}: page {i} declares {_image(ifd)}; page 0 declares "
                    f"{_image(first)}"
                )
        check_tiff_page(path, page, f"image data of page {i}")
    return pages


def _unalike(opened: OpenTiff, exc: RuntimeError) -> str:
    """Name the pages tifffile found unalike (the first alike one stored apart)."""
    first: dict[tuple[int | None, ...], Ifd] = {}
    for ifd in opened.ifds:
        other = first.setdefault(ifd.image(), ifd)
        if ifd.strips != other.strips:
            return (
                f"{opened.path}: IFD {ifd.index} stores its image in {ifd.strips} "
                f"strips or tiles but IFD {other.index}, of the same size and "
                f"type, in {other.strips}; pages of one image must be stored alike"
            )
    return f"{opened.path}: the pages of the image are not alike (tifffile: {exc})"


def _image(ifd: Ifd) -> str:
    return (
        f"{ifd.width} x {ifd.length}, {ifd.samples or 1} sample(s) of "
        f"{ifd.bits} bits, sample format {ifd.sample_format or 1}"
    )


def _check_series_size(opened: OpenTiff, series: Any, pages: list[_Page]) -> None:
    path = opened.path
    offset = series.dataoffset  # set when the whole series is one contiguous block
    if offset is not None:
        size = path.stat().st_size
        if offset + int(series.nbytes) > size:
            raise ReadError(
                f"{path}: the image is declared as {series.shape} "
                f"({series.nbytes} bytes from offset {offset}) but the file has "
                f"{size} bytes"
            )
        _check_block(opened, series, pages)
        return
    if len(pages) != len(series.pages):
        raise ReadError(f"{path}: the image lacks some of its pages")
    if sum(p[3] for p in pages) < int(series.size):
        raise ReadError(
            f"{path}: the image is declared as {series.shape} but its "
            f"{len(pages)} pages hold less"
        )


def _check_block(opened: OpenTiff, series: Any, pages: list[_Page]) -> None:
    """Refuse a contiguous image that is not the image data its IFDs describe.

    tifffile reads such an image as one block from the first page's data and,
    for its own ``shaped`` or an ImageJ description, takes the frame count from
    the description: frames past the last page are read from the bytes that
    follow (as a file cut after its first IFD stores them). Each page's data
    must be where the block puts it, the block must not cover an IFD, and
    frames past the pages must not run where the file's chain goes on.
    """
    path, offset = opened.path, int(series.dataoffset)
    end = offset + int(series.nbytes)
    declared = (
        f"the image is declared as {series.shape} ({series.nbytes} bytes from "
        f"offset {offset})"
    )
    for ifd in opened.ifds:
        if ifd.offset < end and offset < ifd.end:
            raise ReadError(
                f"{path}: {declared} but IFD {ifd.index} lies at offset "
                f"{ifd.offset}, inside it; the file stores less image data than "
                "it declares"
            )
    at = offset
    for i, (_, start, nbytes, _) in enumerate(pages):
        if start != at:
            raise ReadError(
                f"{path}: {declared} but page {i} stores its data at offset "
                f"{start}, not {at}"
            )
        at += nbytes
    index = {ifd.offset: ifd.index for ifd in opened.ifds}.get(pages[-1][0])
    if at < end and index is not None and index + 1 < len(opened.ifds):
        after = opened.ifds[index + 1]
        if after.offset < end:
            raise ReadError(
                f"{path}: {declared} but its {len(pages)} page(s) store "
                f"{at - offset} bytes of it and the rest would run past IFD "
                f"{after.index} at offset {after.offset}; the file stores less "
                "image data than it declares"
            )
