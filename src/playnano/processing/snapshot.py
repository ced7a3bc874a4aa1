"""The raw snapshot and read-only layers every step relies on.

Steps never write into their input: each makes a new array, and every stored layer
and mask is read-only, so the unprocessed data can be kept as a view
(``processed["raw"]``) without a copy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

__all__ = ["ensure_raw_snapshot", "frozen"]


def ensure_raw_snapshot(stack: AFMImageStack) -> None:
    """Keep the unprocessed data as ``processed["raw"]`` unless a snapshot exists.

    The snapshot is a read-only view of the data array, not a copy, and ``data``
    becomes that view too: every step puts its result in a new array and leaves its
    input alone, so ``data`` and the snapshot part as soon as a step changes the
    data, and an in-place edit of either raises instead of corrupting the other.
    The pipeline gives a plugin's whole-stack step a private copy before it runs.
    """
    if "raw" not in stack.processed:
        stack.data = frozen(stack.data)
        stack.processed["raw"] = stack.data


def frozen(arr: np.ndarray) -> np.ndarray:
    """``arr`` itself when read-only, else a read-only view of it (no copy).

    Lazy frames (:class:`~playnano.lazy.LazyFrames`) are read-only already.
    """
    if not isinstance(arr, np.ndarray) or not arr.flags.writeable:
        return arr
    view = arr.view()
    view.flags.writeable = False
    return view
