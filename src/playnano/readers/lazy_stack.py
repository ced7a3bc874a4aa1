"""Build an :class:`~playnano.afm_stack.AFMImageStack` whose arrays are read on demand.

Every ``read_lazy`` of the builtin readers (and of playnano-zarr) makes its stack
with :func:`lazy_stack`: the frame sources become :class:`~playnano.lazy.LazyFrames`,
which the stack validates from their shape and dtype alone (nothing is read), and
every source is closed if the metadata is refused.
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
    """A stack whose ``data``, layers and masks are read on demand from frame sources.

    Each :class:`~playnano.lazy.FrameSource` becomes a
    :class:`~playnano.lazy.LazyFrames`, which the stack validates from its shape
    and dtype alone (nothing is read). The metadata is checked as
    :class:`~playnano.afm_stack.AFMImageStack` checks it: an inconsistency (or a
    mask that is not boolean or not the data's shape) raises what the constructor
    raises, once every source is closed, so a refused file is never left open.
    """
    sources = [data, *(layers or {}).values(), *(masks or {}).values()]
    try:
        stack = AFMImageStack(
            LazyFrames(data), pixel_size_nm, channel, path, frame_metadata
        )
        stack.processed = {k: LazyFrames(s) for k, s in (layers or {}).items()}
        stack.masks = {k: LazyFrames(s) for k, s in (masks or {}).items()}
    except BaseException:
        for source in sources:
            source.close()
        raise
    return stack
