"""Frame selection: drop or keep frames, with metadata and masks in step.

These edit an AFMImageStack in place and keep it consistent: ``frame_metadata`` and
every mask follow the frames, the unprocessed data is kept as ``processed["raw"]``,
and before the first frame edit the raw snapshot's frame metadata is saved as
``state_backups["frame_metadata_before_edit"]`` (the key playnano 0.5.0 uses), so a
raw export keeps its timestamps. Each returns a dict of details for the provenance.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.errors import ProcessingError
from playnano.processing.snapshot import ensure_raw_snapshot

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

__all__ = ["drop_final_frames", "drop_frame_range", "drop_frames", "select_frames"]


def _keep(stack: AFMImageStack, keep: np.ndarray) -> None:
    ensure_raw_snapshot(stack)
    stack.state_backups.setdefault(
        "frame_metadata_before_edit", copy.deepcopy(stack.frame_metadata)
    )
    masks = {k: v[keep] for k, v in stack.masks.items()}
    stack.data = stack.data[keep]
    stack.frame_metadata = [
        m for m, k in zip(stack.frame_metadata, keep, strict=True) if k
    ]
    stack.masks = masks


def _indices(values: Sequence[int], n_frames: int, what: str) -> list[int]:
    out = sorted({int(i) for i in values})
    bad = [i for i in out if not 0 <= i < n_frames]
    if bad:
        raise ProcessingError(
            f"{what}: frame indices {bad} are outside 0..{n_frames - 1}"
        )
    return out


def drop_frames(stack: AFMImageStack, indices_to_drop: Sequence[int]) -> dict[str, Any]:
    """Remove the frames at ``indices_to_drop`` (0-based; order and repeats ignored).

    Returns
    -------
    dict
        ``dropped_frames`` (sorted indices) and ``n_frames`` after the edit.
    """
    n = stack.n_frames
    drop = _indices(indices_to_drop, n, "drop_frames")
    if len(drop) == n:
        raise ProcessingError(f"drop_frames: cannot drop all {n} frames")
    keep = np.ones(n, dtype=bool)
    keep[drop] = False
    if drop:
        _keep(stack, keep)
    return {"dropped_frames": drop, "n_frames": stack.n_frames}


def select_frames(stack: AFMImageStack, keep_indices: Sequence[int]) -> dict[str, Any]:
    """Keep only the frames at ``keep_indices`` (in their original order)."""
    n = stack.n_frames
    keep_list = _indices(keep_indices, n, "select_frames")
    if not keep_list:
        raise ProcessingError("select_frames: keep_indices is empty; keep a frame")
    drop = sorted(set(range(n)) - set(keep_list))
    return drop_frames(stack, drop)


def drop_frame_range(stack: AFMImageStack, start: int, end: int) -> dict[str, Any]:
    """Remove frames ``start`` (inclusive) to ``end`` (exclusive)."""
    n = stack.n_frames
    if not 0 <= start < end <= n:
        raise ProcessingError(
            f"drop_frame_range: need 0 <= start < end <= {n}; got {start}, {end}"
        )
    return drop_frames(stack, range(start, end))


def drop_final_frames(
    stack: AFMImageStack, n_frames_to_drop: int = 1
) -> dict[str, Any]:
    """Remove the last ``n_frames_to_drop`` frames."""
    n = stack.n_frames
    if not 0 <= n_frames_to_drop < n:
        raise ProcessingError(
            f"drop_final_frames: can drop 0..{n - 1} of {n} frames; "
            f"got {n_frames_to_drop}"
        )
    return drop_frames(stack, range(n - n_frames_to_drop, n))
