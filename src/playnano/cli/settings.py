"""The step, format and option flags ``process`` and ``batch`` share, checked.

:func:`checked_settings` turns them into :class:`~playnano.run.RunSettings` before
any input is read: formats and their options, the GIF flags, the steps and their
parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from playnano.cli.animation_flags import animation_options, video_formats
from playnano.errors import OptionError

if TYPE_CHECKING:
    from playnano.crate import CrateIdentity
    from playnano.processing.validate import ResolvedStep
    from playnano.run import RunSettings
    from playnano.run.formats import FormatChoice


def _split_formats(values: Sequence[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        out += [t.strip() for t in v.split(",") if t.strip()]
    return out


_SHARED_FLAGS = {
    "scale_bar_nm": "--scale-bar-nm",
    "zmin": "--zmin",
    "zmax": "--zmax",
    "fps": "--fps",
    "cmap": "--cmap",
    "draw_ts": "--draw-ts",
}


def _flag_text(key: str, value: Any) -> str:
    """The flag as typed: ``--zmin 2``, ``--draw-ts``, ``--no-draw-ts``."""
    if isinstance(value, bool):
        return _SHARED_FLAGS[key].replace("--", "--" if value else "--no-", 1)
    return f"{_SHARED_FLAGS[key]} {value}"


def _refuse_unused_shared(shared: dict[str, Any], plan: list[FormatChoice]) -> None:
    """Refuse a GIF flag that no requested format uses (as ``--option`` does)."""
    for key, value in shared.items():
        if not any(key in {o.name for o in e.obj.options} for e, _ in plan):
            names = ", ".join(e.name for e, _ in plan)
            raise OptionError(
                f"{_flag_text(key, value)} was given, but no format requested "
                f"({names}) draws an image; add --make-gif or leave it out"
            )


def _parse_format_options(values: Sequence[str]) -> dict[str, dict[str, str]]:
    opts: dict[str, dict[str, str]] = {}
    for v in values:
        key, eq, value = v.partition("=")
        fmt, dot, name = key.rpartition(".")
        if not eq or not dot or not fmt or not name:
            raise OptionError(
                f"--option {v!r}: expected FORMAT.NAME=VALUE, e.g. gif.fps=10"
            )
        opts.setdefault(fmt.strip().lower(), {})[name.strip()] = value
    return opts


def checked_settings(
    *,
    export: Sequence[str],
    make_gif: bool,
    make_video: Sequence[str] = (),
    make_sequence: bool = False,
    fps: float | None = None,
    cmap: str | None = None,
    draw_ts: bool | None = None,
    raw: bool,
    processing: str | None,
    processing_file: Path | None,
    format_options: Sequence[str],
    scale_bar_nm: str | None,
    zmin: str | None,
    zmax: str | None,
    channel: str | None,
    skip_damaged_frames: bool,
    threads: int | None,
    overwrite: bool,
    blocks: bool | None = None,
    block_frames: int | None = None,
    crate: bool = False,
) -> tuple[RunSettings, tuple[list[FormatChoice], list[ResolvedStep]]]:
    """The command line's step, format and option flags as checked run settings.

    ``process`` and ``batch`` both call this before any input is read; it returns
    the settings and what :meth:`~playnano.run.RunSettings.check` resolved (the
    formats with their options, the steps), for the plans to reuse.
    """
    from playnano.plugins.registry import exporters
    from playnano.processing.parsing import load_processing_file, parse_steps
    from playnano.run import RunSettings, step_sources, steps_as_plain

    if processing and processing_file:
        raise click.UsageError("give --processing or --processing-file, not both")
    formats = _split_formats(export)
    if make_gif:
        formats.append("gif")
    formats += video_formats(make_video)
    if make_sequence:
        formats.append("png")
    if any(f.lower() == "all" for f in formats):
        formats = [e.name for e in exporters().entries() if e.status() == "ok"]
    if not formats:
        raise click.UsageError(
            "nothing to export: give --export FORMAT (or --make-gif, --make-video, "
            "--make-sequence)"
        )
    options = _parse_format_options(format_options)
    shared = {
        k: v
        for k, v in {"scale_bar_nm": scale_bar_nm, "zmin": zmin, "zmax": zmax}.items()
        if v is not None
    }
    shared.update(animation_options(fps, cmap, draw_ts))
    if processing_file is not None:
        steps = load_processing_file(processing_file)
    else:
        steps = parse_steps(processing or "")
    settings = RunSettings(
        formats=tuple(formats),
        steps=steps_as_plain(steps),
        raw=raw,
        options=options,
        shared_options=shared,
        channel=channel,
        skip_damaged=skip_damaged_frames,
        threads=threads,
        overwrite=overwrite,
        blocks=blocks,
        block_frames=block_frames,
        step_sources=step_sources(steps),
        crate=crate,
    )
    checked = settings.check()
    _refuse_unused_shared(shared, checked[0])
    return settings, checked


def command_record(
    settings: RunSettings, processing: str | None, processing_file: Path | None
) -> dict[str, Any]:
    """The command line as recorded in every output's ``provenance["command"]``."""
    import shlex
    import sys

    return {
        "argv": shlex.join(["playnano", *sys.argv[1:]]) if sys.argv else None,
        "processing": processing,
        "processing_file": str(processing_file) if processing_file else None,
        "formats": list(settings.formats),
        "raw": settings.raw,
    }


#: Environment variables a lab sets once for every crate (options win over them).
AUTHOR_ENV = "PLAYNANO_CRATE_AUTHOR"
LICENSE_ENV = "PLAYNANO_CRATE_LICENSE"
ORGANIZATION_ENV = "PLAYNANO_CRATE_ORGANIZATION"


def crate_identity(
    authors: Sequence[str], license: str | None, organization: str | None
) -> CrateIdentity:
    """``--crate-author``, ``--crate-license`` and ``--crate-organization`` checked
    (each, when not given, from ``$PLAYNANO_CRATE_AUTHOR``, several separated by
    ``;``, ``$PLAYNANO_CRATE_LICENSE`` and ``$PLAYNANO_CRATE_ORGANIZATION``).

    Raises
    ------
    click.BadParameter
        An ORCID iD that is malformed or fails its check digit, a licence that is
        neither an SPDX identifier nor a URL, an organization without a name (one
        line, naming the option or variable it came from).
    """
    import os

    from playnano.crate import (
        CrateIdentity,
        license_url,
        parse_organization,
        parse_person,
    )

    def given(value: Any, option: str, env: str) -> tuple[Any, str]:
        return (value, option) if value else (os.environ.get(env) or None, f"${env}")

    texts, where = list(authors), "--crate-author"
    if not texts:
        text, where = given(None, where, AUTHOR_ENV)
        texts = [t for t in (text or "").split(";") if t.strip()]
    try:
        people = tuple(parse_person(t) for t in texts)
        where = "--crate-license"
        text, where = given(license, where, LICENSE_ENV)
        url = license_url(text) if text else None
        text, where = given(organization, "--crate-organization", ORGANIZATION_ENV)
        org = parse_organization(text) if text else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=where) from None
    return CrateIdentity(people, url, org)
