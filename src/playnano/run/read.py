"""Reading a run's input: in memory, or a block of frames at a time.

:func:`use_blocks` is the rule (the settings decide, or the stack's size against the
memory available); :func:`read_mode` applies it to what the input's header says, and
:func:`open_input` reads the input that way, with the settings' channel,
damaged-frame rule and threads.
"""

from __future__ import annotations

import math
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

__all__ = [
    "check_memory",
    "open_input",
    "read_input",
    "read_mode",
    "use_blocks",
]


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
    size (``shape``, ``itemsize``) and the memory ``available`` do not weigh in the
    choice; an in-memory read that cannot fit is refused (:func:`check_memory`).
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


def check_memory(
    path: str | Path,
    facts: InputFacts,
    settings: RunSettings,
    resolved: Sequence[ResolvedStep],
    available: int | None = None,
) -> None:
    """Refuse, before reading, an in-memory run that cannot fit in memory.

    An input read in memory (``--in-memory``, a whole-stack step, or a reader that
    cannot read a block at a time) holds the data, one layer per filter and the
    masks at once: at least the data's size once per layer plus a byte per value
    per mask (levelling may widen layers to float64; not counted, so nothing that
    fits is refused). When the header says that is more than the memory
    ``available`` (default: the machine's), the run would be killed part-way,
    after minutes of work; it is refused in one line that says why it is held and
    what to do. Nothing is refused when the header or the memory figure is unknown.

    Raises
    ------
    ProcessingError
        When the stack cannot fit.
    """
    from playnano.errors import ProcessingError
    from playnano.lazy import available_memory

    header = facts.header
    if header is None:
        return
    kinds = [r.spec.kind for r in resolved]
    n_filters = sum(k in ("filter", "stack") for k in kinds)
    values = math.prod(header.shape)
    need = values * (header.itemsize * (1 + n_filters) + kinds.count("mask"))
    have = available_memory() if available is None else available
    if have is None or need <= have:
        return
    whole = [r.name for r in resolved if r.spec.kind == "stack"]
    if settings.blocks is False:
        why, fix = "--in-memory", "leave out --in-memory to stream it"
    elif whole:
        why = f"{', '.join(whole)} needs the whole stack"
        fix = "run it where more memory is free, or on fewer frames"
    else:
        why = "its reader cannot read it a block at a time"
        fix = "run it where more memory is free"
    shape = "x".join(str(n) for n in header.shape)
    raise ProcessingError(
        f"{path}: holding its {shape} frames in memory ({why}) needs at least "
        f"{need / 1e9:.1f} GB and {have / 1e9:.1f} GB is available; {fix}"
    )


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

    ``available`` overrides the memory figure an in-memory read must fit in
    (bytes; :func:`check_memory`).
    """
    from playnano.processing.validate import validate_steps
    from playnano.run.header import describe_input

    resolved = validate_steps(settings.parsed_steps())
    facts = describe_input(path)
    lazy = read_mode(facts, settings, resolved, available)
    if lazy is False:
        check_memory(path, facts, settings, resolved, available)
    return open_input(path, settings, lazy, resolved, available)
