"""Reader for JPK HS-AFM videos saved as a folder of ``.jpk`` frames (or one frame).

Each ``.jpk`` file is a TIFF: page 0 is a thumbnail whose private tags hold the
frame's metadata (start/end date, scan grid, line rate, slow-axis motion, a settings
blob); every further page is one channel, named by tag 0x8050 plus a trace/retrace
flag (``height_trace``, ``measuredHeight_trace``). A channel page stores raw integers
and a list of calibration "slots" (tags from 0x8090, 48 tags per slot); the page's
default slot gives the multiplier, offset and unit that turn the integers into
physical values, which we convert to nm when the unit is a length. A numeric tag
(grid, line rate, calibration) holding several values or no finite number is
refused by its code.

Frames are ordered by file name (JPK names them by save time). JPK stores the
bottom line of the scan first unless the grid's ``reflect`` tag is set, so rows are
flipped (row 0 is the top of the scan, as JPK's own software, Gwyddion, AFMReader
and the ``.h5-jpk`` reader show it; playnano 0.5.0 kept stored order, upside down).
The grid's origin is each frame's ``x_offset_nm``/``y_offset_nm``. Timestamps are each frame's start
time relative to the first frame's (the epoch-millisecond tag, else the start date
read as UTC); durations are end minus start. Only when a date is missing are times
synthesised from the line rate, halved for interlaced (bidirectional) scans.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import Any

import numpy as np

from playnano.errors import ReadError
from playnano.plugins import hookimpl
from playnano.readers._folder_frames import FrameFolderReader, Frames
from playnano.readers.common import (
    epoch_ms,
    finite,
    frame_entry,
    length_to_nm,
    pick_channel,
    printable,
)
from playnano.readers.guarded.tiff import check_tiff_page, open_tiff
from playnano.readers.series import FrameHeader

DEFAULT_CHANNEL = "height_trace"
TIFF_MAGICS = (b"II*\x00", b"MM\x00*")

START_DATE, END_DATE, START_MS, SETTINGS = 32771, 32774, 32776, 32791
GRID_ULENGTH, GRID_ILENGTH, LINE_RATE, MOTION = 32834, 32838, 32841, 32843
GRID_X0, GRID_Y0, GRID_REFLECT = 32832, 32833, 32837
CHANNEL_NAME, RETRACE, N_SLOTS, DEFAULT_SLOT = 32848, 32849, 32896, 32897
FIRST_SLOT, SLOT_SIZE = 32912, 48
SLOT_UNIT, SLOT_SCALING, SLOT_MULTIPLIER, SLOT_OFFSET = 18, 19, 20, 21


def _tag(page: Any, code: int, default: Any = None) -> Any:
    tag = page.tags.get(code)
    return default if tag is None else tag.value


def _number(page: Any, code: int, path: Path, what: str) -> float | None:
    """Tag ``code`` of ``page`` as one finite number; ``None`` when it is absent."""
    tag = page.tags.get(code)
    if tag is None:
        return None
    name = f"tag {code} ({what})"
    if isinstance(tag.value, tuple):
        raise ReadError(f"{path}: {name} holds {len(tag.value)} values; expected one")
    return finite(path, tag.value, name)


def _is_tiff(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) in TIFF_MAGICS


def frame_files(folder: Path) -> list[Path]:
    """The ``.jpk`` files of ``folder``, sorted by name."""
    return sorted(
        f for f in folder.iterdir() if f.is_file() and f.suffix.lower() == ".jpk"
    )


def _channel_pages(tif: Any) -> dict[str, Any]:
    pages: dict[str, Any] = {}
    for page in tif.pages[1:]:
        name = _tag(page, CHANNEL_NAME)
        if name is None:
            continue
        direction = "retrace" if _tag(page, RETRACE, 0) else "trace"
        pages.setdefault(f"{printable(name)}_{direction}", page)
    return pages


def _scaling(page: Any, path: Path, channel: str) -> tuple[float, float, str | None]:
    """(multiplier, offset, unit) of the page's default calibration slot."""
    default = _tag(page, DEFAULT_SLOT)
    for k in range(int(_number(page, N_SLOTS, path, "calibration slots") or 0)):
        base = FIRST_SLOT + k * SLOT_SIZE
        if _tag(page, base) != default:
            continue
        kind = _tag(page, base + SLOT_SCALING)
        unit = _tag(page, base + SLOT_UNIT)
        if kind == "NullScaling":
            return 1.0, 0.0, unit
        if kind == "LinearScaling":
            multiplier = _number(page, base + SLOT_MULTIPLIER, path, "multiplier")
            offset = _number(page, base + SLOT_OFFSET, path, "offset")
            if multiplier is None or offset is None:
                raise ReadError(
                    f"{path}: channel {channel!r}'s linear scaling lacks its "
                    "multiplier or offset"
                )
            return multiplier, offset, unit
        raise ReadError(f"{path}: channel {channel!r} uses unknown {printable(kind)!r}")
    return 1.0, 0.0, None  # no calibration: the raw values


