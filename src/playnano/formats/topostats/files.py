"""Finding and reading the files of a ``.topostats`` set, shared by the reader
and the content check: frame files in order, the index, one frame's datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from playnano.errors import ReadError
from playnano.formats import _reading
from playnano.formats.h5 import safety
from playnano.formats.topostats import layout
from playnano.readers.guarded.hdf5 import checked_dataset

#: Largest JSON index read (a video's metadata and provenance).
MAX_INDEX_BYTES = 256 << 20


def frame_files(folder: Path) -> list[Path]:
    """The folder's ``.topostats`` files, in the order of their frame numbers."""
    found = [
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".topostats"
    ]

    def order(p: Path) -> tuple[int, str]:
        parsed = layout.frame_number(p.name)
        return (parsed[1] if parsed else -1, p.name)

    return sorted(found, key=order)


def find_index(folder: Path) -> Path | None:
    """The folder's playnano index, or ``None``."""
    found = sorted(folder.glob("*" + layout.INDEX_SUFFIX))
    return found[0] if found else None


def read_index(path: Path) -> dict[str, Any]:
    """The index document, checked to be one playnano can read."""
    if path.stat().st_size > MAX_INDEX_BYTES:
        raise ReadError(f"{path}: index larger than {MAX_INDEX_BYTES >> 20} MiB")
    doc = _reading.parse_json(path, "index", path.read_bytes())
    if not isinstance(doc, dict) or doc.get("format") != layout.FORMAT_NAME:
        raise ReadError(f"{path}: not a playnano TopoStats index")
    _reading.check_version(path, doc.get(layout.VERSION_FIELD), layout.FORMAT_VERSION)
    return doc


def _text(path: Path, f: Any, key: str) -> str | None:
    if key not in f:
        return None
    ds = safety.dataset(f, key, path, f"/{key}")
    return _reading.as_text(path, key, ds[()])


def dataset(group: Any, key: str, path: Path, what: str) -> Any:
    """A dataset stored in the file, allocated, and not inflating past the limit
    (files from any writer are read here, not only ours)."""
    return checked_dataset(safety.dataset(group, key, path, what), path, what)


def read_frame(path: Path, keys: tuple[str, ...]) -> dict[str, Any]:
    """The arrays ``keys``, pixel size, masks and playnano record of one file."""
    import h5py

    from playnano.readers.guarded.hdf5 import open_hdf5

    with open_hdf5(path) as f:  # metadata walked where a time limit stops it
        missing = [k for k in (*keys, layout.PIXEL_TO_NM) if k not in f]
        if missing:
            raise ReadError(
                f"{path}: not a .topostats file; missing {', '.join(missing)}"
            )
        out: dict[str, Any] = {}
        for key in keys:
            arr = dataset(f, key, path, f"/{key}")[()]
            if (
                not isinstance(arr, np.ndarray)
                or arr.ndim != 2
                or arr.dtype.kind not in "fiu"
            ):
                raise ReadError(f"{path}: /{key} is not a 2D numeric image")
            out[key] = arr
        out[layout.PIXEL_TO_NM] = dataset(f, layout.PIXEL_TO_NM, path, "pixel size")[()]
        masks = {}
        if isinstance(f.get(layout.GRAIN_MASKS), h5py.Group):
            for name in f[layout.GRAIN_MASKS]:
                what = f"/{layout.GRAIN_MASKS}/{name}"
                masks[name] = dataset(f[layout.GRAIN_MASKS], name, path, what)[()]
        out[layout.GRAIN_MASKS] = masks
        record = _text(path, f, layout.PLAYNANO)
        out[layout.PLAYNANO] = (
            _reading.parse_json(path, "playnano", record) if record else None
        )
    return out
