"""Reader for JPK NanoWizard ULTRA Speed HDF5 videos (``.h5-jpk``).

Layout: a ``Measurement_000`` group whose attributes hold the scan geometry
(``position-pattern.grid.ilength``/``jlength`` pixels, ``ulength`` metres along the
fast axis), the line rate (``timing-settings.scanRate``), the slow-axis ``motion`` and
the interlace flag; one ``Channel_NNN`` group per channel and direction, each with a
``channel.name``, a ``retrace`` flag and one ``(pixels, frames)`` integer dataset that
``net-encoder.scaling.multiplier``/``offset`` turn into ``net-encoder.scaling.unit``;
and ``meta-data/start-times``/``end-times``, one epoch-millisecond value per frame.

Channels are named ``<channel.name>_<trace|retrace>`` as in the file
(``height_trace``, ``measuredHeight_trace``); matching is case-insensitive. Lengths are
converted to nm. Each frame is flipped vertically (row 0 = last stored line), the
orientation of playnano 0.5.0. Timestamps are the file's real frame start times
relative to frame 0; only when those are missing are they synthesised from the line
rate (halved for interlaced scans).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from playnano.afm_stack import AFMImageStack
from playnano.errors import ReadError
from playnano.plugins import hookimpl
from playnano.readers._common import (
    ReaderBase,
    ReadWarning,
    frame_entry,
    length_to_nm,
    pick_channel,
    set_source_details,
)

DEFAULT_CHANNEL = "height_trace"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _text(value: Any) -> str:
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("utf-8", "replace").strip()
    if isinstance(value, np.ndarray) and value.size == 1:
        return _text(value.reshape(-1)[0])
    return str(value).strip()


def _flag(value: Any) -> bool:
    if isinstance(value, bytes | str | np.bytes_):
        return _text(value).lower() == "true"
    return bool(value)


def _open(h5py: Any, path: Path) -> Any:
    """Open ``path`` with h5py; a damaged file becomes a ReadError saying so."""
    with open(path, "rb") as fh:
        if fh.read(8) != HDF5_MAGIC:
            raise ReadError(f"{path.name}: not an HDF5 file (no HDF5 signature)")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        reason = (str(exc).splitlines() or [""])[0]
        raise ReadError(
            f"{path.name}: HDF5 file is truncated or corrupt ({reason})"
        ) from exc


def _measurement(f: Any, path: Path) -> Any:
    names = sorted(k for k in f if k.startswith("Measurement_"))
    if not names:
        raise ReadError(f"{path.name}: no Measurement_ group; not a JPK HDF5 scan")
    if len(names) > 1:
        warnings.warn(
            f"{path.name}: {len(names)} measurements; reading only {names[0]}",
            ReadWarning,
            stacklevel=3,
        )
    return f[names[0]]


def _channel_map(measurement: Any) -> dict[str, Any]:
    """Channel name -> HDF5 group, first occurrence wins, in file order."""
    found: dict[str, Any] = {}
    for key in sorted(measurement):
        group = measurement[key]
        if not key.startswith("Channel_") or "channel.name" not in group.attrs:
            continue
        direction = "retrace" if _flag(group.attrs.get("retrace", False)) else "trace"
        found.setdefault(f"{_text(group.attrs['channel.name'])}_{direction}", group)
    return found


def _attr(group: Any, key: str, path: Path) -> Any:
    try:
        return group.attrs[key]
    except KeyError:
        raise ReadError(f"{path.name}: attribute {key!r} is missing") from None


def _timing(
    m: Any, n: int, lines: int, line_rate: float | None, interlaced: bool
) -> tuple[list[float | None], list[float | None], list[int | None], str]:
    """Per-frame timestamps (s), durations (s), start epoch ms and their source."""
    meta = m.get("meta-data")
    if meta is not None and "start-times" in meta and "end-times" in meta:
        starts = np.asarray(meta["start-times"][()], dtype=np.int64).ravel()
        ends = np.asarray(meta["end-times"][()], dtype=np.int64).ravel()
        if len(starts) == n and len(ends) == n:
            return (
                [(int(s) - int(starts[0])) / 1000.0 for s in starts],
                [(int(e) - int(s)) / 1000.0 for s, e in zip(starts, ends, strict=True)],
                [int(s) for s in starts],
                "file",
            )
    if not line_rate:
        return [None] * n, [None] * n, [None] * n, "unknown"
    interval = lines / line_rate / (2.0 if interlaced else 1.0)
    return [i * interval for i in range(n)], [interval] * n, [None] * n, "line rate"


class H5JpkReader(ReaderBase):
    """Reads JPK ``.h5-jpk`` HS-AFM videos with their real frame times."""

    name = "h5-jpk"
    aliases = ("h5jpk",)
    suffixes = (".h5-jpk",)
    description = "JPK NanoWizard ULTRA Speed HDF5 video (.h5-jpk)"
    requires = ("h5py",)
    install_hint = "pip install h5py"

    def can_read(self, path: Path) -> bool:
        """True for an ``.h5-jpk`` file that starts with the HDF5 signature."""
        if not (path.is_file() and self.has_suffix(path)):
            return False
        with open(path, "rb") as fh:
            return fh.read(8) == HDF5_MAGIC

    def channels(self, path: Path) -> list[str]:
        """Channel names, e.g. ``["error_trace", "height_trace", ...]``."""
        import h5py

        with _open(h5py, path) as f:
            return list(_channel_map(_measurement(f, path)))

    def read(self, path: Path, channel: str | None = None) -> AFMImageStack:
        """Read one channel of an ``.h5-jpk`` file (``height_trace`` by default)."""
        import h5py

        path = Path(path)
        with _open(h5py, path) as f:
            m = _measurement(f, path)
            channel_map = _channel_map(m)
            name = pick_channel(path, channel, list(channel_map), DEFAULT_CHANNEL)
            group = channel_map[name]
            datasets = [k for k in group if k != "thumbnail"]
            if not datasets:
                raise ReadError(f"{path.name}: channel {name!r} holds no data")
            raw = np.asarray(group[datasets[0]][()])
            width = int(_attr(m, "position-pattern.grid.ilength", path))
            height = int(_attr(m, "position-pattern.grid.jlength", path))
            length_m = float(_attr(m, "position-pattern.grid.ulength", path))
            multiplier = float(group.attrs.get("net-encoder.scaling.multiplier", 1.0))
            offset = float(group.attrs.get("net-encoder.scaling.offset", 0.0))
            unit_raw = group.attrs.get("net-encoder.scaling.unit.unit")
            unit = None if unit_raw is None else _text(unit_raw)
            rate = m.attrs.get("timing-settings.scanRate")
            line_rate = float(rate) if rate is not None else None
            motion = m.attrs.get("motion")
            direction = None if motion is None else _text(motion)
            interlaced = _flag(
                m.attrs.get(
                    "environment.fast-imaging.feed-forward-parameters.yaxis.interlace",
                    False,
                )
            )
            if raw.ndim != 2 or width <= 0 or height <= 0:
                raise ReadError(
                    f"{path.name}: channel {name!r} has shape {raw.shape}; expected "
                    f"(pixels, frames) with {width}x{height} pixels per frame"
                )
            if raw.shape[0] != width * height:
                raise ReadError(
                    f"{path.name}: channel {name!r} holds {raw.shape[0]} values per "
                    f"frame; the scan grid declares {width}x{height}"
                )
            n = raw.shape[1]
            times, durations, starts, time_source = _timing(
                m, n, height, line_rate, interlaced
            )

        values = raw * multiplier + offset
        to_nm = length_to_nm(unit)
        if to_nm is not None and to_nm != 1.0:
            values = values * to_nm
        frames = values.T.reshape(n, height, width)[:, ::-1, :]
        pixel_nm = (length_m / width) * 1e9
        meta = [
            frame_entry(
                times[i], pixel_nm, durations[i], starts[i], direction, line_rate
            )
            for i in range(n)
        ]
        stack = AFMImageStack(np.ascontiguousarray(frames), pixel_nm, name, path, meta)
        set_source_details(
            stack,
            acquisition={
                "bidirectional": interlaced,
                "z_unit": "nm" if to_nm is not None else unit,
                "frame_times_from": time_source,
            },
        )
        return stack


@hookimpl
def register_readers(register: Any) -> None:
    """Register the ``.h5-jpk`` reader."""
    register(H5JpkReader())
