"""Synthetic frames with known answers for the processing tests."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

H, W = 48, 64


def grid(h: int = H, w: int = W) -> tuple[np.ndarray, np.ndarray]:
    """Row (y) and column (x) pixel coordinates."""
    return np.mgrid[0:h, 0:w].astype(np.float64)


def symmetric_bumps(h: int = H, w: int = W, height: float = 5.0) -> np.ndarray:
    """Four flat-topped discs placed mirror-symmetrically about the frame centre.

    Their first moments in x and y vanish, so a least-squares plane through them is
    flat: ``remove_plane`` leaves them minus their mean.
    """
    yy, xx = grid(h, w)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    out = np.zeros((h, w))
    for sy in (-1, 1):
        for sx in (-1, 1):
            r2 = (yy - cy - sy * h / 4) ** 2 + (xx - cx - sx * w / 4) ** 2
            out[r2 <= 16] = height
    return out


def tilted_plane(h: int = H, w: int = W) -> np.ndarray:
    """A tilted plane: 0.3 nm/px along x, -0.2 nm/px along y, offset 7 nm."""
    yy, xx = grid(h, w)
    return 0.3 * xx - 0.2 * yy + 7.0


def texture(shape: tuple[int, int], seed: int = 0, sigma: float = 2.0) -> np.ndarray:
    """Smooth random heights: a field with one clear cross-correlation peak."""
    rng = np.random.default_rng(seed)
    return ndimage.gaussian_filter(rng.normal(size=shape), sigma) * 10.0
