"""Annotations drawn on rendered frames: scale bar length, timestamp text, enlargement.

Frames whose short side is below ``MIN_SHORT_SIDE`` (256 px) are enlarged by an
integer nearest-neighbour factor, so pixels stay square and sharp and the text
(Pillow's default font, sized to the frame) is legible. Text is drawn by Pillow in
the palette's reserved white and black entries, without antialiasing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from playnano.render.palette import BLACK_INDEX, WHITE_INDEX

#: Frames are enlarged until their short side reaches this many pixels ...
MIN_SHORT_SIDE = 256
#: ... unless that would make the long side longer than this.
MAX_LONG_SIDE = 4096

#: The scale bar length used when it reads well (``scale_bar_nm="auto"``).
DEFAULT_SCALE_BAR_NM = 100.0


def auto_scale_bar_nm(frame_width_nm: float) -> float:
    """The scale bar length ``"auto"`` draws on a frame this wide.

    100 nm when that is between a tenth and a half of the width; otherwise the
    round length (1, 2 or 5 times a power of ten, in nm) nearest a fifth of it.
    """
    if frame_width_nm / 10 <= DEFAULT_SCALE_BAR_NM <= frame_width_nm / 2:
        return DEFAULT_SCALE_BAR_NM
    target = frame_width_nm / 5
    exp = math.floor(math.log10(target))
    candidates = [m * 10.0**e for e in (exp - 1, exp, exp + 1) for m in (1, 2, 5)]
    return min(candidates, key=lambda c: abs(math.log(c / target)))


def upscale_factor(
    shape: tuple[int, int],
    min_short_side: int = MIN_SHORT_SIDE,
    max_long_side: int = MAX_LONG_SIDE,
) -> int:
    """Integer enlargement that brings the short side to ``min_short_side`` pixels."""
    short, long = min(shape), max(shape)
    factor = max(1, math.ceil(min_short_side / short))
    return max(1, min(factor, max_long_side // long))


def timestamp_label(t: float | None, index: int, decimals: int = 2) -> str:
    """The text drawn on a frame: its time in seconds, or its number if unknown."""
    return f"frame {index}" if t is None else f"{t:.{decimals}f} s"


def load_font(size: int) -> Any:
    """Pillow's default font at ``size`` px (its bitmap font on old Pillow)."""
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):  # Pillow < 10.1 or no FreeType
        return ImageFont.load_default()


def text_patch(text: str, font: Any, pad: int) -> np.ndarray:
    """White text on a black box, as palette indices, drawn by Pillow (no antialias)."""
    from PIL import Image, ImageDraw

    left, top, right, bottom = ImageDraw.Draw(Image.new("P", (1, 1))).textbbox(
        (0, 0), text, font=font
    )
    size = (math.ceil(right - left) + 2 * pad, math.ceil(bottom - top) + 2 * pad)
    im = Image.new("P", size, BLACK_INDEX)
    draw = ImageDraw.Draw(im)
    draw.fontmode = "1"  # antialiasing would blend palette indices, not colours
    draw.text((pad - left, pad - top), text, fill=WHITE_INDEX, font=font)
    return np.asarray(im)


def paste(frame: np.ndarray, patch: np.ndarray, y: int, x: int) -> None:
    """Copy ``patch`` into ``frame`` at row ``y``, column ``x``, cut at its edges."""
    h = min(patch.shape[0], frame.shape[0] - y)
    w = min(patch.shape[1], frame.shape[1] - x)
    if h > 0 and w > 0:
        frame[y : y + h, x : x + w] = patch[:h, :w]
