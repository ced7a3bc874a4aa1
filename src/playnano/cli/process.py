"""``playnano process``: read an AFM video, run processing steps, export it.

Everything a run needs is checked before anything is read or written: the input
exists, every requested format is installed and its options are valid, every step and
parameter is known and in range.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

import click

from playnano.cli.animation_flags import animation_flags, normalize_make_video
from playnano.cli.exits import EXIT_PARTIAL, error_text
from playnano.cli.settings import (  # noqa: F401 (tests import them from here)
    _parse_format_options,
    _split_formats,
    checked_settings,
    command_record,
    crate_identity,
)
from playnano.errors import ReadError


class _ProcessCommand(click.Command):
    """Accepts ``--export tif npz hdf5`` (space-separated) as well as repeats/commas."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        args = normalize_make_video(args)  # 0.5.0's optional --make-video [LIST]
        return super().parse_args(ctx, expand_export_args(args))


def expand_export_args(args: Sequence[str]) -> list[str]:
    """Turn ``--export a b c`` into ``--export a --export b --export c``.

    Tokens after ``--export`` that are not options count as formats. If that leaves no
    input path and the last such token is an existing file or folder, it is the input
    (``playnano process --export npz h5 video.asd``).
    """
    out: list[str] = []
    i = 0
    absorbed: list[int] = []  # positions in `out` of tokens taken as formats
    positional_seen = False
    while i < len(args):
        tok = args[i]
        if tok == "--":
            out.extend(args[i:])
            positional_seen = positional_seen or len(args) > i + 1
            break
        if tok in ("--export", "-e") or tok.startswith("--export="):
            first = tok.partition("=")[2] if "=" in tok else None
            if first is None:
                if i + 1 >= len(args):
                    out.append(tok)
                    i += 1
                    continue
                first = args[i + 1]
                i += 1
            out += ["--export", first]
            i += 1
            while i < len(args) and not args[i].startswith("-"):
                out += ["--export", args[i]]
                absorbed.append(len(out) - 1)
                i += 1
            continue
        if not tok.startswith("-"):
            prev = out[-1] if out else ""
            if not (prev.startswith("-") and prev in _VALUE_OPTIONS):
                positional_seen = True
        out.append(tok)
        i += 1
    if not positional_seen and absorbed and Path(out[absorbed[-1]]).exists():
        pos = absorbed[-1]
        path = out[pos]
        del out[pos - 1 : pos + 1]
        out.append(path)
    return out


_VALUE_OPTIONS = {
    "--channel",
    "-c",
    "--processing",
    "-p",
    "--processing-file",
    "--output-folder",
    "-o",
    "--output-name",
    "-n",
    "--scale-bar-nm",
    "--zmin",
    "--zmax",
    "--option",
    "--threads",
    "--fps",
    "--cmap",
}


