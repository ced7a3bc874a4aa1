"""The header of an RIBM/Ando ``.asd`` file (versions 0, 1 and 2): layouts and parsing.

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
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playnano.errors import ReadError
from playnano.readers.common import printable

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
        raise ReadError(f"{path}: file ends after {size} bytes; not an .asd file")
    version = struct.unpack_from("<i", buf)[0]
    if not 0 <= version < 256:  # text, or another format: not a version number
        raise ReadError(
            f"{path}: not an .asd file (it starts with {printable(buf[:12])!r}, "
            "not an .asd version number)"
        )
    if version not in (0, 1, 2):
        raise ReadError(
            f"{path}: unknown .asd version {version} (versions 0, 1, 2 are read)"
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
            f"{path}: file ends after {size} bytes or its .asd v{version} header "
            "is corrupt (no valid image geometry)"
        )
    exact = [h for h in candidates if h.needed_bytes == size]
    return (exact or candidates)[0]
