"""Carry out a plan: read the input, run the steps, write every output.

:func:`execute` is the one place that reads, processes and writes, for every front
end (``process``, each ``batch`` task, the napari widget, the Python API). Progress
is reported in stages: the read (when the executor reads), each step, each format.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from playnano.run.write import ExportResult, write_outputs

if TYPE_CHECKING:
    from pathlib import Path

    from playnano.afm_stack import AFMImageStack
    from playnano.run.plan import Plan
    from playnano.run.stream import BlockStream

logger = logging.getLogger("playnano.run")

__all__ = ["ExportResult", "Progress", "execute", "export_to", "paths_or_raise"]

#: ``progress(done, total, doing)``: ``done`` of the run's ``total`` stages (the read,
#: each step, each format) are finished; ``doing`` says what runs now ("" at the end).
Progress = Callable[[int, int, str], None]


class _Stages:
    """The run's stages, reported to a :data:`Progress` callback."""

    def __init__(self, plan: Plan, reads: bool, progress: Progress | None) -> None:
        n = len(plan.steps)
        self.names = ["reading"] if reads else []
        self.names += [f"step {i}/{n}: {s.name}" for i, s in enumerate(plan.steps, 1)]
        self.writing = [o.format for o in plan.outputs]
        self.total = len(self.names) + len(self.writing)
        self.progress = progress
        self.reported = -1

    def done(self, n: int) -> None:
        """``n`` stages are finished (reported once)."""
        if self.progress is None or n == self.reported:
            return
        self.reported = n
        if n < len(self.names):
            doing = self.names[n]
        else:
            doing = f"writing {', '.join(self.writing)}" if self.writing else ""
        self.progress(n, self.total, doing)

    def wrote(self, done: int, total: int, name: str) -> None:
        """A format finished (written or failed); ``done`` of them so far."""
        if name in self.writing:
            self.writing.remove(name)
        self.done(len(self.names) + done)


def execute(
    plan: Plan,
    stack: AFMImageStack | None = None,
    *,
    progress: Progress | None = None,
    on_read: Callable[[AFMImageStack], None] | None = None,
) -> list[ExportResult]:
    """Run ``plan``; return one result per format (errors included, not raised).

    Parameters
    ----------
    plan : Plan
        From :func:`playnano.run.plan.plan_run`.
    stack : AFMImageStack, optional
        The stack the plan was made for, when it was made for one in memory; it
        is processed in place and not closed. Otherwise the plan's input is read
        (and closed at the end, also on errors and Ctrl-C).
    progress : callable, optional
        See :data:`Progress`.
    on_read : callable, optional
        Called with the stack read from the input, before any step runs.

    Raises
    ------
    PlaynanoError
        A read or step that fails (the stack is restored to its state before the
        steps); a failing format is reported in its result instead.
    KeyboardInterrupt
        After removing every output the run had written.
    """
    from playnano.run.read import open_input

    stages = _Stages(plan, stack is None, progress)
    stages.done(0)
    if stack is not None:
        return _process_and_write(plan, stack, stages)
    assert plan.source is not None, "a plan made for a stack needs that stack"
    read = open_input(plan.source, plan.settings, plan.lazy, plan.steps, plan.available)
    try:
        if on_read is not None:
            on_read(read)
        stages.done(1)
        return _process_and_write(plan, read, stages)
    finally:
        read.close()  # a stack read in blocks holds its file, also on Ctrl-C


def _process_and_write(
    plan: Plan, stack: AFMImageStack, stages: _Stages
) -> list[ExportResult]:
    from playnano.processing.pipeline import run_pipeline
    from playnano.run.plan import check_free_space, estimate_bytes

    plan = plan.for_stack(stack)
    if plan.command is not None:
        stack.provenance["command"] = dict(plan.command)
    if plan.steps:
        first = len(stages.names) - len(plan.steps)
        run_pipeline(
            stack, plan.steps, progress=lambda i, n, name: stages.done(first + i - 1)
        )
        stages.done(len(stages.names))
    if not plan.outputs:
        return []
    settings = plan.settings
    # the processed data may be larger than the input the plan weighed
    data = stack.export_source(raw=settings.raw)[0]
    entries = [o.entry for o in plan.outputs]
    check_free_space(plan.folder, estimate_bytes(data.nbytes, entries))
    stream = _stream(stack, settings.raw)
    try:
        return write_outputs(
            stack,
            plan.outputs,
            raw=settings.raw,
            overwrite=settings.overwrite,
            threads=settings.threads,
            on_format=stages.wrote,
            stream=stream,
        )
    except KeyboardInterrupt:
        if stream is not None and stream.error is not None:
            raise stream.error from None  # a read or step failed mid-stream
        raise
    finally:
        if stream is not None:
            stream.stop()
            logger.info("stages busy: %s", stream.times().line())


def _stream(stack: AFMImageStack, raw: bool) -> BlockStream | None:
    """The streaming block path's stream for a lazy stack (None in memory)."""
    from playnano.run.stream import BlockStream, layers_needed

    if not stack.is_lazy:
        return None
    stream = BlockStream(layers_needed(stack, raw))
    stream.start()
    return stream


def paths_or_raise(results: list[ExportResult]) -> list[Path]:
    """Every path written, or one :class:`~playnano.errors.ExportError` naming each
    format that failed."""
    from playnano.errors import ExportError

    failed = [r for r in results if r.error is not None]
    if failed:
        raise ExportError("; ".join(f"{r.format}: {r.error}" for r in failed))
    return [p for r in results for p in r.paths]


def export_to(
    stack: AFMImageStack,
    path: str | Path,
    formats: str | Sequence[str] | None = None,
    *,
    raw: bool = False,
    overwrite: bool = False,
    options: Mapping[str, Any] | None = None,
    threads: int | None = None,
) -> list[Path]:
    """Write ``stack`` to ``path`` in one format or several (the Python API).

    See :func:`playnano.run.plan.plan_export` for the names and options. One
    format's failure is raised as it is; several formats' as one
    :class:`~playnano.errors.ExportError` after the others are written.
    """
    from playnano.run.plan import plan_export

    plan = plan_export(
        stack,
        path,
        formats,
        raw=raw,
        overwrite=overwrite,
        options=options,
        threads=threads,
    )
    results = execute(plan, stack)
    if len(results) == 1 and results[0].error is not None:
        raise results[0].error
    return paths_or_raise(results)
