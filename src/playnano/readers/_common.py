"""Helpers shared by the builtin readers: channel choice, size checks, times, units.

Not a plugin: nothing here registers a reader, and nothing imports a heavy library.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import logging
import math
import re
import struct
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playnano.errors import ChannelError, PlaynanoWarning, ReadError, StackError


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
        raise ReadError(
            f"{path.name}: {what} is not a real number ({printable(value)})"
        )
    number = float(arr.reshape(-1)[0])
    if not math.isfinite(number):
        raise ReadError(f"{path.name}: {what} is not a finite number ({number})")
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


class ReaderBase:
    """Defaults for the Reader protocol's declarations; subclasses set the rest."""

    name: str = ""
    aliases: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    #: Suffixes recognised by content, not name (``.00N``), for messages only.
    content_suffixes: tuple[str, ...] = ()
    reads_folders: bool = False
    #: True when ``read`` takes ``skip_damaged=True`` (leave damaged frames out).
    skips_damaged_frames: bool = False
    description: str = ""
    requires: tuple[str, ...] = ()
    install_hint: str = ""

    def has_suffix(self, path: Path) -> bool:
        """True when ``path``'s name ends with one of :attr:`suffixes` (any case)."""
        low = path.name.lower()
        return any(low.endswith(s.lower()) and len(low) > len(s) for s in self.suffixes)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def pick_channel(
    path: Path, requested: str | None, available: Sequence[str], default: str
) -> str:
    """Return the channel to read: ``requested`` (any case) or the default.

    ``requested=None`` picks ``default`` when the file has it, else its first
    channel. An unknown channel raises :class:`~playnano.errors.ChannelError`
    listing the channels the file has.
    """
    if not available:
        raise ReadError(f"{path.name}: holds no image channels")
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
    raise ChannelError(
        f"{path.name}: no channel {printable(requested)!r}; it has {names}"
    )


@dataclass
class Frames:
    """The frames of a frame folder that could be read, and the ones skipped."""

    files: list[Path] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)  # positions in the folder
    images: list[Any] = field(default_factory=list)
    metas: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    #: The images' common dtype (of ``np.stack(images)``), also when not kept.
    dtype: Any = None

    def record(self, stack: Any, skip_damaged: bool) -> None:
        """Put the skipped frames in the stack's source record (when asked to skip)."""
        if skip_damaged:
            set_source_details(stack, skipped_frames=self.skipped)


def read_frames(
    folder: Path,
    files: Sequence[Path],
    read_one: Callable[[Path, str | None], tuple[Any, dict[str, Any]]],
    channel: str | None,
    skip_damaged: bool = False,
    *,
    keep_images: bool = True,
) -> Frames:
    """Read every frame file with ``read_one(file, channel)`` -> (image, metadata).

    A damaged frame (a ReadError, or a size unlike the first frame's) stops the read
    with an error naming it, unless ``skip_damaged``: then it is left out, listed in
    :attr:`Frames.skipped` and warned about. A missing channel is never skipped.
    The metadata must hold the ``"channel"`` read; later frames read exactly it.
    ``keep_images=False`` keeps only the first image (a lazy read checks every
    frame now and reads the images again when asked).
    """
    import numpy as np

    out = Frames()
    for index, f in enumerate(files):
        try:
            image, meta = read_one(f, channel)
            if out.images and image.shape != out.images[0].shape:
                first, ref = out.files[0], out.images[0]
                raise ReadError(
                    f"{folder.name}: {f.name} is {image.shape[1]}x{image.shape[0]} "
                    f"pixels; {first.name} is {ref.shape[1]}x{ref.shape[0]}"
                )
        except ChannelError:
            raise
        except Exception as exc:  # the frame file is damaged: say which one
            if isinstance(exc, ReadError):
                error = exc
            elif isinstance(exc, StackError):
                error = ReadError(f"{f.name}: {one_line(str(exc))}")
            else:
                error = ReadError(f"{f.name}: {describe_failure(exc)}")
            if not skip_damaged:
                if error is exc:
                    raise
                raise error from exc
            out.skipped.append({"file": f.name, "index": index, "error": str(error)})
            continue
        channel = meta["channel"]
        out.files.append(f)
        out.indices.append(index)
        if keep_images or not out.images:
            out.images.append(image)
        seen = [] if out.dtype is None else [out.dtype]
        out.dtype = np.result_type(*seen, image.dtype)
        out.metas.append(meta)
    if not out.images:
        raise ReadError(
            f"{folder.name}: no readable frames; all {len(files)} are damaged "
            f"(first: {out.skipped[0]['error'] if out.skipped else 'none'})"
        )
    if out.skipped:
        names = ", ".join(s["file"] for s in out.skipped)
        count = len(out.skipped)
        warnings.warn(
            f"{folder.name}: skipped {count} damaged frame{'s' * (count > 1)}: "
            f"{names} (listed with the reasons in the provenance's source)",
            ReadWarning,
            stacklevel=4,
        )
    return out


def check_size(path: Path, size: int, needed: int, what: str) -> None:
    """Raise a ReadError when a file of ``size`` bytes is shorter than ``needed``.

    ``what`` says what the header declares, e.g. ``"512x512 int16 data at offset
    40960"``.
    """
    if size < needed:
        raise ReadError(
            f"{path.name}: file ends after {size} bytes; the header declares {what}"
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
    stack must not pass for a whole one.
    """
    log = logging.getLogger("tifffile")
    handler = _Collect()
    propagate = log.propagate
    log.addHandler(handler)
    log.propagate = False

    def damaged(exc: Exception | None = None) -> ReadError | None:
        from tifffile import TiffFileError

        messages = list(handler.messages)
        if isinstance(exc, TiffFileError):
            messages.append(str(exc))
        if not messages:
            return None
        size = path.stat().st_size
        return ReadError(
            f"{path.name}: file is truncated or corrupt after {size} bytes "
            f"(tifffile: {messages[0]})"
        )

    try:
        yield
    except Exception as exc:
        error = damaged(exc)
        if error is not None:
            raise error from exc
        raise
    finally:
        log.removeHandler(handler)
        log.propagate = propagate
    error = damaged()
    if error is not None:
        raise error


#: Most decoded bytes per stored byte: uncompressed (8 for 1-bit pixels), PackBits,
#: deflate (its format's limit is 1032).
_TIFF_RATIO = {1: 8, 32773: 128, 8: 1032, 32946: 1032}
#: The same for any other codec (LZW reaches ~2700), with room.
MAX_DECODE_RATIO = 4096


def check_tiff_page(path: Path, page: Any, what: str) -> None:
    """Raise a ReadError when a TIFF page's image data runs past the end of file,
    or when its declared pixels need more bytes than its stored data can decode to
    (a tiny file must not make tifffile allocate gigabytes)."""
    size = path.stat().st_size
    ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts, strict=True)]
    check_size(path, size, max(ends, default=0), what)
    ratio = _TIFF_RATIO.get(int(page.compression), MAX_DECODE_RATIO)
    declared = int(getattr(page, "nbytes", 0) or 0)
    stored = sum(int(n) for n in page.databytecounts)
    if declared > ratio * stored + 4096:
        shape = " x ".join(map(str, page.shape))
        raise ReadError(
            f"{path.name}: {what} declares {shape} {page.dtype} ({declared} bytes) "
            f"but stores {stored} bytes"
        )