def _grid(info: Any, path: Path) -> tuple[float | None, float | None]:
    """The scan grid's width in pixels and its length in metres, where recorded."""
    return (
        _number(info, GRID_ILENGTH, path, "scan grid pixels"),
        _number(info, GRID_ULENGTH, path, "scan grid length"),
    )


def _parse_date(value: Any) -> _dt.datetime | None:
    """A JPK date (``2023-02-16 12:08:46.436 GMT``) as a naive datetime."""
    if not isinstance(value, str):
        return None
    body = " ".join(value.split()[:2])
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return _dt.datetime.strptime(body, fmt)
        except ValueError:
            continue
    return None


def _interlaced(page: Any) -> bool:
    blob = _tag(page, SETTINGS, "")
    match = re.search(
        r"feed-forward-parameters\.yaxis\.interlace\s*:\s*(\S+)", str(blob)
    )
    return match is not None and match.group(1).lower() == "true"


def read_frame(path: Path, channel: str | None) -> tuple[np.ndarray, dict[str, Any]]:
    """One ``.jpk`` file: the channel's image (nm where a length) and its metadata."""
    if not _is_tiff(path):
        raise ReadError(f"{path}: not a JPK file (no TIFF signature)")
    with open_tiff(path) as opened:
        tif = opened.tif
        pages = _channel_pages(tif)
        name = pick_channel(path, channel, list(pages), DEFAULT_CHANNEL)
        page = pages[name]
        check_tiff_page(path, page, f"{name!r} {page.shape} data")
        multiplier, offset, unit = _scaling(page, path, name)
        image = page.asarray() * multiplier + offset
        info = tif.pages[0]
        if not _tag(info, GRID_REFLECT, 0):  # stored bottom line first
            image = np.ascontiguousarray(image[::-1])
        width, length_m = _grid(info, path)
        start, end = _tag(info, START_DATE), _tag(info, END_DATE)
        meta = {
            "channel": name,
            "channels": list(pages),
            "pixel_size_nm": (length_m / width) * 1e9 if width and length_m else None,
            "start": _parse_date(start),
            "end": _parse_date(end),
            "start_ms": _tag(info, START_MS),
            "line_rate": _number(info, LINE_RATE, path, "line rate"),
            "motion": _tag(info, MOTION),
            "interlaced": _interlaced(info),
            "origin_m": [_tag(info, GRID_X0), _tag(info, GRID_Y0)],
        }
    to_nm = length_to_nm(unit)
    if to_nm is not None and to_nm != 1.0:
        image = image * to_nm
    meta["z_unit"] = "nm" if to_nm is not None else unit
    return image, meta


def _offsets(origin_m: list[Any]) -> dict[str, float]:
    """``x_offset_nm``/``y_offset_nm`` of the scan grid's origin, when recorded."""
    out = {}
    for key, value in zip(("x_offset_nm", "y_offset_nm"), origin_m, strict=True):
        if isinstance(value, (int, float)) and np.isfinite(value):
            out[key] = float(value) * 1e9
    return out


def _start_ms(meta: dict[str, Any]) -> int | None:
    raw = meta["start_ms"]
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw)
    dt = meta["start"]
    if dt is None:
        return None
    ms = epoch_ms(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second)
    return None if ms is None else ms + dt.microsecond // 1000


