"""Reader for Bruker/Veeco Nanoscope files: one ``.spm``/``.00N`` file or a folder.

Layout: a text header of ``\\Key: value`` lines in sections (``\\*File list``,
``\\*Scanner list``, ``\\*Ciao scan list``, one ``\\*Ciao image list`` per channel,
``\\*File list end``), then binary images. Each image section names its channel
(``\\@2:Image Data: S [Height] "Height"``) and gives the data offset, bytes per pixel,
samples per line, number of lines, scan size and Z scale. Keys are matched without
regard to case: header version 5 writes ``Scan size``/``Scan rate`` where version 9
writes ``Scan Size``/``Scan Rate``.

Heights: ``raw * hard_value / 256**bytes_per_pixel * sensitivity``, where the Z scale
(``V [Sens. Zscan] (0.0067 V/LSB) 439.98 V``) gives the hard value and names the
sensitivity (``\\@Sens. Zscan: V 15.068 nm/V``); lengths are converted to nm. This
is the conversion of pySPM, which AFMReader 0.0.7 and playnano 0.5.0 use, and like
them we flip each image vertically (Nanoscope stores the bottom line first).

A folder is read as a video, one frame per file in name order. Timestamps come from
each file's ``Relative frame time`` when every file has one, else from
``lines / scan rate``; ``frame_duration_s`` is ``lines / scan rate``.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from playnano.errors import ReadError
from playnano.plugins import hookimpl
from playnano.readers._folder_frames import FrameFolderReader, Frames
from playnano.readers.common import (
    check_size,
    direction_name,
    epoch_ms,
    frame_entry,
    length_to_nm,
    pick_channel,
)
from playnano.readers.series import FrameHeader
from playnano.readers.series import frame_number as series_number

DEFAULT_CHANNEL = "Height"
MAGIC = b"\\*File list"
END = b"\\*File list end"
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_ZSCALE = re.compile(
    rf"^\s*\w+\s*(?:\[(?P<sens>[^\]]*)\])?\s*(?:\((?P<soft>{_NUMBER})[^)]*\))?"
    rf"\s*(?P<value>{_NUMBER})\s*(?P<unit>\S*)"
)
_KEY = re.compile(r"\\((?:@\d+:)?[^:]*):(.*)")  # "\@2:Z scale: V ..." -> "@2:Z scale"
_SENS = re.compile(rf"^\s*\w+\s+(?P<value>{_NUMBER})\s*(?P<unit>\S*)")


@dataclass
class Section:
    """One ``\\*Name`` section of the header, keys in lower case."""

    name: str
    values: dict[str, str] = field(default_factory=dict)

    def get(self, key: str) -> str | None:
        """The value of ``key`` (any case), or ``None``."""
        return self.values.get(key.lower())


@dataclass
class Header:
    """A parsed Nanoscope header."""

    path: Path
    sections: list[Section]
    size: int

    def find(self, key: str) -> str | None:
        """The first value of ``key`` (any case) in any section."""
        for section in self.sections:
            value = section.get(key)
            if value is not None:
                return value
        return None

    @property
    def images(self) -> list[Section]:
        """The image sections, one per stored channel."""
        return [s for s in self.sections if s.name == "ciao image list"]

    def channel_names(self) -> list[str]:
        """Channel names; a retrace image of a channel also present as trace gets
        ``_retrace`` appended."""
        names: list[str] = []
        for image in self.images:
            name = image_name(image)
            if name in names and (image.get("line direction") or "").lower() == (
                "retrace"
            ):
                name = f"{name}_retrace"
            names.append(name)
        return names


def image_name(image: Section) -> str:
    """The channel name of an image section (``"Height"``)."""
    label = image.get("@2:image data") or image.get("image data") or ""
    quoted = re.search(r'"([^"]*)"', label)
    if quoted:
        return quoted.group(1)
    bracket = re.search(r"\[([^\]]*)\]", label)
    return (bracket.group(1) if bracket else label).strip() or "unnamed"


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    match = re.match(rf"\s*({_NUMBER})", text)
    return float(match.group(1)) if match else None


def read_header(path: Path) -> Header:
    """Parse the text header of a Nanoscope file."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    if not head.startswith(MAGIC):
        raise ReadError(f"{path}: not a Nanoscope file (no '\\*File list')")
    end = head.find(END)
    if end < 0:
        raise ReadError(
            f"{path}: file ends after {size} bytes, inside the text header "
            "(no '\\*File list end')"
        )
    sections: list[Section] = []
    for line in head[:end].decode("latin-1").splitlines():
        line = line.strip()
        if line.startswith("\\*"):
            sections.append(Section(line[2:].strip().lower()))
        elif sections and (match := _KEY.match(line)):
            key, value = match.groups()
            sections[-1].values.setdefault(key.strip().lower(), value.strip())
    return Header(path, sections, size)


