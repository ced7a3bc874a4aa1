"""Build an :class:`~playnano.afm_stack.AFMImageStack` whose arrays are read lazily.

Every ``read_lazy`` of the builtin readers (and of playnano-zarr) makes its stack
here: the frame sources become :class:`~playnano.lazy.LazyFrames`, which the stack
validates from their shape and dtype alone (nothing is read), and every source is
closed if the metadata is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from playnano.afm_stack import AFMImageStack
from playnano.lazy import FrameSource, LazyFrames


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
            LazyFrames(data),
            pixel_size_nm,
            channel,
            path,
            frame_metadata,
        )
        stack.processed = {k: LazyFrames(s) for k, s in (layers or {}).items()}
        stack.masks = {k: LazyFrames(s) for k, s in (masks or {}).items()}
    except BaseException:
        for source in sources:
            source.close()
        raise
    return stack
