"""The height range mapped onto the colour table, one range for a whole stack."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
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


#: Percentiles of a frame's heights that make its robust range: a few outlier
#: pixels (spikes, dust) do not stretch the colour scale.
AUTO_PERCENTILES = (1.0, 99.0)
#: ``"auto"`` looks at no more than about this many heights (a grid of pixels on up
#: to 64 frames spread evenly over the stack): cheap in time and memory (0.5 MB) on
#: any video, and plenty for the 1st and 99th percentiles of a colour scale.
AUTO_SAMPLE = 65_536
#: A sampled frame whose robust range is more than this many times as wide as the
#: median frame's, or lies this many median widths apart from most frames, is an
#: outlier frame (a tip crash, an offset jump): ``"auto"`` leaves it out of the
#: range, so it is drawn clipped rather than flattening the rest.
OUTLIER_SPAN_FACTOR = 4.0


def frame_samples(
    data: np.ndarray, size: int = AUTO_SAMPLE, unit: int = 1
) -> list[tuple[int, np.ndarray]]:
    """``(frame index, finite heights)`` of an even sample of frames and pixels.

    Up to 64 frames spread evenly over the stack, each on a regular pixel grid, about
    ``size`` heights in all. Lazy frames are read (computed) one sample frame at a
    time, never a whole block.

    ``unit`` is the number of frames the input file stores together (its
    ``read_unit``: an HDF5 chunk spanning 32 frames, as in playnano 0.5.0's
    bundles, is inflated whole to give any one of them). When the stack holds more
    than :data:`SAMPLE_RUNS` such runs, the sample takes its frames from that many
    runs spread evenly over the stack instead of from every run, so it reads a few
    runs rather than the whole file a second time. The frames chosen depend only on
    the frame count and ``unit``, never on how the frames are held, so a stack read
    in memory and the same file read lazily sample the same frames.
    """
    n, h, w = data.shape
    frames = sample_frames(n, unit)
    per_frame = max(1, size // len(frames))
    step = max(1, math.ceil(math.sqrt(h * w / per_frame)))
    from playnano.lazy import peeking

    out = []
    with peeking():  # lazy frames: read (compute) just these frames, not blocks
        for i in frames:
            part = np.asarray(data[i, ::step, ::step], dtype=np.float64)
            out.append((int(i), part[np.isfinite(part)]))
    return out


#: Frames a sample takes at most (:func:`frame_samples`).
SAMPLE_FRAMES = 64
#: Runs of stored frames a sample reads at most, when the file stores frames in runs
#: (:func:`frame_samples`): the first, the last and evenly between.
SAMPLE_RUNS = 4


def sample_frames(n: int, unit: int = 1) -> np.ndarray:
    """The frames :func:`frame_samples` samples in a stack of ``n`` frames.

    ``SAMPLE_FRAMES`` frames spread evenly; when the frames are stored in more than
    :data:`SAMPLE_RUNS` runs of ``unit`` frames, the same number spread evenly over
    ``SAMPLE_RUNS`` runs spread evenly (the first and last among them).
    """
    runs = -(-n // max(1, unit))
    if unit <= 1 or runs <= SAMPLE_RUNS:
        return np.unique(
            np.linspace(0, n - 1, min(n, SAMPLE_FRAMES)).round().astype(int)
        )
    chosen = np.unique(np.linspace(0, runs - 1, SAMPLE_RUNS).round().astype(int))
    per_run = -(-SAMPLE_FRAMES // len(chosen))
    parts = []
    for r in chosen:
        lo, hi = int(r) * unit, min(n, (int(r) + 1) * unit)
        parts.append(np.linspace(lo, hi - 1, min(hi - lo, per_run)).round().astype(int))
    return np.unique(np.concatenate(parts))


def height_sample(
    data: np.ndarray, size: int = AUTO_SAMPLE, unit: int = 1
) -> np.ndarray:
    """The finite heights of an even sample of ``data``'s frames and pixels."""
    parts = [heights for _, heights in frame_samples(data, size, unit)]
    return np.concatenate(parts) if parts else np.empty(0)


