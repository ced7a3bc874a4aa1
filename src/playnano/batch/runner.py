"""Plan, check and run a batch; keep its report true; stop cleanly on Ctrl-C."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import sys
from collections.abc import Generator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from playnano.batch.engine import (
    DEFAULT_TIMEOUT_S,
    choose_engine,
    clean_partials,
    make_jobs,
    run_serial,
)
from playnano.batch.inputs import Task, discover, plan_tasks
from playnano.batch.progress import FrameBar, frame_units
from playnano.batch.report import DONE, REPORT_NAME, BatchReport
from playnano.errors import OutputExistsError
from playnano.run import RunSettings

if TYPE_CHECKING:
    from playnano.crate import CrateIdentity
    from playnano.processing.validate import ResolvedStep
    from playnano.run.formats import FormatChoice


def _done_before(
    task: Task, previous: Mapping[str, dict[str, Any]], fingerprint: dict[str, Any]
) -> dict[str, Any] | None:
    """The earlier record of ``task`` if its outputs exist and nothing changed."""
    from playnano.provenance import sha256_of

    rec = previous.get(str(task.input))
    if not rec or rec.get("status") not in DONE or rec.get("settings") != fingerprint:
        return None
    outputs = [Path(p) for p in rec.get("outputs") or []]
    if not outputs or not all(p.exists() for p in outputs):
        return None
    if rec.get("sha256") != sha256_of(task.input):
        return None
    return rec


def _check_existing(
    tasks: Sequence[Task],
    previous: Mapping[str, dict[str, Any]],
    fingerprint: dict[str, Any],
    *,
    overwrite: bool,
    force: bool,
) -> set[Path]:
    """Refuse existing outputs up front; return inputs allowed to replace their own.

    An input may replace the outputs the last report recorded for it when it is
    redone with the same settings (it changed, or ``--force``); any other existing
    file needs ``--overwrite``.
    """
    replace_own: set[Path] = set()
    for t in tasks:
        rec = previous.get(str(t.input)) or {}
        same = force or rec.get("settings") == fingerprint
        own = {Path(p) for p in rec.get("outputs") or []} if same else set()
        for out in t.outputs:
            if not out.exists() or overwrite:
                continue
            if out in own:
                replace_own.add(t.input)
                continue
            raise OutputExistsError(
                f"{out} already exists (from {t.input.name}); pass --overwrite to "
                "replace it"
            )
    return replace_own


def _settle_interrupted(
    todo: Sequence[Task], report: BatchReport, preexisting: set[Path]
) -> None:
    """After Ctrl-C, make the outputs agree with the report.

    A task that finished while the batch stopped (its result not yet received) has
    written all of its new outputs: it is recorded ``ok``. One stopped half-way (some
    formats committed, others not) has what it wrote removed.
    """
    from playnano.provenance import sha256_of

    for t in todo:
        if report.records[str(t.input)]["status"] != "pending":
            continue
        new = [o for o in t.outputs if o.exists() and o not in preexisting]
        if new and len(new) == len(t.outputs):
            record = dict(report.records[str(t.input)])
            record.update(status="ok", outputs=[str(o) for o in new])
            record["sha256"] = sha256_of(t.input)
            report.update(record, write=False)
            continue
        _remove(new)


def _remove(paths: Sequence[Path]) -> None:
    for o in paths:
        if o.is_dir() and not o.is_symlink():
            shutil.rmtree(o, ignore_errors=True)
        else:
            o.unlink(missing_ok=True)


def _keep_only_recorded(
    task: Task, record: Mapping[str, Any], preexisting: set[Path]
) -> None:
    """Remove the new outputs of ``task`` that its record does not list.

    A task stopped at its time limit, or whose worker died, may have committed some
    formats before it stopped; its record lists none, and the report must be true.
    """
    listed = {Path(p) for p in record.get("outputs") or []}
    _remove([o for o in task.outputs if o.exists() and o not in preexisting | listed])


def run_batch(
    args: Sequence[str],
    output_folder: Path,
    settings: RunSettings,
    *,
    recursive: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    quiet: bool = False,
    command: Mapping[str, Any] | None = None,
    checked: tuple[list[FormatChoice], list[ResolvedStep]] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    crate: CrateIdentity | None = None,
) -> BatchReport:
    """Run ``settings`` over every input named by ``args``; return the final report.

    Everything is checked (settings, inputs, output paths, existing files) before
    any input is read (``checked``: ``settings.check()``'s result, when the caller
    has it); ``KeyboardInterrupt`` stops the tasks, removes what the
    running ones had half written, marks the rest ``interrupted`` and re-raises.
    An input running longer than ``timeout_s`` (0: no limit) is stopped and
    recorded as failed; what it had written is removed. ``crate`` names the
    authors, licence and publisher of the folder's crate.
    """
    checked = checked if checked is not None else settings.check()
    inputs = discover(args, recursive=recursive, skip=output_folder.resolve())
    tasks = plan_tasks(inputs, output_folder, checked, raw=settings.raw)
    from playnano.io.atomic import check_output_folder

    names = {o.name for t in tasks for o in t.outputs}
    check_output_folder(output_folder, sorted(names | {REPORT_NAME}))
    report_path = output_folder.resolve() / REPORT_NAME
    previous = {} if force else BatchReport.previous(report_path)
    fingerprint = settings.fingerprint()
    # existing outputs that are not this batch's own are refused before any input
    # is read (resume hashes the inputs next)
    replace_own = _check_existing(
        tasks,
        BatchReport.previous(report_path) if force else previous,
        fingerprint,
        overwrite=settings.overwrite,
        force=force,
    )
    todo: list[Task] = []
    skipped: list[dict[str, Any]] = []
    for t in tasks:
        rec = _done_before(t, previous, fingerprint)
        if rec is None:
            todo.append(t)
        else:
            skipped.append({**rec, "status": "skipped"})

    engine = choose_engine(
        make_jobs(todo, settings, set()), workers=workers, scheduler=scheduler
    )

    def announce() -> None:  # on Dask, once the cluster is there to run on
        if not quiet:
            click.echo(f"playnano: {engine.reason}", err=True)

    if engine.workers > 1 and settings.threads is None:
        # one compression thread per task: the workers already use every core
        settings = dataclasses.replace(settings, threads=1)
    # every batch leaves a provenance crate: the tasks hash what they write
    settings = dataclasses.replace(settings, crate=True)
    report = BatchReport(
        report_path, [str(t.input) for t in tasks], fingerprint, engine.name
    )
    for rec in skipped:
        report.update(rec, write=False)
    report.write()

    preexisting = {o for t in todo for o in t.outputs if o.exists()}
    by_input = {str(t.input): t for t in todo}
    jobs = make_jobs(todo, settings, replace_own)
    # no bar among -v's log lines, in a pipe or a log file, or with --quiet
    show_bar = (
        not quiet
        and sys.stderr.isatty()
        and not logging.getLogger("playnano").isEnabledFor(logging.INFO)
    )
    # the bar counts frames, read from the inputs' headers (only when it is shown)
    units = (
        frame_units(j.input for j in jobs) if show_bar else {j.input: 1 for j in jobs}
    )
    bar = FrameBar(units, engine.name, sys.stderr, hidden=not show_bar)
    progress = bar.stage if show_bar else None
    records: Generator[dict[str, Any], None, None]
    if engine.dask:
        from playnano.batch.dask_engine import run_dask

        records = run_dask(
            jobs,
            command,
            workers=engine.workers,
            scheduler=scheduler,
            progress=progress,
            timeout_s=timeout_s,
            connected=announce,
        )
    else:
        announce()
        records = run_serial(jobs, command, progress, timeout_s=timeout_s)
    try:
        held: list[str] = []  # warnings wait for the bar's line to end
        with bar.shown():
            for rec in records:
                _keep_only_recorded(by_input[rec["input"]], rec, preexisting)
                report.update(rec)
                bar.done(rec)
                for message in [] if quiet else rec.get("warnings") or []:
                    # a reader's warning names its file already (the path as given)
                    named = message.startswith(f"{rec['input']}")
                    where = "" if named else f"{rec['input']}: "
                    line = f"playnano: warning: {where}{message}"
                    if show_bar:
                        held.append(line)
                    else:
                        click.echo(line, err=True)
        for line in held:
            click.echo(line, err=True)
    except KeyboardInterrupt:
        records.close()  # cancels the futures and shuts the local cluster down
        clean_partials(sorted({t.out_dir for t in todo}))
        _settle_interrupted(todo, report, preexisting)
        report.interrupt()
        _write_crate(output_folder, report, crate)
        if not quiet:  # what finished and what did not, above the one-line error
            click.echo(report.table(), err=True)
        raise
    finally:
        records.close()  # whatever happened, no cluster outlives the batch
    # staging that stopped tasks (timed out, or whose worker died) left behind;
    # no task runs now, so none of it is in use
    clean_partials(sorted({t.out_dir for t in todo}))
    report.write(finished=True)
    _write_crate(output_folder, report, crate)
    if not quiet or any(r["status"] not in DONE for r in report.records.values()):
        click.echo(report.table(), err=True)
    return report


def _write_crate(
    folder: Path,
    report: BatchReport,
    identity: CrateIdentity | None = None,
) -> None:
    """The batch's ``ro-crate-metadata.json`` beside its report."""
    from playnano.run.crate import write_folder_crate

    t = report.totals()
    write_folder_crate(
        folder,
        report.records.values(),
        name=f"playnano batch of {t['inputs']} inputs",
        description=(
            f"playnano batch ({report.engine}): {t['ok']} ok, {t['skipped']} "
            f"skipped, {t['partial']} partial, {t['failed']} failed"
            + (f", {t['interrupted']} interrupted" if t["interrupted"] else "")
        ),
        identity=identity,
    )
