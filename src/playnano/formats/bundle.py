"""What an NPZ or HDF5 bundle holds: the content both layouts store, and its version.

The two bundle formats store the same things under different containers; this
module collects them from a stack once, without copying frame data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.provenance import to_json

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

#: Version of the bundle layout written by the npz and h5 exporters.
FORMAT_VERSION = 1
#: NPZ key / HDF5 root attribute holding :data:`FORMAT_VERSION`.
VERSION_KEY = "playnano_format_version"
#: Unit written when the reader did not record the unit of the frame values.
UNKNOWN_UNIT = "unknown"


def units_of(stack: AFMImageStack, layers: dict[str, np.ndarray]) -> dict[str, Any]:
    """Units of what a bundle stores: frames, each processed layer, times, pixels."""
    from playnano.info import data_units

    unit = data_units(stack) or UNKNOWN_UNIT
    return {
        "data": unit,
        "processed": {k: unit for k in layers},
        "timestamps": "s",
        "pixel_size_nm": "nm",
    }


#: A bundle's JSON text may take this many bytes, plus TEXT_BYTES_PER_FRAME for
#: each frame; more is refused before it is read (a few kB can inflate to GBs).
TEXT_BYTES = 16 << 20
TEXT_BYTES_PER_FRAME = 256 << 10


def same_array(a: np.ndarray, b: np.ndarray) -> bool:
    """True when ``a`` and ``b`` view the same memory the same way (equal content).

    Lazy frames (:class:`~playnano.lazy.LazyFrames`) are the same only when they
    are the same object.
    """
    if a is b:
        return True
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
        return False
    return (
        a.shape == b.shape
        and a.dtype == b.dtype
        and a.strides == b.strides
        and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    )


def text_budget(n_frames: int) -> int:
    """Bytes of JSON text a bundle of ``n_frames`` frames may hold per member."""
    return TEXT_BYTES + TEXT_BYTES_PER_FRAME * n_frames


@dataclass
class BundleContents:
    """What a bundle (NPZ or HDF5) holds for one export."""

    data: np.ndarray
    layers: dict[str, np.ndarray]
    masks: dict[str, np.ndarray]
    timestamps: np.ndarray
    frame_metadata_json: str
    provenance_json: str
    state_backups_json: str | None
    units: dict[str, str] | None = None

    @property
    def units_json(self) -> str:
        """The units document: ``{"data": u, "timestamps": "s", ...}`` as JSON."""
        return to_json(self.units or {})


def bundle_contents(stack: AFMImageStack, raw: bool) -> BundleContents:
    """Collect what a bundle export writes, without copying any frame data.

    With ``raw=True`` the unprocessed snapshot is written with its own frame
    metadata, and no processed layers or masks (as playnano 0.5.0 does).
    """
    data, meta = stack.export_source(raw=raw)
    times = [md.get("timestamp") for md in meta]
    layers = {} if raw else dict(stack.processed)
    return BundleContents(
        data=data,
        layers=layers,
        masks={} if raw else dict(stack.masks),
        timestamps=np.array(
            [math.nan if t is None else t for t in times], dtype=np.float64
        ),
        frame_metadata_json=to_json(meta),
        provenance_json=to_json(stack.provenance),
        state_backups_json=to_json(stack.state_backups)
        if stack.state_backups
        else None,
        units=units_of(stack, layers),
    )
