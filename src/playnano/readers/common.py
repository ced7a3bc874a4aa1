"""What every reader needs: channel choice, one-line errors, sizes, times, lazy stacks.

Public API for reader plugins (the builtin readers use nothing else from here):
:class:`ReadWarning`, :func:`pick_channel`, :func:`one_line`, :func:`printable`,
:func:`finite`, :func:`check_size`, :func:`frame_entry`, :func:`length_to_nm`,
:func:`set_source_details`, :class:`NamedFrameErrors`. Nothing here imports a heavy
library (nor the data model: :func:`playnano.readers.lazy_stack.lazy_stack` builds
a stack read on demand); the guarded openings of containers (TIFF, HDF5) are in
:mod:`playnano.readers.guarded`.

How an error names the file (every reader, bundle readers too): one line that
starts with the path *as given* (``f"{path}: what is wrong"``, never ``path.name``
nor a resolved path); a frame of a folder is ``folder/frame`` as listed from the
given folder. The command line then echoes what the user typed, and in a batch over
a tree two inputs with the same name stay apart (docs/cli.rst).
"""

from __future__ import annotations

import calendar
import datetime as _dt
import math
import re
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playnano.errors import ChannelError, PlaynanoError, PlaynanoWarning, ReadError

if TYPE_CHECKING:
    import numpy as np

    from playnano.lazy import FrameSource


class ReadWarning(PlaynanoWarning):
    """A reader had to assume or leave out something the file did not say."""


#: Multipliers from a length unit (as instruments spell it) to nanometres.
LENGTH_TO_NM: dict[str, float] = {
    "m": 1e9,
    "cm": 1e7,
    "mm": 1e6,
    "um": 1e3,
    "µm": 1e3,
    "μm": 1e3,
    "~m": 1e3,  # Nanoscope writes the micro sign as "~"
    "micron": 1e3,
    "microns": 1e3,
    "nm": 1.0,
    "nanometer": 1.0,
    "nanometre": 1.0,
    "pm": 1e-3,
    "å": 0.1,
    "angstrom": 0.1,
}


_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def printable(value: Any, limit: int = 80) -> str:
    """``value`` as text fit for a one-line message: control characters (newlines
    in raw tag bytes) become spaces, and long text is cut with an ellipsis."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = _CONTROL.sub(" ", str(value)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_line(message: str) -> str:
    """A message with its line breaks (and other control characters) as spaces."""
    return _CONTROL.sub(" ", message).strip()


def finite(path: Path, value: Any, what: str) -> float:
    """``value`` as a finite float; a ReadError naming ``what`` otherwise.

    Refuses complex, non-numeric and non-finite values instead of letting numpy
    cast them with a ``ComplexWarning`` or compute with ``inf``/``nan``.
    """
    import numpy as np

    arr = np.asarray(value)
    if arr.size != 1 or arr.dtype.kind not in "biuf":
        raise ReadError(f"{path}: {what} is not a real number ({printable(value)})")
    number = float(arr.reshape(-1)[0])
    if not math.isfinite(number):
        raise ReadError(f"{path}: {what} is not a finite number ({number})")
    return number


def describe_failure(exc: BaseException) -> str:
    """What an unexpected exception inside a reader says about the file, one line."""
    text = (str(exc).strip().splitlines() or [""])[0]
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if isinstance(exc, (struct.error, EOFError)):
        return f"file is truncated or corrupt ({detail})"
    if isinstance(exc, OSError):
        return f"cannot be read ({detail})"
    return f"is corrupt or not understood ({detail})"


def length_to_nm(unit: str | None) -> float | None:
    """Nanometres per ``unit``, or ``None`` when ``unit`` is not a length."""
    if unit is None:
        return None
    return LENGTH_TO_NM.get(unit.strip().lower())


def pick_channel(
    path: Path, requested: str | None, available: Sequence[str], default: str
) -> str:
    """Return the channel to read: ``requested`` (any case) or the default.

    ``requested=None`` picks ``default`` when the file has it, else its first
    channel. An unknown channel raises :class:`~playnano.errors.ChannelError`
    listing the channels the file has.
    """
    if not available:
        raise ReadError(f"{path}: holds no image channels")
    if requested is None:
        wanted = default
        fallback: str | None = available[0]
    else:
        wanted, fallback = requested, None
    for name in available:
        if name == wanted:
            return name
    for name in available:
        if name.lower() == wanted.strip().lower():
            return name
    if fallback is not None:
        return fallback
    names = ", ".join(printable(name) for name in available)
    raise ChannelError(f"{path}: no channel {printable(requested)!r}; it has {names}")


def check_size(path: Path, size: int, needed: int, what: str) -> None:
    """Raise a ReadError when a file of ``size`` bytes is shorter than ``needed``.

    ``what`` says what the header declares, e.g. ``"512x512 int16 data at offset
    40960"``.
    """
    if size < needed:
        raise ReadError(
            f"{path}: file ends after {size} bytes; the header declares {what}"
            f" (needs {needed} bytes)"
        )


def epoch_ms(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> int | None:
    """Unix epoch milliseconds of a naive date taken as UTC; ``None`` if invalid."""
    try:
        dt = _dt.datetime(year, month, day, hour, minute, second)
    except (ValueError, TypeError, OverflowError):
        return None
    return calendar.timegm(dt.timetuple()) * 1000


def frame_entry(
    timestamp: float | None,
    pixel_size_nm: float | None,
    duration_s: float | None = None,
    start_epoch_ms: int | None = None,
    scan_direction: str | None = None,
    line_rate: float | None = None,
) -> dict[str, Any]:
    """One frame's metadata with the keys of ``FRAME_METADATA_KEYS``."""
    return {
        "timestamp": timestamp,
        "frame_pixel_size_nm": pixel_size_nm,
        "frame_duration_s": duration_s,
        "start_epoch_ms": start_epoch_ms,
        "scan_direction": scan_direction,
        "line_rate": line_rate,
    }


def direction_name(value: str | None) -> str | None:
    """Slow-axis direction in playnano's words (``topDown``/``bottomUp``)."""
    if value is None:
        return None
    text = str(value).strip()
    return {"down": "topDown", "up": "bottomUp"}.get(text.lower(), text or None)


def set_source_details(stack: Any, **details: Any) -> None:
    """Attach reader-specific details that ``load()`` keeps in the source record."""
    stack.provenance["source"] = {**(stack.provenance.get("source") or {}), **details}


class NamedFrameErrors:
    """A frame source whose failures all name the file, in one line.

    Wraps any :class:`~playnano.lazy.FrameSource`: a
    :class:`~playnano.errors.ReadError` passes unchanged, another
    :class:`~playnano.errors.PlaynanoError` is flattened to one line, and an
    exception from a library (tifffile's ``AssertionError``, ``struct.error``,
    ``MemoryError``...) becomes a ReadError naming ``path``, as at every other door.
    """

    def __init__(self, path: Path, source: FrameSource) -> None:
        from playnano.lazy import read_unit

        self.path, self.source = path, source
        self.shape = source.shape
        self.dtype = source.dtype
        self.read_unit = read_unit(source)  # a sample reads a stored run once

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames ``start`` to ``stop`` of the source."""
        try:
            return self.source.read(start, stop)
        except ReadError:
            raise
        except PlaynanoError as exc:
            raise ReadError(f"{self.path}: {one_line(str(exc))}") from exc
        except Exception as exc:
            raise ReadError(
                f"{self.path}: frames {start} to {stop - 1}: {describe_failure(exc)}"
            ) from exc

    def close(self) -> None:
        """Close the source."""
        self.source.close()
