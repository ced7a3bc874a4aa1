"""Crops of 0.5.0's processing files: to the region finite in every frame.

After ``pad``-mode alignment the frames' edges are NaN; these steps cut the stack
to what every frame covers (or the largest square in it). Parameters and defaults
are 0.5.0's; like the other stack steps they edit an AFMImageStack in place, keep
the raw snapshot, crop the masks with their frames, and return details for the
provenance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.errors import ProcessingError
from playnano.processing.snapshot import ensure_raw_snapshot

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

__all__ = ["check_pad", "crop_square", "intersection_crop"]


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


def _crop_finite(stack: AFMImageStack, pad: Any, square: bool) -> dict[str, Any]:
    original = list(stack.image_shape)
    bounds = _finite_bounds(stack.data)
    if bounds is None:
        return {
            "original_shape": original,
            "new_shape": original,
            "note": "no pixel is finite in every frame; the stack is unchanged",
        }
    details: dict[str, Any] = {"original_shape": original}
    details["intersection_bounds"] = list(bounds)
    y0, y1, x0, x1 = bounds
    if square:
        size = min(y1 - y0, x1 - x0)
        r, c = (y1 - y0 - size) // 2, (x1 - x0 - size) // 2
        y0, x0 = y0 + r, x0 + c
        y1, x1 = y0 + size, x0 + size
        details.update(square_size=size, square_bounds=[y0, y1, x0, x1], offset=[r, c])
    top, bottom, left, right = _pad_sides(pad)
    box = [y0 - top, y1 + bottom, x0 - left, x1 + right]
    details["applied_pad"] = _crop_box(stack, *box)
    details["requested_bounds"] = box
    details["new_shape"] = list(stack.image_shape)
    return details


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
    return _crop_finite(stack, pad, square=False)


def crop_square(stack: AFMImageStack, pad: int | Sequence[int] = 0) -> dict[str, Any]:
    """Crop to the largest square centred in the region finite in every frame.

    ``pad`` widens the square as in :func:`intersection_crop`.

    Returns
    -------
    dict
        As :func:`intersection_crop`, with ``square_size``, ``square_bounds`` and
        ``offset`` (of the square within the finite region).
    """
    return _crop_finite(stack, pad, square=True)
