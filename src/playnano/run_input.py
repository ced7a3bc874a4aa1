"""Reading a run's input: in memory, or a block of frames at a time.

:func:`use_blocks` is the rule (the settings decide, or the stack's size against the
memory available); :func:`read_input` reads an input by it, with the settings'
channel, damaged-frame rule and threads. Both are also importable from
:mod:`playnano.run`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playnano.errors import PlaynanoWarning

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack
    from playnano.processing.pipeline import ResolvedStep
    from playnano.run import RunSettings


def use_blocks(
    settings: RunSettings,
    resolved: Sequence[ResolvedStep],
    shape: tuple[int, ...],
    itemsize: int,
    available: int | None = None,
) -> bool:
    """Whether a stack the reader can read lazily goes the block path.

    ``settings.blocks`` decides when given. Otherwise blocks when every step works
    frame by frame and processing in memory (the data, one layer per filter, the
    masks: :func:`playnano.lazy.in_memory_bytes`) would take more than half of
    ``available`` bytes (default: :func:`playnano.lazy.available_memory`).
    """
    from playnano import lazy

    if settings.blocks is not None:
        return settings.blocks
    if any(r.spec.kind == "stack" for r in resolved):
        return False
    kinds = [r.spec.kind for r in resolved]
    need = lazy.in_memory_bytes(
        shape, itemsize, kinds.count("filter"), kinds.count("mask")
    )
    if available is None:
        available = lazy.available_memory()
    return not lazy.fits_in_memory(need, available)


def read_input(
    path: str | Path, settings: RunSettings, *, available: int | None = None
) -> AFMImageStack:
    """Read one input with the settings' channel, damaged-frame rule and threads.

    The frames are read on demand (a lazy stack: close it when done) when the
    settings ask for blocks, or when :func:`use_blocks` chooses them; ``available``
    overrides the memory figure it weighs (bytes).
    """
    from playnano.io.codec import using_threads
    from playnano.readers import load

    opts: dict[str, Any] = {
        "channel": settings.channel,
        "skip_damaged": settings.skip_damaged,
    }
    with using_threads(settings.threads):  # bundles' gzip chunks inflate in threads
        lazy = _wants_blocks(Path(path), settings, available)
        stack = load(path, lazy=lazy is not False, **opts)
        if (
            lazy is None
            and stack.is_lazy
            and not _blocks_for(stack, settings, available)
        ):
            stack.close()  # opened lazily only to learn its size: read it whole
            stack = load(path, **opts)
        if settings.blocks and not stack.is_lazy:
            warnings.warn(
                f"{path}: its reader cannot read this file a block at a "
                "time; reading it into memory",
                PlaynanoWarning,
                stacklevel=2,
            )
        if stack.is_lazy and settings.block_frames is not None:
            for frames in stack.lazy_frames():
                frames.set_block(settings.block_frames)
        return stack


def _wants_blocks(
    path: Path, settings: RunSettings, available: int | None
) -> bool | None:
    """Whether to read ``path`` lazily; None when only a lazy open can tell.

    Readers that declare ``supports_inspect`` are sized from their metadata; a
    reader that declares only ``supports_lazy`` (h5-jpk, frame folders) is opened
    lazily once, and :func:`read_input` decides on that open stack.
    """
    from playnano.info import inspect
    from playnano.readers import reader_for

    if settings.blocks is not None:
        return settings.blocks
    if any(r.spec.kind == "stack" for r in _resolved(settings)):
        return False
    try:
        reader = reader_for(path).obj
        if not reader.supports_lazy:
            return False
        if not reader.supports_inspect:
            return None
        info = inspect(path).data
    except Exception:  # reading it in memory reports the error
        return False
    return _blocks_for_shape(settings, tuple(info.shape), info.dtype, available)


def _resolved(settings: RunSettings) -> list[ResolvedStep]:
    from playnano.processing.pipeline import validate_steps

    return validate_steps(list(settings.steps))


def _blocks_for_shape(
    settings: RunSettings, shape: tuple[int, ...], dtype: Any, available: int | None
) -> bool:
    import numpy as np

    itemsize = np.dtype(dtype).itemsize
    return use_blocks(settings, _resolved(settings), shape, itemsize, available)


def _blocks_for(
    stack: AFMImageStack, settings: RunSettings, available: int | None
) -> bool:
    """:func:`use_blocks` for a stack opened lazily."""
    return _blocks_for_shape(settings, stack.data.shape, stack.data.dtype, available)
