"""Third-party playnano formats as napari readers and writers, added at run time.

napari's manifest is a static file, so it names the builtin formats only. The first
time this plugin's code runs in a session (a file is opened with it, the widget is
docked, or ``playnano play`` starts), every installed third-party exporter becomes
a "Save layers" writer with its own suffix, and every third-party reader's suffix a
reader pattern, through an npe2 dynamic plugin named ``napari-playnano-formats``.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

DYNAMIC_NAME = "napari-playnano-formats"


def _writer_for(token: str) -> Any:
    def write(path: str, data: Any, attributes: dict[str, Any]) -> list[str]:
        from napari_playnano._writer import write_layer

        return write_layer(path, data, attributes, token)

    write.__name__ = f"write_{token.replace(':', '_').replace('-', '_')}"
    return write


def register_installed_formats() -> bool:
    """Add the third-party formats to napari's plugin manager (once per manager).

    Returns True when they were added by this call.
    """
    from npe2 import DynamicPlugin, PluginManager

    from playnano.plugins.registry import exporters, readers

    pm = PluginManager.instance()
    try:
        pm.get_manifest(DYNAMIC_NAME)
        return False
    except KeyError:
        pass
    plugin = DynamicPlugin(DYNAMIC_NAME, plugin_manager=pm)
    for entry in exporters().entries():
        if entry.plugin.builtin or entry.status() != "ok":
            continue
        if not entry.obj.suffix.startswith("."):
            continue  # a folder name suffix is no file extension napari can match
        token = entry.qualified_name if entry.shadowed_by else entry.name
        plugin.contribute.writer(
            _writer_for(token),
            filename_extensions=[entry.obj.suffix],
            layer_types=["image"],
            display_name=f"{entry.obj.description} ({token})",
        )
    patterns = sorted(
        {
            f"*{suffix}"
            for entry in readers().entries()
            if not entry.plugin.builtin
            for suffix in entry.obj.suffixes
        }
    )
    folders = any(
        e.obj.reads_folders for e in readers().entries() if not e.plugin.builtin
    )
    if patterns or folders:
        from napari_playnano._reader import napari_get_reader

        plugin.contribute.reader(
            napari_get_reader,
            filename_patterns=patterns,
            accepts_directories=folders,
        )
    plugin.register()
    logger.debug("registered third-party playnano formats with napari")
    return True
