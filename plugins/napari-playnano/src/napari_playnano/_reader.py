"""napari reader: every file and folder ``playnano.load`` reads.

The manifest's patterns name the families playnano reads; the generic suffixes
(``.npz``, ``.h5``, ``.tif``) are accepted only when the file's content is
playnano's (:func:`playnano.formats.written_by_playnano`, the check each format
package exposes), otherwise :func:`napari_get_reader` returns None and napari falls
through to other readers. Third-party reader plugins' suffixes are added at run
time (see :mod:`napari_playnano._formats`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from napari_playnano._layers import LayerData, stack_to_layers

ReaderFunction = Callable[[Any], list[LayerData]]


def is_ours(path: str | Path) -> bool:
    """True when playnano has a reader for ``path`` and its content is playnano's."""
    from playnano.errors import PlaynanoError
    from playnano.formats import written_by_playnano
    from playnano.readers import reader_for

    p = Path(path)
    if not p.exists():
        return False
    if p.is_file() and written_by_playnano(p) is False:
        return False  # another program's .npz, .h5 or .tif: another reader's
    try:
        entry = reader_for(p)
    except PlaynanoError:
        return False
    try:
        return bool(entry.obj.can_read(p))
    except Exception:
        return False


def napari_get_reader(path: str | list[str]) -> ReaderFunction | None:
    """The reader function for ``path``, or None when it is not playnano's."""
    from napari_playnano._formats import register_installed_formats

    register_installed_formats()
    if isinstance(path, list):
        if len(path) != 1:
            return None  # a video is one file or one folder
        path = path[0]
    if not isinstance(path, str) or not is_ours(path):
        return None
    return read_layers


def read_layers(path: Any, channel: str | None = None) -> list[LayerData]:
    """Read ``path`` with ``playnano.load`` and return its layers."""
    import playnano

    if isinstance(path, list):
        path = path[0]
    return stack_to_layers(playnano.load(path, channel=channel))
