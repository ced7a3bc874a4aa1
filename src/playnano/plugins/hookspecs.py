"""pluggy hook specifications: a plugin implements one ``register_*`` hook per kind.

A plugin module (named by an entry point) looks like::

    from playnano.plugins import hookimpl

    @hookimpl
    def register_exporters(register):
        register(MyExporter())
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT = "playnano"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_exporters(register: Callable[[Any], None]) -> None:
    """Call ``register(exporter)`` for each exporter the plugin provides."""


@hookspec
def register_readers(register: Callable[[Any], None]) -> None:
    """Call ``register(reader)`` for each reader the plugin provides."""


@hookspec
def register_filters(register: Callable[[Any], None]) -> None:
    """Call ``register(filter_spec)`` for each processing step the plugin provides."""
