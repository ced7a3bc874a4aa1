"""NPZ bundle exporter: data, processed layers, masks, metadata and provenance.

Layout (the seed's keys, readable by playnano 0.5.0)::

    data                      frames in their own dtype
    processed__<key>          each processed layer (not with raw=True)
    masks__<key>              each boolean mask (not with raw=True)
    timestamps                float64, NaN where a frame has no timestamp
    frame_metadata_json       JSON list, one dict per frame
    provenance_json           JSON of stack.provenance
    state_backups_json        JSON of stack.state_backups (only when non-empty)
    pixel_size_nm             float64 scalar
    channel                   unicode scalar
    playnano_format_version   int64 scalar

Strings are plain unicode arrays, so the file loads with ``allow_pickle=False``. Each
member is compressed and written straight into the zip, one at a time.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.plugins import Capabilities, Option, hookimpl
from playnano.provenance import to_json

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

#: Version of the bundle layout written by the npz and h5 exporters.
FORMAT_VERSION = 1
#: NPZ key / HDF5 root attribute holding :data:`FORMAT_VERSION`.
VERSION_KEY = "playnano_format_version"


@dataclass
class BundleContents:
    """What a bundle (NPZ or HDF5) holds for one export; shared with the h5 exporter."""

    data: np.ndarray
    layers: dict[str, np.ndarray]
    masks: dict[str, np.ndarray]
    timestamps: np.ndarray
    frame_metadata_json: str
    provenance_json: str
    state_backups_json: str | None


def bundle_contents(stack: AFMImageStack, raw: bool) -> BundleContents:
    """Collect what a bundle export writes, without copying any frame data.

    With ``raw=True`` the unprocessed snapshot is written with its own frame
    metadata, and no processed layers or masks (as playnano 0.5.0 does).
    """
    data, meta = stack.export_source(raw=raw)
    times = [md.get("timestamp") for md in meta]
    return BundleContents(
        data=data,
        layers={} if raw else dict(stack.processed),
        masks={} if raw else dict(stack.masks),
        timestamps=np.array(
            [math.nan if t is None else t for t in times], dtype=np.float64
        ),
        frame_metadata_json=to_json(meta),
        provenance_json=to_json(stack.provenance),
        state_backups_json=to_json(stack.state_backups)
        if stack.state_backups
        else None,
    )


def _members(stack: AFMImageStack, contents: BundleContents) -> Any:
    """Yield (key, array) in file order; small members are made on demand."""
    yield "data", contents.data
    for key, arr in contents.layers.items():
        yield f"processed__{key}", arr
    for key, mask in contents.masks.items():
        yield f"masks__{key}", mask
    yield "timestamps", contents.timestamps
    yield "frame_metadata_json", np.array(contents.frame_metadata_json)
    yield "provenance_json", np.array(contents.provenance_json)
    if contents.state_backups_json is not None:
        yield "state_backups_json", np.array(contents.state_backups_json)
    yield "pixel_size_nm", np.array(stack.pixel_size_nm, dtype=np.float64)
    yield "channel", np.array(stack.channel, dtype=np.str_)
    yield VERSION_KEY, np.array(FORMAT_VERSION, dtype=np.int64)


class NpzExporter:
    """Write a stack as a compressed NumPy ``.npz`` bundle."""

    name = "npz"
    aliases: tuple[str, ...] = ()
    suffix = ".npz"
    description = (
        "NumPy zip bundle: data, processed layers, masks, frame metadata, provenance"
    )
    capabilities = Capabilities(
        supports_raw=True,
        supports_processed_layers=True,
        supports_masks=True,
        supports_provenance=True,
        supports_timestamps=True,
        lossy=False,
        streaming=True,
    )
    options = (
        Option(
            "compress_level",
            "int",
            1,
            "zlib level 0-9 (0 stores uncompressed; higher is smaller and slower)",
            minimum=0,
            maximum=9,
        ),
    )
    requires: tuple[str, ...] = ()
    install_hint = ""

    def export(
        self,
        stack: AFMImageStack,
        path: Path,
        *,
        raw: bool = False,
        compress_level: int = 1,
    ) -> list[Path]:
        """Write ``stack`` to ``path`` as an NPZ bundle; return ``[path]``."""
        contents = bundle_contents(stack, raw)
        method = zipfile.ZIP_DEFLATED if compress_level > 0 else zipfile.ZIP_STORED
        with zipfile.ZipFile(
            path, "w", compression=method, compresslevel=compress_level or None
        ) as zf:
            for key, arr in _members(stack, contents):
                # force_zip64: member sizes are unknown until written (>4 GiB safe)
                with zf.open(f"{key}.npy", "w", force_zip64=True) as fh:
                    np.lib.format.write_array(fh, arr, allow_pickle=False)
        return [path]


@hookimpl
def register_exporters(register: Any) -> None:
    """Register the NPZ exporter."""
    register(NpzExporter())
