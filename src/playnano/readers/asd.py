"""Reader for RIBM/Ando high-speed AFM ``.asd`` files, versions 0, 1 and 2.

Layout
------
All numbers are little-endian. A file starts with an ``int32`` version, then a header
whose total length (version included) is stored in the header itself. After the header
come all frames of channel 1, then all frames of channel 2 when the file has two
channels. Every frame is a ``frame_header_length``-byte frame header followed by
``y_pixels`` rows of ``x_pixels`` signed 16-bit ADC levels, top row first. The data
kinds are two ASCII letters (``TP`` topography, ``ER`` error, ``PH`` phase).

Version 1 and 2 headers share their first 161 bytes after the version; version 2
appends colour-map fields, which we skip by seeking to the declared header length.
For version 0 the two public descriptions disagree on field widths (libasd uses
32-bit pixel counts, AFMReader 16-bit ones); both are parsed and the one whose
declared geometry accounts for the file's size is used. In version 0 the declared
header length stops before a block of padding (the "comment offset") and the comment;
the frames start after them (AFMReader's reading; on the real v0 files the frames then
end exactly at the end of the file and each frame header's frame number, minimum and
maximum match its data).

Heights (the convention of playnano 0.5.0 and AFMReader 0.0.7)
---------------------------------------------------------------
Levels are converted with the ADC range ``V`` (from the range code) and resolution
``2**bits``: unipolar ranges give ``-level * V / 2**bits * k``, bipolar ones
``(V - 2 * level * V / 2**bits) * k``, where ``k`` is the z-piezo gain times its
extension (nm/V) for ``TP``, minus the sensor sensitivity for ``ER`` and minus the
phase sensitivity for ``PH`` (other kinds stay in volts, ``k = 1``). Topography
therefore comes out negative with an arbitrary constant offset (the ADC zero):
compare frames after removing each frame's mean or plane. Rows are kept in stored
order (row 0 = first stored row), which is the orientation playnano 0.5.0 shows.

Timing: frame ``i`` is at ``i * frame_time`` (the header's frame time, ms). The
header date is when the file was written, i.e. the end of acquisition, so frame 0's
``start_epoch_ms`` is that date (read as UTC) minus ``n_frames * frame_time``, as in
playnano 0.5.0. The meaning of the header's scan-direction number is undocumented;
it is kept raw in the source details and ``scan_direction`` stays ``None``.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.afm_stack import AFMImageStack
from playnano.errors import ReadError
from playnano.plugins import hookimpl
from playnano.readers._asd_frames import AsdFrames
from playnano.readers._common import (
    ReaderBase,
    check_size,
    epoch_ms,
    frame_entry,
    pick_channel,
    printable,
    set_source_details,
)

if TYPE_CHECKING:
    from playnano.info import StackInfo

DEFAULT_CHANNEL = "TP"

#: ADC range code -> (full-scale volts, bipolar?)
AD_RANGES: dict[int, tuple[float, bool]] = {
    0x00000001: (1.0, False),
    0x00000002: (2.5, False),
    0x00000003: (9.99, False),
    0x00000004: (5.0, False),
    0x00010000: (1.0, True),
    0x00020000: (2.5, True),
    0x00040000: (5.0, True),
    0x00800000: (80.0, True),
}

# Fields after the version number: (name, struct code); "_" fields are skipped.
_V1_FIELDS = (
    ("header_length", "i"), ("frame_header_length", "i"), ("text_encoding", "i"),
    ("name_size", "i"), ("comment_size", "i"), ("kind1", "i"), ("kind2", "i"),
    ("frames_recorded", "i"), ("n_frames", "i"), ("scan_direction", "i"),
    ("file_id", "i"), ("x_pixels", "i"), ("y_pixels", "i"), ("x_nm", "i"),
    ("y_nm", "i"), ("averaged", "?"), ("average_window", "i"), ("year", "i"),
    ("month", "i"), ("day", "i"), ("hour", "i"), ("minute", "i"), ("second", "i"),
    ("x_rounding", "i"), ("y_rounding", "i"), ("frame_time_ms", "f"),
    ("sensor_sensitivity", "f"), ("phase_sensitivity", "f"), ("offset", "i"),
    ("_", "12x"), ("machine_id", "i"), ("ad_range", "i"), ("ad_bits", "i"),
    ("x_max_nm", "f"), ("y_max_nm", "f"), ("x_piezo", "f"), ("y_piezo", "f"),
    ("z_piezo_extension", "f"), ("z_piezo_gain", "f"),
)  # fmt: skip
_V0_COMMON = (
    ("kind1", "h"), ("kind2", "h"), ("header_length", "i"),
    ("frame_header_length", "i"), ("name_size", "i"), ("comment_offset", "i"),
    ("comment_size", "i"),
)  # fmt: skip
# libasd's reading of version 0: 32-bit geometry, then the operator name.
_V0_LIBASD = (
    *_V0_COMMON,
    ("x_pixels", "i"), ("y_pixels", "i"), ("x_nm", "i"), ("y_nm", "i"),
    ("frame_time_ms", "f"), ("z_piezo_extension", "f"), ("z_piezo_gain", "f"),
    ("ad_range", "i"), ("ad_bits", "i"), ("averaged", "?"), ("average_window", "i"),
    ("_", "4x"), ("year", "h"), ("month", "B"), ("day", "B"), ("hour", "B"),
    ("minute", "B"), ("second", "B"), ("rounding", "i"), ("x_max_nm", "f"),
    ("y_max_nm", "f"), ("_", "12x"), ("frames_recorded", "i"), ("n_frames", "i"),
    ("machine_id", "i"), ("file_id", "i"),
)  # fmt: skip
# AFMReader's reading of version 0: 16-bit geometry.
_V0_AFMREADER = (
    *_V0_COMMON,
    ("x_pixels", "h"), ("y_pixels", "h"), ("x_nm", "h"), ("y_nm", "h"),
    ("frame_time_ms", "f"), ("z_piezo_extension", "f"), ("z_piezo_gain", "f"),
    ("ad_range", "i"), ("ad_bits", "i"), ("averaged", "?"), ("average_window", "i"),
    ("_", "2x"), ("year", "h"), ("month", "B"), ("day", "B"), ("hour", "B"),
    ("minute", "B"), ("second", "B"), ("rounding", "B"), ("x_max_nm", "f"),
    ("y_max_nm", "f"), ("_", "12x"), ("frames_recorded", "i"), ("n_frames", "i"),
    ("machine_id", "i"), ("file_id", "h"),
)  # fmt: skip
# After the operator name, version 0 stores the sensitivities and scan direction.
_V0_TAIL = (("sensor_sensitivity", "f"), ("phase_sensitivity", "f"),
            ("scan_direction", "i"))  # fmt: skip


def _unpack(buf: bytes, pos: int, fields: tuple[tuple[str, str], ...]) -> dict:
    fmt = "<" + "".join(code for _, code in fields)
    values = iter(struct.unpack_from(fmt, buf, pos))
    out = {name: next(values) for name, code in fields if not code.endswith("x")}
    out["_end"] = pos + struct.calcsize(fmt)
    return out


def kind_name(code: int) -> str:
    """Channel name of a data-kind code (``0x5054`` -> ``"TP"``)."""
    raw = int(code).to_bytes(4, "little", signed=True)[:2]
    if all(0x20 < b < 0x7F for b in raw):
        return raw.decode("ascii")
    return f"0x{int(code) & 0xFFFF:04x}"


@dataclass
class AsdHeader:
    """The parts of an ``.asd`` header the reader needs (plus the raw fields)."""

    version: int
    fields: dict[str, Any]
    channels: list[str]
    file_size: int

    def __getitem__(self, key: str) -> Any:
        return self.fields[key]

    @property
    def frame_bytes(self) -> int:
        """Bytes per frame: frame header plus int16 levels."""
        return (
            int(self["frame_header_length"]) + 2 * self["x_pixels"] * self["y_pixels"]
        )

    @property
    def data_offset(self) -> int:
        """Where the first frame starts."""
        return int(self["data_offset"])

    @property
    def needed_bytes(self) -> int:
        """File size the header's geometry implies."""
        n_blocks = len(self.channels) * self["n_frames"]
        return self.data_offset + n_blocks * self.frame_bytes


