"""Reader for plain and ImageJ TIFF stacks (``.tif``, ``.tiff``).

Every page (or every plane of the first series) is one frame; axes other than the
image's rows and columns (ImageJ ``T``, ``Z``, ``I``...) are merged into frames in file
order. A stack with a channel axis exposes channels ``c0``, ``c1``...; otherwise its
one channel is called ``height``. Values keep their stored dtype and are taken as nm.

Pixel size comes from ``XResolution`` (pixels per unit): ``ResolutionUnit`` gives the
unit (inch, centimetre, millimetre, micrometre) or, for ImageJ files, the ``unit``
of the ImageJ description (``nm``, ``micron``, ``µm``...). Without either the pixel
size is unknown: the reader warns and uses 1 nm. ImageJ's frame interval
(``finterval``, in ``tunit``, seconds by default) gives frame times. A resolution tag
or frame interval that is not one number is refused by name. ``.ome.tif`` files
go to the OME-TIFF bundle reader instead (its suffix is longer).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from playnano.afm_stack import AFMImageStack
from playnano.errors import ReadError
from playnano.plugins import ReaderBase, hookimpl
from playnano.readers.common import (
    ReadWarning,
    frame_entry,
    length_to_nm,
    pick_channel,
    printable,
    set_source_details,
)
from playnano.readers.guarded.tiff import checked_series, open_tiff

DEFAULT_CHANNEL = "height"
TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
#: nm per TIFF ResolutionUnit (2 inch, 3 centimetre, 4 millimetre, 5 micrometre).
RESOLUTION_UNIT_NM = {2: 2.54e7, 3: 1e7, 4: 1e6, 5: 1e3}
TIME_UNIT_S = {"s": 1.0, "sec": 1.0, "ms": 1e-3, "msec": 1e-3, "min": 60.0}


class PixelSizeWarning(ReadWarning):
    """A TIFF holds no usable pixel size; 1 nm per pixel is assumed."""


def _is_tiff(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) in TIFF_MAGICS


def _imagej_unit(metadata: dict[str, Any]) -> str | None:
    unit = metadata.get("unit")
    if not isinstance(unit, str):
        return None
    if "\\u" in unit:  # ImageJ escapes the micro sign as \u00B5
        unit = unit.encode("ascii", "backslashreplace").decode("unicode_escape")
    return unit


def _resolution(path: Path, tag: Any) -> tuple[float, float]:
    """XResolution's one value as (numerator, denominator); a ReadError otherwise."""
    if tag.count != 1:
        raise ReadError(
            f"{path}: tag XResolution holds {tag.count} values; expected one"
        )
    value = tag.value
    num, den = value if isinstance(value, tuple) and len(value) == 2 else (value, 1)
    if not all(isinstance(v, int | float) for v in (num, den)):
        raise ReadError(
            f"{path}: tag XResolution holds {printable(repr(value))}, not a number"
        )
    return num, den


def pixel_size_nm(path: Path, page: Any, imagej: dict[str, Any]) -> float | None:
    """Pixel size along x in nm from the resolution tags of ``path``, or ``None``."""
    tag = page.tags.get("XResolution")
    if tag is None:
        return None
    num, den = _resolution(path, tag)
    if not num or not den:
        return None
    unit_tag = page.tags.get("ResolutionUnit")
    code = unit_tag.value if unit_tag is not None else 2
    if not isinstance(code, int):
        raise ReadError(
            f"{path}: tag ResolutionUnit holds {printable(repr(code))}, not a unit code"
        )
    nm_per_unit = RESOLUTION_UNIT_NM.get(code)
    if code == 1 or imagej.get("unit") is not None:
        nm_per_unit = length_to_nm(_imagej_unit(imagej))
    if nm_per_unit is None:
        return None
    size = den / num * nm_per_unit
    return size if size > 0 else None


