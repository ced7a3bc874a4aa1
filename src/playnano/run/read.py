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


def read_mode(
    facts: InputFacts,
    settings: RunSettings,
    resolved: Sequence[ResolvedStep],
    available: int | None = None,
) -> bool | None:
    """Read lazily (True), in memory (False), or None: only a lazy open can tell.

    An input whose reader cannot read lazily is read in memory; one whose header
    gives its size is decided by :func:`use_blocks`; one whose reader reads lazily
    but has no header-only description (h5-jpk, frame folders) is opened lazily
    once and decided on that open stack (:func:`open_input`).
    """
    if settings.blocks is not None:
        return settings.blocks
    if any(r.spec.kind == "stack" for r in resolved) or not facts.lazy:
        return False
    if facts.header is None:
        return None
    header = facts.header
    return use_blocks(settings, resolved, header.shape, header.itemsize, available)


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
