"""Temporal filters (0.5.0's): each pixel's mean or median over nearby frames.

Windows are centred on each frame and cut short at the ends. The steps edit an
AFMImageStack in place, keep the raw snapshot and return details for the provenance.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.processing.snapshot import ensure_raw_snapshot

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

__all__ = ["temporal_mean_filter", "temporal_median_filter"]


def _float_data(stack: AFMImageStack) -> np.ndarray:
    data = stack.data
    return data if np.issubdtype(data.dtype, np.floating) else data.astype(np.float64)


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
