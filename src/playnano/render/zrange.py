"""The height range mapped onto the colour table, one range for a whole stack."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from playnano.errors import OptionError


def finite_extremes(data: np.ndarray) -> tuple[float, float]:
    """The lowest and highest finite heights of ``data`` (NaN, NaN when it has none).

    Lazy frames are read a block at a time, in one pass.
    """
    from playnano.lazy import is_lazy

    if is_lazy(data):  # frames read a block at a time: one pass over the blocks
        lo, hi = data.extremes(finite=True)
        return float(lo), float(hi)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN input
        lo, hi = float(np.nanmin(data)), float(np.nanmax(data))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        # rare: ±inf or only NaN; look again frame by frame, one frame copy at a time
        lo, hi = math.inf, -math.inf
        for frame in data:
            finite = frame[np.isfinite(frame)]
            if finite.size:
                lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
    return lo, hi


#: Percentiles of the heights that ``"auto"`` maps to the colormap's ends (as in
#: playnano 0.5.0): a few outlier frames or pixels do not wash out the rest.
AUTO_PERCENTILES = (1.0, 99.0)
#: ``"auto"`` looks at no more than about this many heights (a grid of pixels on up
#: to 64 frames spread evenly over the stack): cheap in time and memory (0.5 MB) on
#: any video, and plenty for the 1st and 99th percentiles of a colour scale.
AUTO_SAMPLE = 65_536


def height_sample(data: np.ndarray, size: int = AUTO_SAMPLE) -> np.ndarray:
    """The finite heights of an even sample of ``data``'s frames and pixels."""
    n, h, w = data.shape
    frames = np.unique(np.linspace(0, n - 1, min(n, 64)).round().astype(int))
    per_frame = max(1, size // len(frames))
    step = max(1, math.ceil(math.sqrt(h * w / per_frame)))
    rows, cols = len(range(0, h, step)), len(range(0, w, step))
    out = np.empty(len(frames) * rows * cols, dtype=np.float64)
    end = 0
    from playnano.lazy import peeking

    with peeking():  # lazy frames: read (compute) just these frames, not blocks
        for i in frames:
            part = data[i, ::step, ::step]
            finite = np.isfinite(part)
            got = int(np.count_nonzero(finite))
            out[end : end + got] = part[finite]
            end += got
    return out[:end]


def robust_range(data: np.ndarray) -> tuple[float, float]:
    """The 1st and 99th percentiles of ``data``'s finite heights (on a sample)."""
    sample = height_sample(data)
    if not sample.size:
        return math.nan, math.nan
    lo, hi = np.percentile(sample, AUTO_PERCENTILES, overwrite_input=True)
    return float(lo), float(hi)


def is_word(value: Any, word: str) -> bool:
    """True when ``value`` is the string ``word`` (any case, spaces around)."""
    return isinstance(value, str) and value.strip().lower() == word


def resolve_z_range(
    data: np.ndarray,
    zmin: float | str | None = "auto",
    zmax: float | str | None = "auto",
) -> tuple[float, float]:
    """Return the height range mapped onto the colormap, one range for all frames.

    ``"auto"`` (or ``None``) takes the 1st (``zmin``) or 99th (``zmax``) percentile
    of the stack's finite heights, measured on an even sample of frames and pixels
    (``AUTO_PERCENTILES``, ``AUTO_SAMPLE``), so outliers do not wash out the
    picture. ``"min"`` and ``"max"`` take the exact finite extremes. When an
    automatic range is empty (a flat stack) it falls back to the extremes and,
    if those are equal too, is widened by 0.5 on each side.

    Raises
    ------
    OptionError
        If ``zmin`` is not below ``zmax``, or an automatic bound has no finite
        heights to come from.
    """
    auto_lo = zmin is None or is_word(zmin, "auto")
    auto_hi = zmax is None or is_word(zmax, "auto")
    for name, value, ok in (("zmin", zmin, "min"), ("zmax", zmax, "max")):
        if isinstance(value, str) and not (
            is_word(value, "auto") or is_word(value, ok)
        ):
            raise OptionError(
                f"{name} must be a height in nm, auto or {ok}; got {value!r}"
            )
    lo = hi = math.nan
    if auto_lo or auto_hi:
        lo, hi = robust_range(data)
        if not math.isfinite(lo):
            raise OptionError("the stack has no finite heights; give zmin and zmax")
    if (
        (auto_lo and auto_hi and lo == hi)
        or is_word(zmin, "min")
        or is_word(zmax, "max")
    ):
        ext_lo, ext_hi = finite_extremes(data)
        if not math.isfinite(ext_lo):
            raise OptionError("the stack has no finite heights; give zmin and zmax")
        if auto_lo and auto_hi and lo == hi:
            lo, hi = ext_lo, ext_hi
        lo = ext_lo if is_word(zmin, "min") else lo
        hi = ext_hi if is_word(zmax, "max") else hi
    exact_lo = auto_lo or is_word(zmin, "min")
    exact_hi = auto_hi or is_word(zmax, "max")
    lo = lo if exact_lo else float(zmin)  # type: ignore[arg-type]
    hi = hi if exact_hi else float(zmax)  # type: ignore[arg-type]
    if exact_lo and exact_hi and lo == hi:
        return lo - 0.5, hi + 0.5
    if not lo < hi:
        raise OptionError(
            f"zmin ({lo:g}{' auto' if auto_lo else ''}) must be below "
            f"zmax ({hi:g}{' auto' if auto_hi else ''})"
        )
    return lo, hi


#: A frame with more than this share of its finite pixels outside the colour
#: range is reported (it shows mostly as the colormap's end colours).
CLIP_WARN_FRACTION = 0.5


def clipped_fraction(frame: np.ndarray, zmin: float, zmax: float) -> float:
    """Share of ``frame``'s finite pixels below ``zmin`` or above ``zmax``."""
    finite = np.count_nonzero(np.isfinite(frame))
    if not finite:
        return 0.0
    outside = np.count_nonzero(frame < zmin) + np.count_nonzero(frame > zmax)
    return outside / finite
