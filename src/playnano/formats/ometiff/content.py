"""Was a TIFF written by playnano? A check of its first page's private tags.

Every microscope writes TIFFs; a viewer (napari, bioio) claims one only when its
first page carries a tag only playnano writes (provenance, or playnano's own
metadata). Only the first page's tags are read; a file that is not a TIFF, or a
damaged one, is not playnano's.
"""

from __future__ import annotations

from pathlib import Path

from playnano.formats.ometiff import layout

__all__ = ["SUFFIXES", "is_playnano_tiff"]

#: The suffixes this check is for (``.ome.tif`` ends in ``.tif``).
SUFFIXES = (".tif", ".tiff")
_TAGS = (layout.PROVENANCE_TAG, layout.PLAYNANO_TAG)


def is_playnano_tiff(path: str | Path) -> bool:
    """True when the first page of the TIFF at ``path`` has a playnano tag."""
    from playnano.readers.guarded.tiff import open_tiff

    try:  # the guarded opening: a looping or lying TIFF is refused, not walked
        with open_tiff(Path(path)) as opened:
            return any(code in opened.tif.pages.first.tags for code in _TAGS)
    except Exception:  # not a TIFF, or a damaged one: not ours to claim
        return False
