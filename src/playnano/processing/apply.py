"""The kernel that maps a per-frame step over frames: :func:`map_frames`.

Shared by the in-memory pipeline and the lazy steps (:mod:`playnano.processing.lazy_steps`),
so both compute every frame with the same code, in the same batches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from playnano.errors import PlaynanoError, ProcessingError
from playnano.plugins.registry import BUILTIN_DIST

if TYPE_CHECKING:
    from playnano.processing.validate import ResolvedStep

__all__ = ["BATCH_BYTES", "batch_frames", "check_result", "map_frames"]

#: Bytes of float64 work a batch step handles at once (bounds its temporaries).
BATCH_BYTES = 64 * 2**20


def check_result(
    result: np.ndarray, shape: tuple[int, ...], kind: str, label: str, where: str
) -> None:
    """Refuse a step's result of the wrong shape or dtype, naming the step and frames."""
    if result.shape != shape:
        raise ProcessingError(
            f"{label} returned shape {result.shape} for {where}; expected {shape}"
        )
    if kind == "mask" and result.dtype != np.bool_:
        raise ProcessingError(
            f"{label} returned {result.dtype} for {where}; a mask must be boolean"
        )
    if kind == "filter" and not (
        np.issubdtype(result.dtype, np.number) and not np.iscomplexobj(result)
    ):
        raise ProcessingError(
            f"{label} returned {result.dtype} for {where}; expected real numbers"
        )


def map_frames(
    step: ResolvedStep,
    data: np.ndarray,
    mask: np.ndarray | None,
    label: str,
    offset: int = 0,
) -> np.ndarray:
    """Apply a per-frame filter or mask step to every frame, into one new array.

    While no mask is active a step with a ``batch_func`` handles blocks of frames
    at once. A plugin's function gets a copy of each frame (it may write into its
    input; builtin steps never do, so they get views of ``data``). Builtin steps
    run on every core (:func:`playnano.io.codec.threads`): each block or frame is
    computed as it would be alone, so the result is the same for any thread count.
    ``offset`` is the index of ``data``'s first frame in the stack (for errors).
    """
    from playnano.io import codec
    from playnano.io.guard import check_cancelled
    from playnano.progress_ticks import STEP, frames_done

    spec = step.spec
    masked_func = spec.masked_func if mask is not None else None
    batch = spec.batch_func if masked_func is None else None
    own = step.plugin == BUILTIN_DIST
    t, h, w = data.shape
    if t == 0:  # AFMImageStack refuses empty data; kept for plain arrays
        raise ProcessingError(f"{label}: the stack has no frames")

    def one(j: int) -> np.ndarray:
        frame = data[j] if own else data[j].copy()
        try:
            if masked_func is not None and mask is not None:
                result = np.asarray(masked_func(frame, mask[j], **step.params))
            else:
                result = np.asarray(spec.func(frame, **step.params))
        except PlaynanoError as exc:
            raise ProcessingError(
                f"{label} failed on frame {j + offset}: {exc}"
            ) from exc
        except Exception as exc:
            raise ProcessingError(
                f"{label} failed on frame {j + offset}: {type(exc).__name__}: {exc}"
            ) from exc
        check_result(result, (h, w), spec.kind, label, f"frame {j + offset}")
        return result

    def run(start: int, stop: int) -> np.ndarray:
        if batch is None:
            return np.stack([one(j) for j in range(start, stop)])
        frames = data[start:stop] if own else data[start:stop].copy()
        try:
            result = np.asarray(batch(frames, **step.params))
        except Exception:  # redo frame by frame: the error names the frame
            result = np.stack([one(j) for j in range(start, stop)])
        where = f"frames {start + offset}-{stop - 1 + offset}"
        check_result(result, (stop - start, h, w), spec.kind, label, where)
        return result

    # a batch block is BATCH_BYTES of float64 work; per-frame steps go a few at a time
    block = batch_frames(data.shape) if batch is not None else 8
    first = min(t, block if batch is not None else 1)
    head = run(0, first)  # its dtype sizes the output
    out = np.empty((t, h, w), dtype=head.dtype)
    out[:first] = head
    del head
    frames_done(first, STEP)
    starts = range(first, t, block)

    def fill(start: int) -> int:
        stop = min(t, start + block)
        out[start:stop] = run(start, stop)
        return stop - start

    for n in codec.ordered_map(fill, starts, None if own else 1):
        frames_done(n, STEP)
        check_cancelled()  # a stopped stream stops its steps between frames
    return out


def batch_frames(shape: tuple[int, ...]) -> int:
    """Frames per batch of a batched step (``batch_func``) for frames of ``shape``."""
    h, w = shape[1], shape[2]
    return max(1, BATCH_BYTES // (8 * h * w))
