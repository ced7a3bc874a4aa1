"""``playnano info``: what a file holds, read from its metadata; ``--check`` validates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from playnano.cli.exits import fail


def _fmt_times(t: dict[str, Any]) -> str:
    if t["count"] == 1:
        return "single frame"
    if t["first"] is None:
        return f"{t['count']} frames, no frame times"
    text = f"{t['first']:g} s to {t['last']:g} s"
    if t["interval"] is not None:
        text += f", every {t['interval']:g} s"
        text += "" if t["regular"] else " (irregular)"
    if t["missing"]:
        text += f", {t['missing']} frame(s) without a time"
    return text


def _arrays(items: dict[str, Any]) -> str:
    return ", ".join(
        f"{k} {'x'.join(map(str, v['shape']))} {v['dtype']}" for k, v in items.items()
    )


def render(d: dict[str, Any]) -> list[str]:
    """The text view of one :meth:`StackInfo.to_dict`."""
    data = d["data"]
    version = d["format_version"]
    lines = [
        f"{d['path']}",
        f"  reader:        {d['reader']}"
        + (f" (format version {version})" if version is not None else ""),
        f"  data:          {'x'.join(map(str, data['shape']))} (frames, y, x) "
        f"{data['dtype']}, values in {data['units'] or 'unstated units'}",
        f"  pixel size:    {d['pixel_size']['value']:g} nm",
        f"  frame times:   {_fmt_times(d['frame_times'])}",
        f"  channel:       {d['channel']} (available: {', '.join(d['channels'])})",
    ]
    if d["layers"]:
        lines.append(f"  layers:        {_arrays(d['layers'])}")
    if d["masks"]:
        lines.append(f"  masks:         {_arrays(d['masks'])}")
    prov = d["provenance"]
    if prov:
        if prov["source_file"]:
            lines.append(
                f"  source:        {prov['source_file']} "
                f"(sha256 {prov['source_sha256'] or 'not recorded'})"
            )
        for s in prov["steps"]:
            params = json.dumps(s["params"], sort_keys=True)
            lines.append(f"  step:          {s['name']} {params}")
        if prov["playnano_version"]:
            lines.append(f"  written by:    playnano {prov['playnano_version']}")
        for name, ver in prov["plugin_versions"].items():
            lines.append(f"  plugin:        {name} {ver or '(version unknown)'}")
        for e in prov["exports"]:
            lines.append(f"  export:        {e['format']} -> {e['file']}")
    size = d["file_size_bytes"]
    lines.append(
        f"  file size:     {size:,} bytes"
        + (f", compression {d['compression']}" if d["compression"] else "")
    )
    if d["file_sha256"]:
        lines.append(f"  sha256:        {d['file_sha256']}")
    lines += [f"  note:          {n}" for n in d["notes"]]
    return lines


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list (stable).")
@click.option(
    "--sha256",
    "sha256",
    is_flag=True,
    help="Also hash each file (reads it all; instrument files have no recorded hash).",
)
@click.option(
    "--check",
    is_flag=True,
    help="Check bundles against the specification; one line per problem.",
)
def info(paths: tuple[Path, ...], as_json: bool, sha256: bool, check: bool) -> None:
    """Show what each PATH holds (shape, pixel size, times, layers, provenance).

    Reads metadata only where the reader can (playnano's bundles); the JSON
    structure is documented in the bundle specification (schema info.schema.json).
    """
    if check:
        from playnano.info import check as check_file

        bad = 0
        for p in paths:
            problems = check_file(p)
            for line in problems:
                click.echo(f"{p}: {line}")
            if problems:
                bad += 1
            elif not as_json:
                click.echo(f"{p}: ok")
        if bad:
            fail(f"{bad} of {len(paths)} file(s) do not follow the specification", 1)
        return
    from playnano.info import inspect

    results = [
        crate_view(p) if _is_output_folder(p) else inspect(p, sha256=sha256).to_dict()
        for p in paths
    ]
    if as_json:
        click.echo(json.dumps(results, indent=2))
        return
    for i, d in enumerate(results):
        if i:
            click.echo("")
        click.echo("\n".join(render_crate(d) if "crate" in d else render(d)))


def _is_output_folder(path: Path) -> bool:
    """A folder playnano wrote a provenance crate into (described by the crate)."""
    from playnano.crate import CRATE_NAME

    return path.is_dir() and (path / CRATE_NAME).is_file()


def crate_view(path: Path) -> dict[str, Any]:
    """What an output folder's ``ro-crate-metadata.json`` says, in brief."""
    from playnano.crate import CRATE_NAME, crate_summary, read_crate
    from playnano.errors import ReadError

    doc = read_crate(path)
    if doc is None:
        raise ReadError(f"{path / CRATE_NAME}: not a JSON object")
    return {"path": str(path), "crate": crate_summary(doc)}


def render_crate(d: dict[str, Any]) -> list[str]:
    """The text view of :func:`crate_view`."""
    c = d["crate"]
    software = ", ".join(f"{k} {v}".strip() for k, v in c["software"].items())
    lines = [
        f"{d['path']}",
        "  provenance:    ro-crate-metadata.json (RO-Crate, Process Run Crate 0.5)",
        f"  runs:          {c['actions']} ({c['failed']} failed), "
        f"{c['started'] or '?'} to {c['finished'] or '?'}",
        f"  inputs:        {c['inputs']}",
        f"  outputs:       {c['outputs']}",
        f"  software:      {software}",
    ]
    lines += [f"  error:         {e}" for e in c["errors"]]
    return lines