def _z_scale(header: Header, image: Section, bpp: int) -> tuple[list[float], str]:
    """Factors that turn raw values into the returned unit (nm, or volts)."""
    path = header.path
    text = image.get("@2:z scale") or image.get("z scale")
    match = _ZSCALE.match(text or "")
    if match is None:
        raise ReadError(f"{path}: the image has no readable Z scale ({text!r})")
    per_lsb = float(match["value"]) / 256.0**bpp
    sens_name = match["sens"]
    if not sens_name:
        return [per_lsb], match["unit"] or "V"
    sens_text = header.find(f"@{sens_name}")
    sens = _SENS.match(sens_text or "")
    if sens is None:
        raise ReadError(
            f"{path}: the Z scale refers to {sens_name!r}, which the header "
            "does not define"
        )
    unit = sens["unit"].split("/")[0]
    to_nm = length_to_nm(unit)
    factors = [per_lsb, float(sens["value"])]
    if to_nm is None:
        return factors, unit
    return factors + ([to_nm] if to_nm != 1.0 else []), "nm"


def _pixel_size_nm(header: Header, image: Section, samples: int) -> float:
    text = image.get("scan size") or header.find("scan size") or ""
    parts = text.split()
    numbers = [p for p in parts if _number(p) is not None]
    unit = next((p for p in parts if _number(p) is None), "nm")
    to_nm = length_to_nm(unit)
    if not numbers or to_nm is None or samples <= 0:
        raise ReadError(f"{header.path}: unreadable scan size {text!r}")
    return float(numbers[0]) * to_nm / samples