@click.command(
    cls=_ProcessCommand, short_help="Read an AFM video, process it, export it."
)
@click.argument(
    "input_path", metavar="INPUT", required=False, type=click.Path(path_type=Path)
)
@click.option(
    "--synthetic",
    is_flag=True,
    help="Use a generated synthetic HS-AFM video instead of INPUT.",
)
@click.option(
    "--channel",
    "-c",
    default=None,
    help="Channel to read (default: the file's height channel).",
)
@click.option(
    "--skip-damaged-frames",
    is_flag=True,
    help="Frame folders: leave out damaged frame files (warned, in provenance).",
)
@click.option(
    "--processing",
    "-p",
    default=None,
    help='Steps, e.g. "remove_plane;gaussian_filter:sigma=2".',
)
@click.option(
    "--processing-file",
    type=click.Path(path_type=Path),
    default=None,
    help="YAML/JSON file with a 'filters:' list.",
)
@click.option(
    "--export",
    "-e",
    "export",
    multiple=True,
    help="Formats to write: 'tif npz h5', 'tif,npz' or repeated; 'all' for every installed one.",
)
@click.option(
    "--make-gif",
    is_flag=True,
    help="Also write an annotated GIF (same as --export gif).",
)
@click.option(
    "--raw",
    is_flag=True,
    help="Export the unprocessed snapshot instead of the processed data.",
)
@click.option(
    "--output-folder",
    "-o",
    type=click.Path(path_type=Path),
    default="output",
    show_default=True,
    help="Destination folder.",
)
@click.option(
    "--output-name",
    "-n",
    default=None,
    help="Base name of the files (default: from the input).",
)
@click.option(
    "--scale-bar-nm",
    default=None,
    help="Scale bar length in nm for formats that draw one (0: none).",
)
@click.option(
    "--zmin",
    default=None,
    help="Lower end of the colour scale: a height in nm or 'auto'.",
)
@click.option(
    "--zmax",
    default=None,
    help="Upper end of the colour scale: a height in nm or 'auto'.",
)
@click.option(
    "--option",
    "format_options",
    multiple=True,
    metavar="FORMAT.NAME=VALUE",
    help="An option a format declares (see 'playnano formats info FORMAT').",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="Compression threads (default: every core); files are the same either way.",
)
@click.option(
    "--blocks/--in-memory",
    "blocks",
    default=None,
    help="Stream the stack a block of frames at a time (reading, steps and every "
    "format at once, in a few blocks of memory), or hold it whole in memory "
    "(default: stream when the reader can and every step works frame by frame). "
    "Same frames either way.",
)
@click.option(
    "--block-frames",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Frames per block on the block path (default: about 64 MB of frames).",
)
@animation_flags
@click.option(
    "--crate",
    is_flag=True,
    help="Also write ro-crate-metadata.json in the output folder: the input and "
    "every output by SHA-256, the steps, formats and software (an RO-Crate).",
)
@click.option(
    "--crate-author",
    "crate_authors",
    multiple=True,
    metavar="'NAME <ORCID>'",
    help="An author of the crate: a name, an ORCID iD, or both as 'Ada Lovelace "
    "<0000-0002-1825-0097>' (repeat for several; the first is who ran the run). "
    "Implies --crate. Default: $PLAYNANO_CRATE_AUTHOR (';' between authors).",
)
@click.option(
    "--crate-license",
    metavar="SPDX-ID|URL",
    default=None,
    help="The licence of the files the crate lists, such as CC-BY-4.0 (an SPDX "
    "identifier) or a URL. Implies --crate. Default: $PLAYNANO_CRATE_LICENSE; "
    "without one the crate says the data's owner sets the terms.",
)
@click.option(
    "--crate-organization",
    metavar="'NAME <URL>'",
    default=None,
    help="The lab or institution publishing the files (the crate's publisher and "
    "its authors' affiliation), optionally with its ROR URL. Implies --crate. "
    "Default: $PLAYNANO_CRATE_ORGANIZATION.",
)
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@click.option("--verbose", "-v", count=True, help="More detail; -vv shows tracebacks.")
@click.pass_context
def process(
    ctx: click.Context,
    input_path: Path | None,
    synthetic: bool,
    channel: str | None,
    skip_damaged_frames: bool,
    processing: str | None,
    processing_file: Path | None,
    export: tuple[str, ...],
    make_gif: bool,
    raw: bool,
    output_folder: Path,
    output_name: str | None,
    scale_bar_nm: str | None,
    zmin: str | None,
    zmax: str | None,
    format_options: tuple[str, ...],
    threads: int | None,
    blocks: bool | None,
    block_frames: int | None,
    make_video: tuple[str, ...],
    make_sequence: bool,
    fps: float | None,
    cmap: str | None,
    draw_ts: bool | None,
    crate: bool,
    crate_authors: tuple[str, ...],
    crate_license: str | None,
    crate_organization: str | None,
    overwrite: bool,
    quiet: bool,
    verbose: int,
) -> None:
    """Read INPUT (an AFM video, a folder of frames or a bundle), process it, export it.

    \b
    Examples:
      playnano process video.asd -p remove_plane --export tif npz h5 --make-gif
      playnano process frames/ -p "remove_plane;gaussian_filter:sigma=2" -e npz
      playnano process --synthetic -p remove_plane --export all
      playnano process video.asd -p remove_plane --make-gif --make-video mp4,webm \\
          --make-sequence --fps 10 --cmap viridis
    """
    from playnano.run import execute, plan_run
    from playnano.run.crate import CrateLog

    ctx.obj["verbose"] = verbose
    log_level = (
        logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    )
    logging.getLogger("playnano").setLevel(logging.ERROR if quiet else log_level)
    echo = (lambda *_a, **_k: None) if quiet else click.echo

    # ---- check everything before any work
    if synthetic == (input_path is not None):
        raise click.UsageError("give exactly one of INPUT or --synthetic")
    if synthetic and channel is not None:
        raise click.UsageError("--channel cannot be used with --synthetic")
    if input_path is not None and not input_path.exists():
        raise ReadError(f"{input_path}: no such file or folder")
    crate = crate or any((crate_authors, crate_license, crate_organization))
    identity = (
        crate_identity(crate_authors, crate_license, crate_organization)
        if crate
        else None
    )
    settings, checked = checked_settings(
        export=export,
        make_gif=make_gif,
        make_video=make_video,
        make_sequence=make_sequence,
        fps=fps,
        cmap=cmap,
        draw_ts=draw_ts,
        raw=raw,
        processing=processing,
        processing_file=processing_file,
        format_options=format_options,
        scale_bar_nm=scale_bar_nm,
        zmin=zmin,
        zmax=zmax,
        channel=channel,
        skip_damaged_frames=skip_damaged_frames,
        threads=threads,
        overwrite=overwrite,
        blocks=blocks,
        block_frames=block_frames,
        crate=crate,
    )
    command = command_record(settings, processing, processing_file)
    plan = plan_run(
        settings,
        output_folder,
        source=input_path,
        base=output_name or ("synthetic_hsafm" if synthetic else None),
        checked=checked,
        command=command,
    )
    stack = None
    if synthetic:
        from playnano.synthetic import synthetic_hsafm

        stack = synthetic_hsafm()

    # ---- read, process, export: the executor every front end shares
    show_bar = not quiet and sys.stderr.isatty() and bool(plan.steps)
    with click.progressbar(
        length=max(len(plan.steps), 1),
        label="processing",
        file=sys.stderr,
        hidden=not show_bar,
    ) as bar:

        def progress(done: int, total: int, doing: str) -> None:
            if doing.startswith("step "):  # a step starts
                bar.update(1)

        log = CrateLog(input_path, settings, command, identity) if crate else None
        results = execute(
            plan, stack, progress=progress, on_read=log.read if log else None
        )
    failed = 0
    for r in results:
        if r.error is not None:
            failed += 1
            click.echo(f"playnano: error: {r.format}: {error_text(r.error)}", err=True)
            if verbose > 1 and r.error.__cause__ is not None:
                traceback.print_exception(r.error.__cause__, file=sys.stderr)
            continue
        for p in r.paths:
            echo(f"wrote {p}")
    if log is not None:  # after a partial run too: it records what was written
        echo(f"wrote {log.write(plan, results, stack)}")
    if failed:
        ok = len(results) - failed
        click.echo(
            f"playnano: {failed} of {len(results)} formats failed ({ok} written)",
            err=True,
        )
        ctx.exit(EXIT_PARTIAL if ok else 1)
