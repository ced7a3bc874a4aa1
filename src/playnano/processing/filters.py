"""Per-frame filters: levelling (plane, rows, polynomial, offsets) and smoothing.

Every function takes one 2D frame of heights and returns a new 2D frame; the input is
never modified. Arithmetic is done in float64. The output keeps the input dtype when it
is a floating type (float32 stays float32, float64 stays float64); integer input gives
float64, because subtracting a fitted background or smoothing produces fractions.
``median_filter`` and ``vertical_flip`` need no arithmetic and keep any dtype.

The surface fits also have a ``*_frames`` form that levels a (frames, h, w) block
with one least-squares solve for all its fully finite frames (the pipeline uses it
while no mask is active); it equals the per-frame function to round-off.

Masks mark features: ``True`` is foreground (a molecule, a particle), ``False`` is
background. The ``*_masked`` variants fit or measure only background pixels,
``~mask``, and subtract the result from the whole frame. Non-finite pixels (the NaN
padding of aligned frames) are never used in a fit and stay non-finite.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from playnano.errors import ProcessingError

__all__ = [
    "gaussian_filter",
    "median_filter",
    "polynomial_flatten",
    "polynomial_flatten_frames",
    "polynomial_flatten_masked",
    "remove_plane",
    "remove_plane_frames",
    "remove_plane_masked",
    "row_median_align",
    "row_median_align_masked",
    "vertical_flip",
    "zero_mean",
    "zero_mean_masked",
    "zero_median",
    "zero_median_masked",
]


def as_frame(frame: np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(frame)
    if a.ndim != 2:
        raise ProcessingError(f"{name} takes one 2D frame; got shape {a.shape}")
    return a


def _check_mask(mask: np.ndarray, frame: np.ndarray, name: str) -> np.ndarray:
    m = np.asarray(mask, dtype=bool)
    if m.shape != frame.shape:
        raise ProcessingError(
            f"{name}: mask shape {m.shape} differs from frame shape {frame.shape}"
        )
    return m


def _like_input(result: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """Cast a float64 result to the input's floating dtype (integers give float64)."""
    if np.issubdtype(frame.dtype, np.floating):
        return result.astype(frame.dtype, copy=False)
    return result


# ---------------------------------------------------------------- surface fits
def _terms(order: int) -> list[tuple[int, int]]:
    """Exponents (i, j) of x**i * y**j with i + j <= order."""
    return [(total - j, j) for total in range(order + 1) for j in range(total + 1)]


@lru_cache(maxsize=8)
def _design(h: int, w: int, order: int) -> np.ndarray:
    """Design matrix of a 2D polynomial on coordinates scaled to [-1, 1].

    Scaling keeps the matrix well conditioned for order 5 on large frames.
    """
    y = np.linspace(-1.0, 1.0, h) if h > 1 else np.zeros(1)
    x = np.linspace(-1.0, 1.0, w) if w > 1 else np.zeros(1)
    yy, xx = np.meshgrid(y, x, indexing="ij")
    xs, ys = xx.ravel(), yy.ravel()
    a = np.stack([xs**i * ys**j for i, j in _terms(order)], axis=1)
    a.flags.writeable = False
    return a


@lru_cache(maxsize=8)
def _pinv(h: int, w: int, order: int) -> np.ndarray:
    """Pseudo-inverse of the design matrix, shared by all fully valid frames."""
    p = np.linalg.pinv(_design(h, w, order))
    p.flags.writeable = False
    return p


def _fit_surface(
    z: np.ndarray, order: int, use: np.ndarray | None, name: str
) -> np.ndarray:
    """Least-squares 2D polynomial of ``order`` fitted to the pixels in ``use``."""
    h, w = z.shape
    a = _design(h, w, order)
    zf = z.ravel()
    valid = np.isfinite(zf)
    if use is not None:
        valid &= use.ravel()
    n_valid = int(valid.sum())
    if n_valid < a.shape[1]:
        where = "background " if use is not None else "finite "
        raise ProcessingError(
            f"{name}: {n_valid} {where}pixels in the frame, need at least "
            f"{a.shape[1]} to fit; use a smaller mask or a lower order"
        )
    if n_valid == zf.size:
        coeff = _pinv(h, w, order) @ zf
    else:
        coeff = np.linalg.lstsq(a[valid], zf[valid], rcond=None)[0]
    return (a @ coeff).reshape(h, w)


