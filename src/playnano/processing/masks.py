"""Per-frame mask generators: True marks a feature (foreground), False background.

Each function takes one 2D frame of heights and returns a boolean array of its shape.
Non-finite pixels (NaN padding of aligned frames) are never marked. In a pipeline the
active mask makes the following levelling filters fit only the background; ``clear``
ends that.
"""

from __future__ import annotations

import numpy as np

from playnano.processing.filters import as_frame

__all__ = [
    "clear",
    "mask_adaptive",
    "mask_below_threshold",
    "mask_mean_offset",
    "mask_morphological",
    "mask_threshold",
]


def mask_threshold(frame: np.ndarray, threshold: float = 0.0) -> np.ndarray:
    """Mark pixels higher than ``threshold`` (same height unit as the data, nm).

    Parameters
    ----------
    frame : numpy.ndarray
        2D heights.
    threshold : float
        Height above which a pixel is foreground.

    Returns
    -------
    numpy.ndarray
        Boolean mask, True where ``frame > threshold``.
    """
    z = as_frame(frame, "mask_threshold")
    with np.errstate(invalid="ignore"):
        return (z > threshold) & np.isfinite(z)


def mask_below_threshold(frame: np.ndarray, threshold: float = 0.0) -> np.ndarray:
    """Mark pixels lower than ``threshold`` (holes, pits)."""
    z = as_frame(frame, "mask_below_threshold")
    with np.errstate(invalid="ignore"):
        return (z < threshold) & np.isfinite(z)


def mask_mean_offset(frame: np.ndarray, factor: float = 1.0) -> np.ndarray:
    """Mark pixels more than ``factor`` standard deviations above the frame mean.

    Mean and standard deviation are taken over the finite pixels.
    """
    z = as_frame(frame, "mask_mean_offset").astype(np.float64)
    finite = np.isfinite(z)
    if not finite.any():
        return np.zeros(z.shape, dtype=bool)
    values = z[finite]
    cut = values.mean() + factor * values.std()
    with np.errstate(invalid="ignore"):
        return (z > cut) & finite


def mask_morphological(
    frame: np.ndarray, threshold: float = 0.0, structure_size: int = 3
) -> np.ndarray:
    """Mark pixels with ``|height| > threshold``, then close gaps morphologically.

    Binary closing with a ``structure_size`` square fills holes and joins fragments
    narrower than the structure. The frame is edge-padded before closing so features
    touching the border are not eroded.
    """
    from scipy import ndimage

    z = as_frame(frame, "mask_morphological")
    with np.errstate(invalid="ignore"):
        binary = (np.abs(z) > threshold) & np.isfinite(z)
    if structure_size <= 1:
        return binary
    pad = structure_size
    padded = np.pad(binary, pad, mode="edge")
    structure = np.ones((structure_size, structure_size), dtype=bool)
    closed = ndimage.binary_closing(padded, structure=structure)
    return closed[pad:-pad, pad:-pad] & np.isfinite(z)


def mask_adaptive(
    frame: np.ndarray, block_size: int = 15, offset: float = 0.0
) -> np.ndarray:
    """Mark pixels higher than the mean of their neighbourhood plus ``offset``.

    The local mean is taken over a sliding ``block_size`` x ``block_size`` window
    (reflected at the borders, non-finite pixels left out), so the threshold follows
    a background that varies across the frame. playnano 0.5.0 used fixed tiles
    instead, which left seams at tile edges.
    """
    from scipy import ndimage

    z = as_frame(frame, "mask_adaptive").astype(np.float64)
    finite = np.isfinite(z)
    filled = np.where(finite, z, 0.0)
    summed = ndimage.uniform_filter(filled, size=block_size, mode="reflect")
    count = ndimage.uniform_filter(
        finite.astype(np.float64), block_size, mode="reflect"
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        local_mean = summed / count
        return (z > local_mean + offset) & finite


def clear(frame: np.ndarray | None = None) -> None:
    """Remove the active mask (a pipeline marker; calling it does nothing)."""
    return None