def _frame_interval_s(path: Path, imagej: dict[str, Any]) -> float | None:
    """Seconds between frames from ImageJ's ``finterval`` in ``tunit``, or ``None``."""
    interval = imagej.get("finterval")
    scale = TIME_UNIT_S.get(str(imagej.get("tunit", "s")).lower())
    if interval is None or scale is None:
        return None
    try:
        seconds = float(interval) * scale
    except (TypeError, ValueError):
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise ReadError(
            f"{path}: the ImageJ description's finterval "
            f"{printable(repr(interval))} is not a number >= 0"
        )
    return seconds or None


def _frames(path: Path, data: np.ndarray, axes: str) -> tuple[np.ndarray, bool]:
    """Array as (frames, [channels,] rows, cols) and whether it has channels."""
    if "Y" not in axes or "X" not in axes:
        raise ReadError(f"{path}: image axes {axes!r} have no rows and columns")
    if "S" in axes and data.shape[axes.index("S")] > 1:
        raise ReadError(f"{path}: holds colour (RGB) samples, not height data")
    keep = [i for i, a in enumerate(axes) if a in "YX" or data.shape[i] > 1]
    data = data.reshape([data.shape[i] for i in keep])
    axes = "".join(axes[i] for i in keep)
    order = [i for i, a in enumerate(axes) if a not in "CYX"]
    has_c = "C" in axes
    order += [axes.index(a) for a in ("C", "Y", "X") if a in axes]
    data = np.transpose(data, order)
    tail = data.shape[len(data.shape) - (3 if has_c else 2) :]
    return data.reshape((-1, *tail)), has_c


@contextmanager
def _first_series(path: Path) -> Iterator[tuple[Any, Any]]:
    """The open TIFF and its first series, through the guarded opening."""
    with open_tiff(path) as opened:
        yield opened.tif, checked_series(opened)


class TiffReader(ReaderBase):
    """Reads plain or ImageJ TIFF stacks, one frame per plane."""

    name = "tiff"
    aliases = ("tif", "imagej")
    suffixes = (".tif", ".tiff")
    description = "plain or ImageJ TIFF stack (pixel size from resolution tags)"
    requires = ("tifffile",)
    install_hint = "pip install tifffile"
    supports_channels = True

    def can_read(self, path: Path) -> bool:
        """True for a ``.tif``/``.tiff`` file with a TIFF signature."""
        return path.is_file() and self.has_suffix(path) and _is_tiff(path)

    def channels(self, path: Path) -> list[str]:
        """``["height"]``, or ``c0``, ``c1``... for a stack with a channel axis."""
        path = Path(path)
        with _first_series(path) as (_, series):
            axes, shape = series.axes, series.shape
        if "C" in axes and shape[axes.index("C")] > 1:
            return [f"c{i}" for i in range(shape[axes.index("C")])]
        return [DEFAULT_CHANNEL]

    def read(self, path: Path, channel: str | None = None) -> AFMImageStack:
        """Read the stack (or one channel ``cN`` of a multichannel stack)."""
        path = Path(path)
        with _first_series(path) as (tif, series):
            data, has_c = _frames(path, series.asarray(), series.axes)
            imagej = dict(tif.imagej_metadata or {})
            size_nm = pixel_size_nm(path, tif.pages[0], imagej)
        names = [f"c{i}" for i in range(data.shape[1])] if has_c else [DEFAULT_CHANNEL]
        name = pick_channel(path, channel, names, names[0])
        if has_c:
            data = data[:, names.index(name)]
        if size_nm is None:
            warnings.warn(
                f"{path}: no pixel size in the TIFF tags; assuming 1 nm/pixel",
                PixelSizeWarning,
                stacklevel=2,
            )
        step = _frame_interval_s(path, imagej)
        meta = [
            frame_entry(None if step is None else i * step, size_nm, step)
            for i in range(data.shape[0])
        ]
        stack = AFMImageStack(
            np.ascontiguousarray(data), size_nm or 1.0, name, path, meta
        )
        set_source_details(
            stack,
            acquisition={
                "imagej": bool(imagej),
                "pixel_size_known": size_nm is not None,
            },
        )
        return stack


@hookimpl
def register_readers(register: Any) -> None:
    """Register the TIFF stack reader."""
    register(TiffReader())
