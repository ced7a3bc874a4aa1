"""Is an HDF5 file a playnano bundle? A check of its root names only.

Other programs write ``.h5`` files too; a viewer (napari, bioio) claims one only
when it holds the bundle's ``data`` and the pixel size or frame metadata only a
bundle has. No dataset is read; the file is opened through the guarded opening
(its metadata walked where a time limit stops a damaged file), and a file that
opening refuses is not a bundle.
"""

from __future__ import annotations

from pathlib import Path

from playnano.formats.h5 import layout

__all__ = ["SUFFIXES", "is_bundle"]

#: The suffixes this check is for.
SUFFIXES = (layout.SUFFIX, ".hdf5")


def is_bundle(path: str | Path) -> bool:
    """True when ``path`` is an HDF5 file holding a playnano (or 0.5.0) bundle."""
    from playnano.errors import PlaynanoError
    from playnano.readers.guarded.hdf5 import open_hdf5

    try:
        with open_hdf5(Path(path)) as f:
            return layout.DATA in f and (
                layout.PIXEL_SIZE_ATTR in f.attrs or layout.FRAME_METADATA in f
            )
    except (PlaynanoError, OSError, ValueError):
        return False
