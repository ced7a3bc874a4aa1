"""Drift correction: estimate each frame's shift and move the frames onto one grid.

:func:`align_frames` edits an AFMImageStack in place: every mask moves with its
frame, the unprocessed data is kept as ``processed["raw"]``, and the details of the
shifts are returned for the provenance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.errors import ProcessingError
from playnano.processing.snapshot import ensure_raw_snapshot

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

__all__ = [
    "ALIGN_METHODS",
    "ALIGN_MODES",
    "align_frames",
    "apply_shifts",
    "estimate_shifts",
    "shift_stack",
]

ALIGN_METHODS = ("fft_cross_correlation", "full_cross_correlation")
ALIGN_MODES = ("pad", "crop", "crop_square")


#: Smallest overlap, as a fraction of the frame area, at which a shift is considered.
MIN_OVERLAP = 0.3


class _Spectra:
    """FFTs of a frame's values, squared values and valid-pixel mask (zero-padded)."""

    def __init__(
        self, frame: np.ndarray, size: tuple[int, int], sigma: float | None
    ) -> None:
        from scipy import fft

        z = np.asarray(frame, dtype=np.float64)
        if sigma is not None:
            from playnano.processing.filters import gaussian_filter

            z = gaussian_filter(z, sigma)
        valid = np.isfinite(z)
        z = np.where(valid, z, 0.0)
        self.values = fft.rfft2(z, size)
        self.squares = fft.rfft2(z * z, size)
        self.valid = fft.rfft2(valid.astype(np.float64), size)


