"""napari reader: every file and folder ``playnano.load`` reads.

The manifest's patterns name the families playnano reads; the generic suffixes
(``.npz``, ``.h5``, ``.tif``) are accepted only when the file's content is a
playnano bundle, otherwise :func:`napari_get_reader` returns None and napari falls
through to other readers. Third-party reader plugins' suffixes are added at run
time (see :mod:`napari_playnano._formats`).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from napari_playnano._layers import LayerData, stack_to_layers

ReaderFunction = Callable[[Any], list[LayerData]]

_NPZ_MARKERS = {
    "pixel_size_nm.npy",
    "frame_metadata_json.npy",
    "playnano_format_version.npy",
}
#: TIFF tags only playnano writes (provenance, its own metadata).
_TIFF_TAGS = (65000, 65002)


def _is_playnano_npz(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (OSError, zipfile.BadZipFile):
        return False
    return "data.npy" in names and bool(names & _NPZ_MARKERS)


def _is_playnano_h5(path: Path) -> bool:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return "data" in f and (
                "pixel_size_nm" in f.attrs or "frame_metadata_json" in f
            )
    except OSError:
        return False


def _is_playnano_tiff(path: Path) -> bool:
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            tags = tif.pages[0].tags
            return any(code in tags for code in _TIFF_TAGS)
    except Exception:  # not a TIFF, or a damaged one: not ours to claim
        return False


#: Suffix -> content check for the generic suffixes other programs use too.
_CONTENT_CHECKS: dict[str, Callable[[Path], bool]] = {
    ".npz": _is_playnano_npz,
    ".h5": _is_playnano_h5,
    ".hdf5": _is_playnano_h5,
    ".tif": _is_playnano_tiff,
    ".tiff": _is_playnano_tiff,
}


def is_ours(path: str | Path) -> bool:
    """True when playnano has a reader for ``path`` and its content is playnano's."""
    from playnano.errors import PlaynanoError
    from playnano.readers import reader_for

    p = Path(path)
    if not p.exists():
        return False
    check = None if p.is_dir() else _CONTENT_CHECKS.get(p.suffix.lower())
    if check is not None and not check(p):
        return False
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
