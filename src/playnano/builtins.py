"""playnano's own plugins, listed once: every entry point ``pyproject.toml`` declares.

The registry finds the builtins through the package's entry points, exactly as it
finds third-party plugins. Where package metadata is missing (a frozen app, a bare
source tree on ``sys.path``) it registers the modules named here instead, so this
table and ``[project.entry-points]`` must say the same (a test compares them).
Module names only: nothing is imported until the registry loads them.
"""

from __future__ import annotations

__all__ = ["ENTRY_POINTS"]

#: Entry-point group -> {plugin name: module}, as in ``pyproject.toml``.
ENTRY_POINTS: dict[str, dict[str, str]] = {
    "playnano.exporters": {
        "tif": "playnano.formats.ometiff.exporter",
        "npz": "playnano.formats.npz.exporter",
        "h5": "playnano.formats.h5.exporter",
        "gif": "playnano.formats.gif.exporter",
        "png": "playnano.formats.png.exporter",
        "gwy": "playnano.formats.gwy.exporter",
        "topostats": "playnano.formats.topostats.exporter",
    },
    "playnano.readers": {
        "asd": "playnano.readers.asd",
        "h5jpk": "playnano.readers.h5jpk",
        "jpk_folder": "playnano.readers.jpk_folder",
        "spm_folder": "playnano.readers.spm",
        "npz_bundle": "playnano.formats.npz.reader",
        "h5_bundle": "playnano.formats.h5.reader",
        "ome_tiff": "playnano.formats.ometiff.reader",
        "gwy": "playnano.formats.gwy.reader",
        "topostats": "playnano.formats.topostats.reader",
        "tiff": "playnano.readers.tiff",
    },
    "playnano.filters": {
        "builtin": "playnano.processing.builtin",
    },
}
