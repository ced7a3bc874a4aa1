"""Is a ``.npz`` file a playnano bundle? A check of its member names only.

Other programs write ``.npz`` files too; a viewer (napari, bioio) claims one only
when it holds the bundle's data and one of the members only a bundle has. Nothing
is decompressed; a file that is not a zip archive is not a bundle.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from playnano.formats.npz import layout

__all__ = ["SUFFIXES", "is_bundle"]

#: The suffixes this check is for.
SUFFIXES = (layout.SUFFIX,)
_MARKERS = {
    f"{key}{layout.MEMBER_SUFFIX}"
    for key in (layout.PIXEL_SIZE, layout.FRAME_METADATA, layout.VERSION_KEY)
}


def is_bundle(path: str | Path) -> bool:
    """True when ``path`` is a zip archive holding a playnano (or 0.5.0) bundle."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (OSError, zipfile.BadZipFile, ValueError):
        return False
    return f"{layout.DATA}{layout.MEMBER_SUFFIX}" in names and bool(names & _MARKERS)
