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
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.afm_stack import AFMImageStack
from playnano.errors import ReadError
from playnano.plugins import ReaderBase, hookimpl
from playnano.readers._h5jpk_frames import H5JpkFrames, scale_frames
from playnano.readers.common import (
    ReadWarning,
    finite,
    frame_entry,
    length_to_nm,
    pick_channel,
    printable,
    set_source_details,
)
from playnano.readers.guarded.hdf5 import (
    HDF5_MAGIC,
    checked_dataset,
    member,
    open_hdf5,
)

if TYPE_CHECKING:
    from playnano.info import StackInfo

DEFAULT_CHANNEL = "height_trace"


def _text(value: Any) -> str:
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("utf-8", "replace").strip()
    if isinstance(value, np.ndarray) and value.size == 1:
        return _text(value.reshape(-1)[0])
    return str(value).strip()


def _flag(value: Any, path: Path, what: str) -> bool:
    """A yes/no attribute (``"true"``, a number or a bool); ``what`` names it."""
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise ReadError(
                f"{path}: attribute {what} is an array of {value.size} values, "
                "not a flag"
            )
        value = value.reshape(-1)[0]
    if isinstance(value, bytes | str | np.bytes_):
        return _text(value).lower() == "true"
    return bool(value)


def _measurement(f: Any, path: Path) -> Any:
    names = sorted(k for k in f if k.startswith("Measurement_"))
    if not names:
        raise ReadError(f"{path}: no Measurement_ group; not a JPK HDF5 scan")
    if len(names) > 1:
        warnings.warn(
            f"{path}: {len(names)} measurements; reading only {names[0]}",
            ReadWarning,
            stacklevel=3,
        )
    return member(f, names[0], path, names[0])


def _channel_map(measurement: Any, path: Path) -> dict[str, Any]:
    """Channel name -> HDF5 group, first occurrence wins, in file order."""
    found: dict[str, Any] = {}
    for key in sorted(measurement):
        if not key.startswith("Channel_"):
            continue
        group = member(measurement, key, path, key)
        if "channel.name" not in group.attrs:
            continue
        retrace = _flag(
            group.attrs.get("retrace", False), path, f"retrace of {group.name[1:]}"
        )
        direction = "retrace" if retrace else "trace"
        name = printable(_text(group.attrs["channel.name"]))
        found.setdefault(f"{name}_{direction}", group)
    return found


def _epoch_ms(meta: Any, key: str, n: int, path: Path) -> list[int] | None:
    """One epoch-ms value per frame from ``meta-data/<key>``; None if unusable."""
    if key not in meta:
        return None
    dset = checked_dataset(member(meta, key, path, f"meta-data/{key}"), path, key)
    if dset.size != n or dset.dtype.kind not in "iuf":
        return None
    values = np.asarray(dset[()]).ravel()
    if values.dtype.kind == "f":  # float16 would overflow comparing with 2**62
        values = values.astype(np.float64)
    if values.dtype.kind == "f" and not (
        np.isfinite(values).all() and (np.abs(values) < 2.0**62).all()
    ):
        return None
    return [int(v) for v in values]


def _attr(group: Any, key: str, path: Path) -> Any:
    try:
        return group.attrs[key]
    except KeyError:
        raise ReadError(f"{path}: attribute {key!r} is missing") from None


def _grid(m: Any, key: str, path: Path) -> int:
    """A positive whole number of pixels from the measurement's attributes."""
    value = finite(path, _attr(m, key, path), key)
    if value <= 0 or value != int(value):
        raise ReadError(f"{path}: {key} is {value}, not a number of pixels")
    return int(value)


def _line_rate(value: Any) -> float | None:
    """The line rate in Hz, or None when missing or not a positive finite number."""
    arr = np.asarray(value) if value is not None else None
    if arr is None or arr.size != 1 or arr.dtype.kind not in "iuf":
        return None
    rate = float(arr.reshape(-1)[0])
    return rate if np.isfinite(rate) and rate > 0 else None