def read_image(path: Path, channel: str | None) -> tuple[np.ndarray, dict[str, Any]]:
    """One Nanoscope file: the channel's image and the frame's metadata."""
    header = read_header(path)
    names = header.channel_names()
    name = pick_channel(path, channel, names, DEFAULT_CHANNEL)
    image = header.images[names.index(name)]
    samples = int(_number(image.get("samps/line")) or 0)
    lines = int(_number(image.get("number of lines")) or 0)
    offset = int(_number(image.get("data offset")) or 0)
    length = int(_number(image.get("data length")) or 0)
    if samples <= 0 or lines <= 0 or offset <= 0:
        raise ReadError(f"{path}: the {name!r} image has no valid size or offset")
    bpp = int(_number(image.get("bytes/pixel")) or length // (samples * lines) or 2)
    if bpp not in (2, 4):
        raise ReadError(f"{path}: unsupported {bpp} bytes per pixel")
    check_size(
        path,
        header.size,
        offset + samples * lines * bpp,
        f"{samples}x{lines} int{8 * bpp} data at offset {offset}",
    )
    factors, unit = _z_scale(header, image, bpp)
    largest = 256.0**bpp  # above any raw value's magnitude
    for factor in factors:
        largest *= abs(factor)
    if not np.isfinite(largest):
        raise ReadError(
            f"{path}: the {name!r} image's Z scale and sensitivity give heights "
            "too large for a number"
        )
    raw = np.fromfile(path, dtype=f"<i{bpp}", count=samples * lines, offset=offset)
    data = np.flipud(raw.reshape(lines, samples)).astype(np.float64)
    for factor in factors:  # one at a time, in pySPM's order, for identical values
        data *= factor
    line_rate = _number(header.find("scan rate"))
    date = None
    with_date = header.find("date")
    if with_date:
        try:
            date = _dt.datetime.strptime(with_date.strip(), "%I:%M:%S %p %a %b %d %Y")
        except ValueError:
            date = None
    meta = {
        "channel": name,
        "pixel_size_nm": _pixel_size_nm(header, image, samples),
        "line_rate": line_rate or None,
        "relative_time_s": _number(header.find("relative frame time")),
        "start_ms": None if date is None else epoch_ms(*date.timetuple()[:6]),
        "direction": direction_name(image.get("frame direction")),
        "z_unit": unit,
        "version": header.find("version"),
    }
    return data, meta


def frame_files(folder: Path) -> list[Path]:
    """Nanoscope frames in ``folder``, by name: files with a Nanoscope header and a
    ``.spm`` or numeric suffix, and, when there is at least one, the ``.spm`` and
    ``.000``-``.999`` files without one (damaged frames, which reading reports)."""
    found, damaged = [], []
    for f in sorted(folder.iterdir()):
        suffix = f.suffix.lower()
        if not f.is_file() or not (suffix == ".spm" or suffix[1:].isdigit()):
            continue
        if _sniff(f):
            found.append(f)
        elif suffix == ".spm" or len(suffix) == 4:
            damaged.append(f)
    return sorted(found + damaged) if found else []


def _sniff(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(len(MAGIC)) == MAGIC


def frame_header(path: Path) -> FrameHeader:
    """The declared image size and scan of a Nanoscope file (its text header only)."""
    header = read_header(path)
    if not header.images:
        raise ReadError(f"{path}: the header declares no image")
    image = header.images[0]
    size = (
        int(_number(image.get("number of lines")) or 0),
        int(_number(image.get("samps/line")) or 0),
    )
    scan_size = (image.get("scan size") or header.find("scan size") or "").strip()
    scan_size = scan_size.replace("~m", "µm")  # Nanoscope's ASCII micro sign
    scan = (f"scan size {scan_size or '?'}", "/".join(header.channel_names()))
    return FrameHeader(size, scan, _number(header.find("relative frame time")))


class SpmReader(FrameFolderReader):
    """Reads Nanoscope ``.spm``/``.00N`` images, one file or a folder of frames.

    The channel is ``Height`` unless told otherwise.
    """

    name = "spm"
    aliases = ("nanoscope", "spm-folder")
    suffixes = (".spm",)
    content_suffixes = (".00N",)  # .001, .002, ...: recognised by the header
    description = "Bruker Nanoscope .spm/.001 image, or a folder of them as a video"
    frame_kind = "Nanoscope"
    numbers_frames = True
    read_one = staticmethod(read_image)

    def can_read(self, path: Path) -> bool:
        """True for a Nanoscope file (any suffix) or a folder holding them."""
        if path.is_dir():
            return bool(frame_files(path))
        return path.is_file() and _sniff(path)

    def frame_files(self, folder: Path) -> list[Path]:
        """The Nanoscope frames of ``folder`` (see :func:`frame_files`)."""
        return frame_files(folder)

    def frame_header(self, path: Path) -> FrameHeader:
        """Image size, scan size and channels, from the text header."""
        return frame_header(path)

    def frame_number(self, path: Path) -> tuple[str, int] | None:
        """``scan.001`` is frame 1 of ``scan`` (see :func:`series.frame_number`)."""
        return series_number(path)

    def channels(self, path: Path) -> list[str]:
        """Channel names of the (first) file, e.g. ``["Height"]``."""
        files = self.files(Path(path))
        first = next((f for f in files if _sniff(f)), files[0])
        return read_header(first).channel_names()

    def describe(
        self, found: Frames
    ) -> tuple[float, str, list[dict[str, Any]], dict[str, Any]]:
        """Times from each file's relative frame time, else ``lines / scan rate``."""
        files, images, metas, index = (
            found.files,
            found.images,
            found.metas,
            found.indices,
        )
        first = metas[0]
        lines = images[0].shape[0]
        rel = [m["relative_time_s"] for m in metas]
        durations = [lines / m["line_rate"] if m["line_rate"] else None for m in metas]
        times: list[float | None]
        if all(t is not None for t in rel):
            times = [t - rel[0] for t in rel]
            source = "file"
        elif durations[0] is not None:
            times = [i * durations[0] for i in index]  # skipped frames leave gaps
            source = "line rate"
        else:
            times, source = [None] * len(files), "unknown"
        frames = [
            frame_entry(
                times[i],
                m["pixel_size_nm"],
                durations[i],
                m["start_ms"],
                m["direction"],
                m["line_rate"],
            )
            for i, m in enumerate(metas)
        ]
        acquisition = {
            "nanoscope_version": first["version"],
            "z_unit": first["z_unit"],
            "frame_times_from": source,
        }
        return first["pixel_size_nm"], first["channel"], frames, acquisition


@hookimpl
def register_readers(register: Any) -> None:
    """Register the Nanoscope reader."""
    register(SpmReader())
