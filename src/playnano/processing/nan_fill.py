"""NaN replacement (0.5.0's ``replace_nan``): fill NaN pixels with a number.

The NaN pixels are usually the padding of aligned frames. The step edits an
AFMImageStack in place, keeps the raw snapshot and returns details for the
provenance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.errors import ProcessingError
from playnano.processing.snapshot import ensure_raw_snapshot

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

__all__ = ["NAN_MODES", "check_replace_nan", "replace_nan"]


NAN_MODES = ("zero", "mean", "median", "global_mean", "constant")


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