def _correlation(
    ref: _Spectra, frame: _Spectra, size: tuple[int, int], normalised: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Correlation surface over lags k (``ref[n + k]`` against ``frame[n]``).

    Normalised: the Pearson correlation over each lag's overlap (masked normalised
    cross-correlation, Padfield 2012), which neither favours small shifts nor
    counts NaN padding. Otherwise the plain sum of products (0.5.0's "full").
    Returns the surface and the overlap (pixels) of each lag.
    """

    from scipy import fft

    def cc(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return fft.irfft2(a * np.conj(b), size)

    overlap = np.rint(cc(ref.valid, frame.valid))
    products = cc(ref.values, frame.values)
    if not normalised:
        return products, overlap
    n = np.maximum(overlap, 1.0)
    sum_ref, sum_frame = cc(ref.values, frame.valid), cc(ref.valid, frame.values)
    var_ref = cc(ref.squares, frame.valid) - sum_ref**2 / n
    var_frame = cc(ref.valid, frame.squares) - sum_frame**2 / n
    denom = np.sqrt(np.clip(var_ref, 0.0, None) * np.clip(var_frame, 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        ncc = (products - sum_ref * sum_frame / n) / denom
    ncc[~(denom > 1e-12 * max(float(denom.max()), 1e-300))] = -np.inf
    return ncc, overlap


def _refine(line: np.ndarray, peak: int, ok: np.ndarray) -> float:
    """Sub-pixel offset of a 1D peak from its two neighbours (Gaussian, else parabola)."""
    n = line.size
    lo, hi = (peak - 1) % n, (peak + 1) % n
    if not (ok[lo] and ok[hi]):
        return 0.0
    c_lo, c0, c_hi = float(line[lo]), float(line[peak]), float(line[hi])
    if min(c_lo, c0, c_hi) > 0:
        c_lo, c0, c_hi = np.log(c_lo), np.log(c0), np.log(c_hi)
    denom = c_lo - 2.0 * c0 + c_hi
    if denom >= 0:  # not a maximum
        return 0.0
    return float(np.clip(0.5 * (c_lo - c_hi) / denom, -0.5, 0.5))


def _lags(n: int) -> np.ndarray:
    """Signed lag of each index of a length-``n`` circular correlation."""
    lag = np.arange(n)
    lag[lag > n // 2] -= n
    return lag


def estimate_shifts(
    frames: np.ndarray,
    reference_frame: int = 0,
    *,
    method: str = "fft_cross_correlation",
    max_shift: int | None = None,
    pre_filter_sigma: float | None = None,
    max_jump: int | None = None,
    subpixel: bool = False,
) -> np.ndarray:
    """Find the (dy, dx) shift in pixels that aligns each frame with a reference.

    The shift maximises the correlation with the reference frame, computed by FFT
    on zero-padded frames (no wrap-around). ``fft_cross_correlation`` normalises
    the correlation over each shift's overlap (Pearson coefficient), so large
    shifts are not penalised and NaN pixels are left out; shifts leaving less than
    :data:`MIN_OVERLAP` of the frame in common are not considered.
    ``full_cross_correlation`` uses the plain sum of products, as playnano 0.5.0
    did (biased towards small shifts on smooth images).

    Parameters
    ----------
    frames : numpy.ndarray
        (frames, height, width) heights.
    reference_frame : int
        Index of the frame the others are aligned to.
    method : str
        ``fft_cross_correlation`` or ``full_cross_correlation``.
    max_shift : int, optional
        Largest shift searched, in pixels per axis.
    pre_filter_sigma : float, optional
        Gaussian smoothing (pixels) applied before correlating.
    max_jump : int, optional
        Largest change of shift between consecutive frames; a larger jump is
        replaced by linear extrapolation from the two previous shifts.
    subpixel : bool
        Refine each peak to a fraction of a pixel (three-point Gaussian fit).

    Returns
    -------
    numpy.ndarray
        (frames, 2) float64 shifts: moving frame ``i`` by ``shifts[i]`` aligns it.
    """
    from scipy import fft

    t, h, w = frames.shape
    size = (fft.next_fast_len(2 * h - 1, True), fft.next_fast_len(2 * w - 1, True))
    lag_y, lag_x = _lags(size[0]), _lags(size[1])
    limit = max(h, w) if max_shift is None else max_shift
    in_range = (np.abs(lag_y) <= limit)[:, None] & (np.abs(lag_x) <= limit)[None, :]
    normalised = method == "fft_cross_correlation"
    ref = _Spectra(frames[reference_frame], size, pre_filter_sigma)
    shifts = np.zeros((t, 2))
    for i in range(t):
        if i == reference_frame:
            continue
        surface, overlap = _correlation(
            ref, _Spectra(frames[i], size, pre_filter_sigma), size, normalised
        )
        ok = in_range & (overlap >= (MIN_OVERLAP * h * w if normalised else 1))
        if not ok.any():
            continue
        py, px = np.unravel_index(np.argmax(np.where(ok, surface, -np.inf)), ok.shape)
        dy, dx = float(lag_y[py]), float(lag_x[px])
        if subpixel:
            dy += _refine(surface[:, px], int(py), ok[:, px])
            dx += _refine(surface[py, :], int(px), ok[py, :])
        shifts[i] = dy, dx
    if max_jump is not None:
        for i in range(1, t):
            if i == reference_frame:
                continue
            prev = shifts[i - 1]
            expected = prev + (prev - shifts[i - 2]) if i >= 2 else prev
            jump = np.abs(shifts[i] - prev) > max_jump
            shifts[i] = np.where(jump, expected, shifts[i])
    return shifts


def _out_dtype(dtype: np.dtype, needs_float: bool) -> np.dtype:
    if not needs_float or np.issubdtype(dtype, np.floating):
        return dtype
    return np.dtype(np.float64)


def apply_shifts(
    frames: np.ndarray, shifts: np.ndarray, mode: str = "pad"
) -> tuple[np.ndarray, dict[str, Any]]:
    """Move each frame by its (dy, dx) shift and put them on a common grid.

    Parameters
    ----------
    frames : numpy.ndarray
        (frames, height, width) data; boolean masks are moved by the rounded shifts
        and padded with False.
    shifts : numpy.ndarray
        (frames, 2) shifts in pixels. Fractions are applied by cubic-spline
        interpolation (edges repeated), rounded whole pixels by placement.
    mode : str
        ``pad``: a canvas large enough for every shifted frame, NaN outside a frame;
        ``crop``: only the region every frame covers; ``crop_square``: the largest
        centred square of that region.

    Returns
    -------
    aligned : numpy.ndarray
        The aligned frames. Float (the input's floating dtype, else float64) when
        padding or fractional shifts need it; otherwise the input dtype.
    geometry : dict
        ``mode``, ``aligned_shape`` and ``crop_offset`` (rows, cols) of the kept
        region in the padded canvas.
    """
    from scipy import ndimage

    if mode not in ALIGN_MODES:
        raise ProcessingError(
            f"align_frames: mode must be one of {', '.join(ALIGN_MODES)}"
        )
    t, h, w = frames.shape
    is_mask = frames.dtype == np.bool_
    whole = np.rint(shifts).astype(int)
    frac = np.zeros_like(shifts) if is_mask else np.asarray(shifts) - whole
    fractional = bool(np.any(np.abs(frac) > 1e-12))
    offsets = whole - whole.min(axis=0)
    span_y, span_x = (int(s) for s in whole.max(axis=0) - whole.min(axis=0))
    if mode == "pad":
        top, left, out_h, out_w = 0, 0, h + span_y, w + span_x
    else:
        top, left, out_h, out_w = span_y, span_x, h - span_y, w - span_x
        if out_h <= 0 or out_w <= 0:
            raise ProcessingError(
                f"align_frames: the drift ({span_y}, {span_x}) px leaves no region common to "
                "all frames; use mode=pad"
            )
        if mode == "crop_square":
            side = min(out_h, out_w)
            top, left = top + (out_h - side) // 2, left + (out_w - side) // 2
            out_h = out_w = side
    padded = mode == "pad" and (span_y or span_x)
    dtype = _out_dtype(frames.dtype, not is_mask and (bool(padded) or fractional))
    fill: Any = False if is_mask else np.nan
    out = np.empty((t, out_h, out_w), dtype=dtype)
    if padded:
        out.fill(fill)
    for i in range(t):
        frame = frames[i]
        if fractional and np.any(frac[i]):
            frame = ndimage.shift(
                frame.astype(np.float64), frac[i], order=3, mode="nearest"
            )
        oy, ox = (int(o) for o in offsets[i])
        # frame rows/cols that land inside the output window [top, top+out_h)
        y0, y1 = max(top - oy, 0), min(top + out_h - oy, h)
        x0, x1 = max(left - ox, 0), min(left + out_w - ox, w)
        out[i, oy + y0 - top : oy + y1 - top, ox + x0 - left : ox + x1 - left] = frame[
            y0:y1, x0:x1
        ]
    geometry = {
        "mode": mode,
        "aligned_shape": [out_h, out_w],
        "crop_offset": [top, left],
    }
    return out, geometry


def align_frames(
    stack: AFMImageStack,
    reference_frame: int = 0,
    method: str = "fft_cross_correlation",
    mode: str = "pad",
    max_shift: int | None = None,
    pre_filter_sigma: float | None = None,
    max_jump: int | None = None,
    subpixel: bool = False,
    debug: bool = False,
) -> dict[str, Any]:
    """Correct drift: shift every frame onto ``reference_frame`` (FFT cross-correlation).

    Parameters are those of :func:`estimate_shifts` and :func:`apply_shifts`
    (``debug`` is accepted for 0.5.0 processing files and does nothing). Masks
    are moved with their frames. Frame count and frame metadata are unchanged; the
    frame shape changes with ``mode`` (pad grows it, crop shrinks it).

    Returns
    -------
    dict
        ``shifts_px`` (dy, dx per frame), ``reference_frame``, ``method``, ``mode``,
        ``original_shape``, ``aligned_shape`` and ``crop_offset``.
    """
    del debug
    n = stack.n_frames
    if not 0 <= reference_frame < n:
        raise ProcessingError(
            f"align_frames: reference_frame must be in 0..{n - 1}; got {reference_frame}"
        )
    if method not in ALIGN_METHODS:
        raise ProcessingError(
            f"align_frames: method must be one of {', '.join(ALIGN_METHODS)}"
        )
    shifts = estimate_shifts(
        stack.data,
        reference_frame,
        method=method,
        max_shift=max_shift,
        pre_filter_sigma=pre_filter_sigma,
        max_jump=max_jump,
        subpixel=subpixel,
    )
    return {
        "shifts_px": shifts.tolist(),
        "reference_frame": reference_frame,
        "method": method,
        **shift_stack(stack, shifts, mode),
    }


def shift_stack(stack: AFMImageStack, shifts: np.ndarray, mode: str) -> dict[str, Any]:
    """Move the frames and masks of ``stack`` by ``shifts`` (see :func:`apply_shifts`).

    Returns ``original_shape`` and the geometry of :func:`apply_shifts`.
    """
    aligned, geometry = apply_shifts(stack.data, shifts, mode)
    masks = {k: apply_shifts(v, shifts, mode)[0] for k, v in stack.masks.items()}
    ensure_raw_snapshot(stack)
    original_shape = list(stack.image_shape)
    stack.data = aligned
    stack.masks = masks
    return {"original_shape": original_shape, **geometry}
