"""One processing/export run of the widget: a plan checked in full, then executed.

The plan and the executor are ``playnano process``'s own (:mod:`playnano.run`):
steps, formats and options, output names, existing files and free space are
checked before anything runs, and the run writes what the CLI writes for the same
steps, with the same threads and formats side by side. A cancelled run leaves
nothing: the executor removes what it had written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari_playnano._job import Job
from playnano.errors import OptionError

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack
    from playnano.run import ExportResult, Plan


@dataclass
class Run:
    """A checked run; :meth:`work` carries it out in the worker thread.

    ``stack`` is what the executor processes and writes: a copy of the source when
    the steps run again, else the stack shown (processed already).
    """

    plan: Plan
    source: AFMImageStack
    stack: AFMImageStack
    steps_text: str
    reprocess: bool
    processed: AFMImageStack | None = None
    results: list[ExportResult] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Units of progress: steps run plus formats written."""
        return len(self.plan.steps) + len(self.plan.outputs)

    @property
    def formats(self) -> list[str]:
        """The formats this run writes."""
        return [o.format for o in self.plan.outputs]

    def work(self, job: Job) -> None:
        """Process (when the steps changed) and export; runs in the worker thread."""
        from playnano.run import execute

        stack = self.source.copy() if self.reprocess else self.stack
        self.results = execute(
            self.plan,
            stack,
            progress=lambda done, total, doing: job.report(done, doing),
        )
        if self.reprocess:
            self.processed = stack
        job.report(self.total, "")


def plan_run(
    source: AFMImageStack,
    current: AFMImageStack | None,
    ran: str,
    steps_text: str,
    *,
    formats: list[str] | None,
    options: Mapping[str, Mapping[str, Any]],
    raw: bool,
    folder: Path,
    name: str,
    overwrite: bool,
    origin: dict[str, Any],
) -> Run:
    """Check the steps, formats, options and outputs; return the run to start.

    ``formats=None`` only processes. The steps run again on the source when they
    differ from those ``current`` was processed with (``ran``). Raises a
    ``PlaynanoError`` for any mistake, before anything is read, processed or
    written.
    """
    from playnano.processing import parse_steps
    from playnano.run import RunSettings, plan_run, step_sources, steps_as_plain

    steps_text = steps_text.strip()
    reprocess = current is None or steps_text != ran
    chosen = list(formats or [])
    if formats is not None and not chosen:
        raise OptionError("choose at least one format to export")
    steps = parse_steps(steps_text) if reprocess else []
    settings = RunSettings(
        formats=tuple(chosen),
        steps=steps_as_plain(steps),
        step_sources=step_sources(steps),
        raw=raw,
        options={f: dict(options.get(f, {})) for f in chosen},
        overwrite=overwrite,
    )
    stack = source if reprocess else (current or source)
    command = {**origin, "formats": chosen, "raw": raw} if chosen else dict(origin)
    plan = plan_run(
        settings, folder, stack=stack, base=name.strip() or None, command=command
    )
    return Run(plan, source, stack, steps_text, reprocess)
