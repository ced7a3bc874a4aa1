"""Builtin exporter plugins, one module per format.

Each module registers itself through the package's ``playnano.exporters`` entry points,
exactly as a third-party plugin does. ``BUILTIN_PLUGINS`` is the fallback the registry
uses when package metadata is missing (a frozen app or a bare source tree).
"""

BUILTIN_PLUGINS = [
    "playnano.exporters.tif",
    "playnano.exporters.npz",
    "playnano.exporters.h5",
    "playnano.exporters.gif",
]
