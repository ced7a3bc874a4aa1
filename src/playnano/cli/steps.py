"""``playnano steps``: list the installed processing steps and describe one."""

from __future__ import annotations

import json
from typing import Any

import click

from playnano.cli.formats import _table
from playnano.plugins.registry import Entry, PluginInfo, filters


def _options(entry: Entry) -> list[dict[str, Any]]:
    from playnano.plugins.step import as_spec, is_required

    spec = as_spec(entry.obj, entry.plugin.version)
    out = []
    for option in spec.options:
        row = option.describe()
        row["required"] = is_required(option)
        if row["required"]:
            row["default"] = None
        out.append(row)
    return out


def _entry_row(e: Entry) -> dict[str, Any]:
    obj = e.obj
    return {
        "name": e.name,
        "qualified_name": e.qualified_name,
        "aliases": list(e.aliases),
        "kind": getattr(obj, "kind", "filter"),
        "description": obj.description,
        "version": str(getattr(obj, "version", None) or e.plugin.version or "unknown"),
        "masked_variant": getattr(obj, "masked_func", None) is not None,
        "provider": e.plugin.dist,
        "provider_version": e.plugin.version,
        "builtin": e.plugin.builtin,
        "status": e.status(),
        "error": None,
    }


def _plugin_row(p: PluginInfo) -> dict[str, Any]:
    return {
        "name": p.name,
        "qualified_name": None,
        "aliases": [],
        "kind": None,
        "description": None,
        "version": None,
        "masked_variant": False,
        "provider": p.dist,
        "provider_version": p.version,
        "builtin": p.builtin,
        "status": p.status,
        "error": p.error,
    }


def step_rows() -> list[dict[str, Any]]:
    """Every installed step, then every step plugin that failed or is disabled."""
    reg = filters()
    rows = [_entry_row(e) for e in reg.entries()]
    rows += [_plugin_row(p) for p in reg.plugins() if p.status != "ok"]
    return rows


@click.group()
def steps() -> None:
    """List and describe the installed processing steps."""


@steps.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_steps(as_json: bool) -> None:
    """List every processing step with its kind, provider and status."""
    rows = step_rows()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = []
    for r in rows:
        status = r["status"] if r["status"] != "error" else f"error: {r['error']}"
        provider = f"{r['provider']} {r['provider_version'] or ''}".strip()
        table.append(
            [
                r["name"],
                ",".join(r["aliases"]) or "-",
                r["kind"] or "-",
                r["description"] or "-",
                provider,
                status,
            ]
        )
    headers = ["NAME", "ALIASES", "KIND", "DESCRIPTION", "PROVIDER", "STATUS"]
    click.echo(_table(table, headers))


@steps.command("info")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def info(name: str, as_json: bool) -> None:
    """Describe one step: what it does and every option it accepts."""
    entry = filters().resolve(name, check_dependencies=False)
    row = _entry_row(entry)
    row["options"] = _options(entry)
    if as_json:
        click.echo(json.dumps(row, indent=2, default=str))
        return
    click.echo(f"{row['name']}: {row['description']}")
    click.echo(f"  aliases:  {', '.join(row['aliases']) or '-'}")
    click.echo(f"  kind:     {row['kind']}")
    click.echo(f"  version:  {row['version']}")
    provider = f"{row['provider']} {row['provider_version'] or ''}".rstrip()
    click.echo(f"  provider: {provider}")
    if row["masked_variant"]:
        click.echo("  masked:   fits only the background while a mask is active")
    click.echo(f"  status:   {row['status']}")
    if not row["options"]:
        click.echo("  options:  none")
        click.echo(f"  use it with: playnano process INPUT -p {row['name']}")
        return
    click.echo("  options:")
    for o in row["options"]:
        default = "required" if o["required"] else f"default {o['default']!r}"
        extra = f" (one of {', '.join(map(str, o['choices']))})" if o["choices"] else ""
        click.echo(f"    {o['name']} ({o['type']}, {default}): {o['help']}{extra}")
    click.echo(
        f"  use it with: playnano process INPUT -p '{row['name']}:NAME=VALUE,...'"
    )