@dataclass(frozen=True)
class AutoRange:
    """The ``"auto"`` colour range and how it was found.

    Attributes
    ----------
    lo, hi : float
        The range (NaN when no sampled height is finite).
    sampled : int
        Frames sampled that hold finite heights.
    outliers : tuple of int
        Sampled frames left out as outliers (:data:`OUTLIER_SPAN_FACTOR`).
    """

    lo: float
    hi: float
    sampled: int
    outliers: tuple[int, ...]


def auto_range(data: np.ndarray, unit: int = 1) -> AutoRange:
    """The range ``"auto"`` maps onto the colormap: one range for every frame.

    Each sampled frame's robust range is its 1st to 99th percentile
    (:data:`AUTO_PERCENTILES`); a typical frame's width is the median of their
    widths. Two kinds of frame are outliers (:func:`outlier_frames`): a frame more
    than :data:`OUTLIER_SPAN_FACTOR` times as wide as the typical one (a tip crash,
    a spike), and, when most frames sit together, a frame whose heights lie apart
    from theirs by more than that factor times the typical width (an offset jump in
    raw heights). The colour range spans the robust ranges of every other frame.
    So every ordinary frame is drawn whole (about 1 % of its pixels at most
    clipped at each end), a minority of wild frames is drawn clipped instead of
    flattening the rest, and a drift or a growing feature, which moves every frame
    a little, is shown whole. Heights stay comparable across frames: the same
    colour is the same height in every frame.
    """
    samples = [(i, h) for i, h in frame_samples(data, unit=unit) if h.size]
    if not samples:
        return AutoRange(math.nan, math.nan, 0, ())
    index = np.array([i for i, _ in samples])
    ranges = np.array([np.percentile(h, AUTO_PERCENTILES) for _, h in samples])
    lows, highs = ranges[:, 0], ranges[:, 1]
    outlier = outlier_frames(lows, highs)
    keep = ~outlier
    return AutoRange(
        float(lows[keep].min()),
        float(highs[keep].max()),
        len(samples),
        tuple(int(i) for i in index[outlier]),
    )


def outlier_frames(lows: np.ndarray, highs: np.ndarray) -> np.ndarray:
    """Which frames ``"auto"`` leaves out, from their robust ranges (a bool mask).

    Too wide: wider than :data:`OUTLIER_SPAN_FACTOR` times the median width. Apart:
    the frames' mid-heights, sorted, fall into groups wherever two neighbours are
    more than that factor times the median width apart; when one group holds most
    of the frames that are not too wide, the others are apart. A drift keeps every
    step small, so its frames stay one group.
    """
    spans = highs - lows
    typical = float(np.median(spans))
    if not typical > 0:  # most frames flat: nothing to measure the others by
        return np.zeros(spans.shape, dtype=bool)
    limit = OUTLIER_SPAN_FACTOR * typical
    outlier = spans > limit
    inside = np.flatnonzero(~outlier)
    middles = (lows[inside] + highs[inside]) / 2
    order = np.argsort(middles, kind="stable")
    group = np.concatenate([[0], np.cumsum(np.diff(middles[order]) > limit)])
    sizes = np.bincount(group)
    if sizes.max() * 2 > inside.size:
        outlier[inside[order[group != sizes.argmax()]]] = True
    return outlier


def robust_range(data: np.ndarray, unit: int = 1) -> tuple[float, float]:
    """The ``"auto"`` range of ``data`` as ``(lo, hi)`` (see :func:`auto_range`)."""
    found = auto_range(data, unit)
    return found.lo, found.hi


def is_word(value: Any, word: str) -> bool:
    """True when ``value`` is the string ``word`` (any case, spaces around)."""
    return isinstance(value, str) and value.strip().lower() == word