def _fit_surfaces(z: np.ndarray, order: int, name: str) -> np.ndarray:
    """Surfaces of ``order`` fitted to each frame of a float64 block at once.

    Frames whose pixels are all finite share one solve: the pseudo-inverse of the
    design matrix is applied to all of them in one matrix product. Frames with
    non-finite pixels are fitted one by one on their finite pixels.
    """
    n, h, w = z.shape
    flat = z.reshape(n, h * w)
    whole = np.isfinite(flat).all(axis=1)
    surfaces = np.empty_like(flat)
    if whole.any():
        coeff = flat[whole] @ _pinv(h, w, order).T
        surfaces[whole] = coeff @ _design(h, w, order).T
    for i in np.flatnonzero(~whole):
        surfaces[i] = _fit_surface(z[i], order, None, name).ravel()
    return surfaces.reshape(n, h, w)


def _level_frames(frames: np.ndarray, order: int, name: str) -> np.ndarray:
    if frames.ndim != 3:
        raise ProcessingError(
            f"{name} takes a (frames, h, w) block; got {frames.shape}"
        )
    z = frames.astype(np.float64)
    np.subtract(z, _fit_surfaces(z, order, name), out=z)
    return _like_input(z, frames)


def polynomial_flatten_frames(frames: np.ndarray, order: int = 2) -> np.ndarray:
    """:func:`polynomial_flatten` of every frame of a (frames, h, w) block at once."""
    return _level_frames(frames, order, "polynomial_flatten")


def remove_plane_frames(frames: np.ndarray) -> np.ndarray:
    """:func:`remove_plane` of every frame of a (frames, h, w) block."""
    if frames.ndim != 3:
        raise ProcessingError(
            f"remove_plane takes a (frames, h, w) block; got {frames.shape}"
        )
    return np.stack([remove_plane(f) for f in frames])


@lru_cache(maxsize=8)
def _plane_axes(h: int, w: int) -> tuple[np.ndarray, np.ndarray, float, float]:
    """The design's x and y columns on one row and column, and their sums of
    squares over the whole grid (0 for a single row or column: no slope)."""
    x = np.linspace(-1.0, 1.0, w) if w > 1 else np.zeros(1)
    y = np.linspace(-1.0, 1.0, h) if h > 1 else np.zeros(1)
    return x, y, float(x @ x) * h, float(y @ y) * w


def _subtract_plane(z: np.ndarray) -> np.ndarray:
    """Subtract the least-squares plane from a fully finite float64 frame, in place.

    On the symmetric grid the design's columns (1, x, y) are orthogonal, so the
    fit is three sums: the mean, and the x and y moments over their squares. A
    frame costs two passes and no design matrix, and the result does not depend
    on the frames computed with it (a frame alone gives the same bits).
    """
    x, y, sxx, syy = _plane_axes(*z.shape)
    cols, rows = z.sum(axis=0), z.sum(axis=1)
    mean = float(cols.sum()) / z.size
    slope_x = float(cols @ x) / sxx if sxx else 0.0
    slope_y = float(rows @ y) / syy if syy else 0.0
    z -= (mean + slope_x * x)[None, :]
    z -= (slope_y * y)[:, None]
    return z


def polynomial_flatten(frame: np.ndarray, order: int = 2) -> np.ndarray:
    """Subtract the least-squares 2D polynomial surface of ``order`` (1 to 5).

    Parameters
    ----------
    frame : numpy.ndarray
        2D heights.
    order : int
        Total degree of the surface: 1 is a plane, 2 a quadratic bowl.

    Returns
    -------
    numpy.ndarray
        The frame minus the fitted surface.
    """
    z = as_frame(frame, "polynomial_flatten").astype(np.float64)
    return _like_input(z - _fit_surface(z, order, None, "polynomial_flatten"), frame)


def polynomial_flatten_masked(
    frame: np.ndarray, mask: np.ndarray, order: int = 2
) -> np.ndarray:
    """Subtract a 2D polynomial fitted to the background (``mask`` False) only."""
    z = as_frame(frame, "polynomial_flatten").astype(np.float64)
    m = _check_mask(mask, z, "polynomial_flatten")
    return _like_input(z - _fit_surface(z, order, ~m, "polynomial_flatten"), frame)


def remove_plane(frame: np.ndarray) -> np.ndarray:
    """Subtract the least-squares plane ``z = a + b*x + c*y`` (removes sample tilt)."""
    z = as_frame(frame, "remove_plane").astype(np.float64)
    if np.isfinite(z).all():
        return _like_input(_subtract_plane(z), frame)
    return _like_input(z - _fit_surface(z, 1, None, "remove_plane"), frame)


