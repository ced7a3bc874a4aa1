"""The colour table: a matplotlib colormap resampled to ``N_LEVELS`` plus reserved entries.

Palette layout: indices ``0 .. N_LEVELS - 1`` (0..252) are the colormap resampled
to 253 colours (so a frame looks as matplotlib draws it with ``cmap.resampled(253)``);
``NAN_INDEX`` (253) is for NaN heights, ``WHITE_INDEX`` (254) for
annotation text and the scale bar, ``BLACK_INDEX`` (255) for annotation boxes.
"""

from __future__ import annotations

import numpy as np

N_LEVELS = 253
NAN_INDEX = 253
WHITE_INDEX = 254
BLACK_INDEX = 255
#: Colour of NaN pixels (mid grey, which afmhot, the default colormap, lacks).
DEFAULT_NAN_RGB = (128, 128, 128)


def colormap_palette(
    cmap: str = "afmhot", nan_rgb: tuple[int, int, int] = DEFAULT_NAN_RGB
) -> np.ndarray:
    """Return the (256, 3) uint8 colour table for ``cmap`` (see the module layout).

    Raises
    ------
    OptionError
        If no colormap has that name (:mod:`playnano.colormaps`).
    """
    from playnano.colormaps import get_colormap

    colormap = get_colormap(cmap)  # matplotlib's or 0.5.0's afm_brown & co
    palette = np.zeros((256, 3), dtype=np.uint8)
    # the colormap resampled to N_LEVELS entries, as matplotlib would draw with it
    levels = colormap.resampled(N_LEVELS)(np.arange(N_LEVELS), bytes=True)
    palette[:N_LEVELS] = levels[:, :3]
    palette[NAN_INDEX] = nan_rgb
    palette[WHITE_INDEX] = (255, 255, 255)
    palette[BLACK_INDEX] = (0, 0, 0)
    return palette


def heights_to_indices(
    frame: np.ndarray, zmin: float, zmax: float, work: np.ndarray | None = None
) -> np.ndarray:
    """Map a frame of heights to palette indices (uint8).

    ``zmin`` maps to 0 and ``zmax`` to ``N_LEVELS - 1``, heights outside the range
    to the nearer end, NaN to ``NAN_INDEX``. Like matplotlib's colour mapping, the
    range is cut into ``N_LEVELS`` equal bins. ``work`` is an optional float64
    buffer of the frame's shape, reused between frames.
    """
    if work is None:
        work = np.empty(frame.shape, dtype=np.float64)
    np.subtract(frame, zmin, out=work, casting="unsafe")
    work *= N_LEVELS / (zmax - zmin)
    np.floor(work, out=work)
    np.clip(work, 0, N_LEVELS - 1, out=work)  # ±inf too; NaN stays NaN
    np.copyto(work, NAN_INDEX, where=np.isnan(work))
    return work.astype(np.uint8)


def level_spread(indices: np.ndarray) -> int:
    """Colour levels a frame of palette indices spans, 1st to 99th percentile.

    NaN pixels (and annotations) are not counted; 0 when no pixel is a height.
    Counted on a grid of at most about 16,000 pixels: plenty for percentiles, and
    a small part of the frame's rendering time.
    """
    step = max(1, int(np.sqrt(indices.size / 16_384)))
    counts = np.bincount(indices[::step, ::step].ravel(), minlength=256)[:N_LEVELS]
    total = int(counts.sum())
    if not total:
        return 0
    cumulative = np.cumsum(counts)
    first = int(np.searchsorted(cumulative, 0.01 * total))
    last = int(np.searchsorted(cumulative, 0.99 * total))
    return last - first + 1
