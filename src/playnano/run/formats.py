"""Resolve requested formats and check their options, before anything is read.

A format is asked for by name, alias, ``dist:name`` or a path's suffix; its options
are checked against what the exporter declares (types, ranges, choices) and against
its capabilities (a raw export of a format that cannot hold one). The result is a
list of ``(entry, options)`` pairs in the order asked, each format once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from playnano.errors import OptionError
from playnano.plugins.options import resolve_options
from playnano.plugins.registry import BUILTIN_DIST, Entry, exporters

__all__ = [
    "FormatChoice",
    "check_export",
    "check_threads",
    "plan_formats",
    "resolve_format",
    "token",
    "uses_codec",
]

#: A resolved format and its checked options (defaults filled in).
FormatChoice = tuple[Entry, dict[str, Any]]


def token(entry: Entry) -> str:
    """The name that finds ``entry`` again (``dist:name`` when a builtin shadows it)."""
    return entry.qualified_name if entry.shadowed_by else entry.name


def resolve_format(name: str | None, path: str | Path | None = None) -> Entry:
    """The exporter named ``name``, or the one whose suffix ``path`` ends with."""
    reg = exporters()
    if name is not None:
        return reg.resolve(name)
    if path is None:
        raise OptionError("name a format or give a path with a format's suffix")
    entry = reg.for_suffix(path, lambda o: [o.suffix])
    if entry is None:
        known = ", ".join(f"{e.obj.suffix} ({e.name})" for e in reg.entries())
        raise OptionError(
            f"cannot tell the format of {Path(path).name!r} from its suffix; "
            f"name the format or use one of: {known}"
        )
    return reg.resolve(token(entry))


def check_export(entry: Entry, raw: bool, options: Mapping[str, Any]) -> dict[str, Any]:
    """Validate options and capabilities before any work; return the full options."""
    exp = entry.obj
    if raw and not exp.capabilities.supports_raw:
        raise OptionError(f"format {entry.name!r} cannot export the raw snapshot")
    opts = resolve_options(tuple(exp.options), options, owner=f"format {entry.name!r}")
    lo, hi = opts.get("zmin"), opts.get("zmax")
    numbers = (int, float)
    if isinstance(lo, numbers) and isinstance(hi, numbers) and not lo < hi:
        raise OptionError(
            f"format {entry.name!r}: zmin ({lo:g}) must be below zmax ({hi:g})"
        )
    return opts


def check_threads(threads: int | None) -> None:
    """Refuse a thread count below 1 (``None`` means every core)."""
    if threads is not None and (isinstance(threads, bool) or int(threads) < 1):
        raise OptionError(f"threads must be 1 or more, not {threads!r}")


def uses_codec(entry: Entry, opts: Mapping[str, Any]) -> bool:
    """True when a builtin format compresses with :mod:`playnano.io.codec`."""
    return entry.plugin.dist == BUILTIN_DIST and bool(opts.get("compress_level"))


def plan_formats(
    formats: Iterable[str],
    *,
    raw: bool = False,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    shared_options: Mapping[str, Any] | None = None,
) -> list[FormatChoice]:
    """Resolve every format and its options before anything is written.

    ``options`` maps a format name (as requested) to its own options;
    ``shared_options`` are given to every format that declares an option of that name
    (the CLI's ``--scale-bar-nm``, ``--zmin`` and ``--zmax``). A format asked for
    twice (``tif`` and ``tiff``) is written once.
    """
    plan: list[FormatChoice] = []
    seen: set[int] = set()
    per_format = {k.lower(): v for k, v in (options or {}).items()}
    for name in formats:
        entry = exporters().resolve(name)
        if id(entry) in seen:
            continue
        seen.add(id(entry))
        declared = {o.name for o in entry.obj.options}
        given = {k: v for k, v in (shared_options or {}).items() if k in declared}
        for key in {name.lower(), entry.name, *entry.aliases, entry.qualified_name}:
            given.update(per_format.get(key, {}))
        plan.append((entry, check_export(entry, raw, given)))
    unknown = set(per_format) - {
        k for e, _ in plan for k in (e.name, *e.aliases, e.qualified_name)
    }
    if unknown:
        raise OptionError(
            f"options were given for {', '.join(sorted(unknown))}, "
            "which is not among the formats requested"
        )
    return plan
