"""Builtin exporter plugins.

playnano's own formats (OME-TIFF, NPZ, HDF5) live in :mod:`playnano.formats`, one
package per format with its layout and reader; the GIF exporter lives here. Each
module registers itself through the package's ``playnano.exporters`` entry points,
exactly as a third-party plugin does. ``BUILTIN_PLUGINS`` is the fallback the registry
uses when package metadata is missing (a frozen app or a bare source tree).
"""

BUILTIN_PLUGINS = [
    "playnano.formats.ometiff.exporter",
    "playnano.formats.npz.exporter",
    "playnano.formats.h5.exporter",
    "playnano.exporters.gif",
    "playnano.formats.gwy.exporter",
    "playnano.formats.topostats.exporter",
]