def frame_header(path: Path) -> FrameHeader:
    """A ``.jpk`` frame's image size, scan grid, channels and start time (tags only)."""
    if not _is_tiff(path):
        raise ReadError(f"{path}: not a JPK file (no TIFF signature)")
    with open_tiff(path) as opened:  # the guarded opening every door uses
        tif = opened.tif
        pages = _channel_pages(tif)
        if not pages:
            raise ReadError(f"{path}: the file holds no channel")
        height, width = next(iter(pages.values())).shape[:2]
        info = tif.pages[0]
        meta = {"start": _parse_date(_tag(info, START_DATE))}
        meta["start_ms"] = _tag(info, START_MS)
        length_m = _grid(info, path)[1]
    start = _start_ms(meta)
    length = f"{length_m * 1e9:g} nm" if length_m else "?"
    scan = (f"scan {length}", "/".join(pages))
    return FrameHeader(
        (int(height), int(width)), scan, None if start is None else start / 1000.0
    )


class JpkFolderReader(FrameFolderReader):
    """Reads a folder of JPK ``.jpk`` frames (or a single ``.jpk``) as a video.

    The channel is ``height_trace`` unless told otherwise.
    """

    name = "jpk-folder"
    aliases = ("jpk",)
    suffixes = (".jpk",)
    description = "JPK HS-AFM video as a folder of .jpk frames (or one .jpk file)"
    requires = ("tifffile",)
    install_hint = "pip install tifffile"
    frame_kind = ".jpk"
    read_one = staticmethod(read_frame)

    def can_read(self, path: Path) -> bool:
        """True for a ``.jpk`` TIFF, or a folder holding at least one."""
        if path.is_dir():  # any intact frame: a damaged first one is reported
            return any(_is_tiff(f) for f in frame_files(path))
        return path.is_file() and self.has_suffix(path) and _is_tiff(path)

    def frame_files(self, folder: Path) -> list[Path]:
        """The ``.jpk`` files of ``folder``, sorted by name."""
        return frame_files(folder)

    def frame_header(self, path: Path) -> FrameHeader:
        """Image size, scan grid, channels and start time, from the TIFF tags."""
        return frame_header(path)

    def channels(self, path: Path) -> list[str]:
        """Channel names of the first frame file."""
        files = self.files(Path(path))
        first = next((f for f in files if _is_tiff(f)), files[0])
        if not _is_tiff(first):
            raise ReadError(f"{first}: not a JPK file (no TIFF signature)")
        with open_tiff(first) as opened:
            return list(_channel_pages(opened.tif))

    def describe(
        self, found: Frames
    ) -> tuple[float, str, list[dict[str, Any]], dict[str, Any]]:
        """Times from each frame's start date, else the line rate; the grid's size."""
        files, images, metas = found.files, found.images, found.metas
        first = metas[0]
        if first["pixel_size_nm"] is None:
            raise ReadError(f"{files[0]}: the scan grid size is missing")

        starts = [_start_ms(m) for m in metas]
        ends = [m["end"] for m in metas]
        lines = images[0].shape[0]
        known = [s for s in starts if s is not None]
        times: list[float | None]
        durations: list[float | None]
        if len(known) == len(starts):
            times = [(s - known[0]) / 1000.0 for s in known]
            durations = [
                (e - m["start"]).total_seconds() if e and m["start"] else None
                for e, m in zip(ends, metas, strict=True)
            ]
            source = "file"
        elif first["line_rate"]:
            interval = (
                lines / first["line_rate"] / (2.0 if first["interlaced"] else 1.0)
            )
            times = [i * interval for i in found.indices]  # gaps where skipped
            durations = [interval] * len(files)
            source = "line rate"
        else:
            times = durations = [None] * len(files)
            source = "unknown"
        meta_list = [
            frame_entry(
                times[i],
                m["pixel_size_nm"],
                durations[i],
                starts[i],
                m["motion"],
                m["line_rate"],
            )
            | _offsets(m["origin_m"])
            for i, m in enumerate(metas)
        ]
        acquisition = {
            "bidirectional": first["interlaced"],
            "z_unit": first["z_unit"],
            "frame_times_from": source,
        }
        return first["pixel_size_nm"], first["channel"], meta_list, acquisition


@hookimpl
def register_readers(register: Any) -> None:
    """Register the JPK folder reader."""
    register(JpkFolderReader())
