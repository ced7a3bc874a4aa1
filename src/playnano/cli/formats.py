"""``playnano formats``: list the installed export formats and describe one."""

from __future__ import annotations

import json
from typing import Any

import click

from playnano.plugins.registry import Entry, PluginInfo, exporters


def _entry_row(e: Entry) -> dict[str, Any]:
    exp = e.obj
    return {
        "name": e.name,
        "qualified_name": e.qualified_name,
        "aliases": list(e.aliases),
        "suffix": exp.suffix,
        "description": exp.description,
        "capabilities": exp.capabilities.as_dict(),
        "provider": e.plugin.dist,
        "version": e.plugin.version,
        "builtin": e.plugin.builtin,
        "status": e.status(),
        "error": None,
    }


def _plugin_row(p: PluginInfo) -> dict[str, Any]:
    return {
        "name": p.name,
        "qualified_name": None,
        "aliases": [],
        "suffix": None,
        "description": None,
        "capabilities": None,
        "provider": p.dist,
        "version": p.version,
        "builtin": p.builtin,
        "status": p.status,
        "error": p.error,
    }


def format_rows() -> list[dict[str, Any]]:
    """Every installed format, then every plugin that failed or is disabled."""
    reg = exporters()
    rows = [_entry_row(e) for e in reg.entries()]
    rows += [_plugin_row(p) for p in reg.plugins() if p.status != "ok"]
    return rows


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [
        max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
    return "\n".join(line.rstrip() for line in lines)


@click.group()
def formats() -> None:
    """List and describe the installed export formats."""


@formats.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_formats(as_json: bool) -> None:
    """List every export format with its provider and status."""
    rows = format_rows()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = []
    for r in rows:
        caps = r["capabilities"]
        labels = (
            ",".join(k.removeprefix("supports_") for k, v in caps.items() if v)
            if caps
            else "-"
        )
        status = r["status"] if r["status"] != "error" else f"error: {r['error']}"
        provider = f"{r['provider']} {r['version'] or ''}".strip()
        table.append(
            [
                r["name"],
                ",".join(r["aliases"]) or "-",
                r["suffix"] or "-",
                labels,
                provider,
                status,
            ]
        )
    click.echo(
        _table(
            table, ["NAME", "ALIASES", "SUFFIX", "CAPABILITIES", "PROVIDER", "STATUS"]
        )
    )


@formats.command("info")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def info(name: str, as_json: bool) -> None:
    """Describe one format: what it holds and every option it accepts."""
    entry = exporters().resolve(name, check_dependencies=False)
    row = _entry_row(entry)
    row["options"] = [o.describe() for o in entry.obj.options]
    if as_json:
        click.echo(json.dumps(row, indent=2))
        return
    caps = ", ".join(k for k, v in row["capabilities"].items() if v)
    click.echo(f"{row['name']}: {row['description']}")
    click.echo(f"  aliases:      {', '.join(row['aliases']) or '-'}")
    click.echo(f"  suffix:       {row['suffix']}")
    click.echo(f"  provider:     {row['provider']} {row['version'] or ''}".rstrip())
    click.echo(f"  capabilities: {caps or '-'}")
    click.echo(f"  status:       {row['status']}")
    if not row["options"]:
        click.echo("  options:      none")
        return
    click.echo("  options:")
    for o in row["options"]:
        default = "auto" if o["default"] == "auto" else repr(o["default"])
        extra = f" (one of {', '.join(map(str, o['choices']))})" if o["choices"] else ""
        click.echo(
            f"    {o['name']} ({o['type']}, default {default}): {o['help']}{extra}"
        )
    click.echo(
        f"  set them with: playnano process INPUT --export {row['name']} "
        f"--option {row['name']}.NAME=VALUE"
    )
