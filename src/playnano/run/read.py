"""Reading a run's input: in memory, or a block of frames at a time.

:func:`use_blocks` is the rule (the settings decide, or the stack's size against the
memory available); :func:`read_mode` applies it to what the input's header says, and
:func:`open_input` reads the input that way, with the settings' channel,
damaged-frame rule and threads.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playnano.errors import PlaynanoWarning

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack
    from playnano.processing.validate import ResolvedStep
    from playnano.run.header import InputFacts
    from playnano.run.settings import RunSettings

__all__ = ["open_input", "read_input", "read_mode", "use_blocks"]


def use_blocks(
    settings: RunSettings,
    resolved: Sequence[ResolvedStep],
    shape: tuple[int, ...] = (),
    itemsize: int = 0,
    available: int | None = None,
) -> bool:
    """Whether a stack the reader can read lazily goes the streaming block path.

    ``settings.blocks`` decides when given. Otherwise the stream, whenever every
    step works frame by frame: it is as fast as holding the stack in memory
    (``benchmarks/bench_stream.py``) in a few blocks of memory, so the stack's
    size (``shape``, ``itemsize``) and the memory ``available`` no longer matter.
    """
    if settings.blocks is not None:
        return settings.blocks
    return not any(r.spec.kind == "stack" for r in resolved)


def read_mode(
    facts: InputFacts,
    settings: RunSettings,
    resolved: Sequence[ResolvedStep],
    available: int | None = None,
) -> bool | None:
    """Read lazily (True) or in memory (False).

    An input whose reader cannot read lazily is read in memory; otherwise
    :func:`use_blocks` decides (``available`` is kept for callers that weigh it).
    """
    if settings.blocks is not None:
        return settings.blocks
    if not facts.lazy:
        return False
    return use_blocks(settings, resolved)


def open_input(
    path: str | Path,
    settings: RunSettings,
    lazy: bool | None,
    resolved: Sequence[ResolvedStep] = (),
    available: int | None = None,
) -> AFMImageStack:
    """Read one input with the settings' channel, damaged-frame rule and threads.

    ``lazy`` is :func:`read_mode`'s answer: the frames are read on demand (a lazy
    stack: close it when done) when True, or when None and :func:`use_blocks`
    chooses blocks for the stack once opened lazily (``resolved`` and
    ``available`` are what it weighs).
    """
    from playnano.io.codec import using_threads
    from playnano.readers import load

    opts: dict[str, Any] = {
        "channel": settings.channel,
        "skip_damaged": settings.skip_damaged,
    }
    with using_threads(settings.threads):  # bundles' gzip chunks inflate in threads
        stack = load(path, lazy=lazy is not False, **opts)
        if lazy is None and stack.is_lazy:
            shape, itemsize = stack.data.shape, stack.data.dtype.itemsize
            if not use_blocks(settings, resolved, shape, itemsize, available):
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


def read_input(
    path: str | Path, settings: RunSettings, *, available: int | None = None
) -> AFMImageStack:
    """Read one input as a run would: the read mode chosen, then :func:`open_input`.

    ``available`` overrides the memory figure the choice weighs (bytes).
    """
    from playnano.processing.validate import validate_steps
    from playnano.run.header import describe_input

    resolved = validate_steps(settings.parsed_steps())
    lazy = read_mode(describe_input(path), settings, resolved, available)
    return open_input(path, settings, lazy, resolved, available)