def _timing(
    m: Any,
    path: Path,
    n: int,
    lines: int,
    line_rate: float | None,
    interlaced: bool,
) -> tuple[list[float | None], list[float | None], list[int | None], str]:
    """Per-frame timestamps (s), durations (s), start epoch ms and their source."""
    meta = member(m, "meta-data", path, "meta-data") if "meta-data" in m else None
    if meta is not None and "start-times" in meta and "end-times" in meta:
        starts = _epoch_ms(meta, "start-times", n, path)
        ends = _epoch_ms(meta, "end-times", n, path)
        if starts is not None and ends is not None:
            known: list[int | None] = list(starts)
            return (
                [(s - starts[0]) / 1000.0 for s in starts],
                [(e - s) / 1000.0 for s, e in zip(starts, ends, strict=True)],
                known,
                "file",
            )
        warnings.warn(
            f"{path}: the frame start/end times are not one epoch-ms number "
            "per frame; frame times come from the line rate",
            ReadWarning,
            stacklevel=4,
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
    supports_lazy = True
    supports_inspect = True
    supports_channels = True

    def can_read(self, path: Path) -> bool:
        """True for an ``.h5-jpk`` file that starts with the HDF5 signature."""
        if not (path.is_file() and self.has_suffix(path)):
            return False
        with open(path, "rb") as fh:
            return fh.read(8) == HDF5_MAGIC

    def channels(self, path: Path) -> list[str]:
        """Channel names, e.g. ``["error_trace", "height_trace", ...]``."""
        with open_hdf5(path) as f:
            return list(_channel_map(_measurement(f, path), path))

    def inspect(self, path: Path) -> StackInfo:
        """Describe the default channel from the file's attributes (no frame read)."""
        from playnano.info import ArrayInfo, StackInfo

        path = Path(path)
        with open_hdf5(path) as f:
            frames, _, details = self._channel(f, path, None)
            names = list(_channel_map(_measurement(f, path), path))
        unit = details["acquisition"]["z_unit"]
        return StackInfo(
            reader=self.name,
            metadata_only=True,
            format_version=None,
            data=ArrayInfo(frames.shape, "float64", unit),
            pixel_size_nm=details["pixel_nm"],
            channel=frames.name,
            channels=names,
            timestamps=list(details["timing"][0]),
        )

    def read(self, path: Path, channel: str | None = None) -> AFMImageStack:
        """Read one channel of an ``.h5-jpk`` file (``height_trace`` by default)."""
        path = Path(path)
        with open_hdf5(path) as f:
            frames, dset, details = self._channel(f, path, channel)
            raw = np.asarray(dset[()])
        _, height, width = frames.shape
        data = scale_frames(
            path, frames.name, raw, frames.multiplier, frames.offset, frames.to_nm,
            height, width,
        )  # fmt: skip
        return _stack(path, frames, data, details)

    def read_lazy(self, path: Path, channel: str | None = None) -> AFMImageStack:
        """Read the metadata now and the frames on demand (:class:`H5JpkFrames`).

        The file and dataset checks of :meth:`read` run now; a scaling that
        overflows is found block by block, at the read of its frames.
        """
        path = Path(path)
        with open_hdf5(path) as f:
            frames, _, details = self._channel(f, path, channel)
        return _stack(path, frames, None, details)

    def _channel(
        self, f: Any, path: Path, channel: str | None
    ) -> tuple[H5JpkFrames, Any, dict[str, Any]]:
        """The channel's frames (unread), its checked dataset and the metadata.

        The dataset is checked (local, allocated storage of the declared size)
        before anything is built from its shape.
        """
        import h5py

        m = _measurement(f, path)
        channel_map = _channel_map(m, path)
        name = pick_channel(path, channel, list(channel_map), DEFAULT_CHANNEL)
        group = channel_map[name]
        datasets = [k for k in group if k != "thumbnail"]
        if not datasets:
            raise ReadError(f"{path}: channel {name!r} holds no data")
        dset = member(group, datasets[0], path, f"channel {name!r}")
        if not isinstance(dset, h5py.Dataset):
            raise ReadError(f"{path}: channel {name!r} holds no dataset")
        width = _grid(m, "position-pattern.grid.ilength", path)
        height = _grid(m, "position-pattern.grid.jlength", path)
        length_m = finite(
            path, _attr(m, "position-pattern.grid.ulength", path), "ulength"
        )
        if length_m <= 0:
            raise ReadError(f"{path}: the scan length (ulength) is not positive")
        if len(dset.shape) != 2:
            raise ReadError(
                f"{path}: channel {name!r} has shape {dset.shape}; expected "
                f"(pixels, frames) with {width}x{height} pixels per frame"
            )
        if dset.shape[0] != width * height:
            raise ReadError(
                f"{path}: channel {name!r} holds {dset.shape[0]} values per "
                f"frame; the scan grid declares {width}x{height}"
            )
        if dset.dtype.kind not in "iuf":
            raise ReadError(
                f"{path}: channel {name!r} holds {dset.dtype} values, not real numbers"
            )
        checked_dataset(dset, path, f"channel {name!r}")
        attrs = group.attrs
        multiplier = finite(
            path,
            attrs.get("net-encoder.scaling.multiplier", 1.0),
            f"channel {name!r}'s scaling multiplier",
        )
        offset = finite(
            path,
            attrs.get("net-encoder.scaling.offset", 0.0),
            f"channel {name!r}'s scaling offset",
        )
        unit_raw = attrs.get("net-encoder.scaling.unit.unit")
        unit = None if unit_raw is None else _text(unit_raw)
        line_rate = _line_rate(m.attrs.get("timing-settings.scanRate"))
        motion = m.attrs.get("motion")
        interlace = "environment.fast-imaging.feed-forward-parameters.yaxis.interlace"
        interlaced = _flag(
            m.attrs.get(interlace, False), path, f"{interlace} of {m.name[1:]}"
        )
        n = dset.shape[1]
        timing = _timing(m, path, n, height, line_rate, interlaced)
        to_nm = length_to_nm(unit)
        frames = H5JpkFrames(
            path, dset.name, name, (n, height, width), multiplier, offset, to_nm
        )
        details = {
            "timing": timing,
            "pixel_nm": (length_m / width) * 1e9,
            "direction": None if motion is None else printable(_text(motion)),
            "line_rate": line_rate,
            "acquisition": {
                "bidirectional": interlaced,
                "z_unit": "nm" if to_nm is not None else unit,
                "frame_times_from": timing[3],
            },
        }
        return frames, dset, details


def _stack(
    path: Path, frames: H5JpkFrames, data: np.ndarray | None, details: dict[str, Any]
) -> AFMImageStack:
    """The stack of ``data`` (lazily of ``frames`` when None) with its metadata."""
    times, durations, starts, _ = details["timing"]
    pixel_nm, direction = details["pixel_nm"], details["direction"]
    meta = [
        frame_entry(
            times[i], pixel_nm, durations[i], starts[i], direction, details["line_rate"]
        )
        for i in range(frames.shape[0])
    ]
    if data is None:
        from playnano.readers.lazy_stack import lazy_stack

        stack = lazy_stack(path, frames, pixel_nm, frames.name, meta)
    else:
        stack = AFMImageStack(data, pixel_nm, frames.name, path, meta)
    set_source_details(stack, acquisition=details["acquisition"])
    return stack


@hookimpl
def register_readers(register: Any) -> None:
    """Register the ``.h5-jpk`` reader."""
    register(H5JpkReader())