def remove_plane_masked(frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Subtract a plane fitted to the background (``mask`` False) only."""
    z = as_frame(frame, "remove_plane").astype(np.float64)
    m = _check_mask(mask, z, "remove_plane")
    return _like_input(z - _fit_surface(z, 1, ~m, "remove_plane"), frame)


# ---------------------------------------------------------------- offsets
def _row_medians(z: np.ndarray, use: np.ndarray) -> np.ndarray:
    """Median of the used pixels of each row; 0 for a row with none."""
    work = np.where(use, z, np.nan)
    has_any = use.any(axis=1)
    med = np.zeros(z.shape[0])
    if has_any.any():
        med[has_any] = np.nanmedian(work[has_any], axis=1)
    return med


def row_median_align(frame: np.ndarray) -> np.ndarray:
    """Subtract each row's median height (removes scan-line offsets).

    Rows without a finite pixel are left unchanged.
    """
    z = as_frame(frame, "row_median_align").astype(np.float64)
    med = _row_medians(z, np.isfinite(z))
    return _like_input(z - med[:, None], frame)


def row_median_align_masked(frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Subtract each row's background median; rows wholly masked are left unchanged."""
    z = as_frame(frame, "row_median_align").astype(np.float64)
    m = _check_mask(mask, z, "row_median_align")
    med = _row_medians(z, np.isfinite(z) & ~m)
    return _like_input(z - med[:, None], frame)


def _offset(z: np.ndarray, use: np.ndarray, how: str, name: str, masked: bool) -> float:
    values = z[use]
    if values.size == 0:
        what = "background" if masked else "finite"
        raise ProcessingError(
            f"{name}: no {what} pixels in the frame to take the {how} of; "
            "clear or shrink the mask"
        )
    return float(np.mean(values) if how == "mean" else np.median(values))


def zero_mean(frame: np.ndarray) -> np.ndarray:
    """Subtract the mean height of the frame (finite pixels)."""
    z = as_frame(frame, "zero_mean").astype(np.float64)
    return _like_input(
        z - _offset(z, np.isfinite(z), "mean", "zero_mean", False), frame
    )


def zero_mean_masked(frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Subtract the mean height of the background (``mask`` False)."""
    z = as_frame(frame, "zero_mean").astype(np.float64)
    use = np.isfinite(z) & ~_check_mask(mask, z, "zero_mean")
    return _like_input(z - _offset(z, use, "mean", "zero_mean", True), frame)


def zero_median(frame: np.ndarray) -> np.ndarray:
    """Subtract the median height of the frame (finite pixels)."""
    z = as_frame(frame, "zero_median").astype(np.float64)
    offset = _offset(z, np.isfinite(z), "median", "zero_median", False)
    return _like_input(z - offset, frame)


def zero_median_masked(frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Subtract the median height of the background (``mask`` False)."""
    z = as_frame(frame, "zero_median").astype(np.float64)
    use = np.isfinite(z) & ~_check_mask(mask, z, "zero_median")
    return _like_input(z - _offset(z, use, "median", "zero_median", True), frame)


# ---------------------------------------------------------------- smoothing
def gaussian_filter(frame: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Smooth with a Gaussian kernel of standard deviation ``sigma`` (pixels).

    Borders are reflected. Non-finite pixels are left out of their neighbours'
    weighted means (normalised convolution) and stay non-finite.
    """
    from scipy import ndimage

    z = as_frame(frame, "gaussian_filter").astype(np.float64)
    finite = np.isfinite(z)
    if finite.all():
        out = ndimage.gaussian_filter(z, sigma=sigma, mode="reflect")
    else:
        weight = ndimage.gaussian_filter(
            finite.astype(np.float64), sigma, mode="reflect"
        )
        summed = ndimage.gaussian_filter(
            np.where(finite, z, 0.0), sigma, mode="reflect"
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            out = summed / weight
        out[~finite] = z[~finite]
    return _like_input(out, frame)


def median_filter(frame: np.ndarray, size: int = 3) -> np.ndarray:
    """Replace each pixel by the median of its ``size`` x ``size`` neighbourhood.

    Removes spikes and streak noise while keeping edges. ``size`` is odd; borders
    are reflected; the dtype is kept. Replace non-finite pixels first: their order
    among neighbours is undefined.
    """
    from scipy import ndimage

    z = as_frame(frame, "median_filter")
    return ndimage.median_filter(z, size=size, mode="reflect")


def vertical_flip(frame: np.ndarray) -> np.ndarray:
    """Reverse the row order (for data scanned bottom to top)."""
    return np.flipud(as_frame(frame, "vertical_flip")).copy()
