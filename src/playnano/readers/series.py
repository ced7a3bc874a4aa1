"""When a folder of frame files is one video: the scan-series rule, from headers.

A folder of JPK ``.jpk`` or Nanoscope ``.spm``/``.00N`` files is read as one video
only when its files are the frames of one scan series:

- **the same scan**: every file's header declares the same image size (pixels) and
  the same scan (scan size, channels);
- **consecutive**: where a family numbers its frames in their names (Nanoscope:
  ``scan.001``, ``scan.002``, or ``img0007.spm``), the files share their name and
  their numbers follow on without a gap; otherwise (JPK names frames by save time)
  each header's acquisition time follows the previous one, no step more than
  :data:`MAX_STEP_RATIO` times the typical step (when headers give no times, the
  name order is taken as it is);
- at least two files.

Otherwise each file is its own input (``playnano batch`` exports it under its own
name, and ``process``/``info`` on the folder say why it is not one video). A file
whose header cannot be read (a damaged frame) does not decide the rule; reading the
series reports it, or leaves it out with ``--skip-damaged-frames``.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

#: A step between frame times longer than this many typical steps breaks a series.
MAX_STEP_RATIO = 2.0


@dataclass(frozen=True)
class FrameHeader:
    """What a frame file's header says about its place in a scan series.

    Attributes
    ----------
    size : tuple of int
        ``(height, width)`` in pixels, as declared.
    scan : tuple
        What else is the same in every frame of one scan (scan size, channels),
        shown in messages.
    start_s : float or None
        Acquisition start (any fixed origin), when the header has one.
    """

    size: tuple[int, int]
    scan: tuple[Any, ...]
    start_s: float | None = None


@dataclass(frozen=True)
class Series:
    """Whether a folder is one video, and why (one line, for messages and info)."""

    video: bool
    reason: str


_NUMBERED = re.compile(r"^(?P<name>.*?)(?P<number>\d+)$")


def frame_number(path: Path) -> tuple[str, int] | None:
    """``(series name, number)`` of a numbered frame file, else None.

    ``scan.001`` is ``("scan", 1)`` (Nanoscope's numeric suffix); ``img0007.spm``
    is ``("img", 7)`` (digits ending the name).
    """
    suffix = path.suffix[1:]
    if suffix.isdigit():
        return path.name[: -len(path.suffix)], int(suffix)
    match = _NUMBERED.match(path.stem)
    return (match["name"], int(match["number"])) if match else None


def _scan_of(header: FrameHeader) -> tuple[Any, ...]:
    return (header.size, header.scan)


def _describe(header: FrameHeader) -> str:
    h, w = header.size
    return ", ".join([f"{w}x{h} px", *map(str, header.scan)])


def scan_series(
    files: Sequence[Path],
    header_of: Callable[[Path], FrameHeader | None],
    number_of: Callable[[Path], tuple[str, int] | None] | None = None,
) -> Series:
    """Apply the rule (module docstring) to ``files`` (in frame order).

    ``header_of(file)`` reads one file's header (None: the reader cannot say); any
    error there marks a damaged frame, which reading the series then names.
    ``number_of(file)`` is ``(series name, number)`` where the family numbers its
    frames in their names (:func:`frame_number`); without it, frames follow on by
    their acquisition times.
    """
    if len(files) < 2:
        return Series(False, "a single frame file")
    headers: dict[Path, FrameHeader] = {}
    for f in files:
        try:
            header = header_of(f)
        except Exception:  # damaged (or not understood): reading the series says
            continue
        if header is not None:
            headers[f] = header
    if not headers:
        return Series(True, f"{len(files)} frame files (headers not compared)")
    first_file, first = next(iter(headers.items()))
    other = next(
        ((f, h) for f, h in headers.items() if _scan_of(h) != _scan_of(first)), None
    )
    if other is not None:
        return Series(
            False,
            f"its files are different scans ({first_file.name}: {_describe(first)}; "
            f"{other[0].name}: {_describe(other[1])})",
        )
    numbers = [number_of(f) if number_of is not None else None for f in files]
    scan = _describe(first)
    if number_of is not None and all(n is not None for n in numbers):
        names = {n[0] for n in numbers if n is not None}
        values = [n[1] for n in numbers if n is not None]
        steps = [b - a for a, b in pairwise(values)]
        if len(names) == 1 and all(s == 1 for s in steps):
            return Series(
                True,
                f"{len(files)} consecutively numbered frames of one scan ({scan})",
            )
        return Series(
            False,
            "its files are not one numbered series "
            f"({', '.join(f.name for f in files[:4])}"
            f"{', ...' if len(files) > 4 else ''})",
        )
    starts = [headers[f].start_s for f in files if f in headers]
    if all(s is not None for s in starts) and len(starts) > 1:
        steps_s = [b - a for a, b in pairwise(starts)]  # type: ignore[operator]
        typical = statistics.median(steps_s)
        if min(steps_s) <= 0 or max(steps_s) > MAX_STEP_RATIO * typical:
            return Series(
                False,
                "its files' acquisition times are not consecutive frames "
                f"(steps of {min(steps_s):g} to {max(steps_s):g} s)",
            )
        return Series(
            True,
            f"{len(files)} frames of one scan ({scan}), acquired one after another",
        )
    return Series(True, f"{len(files)} frames of one scan ({scan}), in name order")
