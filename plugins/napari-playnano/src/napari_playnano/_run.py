"""One processing/export run of the widget, checked in full before it starts.

The checks and the work are the CLI's (``validate_steps``, ``plan_exports``,
``refuse_existing_outputs``, ``run_pipeline``, ``export_all``), so a run writes the
files ``playnano process`` writes for the same steps.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from napari_playnano._job import Job
from playnano.afm_stack import AFMImageStack
from playnano.errors import OptionError
from playnano.io.atomic import TMP_PREFIX
from playnano.io.export_data import ExportResult


@dataclass
class Run:
    """What a run will do; filled in by :meth:`work` in the worker thread."""

    source: AFMImageStack
    current: AFMImageStack
    steps_text: str
    resolved: list[Any]
    reprocess: bool
    formats: list[str]
    options: dict[str, dict[str, Any]]
    raw: bool
    folder: Path
    base: str
    overwrite: bool
    origin: dict[str, Any]
    planned: set[str] = field(default_factory=set)
    existing: set[str] = field(default_factory=set)
    processed: AFMImageStack | None = None
    results: list[ExportResult] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Units of progress: steps run plus formats written."""
        return (len(self.resolved) if self.reprocess else 0) + len(self.formats)

    def work(self, job: Job) -> None:
        """Process (when the steps changed) and export; runs in the worker thread."""
        from playnano.io.export_data import export_all
        from playnano.processing.pipeline import run_pipeline

        stack = self.current
        done = 0
        if self.reprocess:
            stack = self.source.copy()
            stack.provenance["command"] = dict(self.origin)
            run_pipeline(
                stack,
                self.resolved,
                progress=lambda i, n, name: job.report(i - 1, f"step {i}/{n}: {name}"),
            )
            done = len(self.resolved)
            self.processed = stack
        if self.formats:
            stack.provenance["command"] = {
                **self.origin,
                "formats": list(self.formats),
                "raw": self.raw,
            }
        for k, fmt in enumerate(self.formats):
            job.report(done + k, f"writing {fmt} ({k + 1}/{len(self.formats)})")
            opts = self.options.get(fmt)
            self.results += export_all(
                stack,
                self.folder,
                self.base,
                [fmt],
                raw=self.raw,
                overwrite=self.overwrite,
                options={fmt: opts} if opts else None,
            )
        job.report(self.total, "")

    def clean_up(self) -> int:
        """Remove what a cancelled run wrote (outputs and staging folders it made)."""
        if not self.folder.is_dir():
            return 0
        removed = 0
        for p in self.folder.iterdir():
            if p.name in self.existing:
                continue
            if p.name.startswith(TMP_PREFIX) or p.name in self.planned:
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)
                removed += 1
        return removed


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

    ``formats=None`` only processes. Raises a ``PlaynanoError`` for any mistake,
    before anything is read, processed or written.
    """
    from playnano.io.export_data import (
        make_stem,
        plan_exports,
        refuse_existing_outputs,
    )
    from playnano.processing.pipeline import validate_steps

    steps_text = steps_text.strip()
    resolved = validate_steps(steps_text)
    reprocess = current is None or steps_text != ran
    chosen = list(formats or [])
    if formats is not None and not chosen:
        raise OptionError("choose at least one format to export")
    opts = {f: dict(options.get(f, {})) for f in chosen}
    plan = plan_exports(chosen, raw=raw, options=opts)
    if folder.exists() and not folder.is_dir():
        raise OptionError(f"output folder {folder} is a file")
    src = source.file_path
    base = name.strip() or (src.name.split(".")[0] if src else "") or "playnano_export"
    stack_processed = (
        source.is_processed()
        or any(r.spec.kind in ("filter", "stack") for r in resolved)
        if reprocess
        else current is not None and current.is_processed()
    )
    stem = make_stem(base, processed=stack_processed, raw=raw)
    refuse_existing_outputs(plan, folder, stem, overwrite)
    planned = {
        f"{s}{entry.obj.suffix}"
        for entry, _ in plan
        for s in (stem, make_stem(base, processed=False, raw=raw))
    }
    existing = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    return Run(
        source=source,
        current=current or source,
        steps_text=steps_text,
        resolved=resolved,
        reprocess=reprocess,
        formats=chosen,
        options=opts,
        raw=raw,
        folder=folder,
        base=base,
        overwrite=overwrite,
        origin=origin,
        planned=planned,
        existing=existing,
    )
