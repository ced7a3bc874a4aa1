"""Lower-resolution levels of a stack of frames: 2x2 pixel blocks, frame by frame.

Each level halves ``y`` and ``x`` (rounding up: an odd last row or column is a
block of its own), so a web viewer streams a small level first. Heights become the
mean of the block's finite values (NaN when it has none); integer heights are
rounded to the nearest integer; masks (0/1) take the majority, a tie counting as
inside. The frames' own dtype is kept.
"""

from __future__ import annotations

import numpy as np


def level_shape(shape: tuple[int, ...], level: int) -> tuple[int, int, int]:
    """Shape of level ``level`` of a ``(t, y, x)`` stack of ``shape``."""
    t, h, w = (int(n) for n in shape)
    for _ in range(level):
        h, w = -(-h // 2), -(-w // 2)
    return t, h, w


def _blocks(frames: np.ndarray, work: np.dtype) -> np.ndarray:
    """``frames`` as ``(t, y/2, 2, x/2, 2)`` blocks in ``work``, padded with NaN."""
    t, h, w = frames.shape
    padded = np.full((t, h + h % 2, w + w % 2), np.nan, work)
    padded[:, :h, :w] = frames
    return padded.reshape(t, padded.shape[1] // 2, 2, padded.shape[2] // 2, 2)


def mean_2x2(frames: np.ndarray) -> np.ndarray:
    """The next level of height ``frames``: the mean of each block's finite values."""
    work = np.dtype(np.float32 if frames.dtype == np.float32 else np.float64)
    blocks = _blocks(frames, work)
    finite = np.isfinite(blocks)
    total = np.where(finite, blocks, 0).sum(axis=(2, 4), dtype=work)
    count = finite.sum(axis=(2, 4))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count  # 0 / 0: NaN, a block without finite heights
    if frames.dtype.kind in "iu":
        return np.rint(mean).astype(frames.dtype)
    return mean.astype(frames.dtype, copy=False)


def majority_2x2(mask: np.ndarray) -> np.ndarray:
    """The next level of a 0/1 ``mask``: 1 where at least half the block is 1."""
    blocks = _blocks(mask, np.dtype(np.float32))
    inside = np.nansum(blocks, axis=(2, 4))
    present = np.count_nonzero(~np.isnan(blocks), axis=(2, 4))
    return (2 * inside >= present).astype(mask.dtype)
