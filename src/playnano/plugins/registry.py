"""Discovery of plugins through entry points, with failure isolation.

One :class:`Registry` per kind of contribution (exporters, readers, filters). Each
loads lazily on first use: it reads the kind's entry-point group, imports every plugin
on its own (a broken one is recorded, not fatal, unless ``PLAYNANO_STRICT_PLUGINS=1``),
skips the ones named in ``PLAYNANO_DISABLE_PLUGINS`` without importing them, calls each
plugin's ``register_*`` hook, and indexes what was registered by name and alias.

Look-ups (names, aliases, ``dist:name``, suffixes, conflicts between plugins) are in
:mod:`playnano.plugins.lookup`; its public names are importable from here too.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata as md
import os
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pluggy

from playnano.errors import PluginError, PluginLoadError
from playnano.plugins import hookspecs
from playnano.plugins.lookup import Entry as Entry  # re-exported
from playnano.plugins.lookup import NameIndex, PluginInfo, normalize
from playnano.plugins.lookup import PluginConflictWarning as PluginConflictWarning
from playnano.plugins.validate import (
    validate_exporter,
    validate_filter,
    validate_reader,
)

BUILTIN_DIST = "playnano"
#: The table of builtin plugins registered without package metadata (module names
#: only: the plugin core imports no format, reader or step).
BUILTINS_MODULE = "playnano.builtins"
STRICT_ENV = "PLAYNANO_STRICT_PLUGINS"
DISABLE_ENV = "PLAYNANO_DISABLE_PLUGINS"


@dataclass(frozen=True)
class Kind:
    """What a registry collects."""

    label: str  # "format", "reader", "filter"
    group: str  # entry-point group
    hook: str  # hook name in hookspecs
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


class Registry(NameIndex):
    """The plugins of one kind, loaded on first use and cached."""

    def __init__(self, kind: Kind) -> None:
        super().__init__(kind.label)
        self.kind = kind
        self._loaded = False

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
        """Register the builtins from the table in :data:`BUILTINS_MODULE`."""
        from playnano.__about__ import __version__

        table = importlib.import_module(BUILTINS_MODULE).ENTRY_POINTS
        for name, module_name in table.get(self.kind.group, {}).items():
            info = PluginInfo(name, BUILTIN_DIST, __version__, module_name, True)
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


def _adapt_filter(name: str, fn: Any) -> Any:
    from playnano.plugins.step import legacy_filter  # within the plugin core

    return legacy_filter(name, fn)


EXPORTERS = Kind(
    "format",
    "playnano.exporters",
    "register_exporters",
    validate_exporter,
)
READERS = Kind(
    "reader",
    "playnano.readers",
    "register_readers",
    validate_reader,
)
FILTERS = Kind(
    "filter",
    "playnano.filters",
    "register_filters",
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
