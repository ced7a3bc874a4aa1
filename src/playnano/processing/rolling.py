"""``rolling_frame_align``: drift correction against a rolling reference (0.5.0).

The reference is the mean of the last frames placed, so slow changes of the sample
do not break the alignment as a fixed reference frame would. Parameters and
defaults are playnano 0.5.0's.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.processing.alignment import shift_stack

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

__all__ = ["masked_ncc_shift", "rolling_frame_align"]


def masked_ncc_shift(
    reference: np.ndarray,
    ref_valid: np.ndarray,
    moving: np.ndarray,
    moving_valid: np.ndarray,
    overlap_ratio: float = 0.3,
) -> np.ndarray | None:
    """Shift (dy, dx) that registers ``moving`` onto a (larger) ``reference``.

    Masked normalised cross-correlation over the full range of lags (Padfield 2012),
    the method behind 0.5.0's ``phase_cross_correlation`` with masks: only pixels
    where the masks are True count, lags whose overlap is below ``overlap_ratio``
    of the largest overlap score 0, and a tie between maxima gives their mean.

    Returns
    -------
    numpy.ndarray or None
        Float shift of ``moving``'s top-left corner relative to the centre
        placement (``(reference.shape - moving.shape) / 2``); None when either
        image is flat (one value), which carries no position (0.5.0 gave 0).
    """
    from scipy import fft

    for image, valid in ((reference, ref_valid), (moving, moving_valid)):
        values = image[valid]
        if values.size == 0 or values.min() == values.max():
            return None
    ref = np.where(ref_valid, reference, 0.0).astype(np.float64)
    mov = np.where(moving_valid, moving, 0.0).astype(np.float64)[::-1, ::-1]
    mov_mask = moving_valid[::-1, ::-1].astype(np.float64)
    ref_mask = ref_valid.astype(np.float64)
    full = tuple(a + b - 1 for a, b in zip(ref.shape, mov.shape, strict=True))
    size = tuple(fft.next_fast_len(n) for n in full)

    def spectrum(a: np.ndarray) -> np.ndarray:
        return fft.fftn(a, size)

    def conv(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return fft.ifftn(a * b, size).real

    f_ref, f_mov = spectrum(ref), spectrum(mov)
    f_ref_mask, f_mov_mask = spectrum(ref_mask), spectrum(mov_mask)
    eps = np.finfo(np.float64).eps
    overlap = np.fmax(np.round(conv(f_mov_mask, f_ref_mask)), eps)
    sum_ref = conv(f_mov_mask, f_ref)
    sum_mov = conv(f_ref_mask, f_mov)
    numerator = conv(f_mov, f_ref) - sum_ref * sum_mov / overlap
    var_ref = np.fmax(conv(f_mov_mask, spectrum(ref * ref)) - sum_ref**2 / overlap, 0)
    var_mov = np.fmax(conv(f_ref_mask, spectrum(mov * mov)) - sum_mov**2 / overlap, 0)
    window = tuple(slice(0, n) for n in full)
    denom = np.sqrt(var_ref * var_mov)[window]
    numerator, overlap = numerator[window], overlap[window]
    ncc = np.zeros(full)
    ok = denom > 1e3 * eps * np.max(np.abs(denom))
    ncc[ok] = numerator[ok] / denom[ok]
    np.clip(ncc, -1.0, 1.0, out=ncc)
    ncc[overlap < overlap_ratio * np.max(overlap)] = 0.0
    peaks = np.stack(np.nonzero(ncc == ncc.max()), axis=1)
    centre = peaks.mean(axis=0)
    # peak index p means moving starts at p - (moving.shape - 1) in reference
    start = centre - np.array(mov.shape) + 1
    return start - (np.array(ref.shape) - np.array(mov.shape)) / 2


def _rolling_shifts(
    frames: np.ndarray,
    window: int,
    max_shift: int | None,
    max_jump: int | None,
) -> tuple[np.ndarray, list[int]]:
    """Integer shift of each frame against the mean of the last ``window`` placed.

    Also returns the frames that could not be registered (flat), left unshifted.
    """
    t, h, w = frames.shape
    margin = max_shift if max_shift is not None else max(h, w) // 2
    canvas = (h + 2 * margin, w + 2 * margin)
    # accumulate in the frames' precision, as 0.5.0 did (float32 for float32 data)
    total = np.zeros(canvas, dtype=np.result_type(frames.dtype, np.float32))
    count = np.zeros(canvas, dtype=np.int64)
    shifts = np.zeros((t, 2), dtype=int)
    placed: deque[tuple[int, slice, slice, slice, slice]] = deque()
    finite = np.isfinite(frames)
    flat: list[int] = []

    def place(i: int, dy: int, dx: int, sign: int) -> None:
        y0, x0 = margin + dy, margin + dx
        cy = slice(max(0, y0), min(canvas[0], y0 + h))
        cx = slice(max(0, x0), min(canvas[1], x0 + w))
        if cy.start >= cy.stop or cx.start >= cx.stop:
            return
        fy = slice(cy.start - y0, cy.stop - y0)
        fx = slice(cx.start - x0, cx.stop - x0)
        ok = finite[i, fy, fx]
        total[cy, cx] += sign * np.where(ok, frames[i, fy, fx], 0.0)
        count[cy, cx] += sign * ok
        if sign > 0:
            placed.append((i, cy, cx, fy, fx))

    place(0, 0, 0, 1)
    for i in range(1, t):
        with np.errstate(invalid="ignore", divide="ignore"):
            ref = total / np.where(count == 0, 1, count)
        shift = masked_ncc_shift(ref, count != 0, frames[i], finite[i])
        if shift is None:
            flat.append(i)
            shift = np.zeros(2)
        dy, dx = (int(s) for s in shift)  # toward zero, as 0.5.0
        if max_jump is not None and i >= 2:
            prev, expected = shifts[i - 1], 2 * shifts[i - 1] - shifts[i - 2]
            dy = int(expected[0]) if abs(dy - prev[0]) > max_jump else dy
            dx = int(expected[1]) if abs(dx - prev[1]) > max_jump else dx
        if max_shift is not None:
            dy = int(np.clip(dy, -max_shift, max_shift))
            dx = int(np.clip(dx, -max_shift, max_shift))
        shifts[i] = dy, dx
        place(i, dy, dx, 1)
        if len(placed) > window:
            j, cy, cx, fy, fx = placed.popleft()
            ok = finite[j, fy, fx]
            total[cy, cx] -= np.where(ok, frames[j, fy, fx], 0.0)
            count[cy, cx] -= ok
    return shifts, flat


def rolling_frame_align(
    stack: AFMImageStack,
    window: int = 5,
    mode: str = "pad",
    debug: bool = False,
    max_shift: int | None = None,
    pre_filter_sigma: float | None = None,
    max_jump: int | None = None,
) -> dict[str, Any]:
    """Correct drift against a rolling reference: the mean of the last frames placed.

    Each frame is registered (whole pixels, masked normalised cross-correlation) on
    the mean of the previous ``window`` aligned frames, so slow changes of the
    sample do not break the alignment as a fixed reference frame would. Non-finite
    pixels are left out of the correlation. Frames are placed as by
    ``align_frames`` (``mode`` pad, crop or crop_square); masks move with them.

    Parameters
    ----------
    stack : AFMImageStack
        Edited in place.
    window : int
        Aligned frames averaged into the reference.
    mode : str
        ``pad`` (NaN outside a frame), ``crop`` or ``crop_square``.
    debug : bool
        Accepted for 0.5.0 processing files; the shifts are always recorded.
    max_shift : int, optional
        Largest shift per axis (pixels); larger ones are clipped.
    pre_filter_sigma : float, optional
        Gaussian smoothing (pixels) of the frames before correlating.
    max_jump : int, optional
        Largest change of shift between consecutive frames; a larger one is
        replaced by linear extrapolation from the two previous shifts.

    Returns
    -------
    dict
        ``shifts_px``, ``unregistered_frames`` (flat frames, which carry no
        position and keep the shift 0), ``window``, ``method``,
        ``original_shape``, ``mode``, ``aligned_shape`` and ``crop_offset``.
    """
    del debug
    data = stack.data
    frames = data if np.issubdtype(data.dtype, np.floating) else data.astype(float)
    if pre_filter_sigma is not None:
        from playnano.processing.filters import gaussian_filter

        frames = np.stack([gaussian_filter(f, pre_filter_sigma) for f in frames])
    shifts, flat = _rolling_shifts(frames, window, max_shift, max_jump)
    return {
        "shifts_px": shifts.tolist(),
        "unregistered_frames": flat,
        "window": window,
        "method": "masked_cross_correlation",
        **shift_stack(stack, shifts.astype(float), mode),
    }
