"""The HDF5 bundle layout shared by the exporter and the reader.

The NPZ bundle's content as a hierarchy (playnano 0.5.0's, so it reads the files,
and plain h5py does)::

    /data                     frames in their own dtype
    /processed/<key>          each processed layer (not with raw=True)
    /masks/<key>              each boolean mask (not with raw=True)
    /timestamps               float64, NaN where a frame has no timestamp
    /frame_metadata_json      JSON list, fixed-length bytes scalar
    /provenance_json          JSON of stack.provenance, fixed-length bytes scalar
    /state_backups_json       JSON of stack.state_backups (only when non-empty)
    attrs: pixel_size_nm (float), channel (str), playnano_format_version (int)

/data, each /processed/<key> and /timestamps carry a ``units`` attribute (str;
``unknown`` when the reader did not record it); 0.5.0's files have none.

Frame arrays are chunked one frame per chunk, ``(1, H, W)``. A processed layer that
is the very array written as ``/data`` is stored once, as a hard link, so both names
read the same bytes. Only this module knows these names; it imports nothing heavy.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from playnano.errors import ExportError
from playnano.formats.bundle import FORMAT_VERSION, VERSION_KEY

if TYPE_CHECKING:
    import h5py

__all__ = ["FORMAT_VERSION", "VERSION_KEY", "check_name"]

SUFFIX = ".h5"
DATA = "data"
LAYERS_GROUP = "processed"
MASKS_GROUP = "masks"
TIMESTAMPS = "timestamps"
FRAME_METADATA = "frame_metadata_json"
PROVENANCE = "provenance_json"
STATE_BACKUPS = "state_backups_json"
PIXEL_SIZE_ATTR = "pixel_size_nm"
CHANNEL_ATTR = "channel"
UNITS_ATTR = "units"
#: Datasets and root attributes every bundle has (0.5.0's included).
REQUIRED = (DATA, FRAME_METADATA, PROVENANCE)
REQUIRED_ATTRS = (PIXEL_SIZE_ATTR, CHANNEL_ATTR)


def frame_chunks(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Chunk shape of a frame array: one frame per chunk."""
    return (1, *shape[1:])


def check_name(name: str, path: Path) -> None:
    """Refuse layer names HDF5 would read as a path."""
    if not name or "/" in name or name in {".", ".."}:
        raise ExportError(f"{path.name}: {name!r} cannot be an HDF5 dataset name")


def write_units(f: h5py.File, units: dict[str, Any]) -> None:
    """Set the ``units`` attribute of /data, each layer and /timestamps."""
    f[DATA].attrs[UNITS_ATTR] = units.get("data", "unknown")
    f[TIMESTAMPS].attrs[UNITS_ATTR] = units.get("timestamps", "s")
    group = f.get(LAYERS_GROUP)
    for key, unit in (units.get("processed") or {}).items():
        if group is not None and key in group:
            group[key].attrs[UNITS_ATTR] = unit