def _sane(f: dict) -> bool:
    return (
        0 < f["x_pixels"] <= 65536
        and 0 < f["y_pixels"] <= 65536
        and f["n_frames"] >= 0
        and f["frame_header_length"] >= 0
        and f["header_length"] >= 4
    )


def read_header(path: Path) -> AsdHeader:
    """Parse the header of an ``.asd`` file; raise ReadError when it is unusable."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        buf = fh.read(min(size, 1 << 16))
    if len(buf) < 4:
        raise ReadError(f"{path.name}: file ends after {size} bytes; not an .asd file")
    version = struct.unpack_from("<i", buf)[0]
    if not 0 <= version < 256:  # text, or another format: not a version number
        raise ReadError(
            f"{path.name}: not an .asd file (it starts with {printable(buf[:12])!r}, "
            "not an .asd version number)"
        )
    if version not in (0, 1, 2):
        raise ReadError(
            f"{path.name}: unknown .asd version {version} (versions 0, 1, 2 are read)"
        )
    layouts = ((_V1_FIELDS, ()),) if version else ((_V0_LIBASD,), (_V0_AFMREADER,))
    candidates = []
    for layout in layouts:
        try:
            fields = _unpack(buf, 4, layout[0])
            if version == 0:
                tail = fields["_end"] + max(fields["name_size"], 0)
                fields.update(_unpack(buf, tail, _V0_TAIL))
        except struct.error:
            continue
        if not _sane(fields):
            continue
        if version == 0:
            # The header length stops before the comment: the comment offset
            # (padding) and the comment follow it, then the frames (as AFMReader
            # reads them); v1/v2 header lengths include name and comment.
            skip = [fields["comment_offset"], fields["comment_size"]]
            if min(skip) < 0:
                continue
            fields["data_offset"] = fields["_end"] + sum(skip)
        else:
            fields["data_offset"] = fields["header_length"]
        kinds = [fields["kind1"], fields["kind2"]]
        channels = [kind_name(k) for k in kinds if k != 0]
        candidates.append(AsdHeader(version, fields, channels, size))
    if not candidates:
        raise ReadError(
            f"{path.name}: file ends after {size} bytes or its .asd v{version} header "
            "is corrupt (no valid image geometry)"
        )
    exact = [h for h in candidates if h.needed_bytes == size]
    return (exact or candidates)[0]


def _multiplier(header: AsdHeader, channel: str) -> tuple[float, float, bool]:
    """(ADC volts, scale k, bipolar?) for converting the levels of ``channel``."""
    code = header["ad_range"] & 0xFFFFFFFF
    if code not in AD_RANGES:
        raise ReadError(f"unknown ADC range code 0x{code:08x} in the header")
    volts, bipolar = AD_RANGES[code]
    if channel == "TP":
        gain = _finite(header, "z_piezo_gain", "Z piezo gain")
        k = gain * _finite(header, "z_piezo_extension", "Z piezo extension")
    elif channel == "ER":
        k = -_finite(header, "sensor_sensitivity", "sensor sensitivity")
    elif channel == "PH":
        k = -_finite(header, "phase_sensitivity", "phase sensitivity")
    else:
        k = 1.0
    return volts, k, bipolar


def _finite(header: AsdHeader, key: str, what: str) -> float:
    value = float(header[key])
    if not math.isfinite(value):
        raise ReadError(f"the header's {what} is not a finite number ({value})")
    return value


def _checked_geometry(path: Path, header: AsdHeader) -> tuple[int, int, int]:
    """``(frames, rows, columns)``; a ReadError when the file cannot hold them."""
    n, ny, nx = header["n_frames"], header["y_pixels"], header["x_pixels"]
    if n == 0:
        raise ReadError(f"{path.name}: the header declares no frames")
    check_size(
        path,
        header.file_size,
        header.needed_bytes,
        f"{len(header.channels)} channel(s) of {n} frames of {nx}x{ny} int16 "
        f"data after a {header.data_offset}-byte header",
    )
    return n, ny, nx


class AsdReader(ReaderBase):
    """Reads HS-AFM ``.asd`` videos (RIBM/Ando, versions 0-2) into a stack."""

    name = "asd"
    suffixes = (".asd",)
    description = "HS-AFM .asd video (RIBM/Ando, versions 0-2); heights in nm"

    def can_read(self, path: Path) -> bool:
        """True for an ``.asd`` file whose version number is 0, 1 or 2."""
        if not (path.is_file() and self.has_suffix(path)):
            return False
        with open(path, "rb") as fh:
            head = fh.read(4)
        return len(head) == 4 and struct.unpack("<i", head)[0] in (0, 1, 2)

    def channels(self, path: Path) -> list[str]:
        """Channel names in the file, e.g. ``["TP", "PH"]``."""
        return read_header(path).channels

    def inspect(self, path: Path) -> StackInfo:
        """Describe the file from its header alone (``playnano info``)."""
        from playnano.info import ArrayInfo, StackInfo

        path = Path(path)
        header = read_header(path)
        name = pick_channel(path, None, header.channels, DEFAULT_CHANNEL)
        n, ny, nx = _checked_geometry(path, header)
        frame_s = float(header["frame_time_ms"]) / 1000.0
        timed = math.isfinite(frame_s) and frame_s > 0
        return StackInfo(
            reader=self.name,
            metadata_only=True,
            format_version=None,
            data=ArrayInfo((n, ny, nx), "float64", "nm" if name == "TP" else None),
            pixel_size_nm=header["x_nm"] / nx,
            channel=name,
            channels=list(header.channels),
            timestamps=[i * frame_s if timed else None for i in range(n)],
        )

    def _open(
        self, path: Path, channel: str | None
    ) -> tuple[AsdHeader, str, AsdFrames]:
        """The header, channel and frames to read (no frame read yet)."""
        header = read_header(path)
        name = pick_channel(path, channel, header.channels, DEFAULT_CHANNEL)
        index = header.channels.index(name)
        n, ny, nx = _checked_geometry(path, header)
        try:
            volts, k, bipolar = _multiplier(header, name)
        except ReadError as exc:
            raise ReadError(f"{path.name}: {exc}") from None
        bits = header["ad_bits"]
        resolution = float(2**bits) if 1 <= bits <= 24 else 4096.0
        offset = header.data_offset + index * n * header.frame_bytes
        fhl = int(header["frame_header_length"])
        frames = AsdFrames(
            path, offset, (n, ny, nx), fhl, volts, k, bipolar, resolution
        )
        return header, name, frames

    def read(self, path: Path, channel: str | None = None) -> AFMImageStack:
        """Read one channel of an ``.asd`` file (``TP`` unless told otherwise)."""
        path = Path(path)
        header, name, frames = self._open(path, channel)
        try:
            data = frames.read(0, frames.shape[0])
        finally:
            frames.close()
        return self._stack(path, header, name, frames, data)

    def read_lazy(self, path: Path, channel: str | None = None) -> AFMImageStack:
        """Read the header now and the frames on demand (see :class:`AsdFrames`).

        A file shorter than its header declares fails here, as in :meth:`read`.
        """
        path = Path(path)
        header, name, frames = self._open(path, channel)
        return self._stack(path, header, name, frames, None)

    def _stack(
        self,
        path: Path,
        header: AsdHeader,
        name: str,
        frames: AsdFrames,
        data: np.ndarray | None,
    ) -> AFMImageStack:
        """The stack of ``data`` (lazily of ``frames`` when None) with its metadata."""
        n, ny, nx = frames.shape
        pixel_nm = header["x_nm"] / nx
        frame_s = float(header["frame_time_ms"]) / 1000.0
        timed = math.isfinite(frame_s) and frame_s > 0  # else: times unknown
        end_ms = epoch_ms(
            header["year"], header["month"], header["day"],
            header["hour"], header["minute"], header["second"],
        )  # fmt: skip
        start_ms = None
        if end_ms is not None and timed:
            start_ms = end_ms - round(n * frame_s * 1000)
        meta = [
            frame_entry(
                timestamp=i * frame_s if timed else None,
                pixel_size_nm=pixel_nm,
                duration_s=frame_s if timed else None,
                start_epoch_ms=None
                if start_ms is None
                else start_ms + round(i * frame_s * 1000),
                line_rate=ny / frame_s if timed else None,
            )
            for i in range(n)
        ]
        if data is None:
            from playnano.formats._lazy_stack import lazy_stack

            stack = lazy_stack(path, frames, pixel_nm, name, meta)
        else:
            stack = AFMImageStack(data, pixel_nm, name, path, meta)
        set_source_details(
            stack,
            acquisition={
                "asd_file_version": header.version,
                "asd_scan_direction_raw": header["scan_direction"],
                "asd_channels": header.channels,
                "scan_range_nm": [header["x_nm"], header["y_nm"]],
                "adc_range_v": frames.volts,
                "adc_bipolar": frames.bipolar,
            },
        )
        return stack


@hookimpl
def register_readers(register: Any) -> None:
    """Register the ``.asd`` reader."""
    register(AsdReader())
