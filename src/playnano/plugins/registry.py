"""Discovery of plugins through entry points, with failure isolation and conflicts.

One :class:`Registry` per kind of contribution (exporters, readers, filters). Each
loads lazily on first use: it reads the kind's entry-point group, imports every plugin
on its own (a broken one is recorded, not fatal, unless ``PLAYNANO_STRICT_PLUGINS=1``),
skips the ones named in ``PLAYNANO_DISABLE_PLUGINS`` without importing them, calls each
plugin's ``register_*`` hook, and indexes what was registered by name and alias.

Name resolution never depends on install order: a builtin keeps its bare name (a
third party claiming it gets one warning and stays reachable as ``dist:name``); two
third parties claiming one name make the bare name an error that names both.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import importlib.metadata as md
import importlib.util
import os
import re
import types
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from playnano.errors import (
    AmbiguousFormatError,
    MissingDependencyError,
    PluginError,
    PluginLoadError,
    UnknownFormatError,
)
from playnano.plugins import hookspecs
from playnano.plugins.validate import (
    validate_exporter,
    validate_filter,
    validate_reader,
)

BUILTIN_DIST = "playnano"
STRICT_ENV = "PLAYNANO_STRICT_PLUGINS"
DISABLE_ENV = "PLAYNANO_DISABLE_PLUGINS"


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

    def status(self) -> str:
        """``ok`` or why the entry cannot be used by its bare name."""
        missing = self.missing_requirements()
        if missing:
            hint = getattr(self.obj, "install_hint", "") or f"pip install {missing[0]}"
            return f"missing dependency {', '.join(missing)} ({hint})"
        if self.shadowed_by:
            return f"shadowed by {self.shadowed_by}; use {self.qualified_name}"
        return "ok"


@dataclass(frozen=True)
class Kind:
    """What a registry collects."""

    label: str  # "format", "reader", "filter"
    group: str  # entry-point group
    hook: str  # hook name in hookspecs
    builtin_package: str  # module with BUILTIN_PLUGINS (fallback without metadata)
    validate: Callable[[Any], None]
    adapt_callable: Callable[[str, Any], Any] | None = None


def _entry_points(group: str) -> list[md.EntryPoint]:
    """Entry points of ``group`` (tests replace this to isolate discovery)."""
    return list(md.entry_points(group=group))


def _ep_dist(ep: md.EntryPoint) -> tuple[str, str | None]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "unknown", None
    return dist.metadata["Name"] or "unknown", dist.version


def _disabled_names() -> set[str]:
    raw = os.environ.get(DISABLE_ENV, "")
    return {normalize(x) for x in raw.split(",") if x.strip()}


def _strict() -> bool:
    return os.environ.get(STRICT_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


class Registry:
    """The plugins of one kind, loaded on first use and cached."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind
        self._loaded = False
        self._plugins: list[PluginInfo] = []
        self._entries: list[Entry] = []
        self._index: dict[str, list[Entry]] = {}

    # ------------------------------------------------------------------ loading
    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self._load()
            self._loaded = True

    def reload(self) -> None:
        """Forget everything and discover again on next use."""
        self._loaded = False
        self._plugins, self._entries, self._index = [], [], {}

    def _load(self) -> None:
        pm = pluggy.PluginManager(hookspecs.PROJECT)
        pm.add_hookspecs(hookspecs)
        disabled = _disabled_names()
        seen: set[tuple[str, str]] = set()
        saw_builtin = False
        for ep in _entry_points(self.kind.group):
            dist, version = _ep_dist(ep)
            key = (normalize(dist), ep.name)
            if key in seen:  # the same distribution reachable twice on sys.path
                continue
            seen.add(key)
            builtin = normalize(dist) == BUILTIN_DIST
            saw_builtin |= builtin
            info = PluginInfo(ep.name, dist, version, ep.value, builtin)
            self._plugins.append(info)
            if not builtin and {normalize(dist), normalize(ep.name)} & disabled:
                info.status = "disabled"
                continue
            self._load_one(pm, info, ep.load)
        if not saw_builtin:  # no package metadata (frozen app, plain source tree)
            self._load_builtin_fallback(pm)

    def _load_builtin_fallback(self, pm: pluggy.PluginManager) -> None:
        from playnano.__about__ import __version__

        package = importlib.import_module(self.kind.builtin_package)
        for module_name in getattr(package, "BUILTIN_PLUGINS", ()):
            info = PluginInfo(
                module_name.rsplit(".", 1)[-1],
                BUILTIN_DIST,
                __version__,
                module_name,
                True,
            )
            self._plugins.append(info)
            self._load_one(
                pm, info, functools.partial(importlib.import_module, module_name)
            )

    def _fail(self, info: PluginInfo, exc: BaseException, during: str) -> None:
        info.status = "error"
        info.error = f"{during}: {_one_line(exc)}"
        if _strict():
            raise PluginLoadError(
                f"plugin {info.name!r} from {info.provider} failed ({info.error}); "
                f"unset {STRICT_ENV} to skip broken plugins"
            ) from exc

    def _load_one(
        self, pm: pluggy.PluginManager, info: PluginInfo, load: Callable[[], Any]
    ) -> None:
        try:
            obj = load()
        except Exception as exc:
            self._fail(info, exc, "import failed")
            return
        registered: list[Any] = []
        if isinstance(obj, types.ModuleType) or hasattr(obj, self.kind.hook):
            plugin_name = f"{info.dist}:{info.name}:{info.target}"
            try:
                pm.register(obj, name=plugin_name)
                impls = [
                    i
                    for i in getattr(pm.hook, self.kind.hook).get_hookimpls()
                    if i.plugin_name == plugin_name
                ]
                if not impls:
                    raise PluginError(f"defines no {self.kind.hook} hook")
                for impl in impls:
                    impl.function(register=registered.append)
            except Exception as exc:
                self._fail(info, exc, f"{self.kind.hook} failed")
                return
        elif callable(obj) and self.kind.adapt_callable is not None:
            try:
                registered.append(self.kind.adapt_callable(info.name, obj))
            except Exception as exc:
                self._fail(info, exc, "not a valid plugin")
                return
        else:
            self._fail(info, PluginError(f"{obj!r} is not a plugin module"), "load")
            return
        try:
            for obj in registered:
                self.kind.validate(obj)
        except Exception as exc:
            self._fail(info, exc, f"invalid {self.kind.label}")
            return
        for obj in registered:
            self._add(obj, info)

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
        entry.shadowed_by = f"the builtin {self.kind.label} {token!r}"
        warnings.warn(
            f"{entry.plugin.provider} also provides {self.kind.label} {token!r}; "
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
                f"{self.kind.label} {raw!r} is provided by both {providers}; "
                f"choose one with {options}"
            )
        entry = found[0]
        if check_dependencies:
            missing = entry.missing_requirements()
            if missing:
                hint = (
                    getattr(entry.obj, "install_hint", "")
                    or f"pip install {missing[0]}"
                )
                raise MissingDependencyError(
                    f"{self.kind.label} {entry.name!r} needs {', '.join(missing)}, "
                    f"which is not installed; install it with: {hint}"
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
        msg = f"unknown {self.kind.label} {token!r}"
        if close:
            msg += f"; did you mean {close[0]}?"
        msg += f" (installed: {', '.join(installed) or 'none'})"
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


def _adapt_filter(name: str, fn: Any) -> Any:
    from playnano.processing.spec import legacy_filter

    return legacy_filter(name, fn)


EXPORTERS = Kind(
    "format",
    "playnano.exporters",
    "register_exporters",
    "playnano.exporters",
    validate_exporter,
)
READERS = Kind(
    "reader",
    "playnano.readers",
    "register_readers",
    "playnano.readers",
    validate_reader,
)
FILTERS = Kind(
    "filter",
    "playnano.filters",
    "register_filters",
    "playnano.processing",
    validate_filter,
    _adapt_filter,
)

_REGISTRIES: dict[str, Registry] = {}


def get_registry(kind: Kind) -> Registry:
    """The process-wide registry for ``kind`` (created on first call)."""
    if kind.group not in _REGISTRIES:
        _REGISTRIES[kind.group] = Registry(kind)
    return _REGISTRIES[kind.group]


def exporters() -> Registry:
    """The exporter registry."""
    return get_registry(EXPORTERS)


def readers() -> Registry:
    """The reader registry."""
    return get_registry(READERS)


def filters() -> Registry:
    """The filter registry."""
    return get_registry(FILTERS)


def reset() -> None:
    """Forget all registries (tests; after installing or removing plugins)."""
    _REGISTRIES.clear()
