"""The NPZ bundle layout shared by the exporter and the reader.

Members (playnano 0.5.0's keys, so it reads the files), one ``<key>.npy`` each::

    data                      frames in their own dtype
    processed__<key>          each processed layer (not with raw=True)
    masks__<key>              each boolean mask (not with raw=True)
    timestamps                float64, NaN where a frame has no timestamp
    frame_metadata_json       JSON list, one dict per frame
    provenance_json           JSON of stack.provenance
    state_backups_json        JSON of stack.state_backups (only when non-empty)
    units_json                JSON {"data", "processed": {key: unit}, "timestamps",
                              "pixel_size_nm"}: units (newer than 0.5.0; optional)
    pixel_size_nm             float64 scalar
    channel                   unicode scalar
    playnano_format_version   int64 scalar

Strings are plain unicode arrays, so the file loads with ``allow_pickle=False``.
Only this module knows these names; it imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from playnano.formats.bundle import FORMAT_VERSION, VERSION_KEY, BundleContents

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

__all__ = ["FORMAT_VERSION", "VERSION_KEY", "members"]

SUFFIX = ".npz"
MEMBER_SUFFIX = ".npy"
DATA = "data"
LAYER_PREFIX = "processed__"
MASK_PREFIX = "masks__"
TIMESTAMPS = "timestamps"
FRAME_METADATA = "frame_metadata_json"
PROVENANCE = "provenance_json"
STATE_BACKUPS = "state_backups_json"
UNITS = "units_json"
PIXEL_SIZE = "pixel_size_nm"
CHANNEL = "channel"
#: Members holding one number or name.
SCALARS = (PIXEL_SIZE, CHANNEL, VERSION_KEY)
#: Members holding JSON text.
TEXTS = (FRAME_METADATA, PROVENANCE, STATE_BACKUPS, UNITS)
#: Members every bundle has (0.5.0's included); the version key is newer.
REQUIRED = (DATA, PIXEL_SIZE, CHANNEL, FRAME_METADATA, PROVENANCE)


def members(
    stack: AFMImageStack, contents: BundleContents
) -> Iterator[tuple[str, np.ndarray]]:
    """Yield (key, array) in file order; small members are made on demand."""
    yield DATA, contents.data
    for key, arr in contents.layers.items():
        yield f"{LAYER_PREFIX}{key}", arr
    for key, mask in contents.masks.items():
        yield f"{MASK_PREFIX}{key}", mask
    yield TIMESTAMPS, contents.timestamps
    yield FRAME_METADATA, np.array(contents.frame_metadata_json)
    yield PROVENANCE, np.array(contents.provenance_json)
    if contents.state_backups_json is not None:
        yield STATE_BACKUPS, np.array(contents.state_backups_json)
    yield UNITS, np.array(contents.units_json)
    yield PIXEL_SIZE, np.array(stack.pixel_size_nm, dtype=np.float64)
    yield CHANNEL, np.array(stack.channel, dtype=np.str_)
    yield VERSION_KEY, np.array(FORMAT_VERSION, dtype=np.int64)
