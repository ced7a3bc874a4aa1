"""Build an :class:`~playnano.afm_stack.AFMImageStack` whose arrays are read lazily.

Every ``read_lazy`` of the builtin readers (and of playnano-zarr) makes its stack
here, so the one place that knows how a stack holds
:class:`~playnano.lazy.LazyFrames` is this module: the stack is built and
validated with a zero-stride stand-in of the frames' shape and dtype (no memory,
no read), then the lazy arrays take its place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from playnano.afm_stack import AFMImageStack
from playnano.lazy import FrameSource, LazyFrames


def _stand_in(source: FrameSource) -> np.ndarray:
    """A read-only array of ``source``'s shape and dtype that takes no memory."""
    return np.broadcast_to(np.zeros((), np.dtype(source.dtype)), tuple(source.shape))


def lazy_stack(
    path: Path,
    data: FrameSource,
    pixel_size_nm: float,
    channel: str,
    frame_metadata: Sequence[Mapping[str, Any]] | None,
    *,
    layers: Mapping[str, FrameSource] | None = None,
    masks: Mapping[str, FrameSource] | None = None,
) -> AFMImageStack:
    """A stack with the metadata given and ``data``, layers and masks as LazyFrames.

    The metadata is checked as :class:`AFMImageStack` checks it: an inconsistency
    (and a mask that is not boolean or not the data's shape) raises what the
    constructor raises (a :class:`~playnano.errors.StackError`, as a reader's
    ``read`` would), once the sources are closed.
    """
    sources = [data, *(layers or {}).values(), *(masks or {}).values()]
    try:
        stack = AFMImageStack(
            _stand_in(data), pixel_size_nm, channel, path, frame_metadata
        )
        stack.processed = {k: _stand_in(s) for k, s in (layers or {}).items()}
        stack.masks = {k: _stand_in(s) for k, s in (masks or {}).items()}
    except BaseException:
        for source in sources:
            source.close()
        raise
    stack.data = LazyFrames(data)  # type: ignore[assignment]
    # past the dicts' validation, which would read the arrays to check them
    for name, source in (layers or {}).items():
        dict.__setitem__(stack.processed, name, LazyFrames(source))  # type: ignore[misc]
    for name, source in (masks or {}).items():
        dict.__setitem__(stack.masks, name, LazyFrames(source))  # type: ignore[misc]
    return stack


def lazy_arrays(stack: AFMImageStack) -> list[LazyFrames]:
    """The stack's LazyFrames: data, then processed layers, then masks."""
    arrays: list[Any] = [stack.data, *stack.processed.values(), *stack.masks.values()]
    return [a for a in arrays if isinstance(a, LazyFrames)]


def close_stack(stack: AFMImageStack) -> None:
    """Close every lazy array of ``stack`` (its files are released)."""
    for arr in lazy_arrays(stack):
        arr.close()
