"""``playnano batch``: ``process`` over many inputs, on this machine or a Dask cluster.

Options are ``process``'s own (the same click options, reused, not copied). Everything
is checked before any file is read: steps, formats, options, and every output path
(two inputs writing one output is an error). Each input is one task; a failing input
is recorded with its one-line error and the others go on. Exit 0 when every input
succeeded, 3 when some failed (or wrote only some of their formats), 1 when none
wrote anything.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import click

from playnano.batch.engine import DEFAULT_TIMEOUT_S
from playnano.cli.exits import EXIT_PARTIAL
from playnano.cli.process import _ProcessCommand, process
from playnano.cli.settings import checked_settings, command_record, crate_identity

#: ``process`` options that ``batch`` takes as they are.
_SHARED = (
    "channel",
    "skip_damaged_frames",
    "processing",
    "processing_file",
    "export",
    "make_gif",
    "make_video",
    "make_sequence",
    "fps",
    "cmap",
    "draw_ts",
    "raw",
    "output_folder",
    "scale_bar_nm",
    "zmin",
    "zmax",
    "format_options",
    "threads",
    "blocks",
    "block_frames",
    "overwrite",
    "quiet",
    "verbose",
)


#: ``process`` options that ``batch`` takes for its crate (it always writes one).
_CRATE = ("crate_authors", "crate_license", "crate_organization")


def _process_options() -> list[click.Parameter]:
    by_name = {p.name: p for p in process.params}
    return [by_name[n] for n in (*_SHARED, *_CRATE)]


@click.command(
    cls=_ProcessCommand, short_help="Process many inputs, here or on a Dask cluster."
)
@click.argument("inputs", metavar="INPUT...", nargs=-1, required=True)
@click.option("--recursive", "-r", is_flag=True, help="Scan folders' sub-folders too.")
@click.option(
    "--workers",
    "-w",
    type=click.IntRange(min=1),
    default=None,
    help="Local worker processes (default: one per core; 1: in this process).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Submit to an existing Dask scheduler, e.g. tcp://host:8786 "
    "(default: $DASK_SCHEDULER_ADDRESS, else a local cluster).",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=0),
    default=DEFAULT_TIMEOUT_S,
    show_default=True,
    metavar="SECONDS",
    help="Stop an input that runs longer and record it as failed (a damaged file "
    "can hang its reader); 0 for no limit. Serially, each input then runs in a "
    "child process that can be stopped.",
)
@click.option(
    "--force", is_flag=True, help="Redo inputs the last report says are done."
)
@click.pass_context
def batch(ctx: click.Context, inputs: tuple[str, ...], **kw: Any) -> None:
    """Process and export many inputs (files, folders, glob patterns) into -o.

    Outputs mirror the input tree under the output folder; batch-report.json there
    records every input's status, outputs, time, SHA-256 and error, and a re-run
    skips the inputs already done with the same settings.

    \b
    Examples:
      playnano batch session/ -r -p remove_plane --export h5 tif -o out
      playnano batch run1.asd run2.h5-jpk frames/ -e npz -o out --workers 4
      playnano batch archive/ -r -e h5 -o out --scheduler tcp://head:8786
    """
    from playnano.batch.runner import run_batch

    ctx.obj["verbose"] = kw["verbose"]
    verbose = kw["verbose"]
    level = (
        logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    )
    logging.getLogger("playnano").setLevel(logging.ERROR if kw["quiet"] else level)
    settings, checked = checked_settings(
        **{k: kw[k] for k in _SHARED if k not in ("output_folder", "quiet", "verbose")}
    )
    identity = crate_identity(
        kw["crate_authors"], kw["crate_license"], kw["crate_organization"]
    )
    scheduler = kw["scheduler"] or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    command = command_record(settings, kw["processing"], kw["processing_file"])
    report = run_batch(
        inputs,
        Path(kw["output_folder"]),
        settings,
        recursive=kw["recursive"],
        workers=kw["workers"],
        scheduler=scheduler,
        force=kw["force"],
        quiet=kw["quiet"],
        command=command,
        checked=checked,
        timeout_s=kw["timeout_s"],
        crate=identity,
    )
    t = report.totals()
    if t["ok"] + t["skipped"] < t["inputs"]:  # a partial input wrote some formats
        ctx.exit(EXIT_PARTIAL if t["ok"] + t["skipped"] + t["partial"] else 1)


batch.params[1:1] = _process_options()
