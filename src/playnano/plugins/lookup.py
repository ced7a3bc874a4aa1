"""Name resolution of registered plugins: names, aliases, ``dist:name``, suffixes.

:class:`NameIndex` holds what the plugins of one kind registered and answers look-ups;
:class:`~playnano.plugins.registry.Registry` fills it from entry points. Resolution
never depends on install order: a builtin keeps its bare name (a third party claiming
it gets one warning and stays reachable as ``dist:name``); two third parties claiming
one name make the bare name an error that names both.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playnano.errors import (
    AmbiguousFormatError,
    MissingDependencyError,
    UnknownFormatError,
)

__all__ = ["Entry", "NameIndex", "PluginConflictWarning", "PluginInfo", "normalize"]


class PluginConflictWarning(UserWarning):
    """A third-party plugin claims a name that another plugin already holds."""


def normalize(name: str) -> str:
    """Normalise a distribution or plugin name: lower case, ``-``/``.`` as ``_``."""
    return re.sub(r"[-_.]+", "_", name.strip()).lower()


@dataclass
class PluginInfo:
    """One entry point of a kind's group and what became of it."""

    name: str
    dist: str
    version: str | None
    target: str
    builtin: bool
    status: str = "ok"  # ok | error | disabled
    error: str | None = None
    provides: list[str] = field(default_factory=list)

    @property
    def provider(self) -> str:
        """``dist version`` for tables."""
        return f"{self.dist} {self.version}" if self.version else self.dist


@dataclass
class Entry:
    """A registered object (an exporter, reader or filter) and its plugin."""

    obj: Any
    name: str
    aliases: tuple[str, ...]
    plugin: PluginInfo
    shadowed_by: str | None = None  # set when a builtin holds this entry's bare name

    @property
    def qualified_name(self) -> str:
        """``dist:name``, always unambiguous."""
        return f"{normalize(self.plugin.dist)}:{self.name}"

    def missing_requirements(self) -> list[str]:
        """Modules in ``requires`` that are not installed (found without importing)."""
        missing = []
        for mod in getattr(self.obj, "requires", ()) or ():
            top = mod.split(".")[0]
            if importlib.util.find_spec(top) is None:
                missing.append(mod)
        return missing

    def install_hint(self) -> str:
        """The command that installs what this entry is missing (a working one)."""
        from playnano.plugins.install_hints import requirement_hint

        return requirement_hint(
            self.plugin.dist,
            self.missing_requirements(),
            getattr(self.obj, "install_hint", "") or "",
        )

    def unavailable(self) -> str | None:
        """Why an installed entry cannot work here (its optional ``unavailable()``).

        A video format whose container the bundled ffmpeg lacks says so this way.
        """
        check = getattr(self.obj, "unavailable", None)
        return check() if callable(check) else None

    def status(self) -> str:
        """``ok`` or why the entry cannot be used by its bare name."""
        missing = self.missing_requirements()
        if missing:
            return f"missing dependency {', '.join(missing)} ({self.install_hint()})"
        why = self.unavailable()
        if why:
            return f"unavailable: {why}"
        if self.shadowed_by:
            return f"shadowed by {self.shadowed_by}; use {self.qualified_name}"
        return "ok"


