"""Frame-wise steps on a lazy stack: layers computed a block at a time, on demand.

When a stack's ``data`` is a :class:`~playnano.lazy.LazyFrames` (a reader's
``read_lazy``), :func:`playnano.processing.pipeline.run_pipeline` stores each
``filter`` and ``mask`` step's result as a LazyFrames over a :class:`MappedSource`:
reading frames ``start:stop`` of the result reads the same frames of the step's
input (and of the active mask), and runs the step on them with the very code the
in-memory path uses (:func:`~playnano.processing.apply.map_frames`), so every value is bit for bit the same.

Blocks of a batched step (``batch_func``, the levelling filters) are a whole
number of the in-memory path's batches (:func:`aligned_block`), so the batches,
and the floating-point work inside them, line up too. Whole-stack (``stack``)
steps need every frame at once; on a lazy stack they are refused
(:func:`refuse_stack_steps`) before anything runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.errors import ProcessingError
from playnano.lazy import LazyFrames
from playnano.processing.apply import batch_frames, map_frames
from playnano.processing.snapshot import frozen

if TYPE_CHECKING:
    from playnano.processing.validate import ResolvedStep

__all__ = [
    "MappedSource",
    "aligned_block",
    "lazy_step",
    "map_step",
    "refuse_stack_steps",
]


def aligned_block(
    block: int, shape: tuple[int, ...], steps: Sequence[ResolvedStep]
) -> int:
    """``block`` rounded up to a whole number of batches when a step is batched."""
    if not any(s.spec.batch_func is not None for s in steps):
        return max(1, block)
    batch = batch_frames(shape)
    return max(1, -(-block // batch)) * batch


def refuse_stack_steps(steps: Sequence[ResolvedStep]) -> None:
    """Raise :class:`ProcessingError` for a whole-stack step (lazy stacks only)."""
    whole = [s.name for s in steps if s.spec.kind == "stack"]
    if whole:
        raise ProcessingError(
            f"{', '.join(whole)} needs the whole stack in memory, but the stack is "
            "read a block at a time; process it in memory (playnano process "
            "--in-memory) or leave out whole-stack steps"
        )


def _rows(arr: Any, start: int, stop: int) -> np.ndarray:
    """Frames ``start:stop`` of a LazyFrames or an in-memory array."""
    return arr.read(start, stop) if isinstance(arr, LazyFrames) else arr[start:stop]


class MappedSource:
    """A :class:`~playnano.lazy.FrameSource`: one frame-wise step of a parent's frames.

    Parameters
    ----------
    step : ResolvedStep
        A ``filter`` or ``mask`` step.
    parent : LazyFrames
        The step's input.
    mask : LazyFrames, optional
        The active mask (a filter with a masked variant fits only ``~mask``).
    combine : LazyFrames, optional
        For a mask step while another is active: ORed into the result.
    label : str
        Names the step in errors (``step 2 (remove_plane)``).
    block : int
        Frames per block; block 0 is computed now, to learn the result's dtype
        and report a failing step before any export starts.
    """

    def __init__(
        self,
        step: ResolvedStep,
        parent: LazyFrames,
        mask: Any,
        combine: Any,
        label: str,
        block: int,
    ) -> None:
        self.step, self.parent, self.mask, self.combine = step, parent, mask, combine
        self.label = label
        self.shape = parent.shape
        # a batched step's frames are computed in their in-memory batch
        batched = step.spec.batch_func is not None and mask is None
        self.batch = batch_frames(self.shape) if batched else 1
        first = self._compute(0, min(block, self.shape[0]))
        self.dtype = first.dtype
        self._first: np.ndarray | None = first

    def _compute(self, start: int, stop: int) -> np.ndarray:
        frames = _rows(self.parent, start, stop)
        mask = _rows(self.mask, start, stop) if self.mask is not None else None
        out = map_frames(self.step, frames, mask, self.label, offset=start)
        if self.combine is not None:
            out = np.logical_or(out, _rows(self.combine, start, stop))
        return out

    def read(self, start: int, stop: int) -> np.ndarray:
        """The step's result for frames ``start`` to ``stop``."""
        first, self._first = self._first, None
        if first is not None and start == 0 and stop == len(first):
            return first
        lo = start // self.batch * self.batch  # whole batches, as in memory
        hi = min(self.shape[0], -(-stop // self.batch) * self.batch)
        out = self._compute(lo, hi)
        return out if (lo, hi) == (start, stop) else out[start - lo : stop - lo]

    def close(self) -> None:
        """Drop the block computed at creation (the parent is closed on its own)."""
        self._first = None


def lazy_step(
    step: ResolvedStep,
    data: LazyFrames,
    mask: Any,
    label: str,
    combine: Any = None,
) -> LazyFrames:
    """The lazy result of a ``filter`` or ``mask`` step on ``data``.

    Blocks are ``data``'s blocks, so a chain of steps reads each input block once
    per output block.
    """
    if step.spec.kind not in ("filter", "mask"):
        raise ProcessingError(f"{label}: a {step.spec.kind} step cannot run lazily")
    source = MappedSource(step, data, mask, combine, label, data.block)
    return LazyFrames(source, data.block)


def map_step(
    step: ResolvedStep, data: Any, mask: Any, label: str, combine: Any = None
) -> Any:
    """A ``filter`` or ``mask`` step's result: lazy for lazy ``data``, else an array.

    In memory the result is a new read-only array (``combine``, the mask active
    before a mask step, ORed in); on a lazy stack a :func:`lazy_step`.
    """
    if isinstance(data, LazyFrames):
        return lazy_step(step, data, mask, label, combine)
    out = map_frames(step, data, mask, label)
    if combine is not None:
        np.logical_or(out, combine, out=out)
    return frozen(out)
