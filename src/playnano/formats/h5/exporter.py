"""HDF5 bundle exporter: the NPZ bundle's content as a hierarchy.

The layout is :mod:`playnano.formats.h5.layout`. Frame arrays are datasets with the
shuffle and gzip filters (both built into every HDF5 library); their chunks, one per
frame, are compressed on every core by :mod:`playnano.formats.h5.chunks` and written
directly, so the file is the same whatever the thread count.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.formats.bundle import bundle_contents, same_array
from playnano.formats.h5 import chunks, layout
from playnano.plugins import Capabilities, Option, hookimpl

if TYPE_CHECKING:
    import h5py

    from playnano.afm_stack import AFMImageStack


def create_frames(
    parent: h5py.Group, name: str, arr: np.ndarray, level: int, path: Path
) -> h5py.Dataset:
    """Create dataset ``name`` for ``arr``, chunked by frame (written later)."""
    layout.check_name(name, path)
    return chunks.create_frames(
        parent, name, arr.shape, arr.dtype, level, layout.frame_chunks(arr.shape)
    )


def json_dataset(parent: h5py.Group, name: str, text: str) -> None:
    """Store JSON text as a fixed-length bytes scalar (what playnano 0.5.0 reads)."""
    parent.create_dataset(name, data=np.bytes_(text.encode("utf-8")))


class H5Exporter:
    """Write a stack as an HDF5 bundle."""

    name = "h5"
    aliases: tuple[str, ...] = ("hdf5",)
    suffix = layout.SUFFIX
    media_type = "application/x-hdf5"
    description = (
        "HDF5 bundle: data, processed layers, masks, frame metadata, provenance"
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
            4,
            "gzip level 0-9 (0 stores uncompressed; higher is smaller and slower)",
            minimum=0,
            maximum=9,
        ),
    )
    requires: tuple[str, ...] = ("h5py",)
    install_hint = "pip install h5py"

    def export(
        self,
        stack: AFMImageStack,
        path: Path,
        *,
        raw: bool = False,
        compress_level: int = 4,
    ) -> list[Path]:
        """Write ``stack`` to ``path`` as an HDF5 bundle; return ``[path]``."""

        c = bundle_contents(stack, raw)
        # a guarded file: a full disk stops the writer without corrupting HDF5
        level = compress_level
        with chunks.guarded_hdf5(path) as f:
            data = create_frames(f, layout.DATA, c.data, level, path)
            pairs = [(data, c.data)]
            if not raw:  # playnano 0.5.0 writes no layer groups for raw exports
                # track_order keeps the layers in processing order when read back
                layers = f.create_group(layout.LAYERS_GROUP, track_order=True)
                for key, arr in c.layers.items():
                    if same_array(arr, c.data):
                        # the current data is usually the last layer: store it once
                        # and give it both names (an HDF5 hard link)
                        layout.check_name(key, path)
                        layers[key] = data
                    else:
                        pairs.append(
                            (create_frames(layers, key, arr, level, path), arr)
                        )
                masks = f.create_group(layout.MASKS_GROUP, track_order=True)
                for key, mask in c.masks.items():
                    pairs.append((create_frames(masks, key, mask, level, path), mask))
            # every layer's frame i before any layer's frame i + 1 (one pass)
            chunks.write_layers(pairs, level)
            f.create_dataset(layout.TIMESTAMPS, data=c.timestamps)
            layout.write_units(f, c.units or {})
            json_dataset(f, layout.FRAME_METADATA, c.frame_metadata_json)
            json_dataset(f, layout.PROVENANCE, c.provenance_json)
            if c.state_backups_json is not None:
                json_dataset(f, layout.STATE_BACKUPS, c.state_backups_json)
            f.attrs[layout.PIXEL_SIZE_ATTR] = float(stack.pixel_size_nm)
            f.attrs[layout.CHANNEL_ATTR] = stack.channel
            f.attrs[layout.VERSION_KEY] = layout.FORMAT_VERSION
        return [path]


@hookimpl
def register_exporters(register: Any) -> None:
    """Register the HDF5 exporter."""
    register(H5Exporter())