class NameIndex:
    """The entries of one kind of plugin, indexed by name and alias.

    Parameters
    ----------
    label : str
        What an entry is called in messages (``format``, ``reader``, ``filter``).
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self._plugins: list[PluginInfo] = []
        self._entries: list[Entry] = []
        self._index: dict[str, list[Entry]] = {}

    def _ensure_loaded(self) -> None:
        """Fill the index before a query (subclasses load plugins lazily)."""

    def _add(self, obj: Any, info: PluginInfo) -> None:
        entry = Entry(
            obj, obj.name.lower(), tuple(a.lower() for a in obj.aliases), info
        )
        info.provides.append(entry.name)
        for token in (entry.name, *entry.aliases):
            holders = self._index.setdefault(token, [])
            if any(e.plugin is info for e in holders):
                continue
            builtin = next((e for e in holders if e.plugin.builtin), None)
            if info.builtin and holders and not builtin:
                for other in holders:  # the builtin arrives after a third party
                    self._warn_shadow(other, token)
            elif builtin is not None and not info.builtin:
                self._warn_shadow(entry, token)
            holders.append(entry)
        self._entries.append(entry)

    def _warn_shadow(self, entry: Entry, token: str) -> None:
        entry.shadowed_by = f"the builtin {self.label} {token!r}"
        warnings.warn(
            f"{entry.plugin.provider} also provides {self.label} {token!r}; "
            f"the builtin keeps the name, use {entry.qualified_name!r} for the plugin's",
            PluginConflictWarning,
            stacklevel=2,
        )

    # ------------------------------------------------------------------ queries
    def plugins(self) -> list[PluginInfo]:
        """Every entry point seen, with its status (ok, error, disabled)."""
        self._ensure_loaded()
        return list(self._plugins)

    def entries(self) -> list[Entry]:
        """Everything registered, builtins first, then by name."""
        self._ensure_loaded()
        return sorted(self._entries, key=lambda e: (not e.plugin.builtin, e.name))

    def names(self) -> list[str]:
        """Every name and alias that resolves (plus ``dist:name`` for shadowed ones)."""
        out: list[str] = []
        for e in self.entries():
            out.extend(
                [e.name, *e.aliases] if not e.shadowed_by else [e.qualified_name]
            )
        return out

    def resolve(self, token: str, *, check_dependencies: bool = True) -> Entry:
        """Find the entry for a name, alias or ``dist:name`` (case-insensitive)."""
        self._ensure_loaded()
        raw = token.strip()
        low = raw.lower()
        if ":" in low:
            dist, _, name = low.partition(":")
            found = [
                e
                for e in self._entries
                if normalize(e.plugin.dist) == normalize(dist)
                and name in (e.name, *e.aliases)
            ]
        else:
            holders = self._index.get(low, [])
            builtins = [e for e in holders if e.plugin.builtin]
            found = builtins or holders
        if not found:
            self._unknown(raw)
        if len(found) > 1:
            options = " or ".join(repr(e.qualified_name) for e in found)
            providers = " and ".join(e.plugin.provider for e in found)
            raise AmbiguousFormatError(
                f"{self.label} {raw!r} is provided by both {providers}; "
                f"choose one with {options}"
            )
        entry = found[0]
        if check_dependencies:
            missing = entry.missing_requirements()
            if missing:
                raise MissingDependencyError(
                    f"{self.label} {entry.name!r} needs {', '.join(missing)}, "
                    f"which is not installed; install it with: {entry.install_hint()}"
                )
            why = entry.unavailable()
            if why:
                raise MissingDependencyError(
                    f"{self.label} {entry.name!r} cannot be used here: {why}"
                )
        return entry

    def _unknown(self, token: str) -> None:
        broken = [
            p
            for p in self._plugins
            if p.status != "ok" and token.lower() in p.name.lower()
        ]
        installed = sorted({e.name for e in self._entries})
        close = difflib.get_close_matches(
            token.lower(), [n for e in self._entries for n in (e.name, *e.aliases)], n=1
        )
        msg = f"unknown {self.label} {token!r}"
        if close:
            msg += f"; did you mean {close[0]}?"
        msg += f"{'' if close else '.'} Installed: {', '.join(installed) or 'none'}"
        for p in broken:
            msg += f". Plugin {p.name!r} ({p.provider}) is {p.status}"
            if p.error:
                msg += f": {p.error}"
        raise UnknownFormatError(msg)

    def for_suffix(
        self, path: str | Path, suffixes_of: Callable[[Any], Iterable[str]]
    ) -> Entry | None:
        """The entry with the longest suffix matching ``path`` (case-insensitive)."""
        self._ensure_loaded()
        name = Path(path).name.lower()
        best: list[tuple[int, Entry]] = []
        for e in self._entries:
            if e.shadowed_by:
                continue
            for suf in suffixes_of(e.obj):
                suf = suf.lower()
                if name.endswith(suf) and len(name) > len(suf):
                    best.append((len(suf), e))
        if not best:
            return None
        longest = max(n for n, _ in best)
        top = list({id(e): e for n, e in best if n == longest}.values())
        builtins = [e for e in top if e.plugin.builtin]
        if builtins:
            return builtins[0]
        if len(top) > 1:
            raise AmbiguousFormatError(
                f"the suffix of {Path(path).name!r} is claimed by "
                + " and ".join(e.plugin.provider for e in top)
                + "; name the format with "
                + " or ".join(repr(e.qualified_name) for e in top)
            )
        return top[0]
