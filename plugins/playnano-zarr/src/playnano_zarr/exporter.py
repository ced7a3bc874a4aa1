"""The ``zarr`` exporter: an AFM video as an OME-Zarr (NGFF 0.5) image.

The exported frames are the root image; masks are NGFF image-labels under
``labels/``; processed layers are complete NGFF images under ``processed/<key>``
(labels must be integer segmentations, and a layer is a height image in its own
right that any NGFF viewer can open by its path). Frame metadata, provenance and the
key of every layer and mask are kept under the root attribute ``playnano``. See
:mod:`playnano_zarr.layout` for the tree.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from playnano.errors import ExportError
from playnano.plugins import hookimpl
from playnano.plugins.exporter import Capabilities
from playnano.plugins.options import Option
from playnano.provenance import make_json_safe

from playnano_zarr import __version__, layout

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

#: Display colour of mask pixels in viewers that honour ``image-label`` colours.
MASK_RGBA = [255, 64, 64, 160]


class ZarrExporter:
    """Write a stack as an OME-Zarr store (a folder ending in ``.ome.zarr``)."""

    name = "zarr"
    aliases = ("ome-zarr",)
    suffix = ".ome.zarr"
    description = (
        "OME-Zarr (NGFF 0.5) store with processed layers, mask labels and provenance"
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
            "compression",
            "str",
            "zstd",
            "Chunk compression: zstd, or none for uncompressed chunks (both lossless)",
            # playnano parses "none" as None before the choices are checked; it is
            # listed so that the declaration shows what the help says
            choices=("zstd", "none"),
            nullable=True,
        ),
        Option(
            "compression_level",
            "int",
            3,
            "zstd level, 1 (fast) to 22 (small)",
            minimum=1,
            maximum=22,
        ),
    )
    requires = ("zarr",)
    install_hint = "pip install playnano-zarr"

    def export(
        self,
        stack: AFMImageStack,
        path: Path,
        *,
        raw: bool = False,
        compression: str | None = "zstd",
        compression_level: int = 3,
    ) -> list[Path]:
        """Write ``stack`` as an OME-Zarr store at exactly ``path``.

        Parameters
        ----------
        stack : AFMImageStack
            What to write.
        path : pathlib.Path
            The store folder to create; it must not exist.
        raw : bool
            Write the unprocessed snapshot (and its frame metadata) as the image,
            without processed layers or masks, which describe the processed data.
        compression : {"zstd", None}
            Chunk compression; ``None`` (``none`` on the command line) writes
            uncompressed chunks. Both are lossless.
        compression_level : int
            zstd level.

        Returns
        -------
        list of pathlib.Path
            ``[path]``.
        """
        import zarr
        from zarr.codecs import ZstdCodec

        path = Path(path)
        data, frame_metadata = stack.export_source(raw)
        interval = layout.frame_interval_s(md["timestamp"] for md in frame_metadata)
        scale = [interval or 1.0, stack.pixel_size_nm, stack.pixel_size_nm]
        codec = ZstdCodec(level=compression_level) if compression == "zstd" else None
        layers = {} if raw else dict(stack.processed)
        masks = {} if raw else dict(stack.masks)
        layer_nodes = layout.node_names(layers)
        mask_nodes = layout.node_names(masks)

        try:
            root = zarr.create_group(store=path, zarr_format=3, overwrite=False)
        except Exception as exc:  # ContainsGroupError and friends
            raise ExportError(f"{path.name}: cannot create the store ({exc})") from exc
        image_name = stack.channel or "data"
        _write_array(root, data, codec, keep_empty=True, store=path.name)
        if masks:
            labels = root.create_group(
                layout.LABELS_GROUP,
                attributes={
                    "ome": {
                        "version": layout.NGFF_VERSION,
                        "labels": list(mask_nodes.values()),
                    }
                },
            )
            for key, node in mask_nodes.items():
                group = labels.create_group(node, attributes=_label_attrs(key, scale))
                # a bool array viewed as uint8 is 0/1 without a copy
                _write_array(
                    group,
                    masks[key],
                    codec,
                    keep_empty=False,
                    store=path.name,
                    view=np.dtype(np.uint8),
                )
        if layers:
            processed = root.create_group(
                layout.PROCESSED_GROUP,
                attributes={layout.PLAYNANO_KEY: {"layers": layer_nodes}},
            )
            for key, node in layer_nodes.items():
                group = processed.create_group(
                    node, attributes={"ome": _image_ome(key, scale)}
                )
                _write_array(
                    group, layers[key], codec, keep_empty=True, store=path.name
                )
        # metadata last: a store without it is recognisably incomplete
        root.attrs.update(
            {
                "ome": _image_ome(image_name, scale),
                layout.PLAYNANO_KEY: _playnano_attrs(
                    stack, frame_metadata, interval, raw, layer_nodes, mask_nodes
                ),
            }
        )
        return [path]


def _image_ome(name: str, scale: list[float]) -> dict[str, Any]:
    return {
        "version": layout.NGFF_VERSION,
        "multiscales": layout.multiscales(name, scale),
    }


def _label_attrs(key: str, scale: list[float]) -> dict[str, Any]:
    ome = _image_ome(key, scale)
    ome["image-label"] = {
        "colors": [{"label-value": 1, "rgba": MASK_RGBA}],
        "properties": [{"label-value": 1, "playnano-mask": key}],
        "source": {"image": "../../"},
    }
    return {"ome": ome}


def _write_array(
    group: Any,
    frames: np.ndarray,
    codec: Any,
    *,
    keep_empty: bool,
    store: str,
    view: np.dtype | None = None,
) -> None:
    """Write (t, y, x) ``frames`` as ``group/0`` in blocks of whole frames.

    ``keep_empty`` writes chunks equal to the fill value too, so ``-0.0`` frames
    come back as ``-0.0`` (zarr would otherwise drop them and return ``0.0``).
    ``view`` stores each block viewed as that dtype (bool masks as uint8). Frames
    are taken a block at a time by slicing, so lazy frames
    (:class:`playnano.lazy.LazyFrames`) are read a block at a time too.
    """
    t, h, w = frames.shape
    dtype = frames.dtype if view is None else view
    try:
        arr = group.create_array(
            layout.LEVEL_PATH,
            shape=frames.shape,
            dtype=dtype,
            chunks=(1, h, w),
            compressors=codec,
            dimension_names=layout.DIMENSION_NAMES,
            config={"write_empty_chunks": keep_empty},
        )
    except (TypeError, ValueError) as exc:
        raise ExportError(f"{store}: zarr cannot store dtype {dtype} ({exc})") from exc
    step = max(1, layout.WRITE_BLOCK_BYTES // max(1, h * w * dtype.itemsize))
    for start in range(0, t, step):
        block = frames[start : start + step]
        arr[start : start + step] = block if view is None else block.view(view)


def _playnano_attrs(
    stack: AFMImageStack,
    frame_metadata: list[dict[str, Any]],
    interval: float | None,
    raw: bool,
    layer_nodes: Mapping[str, str],
    mask_nodes: Mapping[str, str],
) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "format_version": layout.FORMAT_VERSION,
        "writer": f"playnano-zarr {__version__}",
        "channel": stack.channel,
        "pixel_size_nm": stack.pixel_size_nm,
        "frame_interval_s": interval,
        "raw": bool(raw),
        "source_file": stack.file_path.name if stack.file_path else None,
        "processed": {
            k: f"{layout.PROCESSED_GROUP}/{n}" for k, n in layer_nodes.items()
        },
        "masks": {k: f"{layout.LABELS_GROUP}/{n}" for k, n in mask_nodes.items()},
        "frame_metadata": frame_metadata,
        "provenance": stack.provenance,
        "state_backups": {} if raw else stack.state_backups,
    }
    if interval is None:
        attrs["frame_interval_note"] = layout.UNKNOWN_INTERVAL_NOTE
    return make_json_safe(attrs)


@hookimpl
def register_exporters(register: Any) -> None:
    """Register the OME-Zarr exporter."""
    register(ZarrExporter())
