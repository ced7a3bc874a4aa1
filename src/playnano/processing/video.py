"""Stack steps of 0.5.0 processing files: rolling alignment, crops, NaN, time filters.

Parameters and defaults are 0.5.0's, so its processing files run unchanged. Like the
other stack steps these edit an AFMImageStack in place, keep the raw snapshot and
move or crop the masks with their frames, and return details for the provenance.
"""

from __future__ import annotations

import warnings
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.errors import ProcessingError
from playnano.processing.stack_ops import apply_shifts, ensure_raw_snapshot

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

__all__ = [
    "NAN_MODES",
    "crop_square",
    "intersection_crop",
    "masked_ncc_shift",
    "replace_nan",
    "rolling_frame_align",
    "temporal_mean_filter",
    "temporal_median_filter",
]

NAN_MODES = ("zero", "mean", "median", "global_mean", "constant")


def _float_data(stack: AFMImageStack) -> np.ndarray:
    data = stack.data
    return data if np.issubdtype(data.dtype, np.floating) else data.astype(np.float64)


# ---------------------------------------------------------------- rolling alignment
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
    frames = _float_data(stack)
    if pre_filter_sigma is not None:
        from playnano.processing.filters import gaussian_filter

        frames = np.stack([gaussian_filter(f, pre_filter_sigma) for f in frames])
    shifts, flat = _rolling_shifts(frames, window, max_shift, max_jump)
    aligned, geometry = apply_shifts(stack.data, shifts.astype(float), mode)
    masks = {k: apply_shifts(v, shifts, mode)[0] for k, v in stack.masks.items()}
    ensure_raw_snapshot(stack)
    original_shape = list(stack.image_shape)
    stack.data = aligned
    stack.masks = masks
    return {
        "shifts_px": shifts.tolist(),
        "unregistered_frames": flat,
        "window": window,
        "method": "masked_cross_correlation",
        "original_shape": original_shape,
        **geometry,
    }


# ---------------------------------------------------------------- crops
def _pad_sides(pad: int | Sequence[int]) -> tuple[int, int, int, int]:
    """0.5.0's pad: one int, (vertical, horizontal) or (top, bottom, left, right)."""
    values = [int(pad)] if isinstance(pad, (int, np.integer)) else [int(p) for p in pad]
    if len(values) == 1:
        return values[0], values[0], values[0], values[0]
    if len(values) == 2:
        return values[0], values[0], values[1], values[1]
    if len(values) == 4:
        return values[0], values[1], values[2], values[3]
    raise ProcessingError(
        f"pad takes 1, 2 (vertical, horizontal) or 4 (top, bottom, left, right) "
        f"values; got {len(values)}"
    )


def check_pad(params: Any) -> None:
    """Option check: ``pad`` has 1, 2 or 4 values."""
    pad = params["pad"]
    if not isinstance(pad, int) and len(pad) not in (1, 2, 4):
        raise ValueError(
            "pad takes 1, 2 (vertical, horizontal) or 4 (top, bottom, left, right) "
            f"values; got {len(pad)}"
        )


def _crop_box(stack: AFMImageStack, y0: int, y1: int, x0: int, x1: int) -> list[int]:
    """Crop every frame and mask to rows y0:y1, cols x0:x1; outside is NaN/False."""
    t, h, w = stack.data.shape
    pads = [max(0, -y0), max(0, y1 - h), max(0, -x0), max(0, x1 - w)]
    inside = (slice(max(0, y0), min(h, y1)), slice(max(0, x0), min(w, x1)))
    out_shape = (y1 - y0, x1 - x0)
    target = (
        slice(pads[0], pads[0] + inside[0].stop - inside[0].start),
        slice(pads[2], pads[2] + inside[1].stop - inside[1].start),
    )

    def crop(a: np.ndarray, fill: Any, dtype: np.dtype) -> np.ndarray:
        out = np.full((t, *out_shape), fill, dtype=dtype)
        out[:, target[0], target[1]] = a[:, inside[0], inside[1]]
        return out

    padded = any(pads)
    data = stack.data
    dtype = data.dtype
    if padded and not np.issubdtype(dtype, np.floating):
        dtype = np.dtype(np.float64)
    masks = {k: crop(v, False, np.dtype(bool)) for k, v in stack.masks.items()}
    ensure_raw_snapshot(stack)
    stack.data = crop(data, np.nan if padded else 0, dtype)
    stack.masks = masks
    return pads