def resolve_z_range(
    data: np.ndarray,
    zmin: float | str | None = "auto",
    zmax: float | str | None = "auto",
    unit: int = 1,
) -> tuple[float, float]:
    """Return the height range mapped onto the colormap, one range for all frames.

    ``"auto"`` (or ``None``) takes the low (``zmin``) or high (``zmax``) end of
    the range that shows every ordinary frame whole, measured on an even sample
    of frames and pixels (:func:`auto_range`): outlier pixels and a minority of
    outlier frames do not wash out the rest. ``"min"`` and ``"max"`` take the
    exact finite extremes. When an
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
        lo, hi = robust_range(data, unit)
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
#: range is named in a warning: that much of it shows as the colormap's end colours
#: (an ordinary frame under ``"auto"`` has at most about 2 % outside).
CLIP_WARN_FRACTION = 0.05
#: A frame whose 1st to 99th percentile spans less than this share of the colour
#: range is named in a warning: it shows as a few colours.
SLIVER_FRACTION = 0.1


def clipped_fraction(frame: np.ndarray, zmin: float, zmax: float) -> float:
    """Share of ``frame``'s finite pixels below ``zmin`` or above ``zmax``."""
    finite = np.count_nonzero(np.isfinite(frame))
    if not finite:
        return 0.0
    outside = np.count_nonzero(frame < zmin) + np.count_nonzero(frame > zmax)
    return outside / finite


def varies(frame: np.ndarray, z_range: tuple[float, float]) -> bool:
    """True when ``frame``'s finite heights differ by more than rounding.

    A frame flat to within a millionth of the colour range (a blank frame after
    levelling, say) has no detail that any range would show.
    """
    finite = frame[np.isfinite(frame)]
    if not finite.size:
        return False
    return float(finite.max() - finite.min()) > 1e-6 * (z_range[1] - z_range[0])


def frame_list(frames: Sequence[int], limit: int = 8) -> str:
    """Frame numbers as runs (``22-26, 29-31``), the first ``limit`` runs."""
    runs: list[list[int]] = []
    for i in sorted(frames):
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    shown = [f"{a}" if a == b else f"{a}-{b}" for a, b in runs[:limit]]
    return ", ".join(shown) + (", ..." if len(runs) > limit else "")


def _frames_phrase(frames: Sequence[int], n_frames: int) -> str:
    return f"{len(frames)} of {n_frames} frames ({frame_list(frames)})"


def clip_message(
    frames: Sequence[int], n_frames: int, z_range: tuple[float, float], auto: bool
) -> str:
    """The warning naming frames drawn partly clipped (:data:`CLIP_WARN_FRACTION`)."""
    lo, hi = z_range
    hint = (
        "auto leaves out frames whose heights span over "
        f"{OUTLIER_SPAN_FACTOR:g} times a typical frame's or lie far from most "
        "frames'; set zmin/zmax (--zmin/--zmax, or min/max) to show them whole"
        if auto
        else "widen zmin/zmax (--zmin/--zmax), use min/max, or leave them auto"
    )
    return (
        f"{_frames_phrase(frames, n_frames)} have more than "
        f"{CLIP_WARN_FRACTION:.0%} of their pixels outside the colour range "
        f"{lo:.3g} to {hi:.3g} nm, drawn as its end colours: {hint}"
    )


def sliver_message(
    frames: Sequence[int], n_frames: int, z_range: tuple[float, float], auto: bool
) -> str:
    """The warning naming frames that use a sliver of the colour range."""
    lo, hi = z_range
    hint = (
        "they are nearly flat next to the other frames; set zmin/zmax "
        "(--zmin/--zmax) near their heights to see their detail"
        if auto
        else "narrow zmin/zmax (--zmin/--zmax) to their heights, or leave them auto"
    )
    return (
        f"{_frames_phrase(frames, n_frames)} use less than "
        f"{SLIVER_FRACTION:.0%} of the colour range {lo:.3g} to {hi:.3g} nm and "
        f"show as a few colours: {hint}"
    )
