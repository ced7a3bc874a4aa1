"""Reader for RIBM/Ando high-speed AFM ``.asd`` files, versions 0, 1 and 2.

The header's layout and its parsing are in :mod:`playnano.readers._asd_header`.

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
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.afm_stack import AFMImageStack
from playnano.errors import ReadError
from playnano.plugins import ReaderBase, hookimpl
from playnano.progress_ticks import READ, frames_done
from playnano.readers._asd_frames import AsdFrames
from playnano.readers._asd_header import AD_RANGES, AsdHeader, kind_name, read_header
from playnano.readers.common import (
    check_size,
    epoch_ms,
    frame_entry,
    pick_channel,
    set_source_details,
)

if TYPE_CHECKING:
    from playnano.info import StackInfo

__all__ = ["DEFAULT_CHANNEL", "AsdHeader", "AsdReader", "kind_name", "read_header"]

DEFAULT_CHANNEL = "TP"


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
        raise ReadError(f"{path}: the header declares no frames")
    check_size(
        path,
        header.file_size,
        header.needed_bytes,
        f"{len(header.channels)} channel(s) of {n} frames of {nx}x{ny} int16 "
        f"data after a {header.data_offset}-byte header",
    )
    return n, ny, nx


#: Frames converted at a time by :func:`_read_all` (about 32 MB of float64 at 512^2).
_READ_FRAMES = 16


def _read_all(frames: AsdFrames) -> np.ndarray:
    """Every frame, converted a few at a time: the raw levels of the whole file are
    never held beside the result, and a progress bar sees the frames go by.

    Each value is converted alone, so the result is the same as one whole read.
    """
    n = frames.shape[0]
    data = np.empty(frames.shape, dtype=np.float64)
    for start in range(0, n, _READ_FRAMES):
        stop = min(n, start + _READ_FRAMES)
        data[start:stop] = frames.read(start, stop)
        frames_done(stop - start, READ)
    return data


class AsdReader(ReaderBase):
    """Reads HS-AFM ``.asd`` videos (RIBM/Ando, versions 0-2) into a stack."""

    name = "asd"
    suffixes = (".asd",)
    description = "HS-AFM .asd video (RIBM/Ando, versions 0-2); heights in nm"
    supports_lazy = True
    supports_inspect = True
    supports_channels = True

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
            raise ReadError(f"{path}: {exc}") from None
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
            data = _read_all(frames)
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
            from playnano.readers.lazy_stack import lazy_stack

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