def _finite_bounds(data: np.ndarray) -> tuple[int, int, int, int] | None:
    """Bounding box (y0, y1, x0, x1) of the pixels finite in every frame."""
    valid = np.isfinite(data).all(axis=0)
    rows, cols = np.flatnonzero(valid.any(axis=1)), np.flatnonzero(valid.any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def intersection_crop(
    stack: AFMImageStack, pad: int | Sequence[int] = 0
) -> dict[str, Any]:
    """Crop to the region finite in every frame (after ``pad`` mode alignment).

    ``pad`` widens the crop: one value for every side, two (vertical, horizontal)
    or four (top, bottom, left, right); beyond the data the frames are NaN and the
    masks False. A stack with no pixel finite in every frame is left unchanged.

    Returns
    -------
    dict
        ``original_shape``, ``intersection_bounds`` (y0, y1, x0, x1, end
        exclusive), ``requested_bounds``, ``applied_pad`` and ``new_shape``.
    """
    original = list(stack.image_shape)
    bounds = _finite_bounds(stack.data)
    if bounds is None:
        return {
            "original_shape": original,
            "new_shape": original,
            "note": "no pixel is finite in every frame; the stack is unchanged",
        }
    top, bottom, left, right = _pad_sides(pad)
    y0, y1, x0, x1 = bounds
    box = [y0 - top, y1 + bottom, x0 - left, x1 + right]
    applied = _crop_box(stack, *box)
    return {
        "original_shape": original,
        "intersection_bounds": list(bounds),
        "requested_bounds": box,
        "applied_pad": applied,
        "new_shape": list(stack.image_shape),
    }


def crop_square(stack: AFMImageStack, pad: int | Sequence[int] = 0) -> dict[str, Any]:
    """Crop to the largest square centred in the region finite in every frame.

    ``pad`` widens the square as in :func:`intersection_crop`.

    Returns
    -------
    dict
        As :func:`intersection_crop`, with ``square_size``, ``square_bounds`` and
        ``offset`` (of the square within the finite region).
    """
    original = list(stack.image_shape)
    bounds = _finite_bounds(stack.data)
    if bounds is None:
        return {
            "original_shape": original,
            "new_shape": original,
            "note": "no pixel is finite in every frame; the stack is unchanged",
        }
    y0, y1, x0, x1 = bounds
    size = min(y1 - y0, x1 - x0)
    r, c = (y1 - y0 - size) // 2, (x1 - x0 - size) // 2
    square = [y0 + r, y0 + r + size, x0 + c, x0 + c + size]
    top, bottom, left, right = _pad_sides(pad)
    box = [square[0] - top, square[1] + bottom, square[2] - left, square[3] + right]
    applied = _crop_box(stack, *box)
    return {
        "original_shape": original,
        "intersection_bounds": list(bounds),
        "square_size": size,
        "square_bounds": square,
        "offset": [r, c],
        "requested_bounds": box,
        "applied_pad": applied,
        "new_shape": list(stack.image_shape),
    }


# ---------------------------------------------------------------- NaN replacement
def check_replace_nan(params: Any) -> None:
    """Option check: ``value`` is given exactly when ``mode`` is constant."""
    if params["mode"] == "constant" and params["value"] is None:
        raise ValueError("mode=constant needs a value (value=...)")
    if params["mode"] != "constant" and params["value"] is not None:
        raise ValueError(f"value is used only with mode=constant, not {params['mode']}")


def replace_nan(
    stack: AFMImageStack, mode: str = "zero", value: float | None = None
) -> dict[str, Any]:
    """Replace NaN pixels (the padding of aligned frames) by a number.

    ``mode``: ``zero``; ``mean`` or ``median`` of each frame's other pixels;
    ``global_mean`` of the whole stack; ``constant`` (``value``). Other pixels,
    infinities included, are unchanged.

    Returns
    -------
    dict
        ``nans_filled`` (count), ``mode`` and ``value_used``.
    """
    data = stack.data
    nan = np.isnan(data) if np.issubdtype(data.dtype, np.floating) else None
    count = int(nan.sum()) if nan is not None else 0
    if nan is None or count == 0:
        return {"nans_filled": 0, "mode": mode, "value_used": value}
    empty = [i for i in range(data.shape[0]) if nan[i].all()]
    if empty and mode in ("mean", "median"):
        raise ProcessingError(
            f"replace_nan: frames {empty} have no pixel that is not NaN to take the "
            f"{mode} of; use mode=global_mean or constant"
        )
    out = data.copy()
    if mode in ("mean", "median"):
        how = np.nanmean if mode == "mean" else np.nanmedian
        for i in np.flatnonzero(nan.any(axis=(1, 2))):
            out[i][nan[i]] = how(data[i])
    else:
        fill = {"zero": 0.0, "constant": value}.get(mode)
        out[nan] = np.nanmean(data) if mode == "global_mean" else fill
    ensure_raw_snapshot(stack)
    stack.data = out
    return {"nans_filled": count, "mode": mode, "value_used": value}


# ---------------------------------------------------------------- temporal filters
def _windows(n: int, window: int) -> list[slice]:
    half = window // 2
    return [slice(max(0, i - half), min(n, i - half + window)) for i in range(n)]


def temporal_mean_filter(stack: AFMImageStack, window: int = 3) -> dict[str, Any]:
    """Replace each pixel by its mean over ``window`` frames centred on the frame.

    At the first and last frames the window is cut short (never padded with
    repeated frames); NaN pixels are left out of a mean, and a pixel NaN in the
    whole window stays NaN.
    """
    data = _float_data(stack)
    finite = np.isfinite(data)
    out = np.empty_like(data)
    for i, span in enumerate(_windows(data.shape[0], window)):
        block, ok = data[span], finite[span]
        n = ok.sum(axis=0)
        total = np.where(ok, block, 0.0).sum(axis=0, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[i] = np.where(n > 0, total / n, np.nan)
    ensure_raw_snapshot(stack)
    stack.data = out
    return {"window": window}


def temporal_median_filter(stack: AFMImageStack, window: int = 3) -> dict[str, Any]:
    """Replace each pixel by its median over ``window`` frames centred on the frame.

    Removes single-frame spikes while keeping steps in time. Windows are cut short
    at the ends as in :func:`temporal_mean_filter`; NaN pixels are left out.
    """
    data = _float_data(stack)
    out = np.empty_like(data)
    for i, span in enumerate(_windows(data.shape[0], window)):
        block = data[span]
        if np.isfinite(block).all():
            out[i] = np.median(block, axis=0)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                out[i] = np.nanmedian(np.where(np.isfinite(block), block, np.nan), 0)
    ensure_raw_snapshot(stack)
    stack.data = out
    return {"window": window}
