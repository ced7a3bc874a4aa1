"""The ``zarr`` exporter: an AFM video as an OME-Zarr (NGFF 0.5) image.

The exported frames are the root image; masks are NGFF image-labels under
``labels/``; processed layers are complete NGFF images under ``processed/<key>``
(labels must be integer segmentations, and a layer is a height image in its own
right that any NGFF viewer can open by its path). Every array is sharded (few,
large files) and written in one streaming pass (:mod:`playnano_zarr.stream`); the
frame times, frame metadata and provenance are arrays under ``playnano/``, so
``zarr.json`` stays small. See :mod:`playnano_zarr.layout` for the tree.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from playnano.errors import ExportError, ExportWarning, OptionError
from playnano.plugins import hookimpl
from playnano.plugins.exporter import Capabilities
from playnano.plugins.options import Option
from playnano.render_options import ANIMATION_OPTIONS

from playnano_zarr import layout
from playnano_zarr.compression import DEFAULT, MAX_LEVEL, NAMES, Compression
from playnano_zarr.shards import CHUNK_MIB, MIB, SHARD_MIB

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack
    from playnano.formats.bundle import BundleContents

#: Dtypes some viewers cannot show (Neuroglancer, older vizarr): 8-byte numbers.
UNDISPLAYABLE_ITEMSIZE = 8


def _shared(name: str) -> Option:
    """The animation formats' declaration of ``name`` (``--zmin`` reaches both)."""
    return next(o for o in ANIMATION_OPTIONS if o.name == name)


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
            DEFAULT,
            "Chunk compression: blosc-zstd (byte shuffle + zstd), blosc-lz4 "
            "(faster, a little larger), zstd, or none; all lossless",
            # playnano parses "none" as None before the choices are checked; it is
            # listed so that the declaration shows what the help says
            choices=(*NAMES, "none"),
            nullable=True,
        ),
        Option(
            "compression_level",
            "int",
            None,
            "Compression level, 1 (fast) to 9 (small); default: 1 for blosc-zstd, "
            "5 for blosc-lz4, 3 for zstd",
            minimum=1,
            maximum=MAX_LEVEL,
            nullable=True,
        ),
        Option(
            "chunk_mib",
            "float",
            CHUNK_MIB,
            "Chunk size in MiB (2**20 bytes) before compression: as many whole "
            "frames as fit (what a viewer reads to show a frame)",
            minimum=0,
            exclusive_minimum=True,
        ),
        Option(
            "shard_mib",
            "float",
            SHARD_MIB,
            "Shard size in MiB before compression: chunks are grouped into files "
            "of about this size (few files for shared disks and uploads)",
            minimum=0,
            exclusive_minimum=True,
        ),
        Option(
            "levels",
            "int",
            1,
            "Resolution levels: 1 is full resolution only; each further level "
            "is the mean of 2x2 pixel blocks of the one above",
            minimum=1,
            maximum=16,
        ),
        Option(
            "display_copy",
            "bool",
            False,
            "Also write a float32 copy of 64-bit data under display/ for viewers "
            "that cannot show float64 (Neuroglancer, older vizarr)",
        ),
        _shared("zmin"),
        _shared("zmax"),
        _shared("cmap"),
    )
    requires = ("zarr",)
    install_hint = "pip install playnano-zarr"

    def export(
        self,
        stack: AFMImageStack,
        path: Path,
        *,
        raw: bool = False,
        compression: str | None = DEFAULT,
        compression_level: int | None = None,
        chunk_mib: float = CHUNK_MIB,
        shard_mib: float = SHARD_MIB,
        levels: int = 1,
        display_copy: bool = False,
        zmin: float | str | None = "auto",
        zmax: float | str | None = "auto",
        cmap: str = "afmhot",
    ) -> list[Path]:
        """Write ``stack`` as an OME-Zarr store at exactly ``path``.

        Parameters
        ----------
        stack : AFMImageStack
            What to write; lazy frames are read a block at a time.
        path : pathlib.Path
            The store folder to create; it must not exist.
        raw : bool
            Write the unprocessed snapshot (and its frame metadata) as the image,
            without processed layers or masks, which describe the processed data.
        compression : {"blosc-zstd", "blosc-lz4", "zstd", None}
            Chunk compression; ``None`` (``none`` on the command line) writes
            uncompressed chunks. All are lossless.
        compression_level : int, optional
            The codec's level (default: its own, see
            :data:`playnano_zarr.compression.DEFAULT_LEVEL`).
        chunk_mib, shard_mib : float
            Chunk and shard sizes in MiB (2**20 bytes) before compression.
        levels : int
            Resolution levels of every image (1: full resolution only).
        display_copy : bool
            Also write a float32 copy of 64-bit data under ``display/``.
        zmin, zmax : float, "auto", "min" or "max"
            The ``omero`` display window of the image, as the GIF's colour range.
        cmap : str
            Colour map named in the ``omero`` block.

        Returns
        -------
        list of pathlib.Path
            ``[path]``.
        """
        import zarr
        from playnano.formats.bundle import bundle_contents, same_array

        from playnano_zarr import stream

        path = Path(path)
        c = bundle_contents(stack, raw)
        data = c.data
        time = layout.time_axis([None if math.isnan(t) else t for t in c.timestamps])
        color = _color_hex(cmap)  # an unknown colour map fails before writing
        unit = int(getattr(stack, "read_unit", 1))
        window = _window(data, zmin, zmax, unit)
        codec = None if compression in (None, "none") else compression
        sizes = stream.Sizes(
            chunk_mib * MIB,
            shard_mib * MIB,
            Compression(codec, compression_level),
            levels,
        )
        # a layer that is the exported data (the last step's) is stored once
        layers = {k: v for k, v in c.layers.items() if not same_array(v, data)}
        layer_nodes = layout.node_names(layers)
        mask_nodes = layout.node_names(c.masks)
        copy = display_copy and _wants_copy(data.dtype, path)

        try:
            root = zarr.create_group(store=path, zarr_format=3, overwrite=False)
        except Exception as exc:  # ContainsGroupError and friends
            raise ExportError(f"{path.name}: cannot create the store ({exc})") from exc
        groups, dtypes = [root], [data.dtype]
        if copy:
            groups.append(root.create_group(layout.DISPLAY_GROUP))
            dtypes.append(np.dtype(np.float32))
        image = stream.add_image(path, groups, data, dtypes, sizes)
        u8 = [np.dtype(np.uint8)]
        labels = root.create_group(layout.LABELS_GROUP) if mask_nodes else None
        masks = {
            key: stream.add_image(
                path, [labels.create_group(node)], c.masks[key], u8, sizes, mask=True
            )
            for key, node in mask_nodes.items()
            if labels is not None
        }
        processed = root.create_group(layout.PROCESSED_GROUP) if layers else None
        images = {
            key: stream.add_image(
                path,
                [processed.create_group(node)],
                layers[key],
                [layers[key].dtype],
                sizes,
            )
            for key, node in layer_nodes.items()
            if processed is not None
        }
        stream.write_images(
            [image, *masks.values(), *images.values()], len(data), _block(data)
        )
        _write_side_data(root, c, sizes.compression)

        # metadata last: a store without it is recognisably incomplete
        pixel, render = stack.pixel_size_nm, (cmap, color)
        if labels is not None:
            for key, node in mask_nodes.items():
                labels[node].attrs["ome"] = layout.label_ome(key, time, pixel, levels)
            labels.attrs["ome"] = {
                "version": layout.NGFF_VERSION,
                "labels": list(mask_nodes.values()),
            }
        if processed is not None:
            for key, node in layer_nodes.items():
                ome = layout.image_ome(key, time, pixel, levels)
                win = _window(layers[key], "auto", "auto", unit)
                if win is not None:
                    ome["omero"] = layout.omero(key, win, images[key].extremes, *render)
                processed[node].attrs["ome"] = ome
            processed.attrs[layout.PLAYNANO_KEY] = {"layers": layer_nodes}
        name = stack.channel or "data"
        ome = layout.image_ome(name, time, pixel, levels)
        if window is not None:
            ome["omero"] = layout.omero(name, window, image.extremes, *render)
        if copy:
            groups[1].attrs["ome"] = ome
        paths = {
            "processed": {
                k: f"{layout.PROCESSED_GROUP}/{layer_nodes[k]}"
                if k in layer_nodes
                else layout.ROOT_IMAGE
                for k in c.layers
            },
            "masks": {k: f"{layout.LABELS_GROUP}/{n}" for k, n in mask_nodes.items()},
        }
        root.attrs.update(
            {
                "ome": ome,
                layout.PLAYNANO_KEY: layout.playnano_attrs(
                    stack, c, time, raw, paths, window, zmin, zmax, cmap, copy, levels
                ),
            }
        )
        return [path]


def _color_hex(cmap: str) -> str:
    """The colour map's brightest end as ``RRGGBB`` (raises OptionError if unknown)."""
    from playnano.colormaps import get_colormap

    r, g, b, _ = get_colormap(cmap)(1.0)
    return "".join(f"{round(v * 255):02X}" for v in (r, g, b))


def _window(
    data: Any, zmin: float | str | None, zmax: float | str | None, unit: int = 1
) -> tuple[float, float] | None:
    """The GIF's colour range of ``data``; None when an automatic one has no heights.

    ``unit`` is the stack's ``read_unit``, as the GIF passes it: the same sample.

    A stack with no finite heights is still worth storing, so with automatic
    bounds the store simply has no ``omero`` block; bounds the user gave that
    cannot be used are an error as for the GIF.
    """
    from playnano.render import resolve_z_range

    try:
        return resolve_z_range(data, zmin, zmax, unit)
    except OptionError:
        if all(v is None or str(v).lower() == "auto" for v in (zmin, zmax)):
            return None
        raise


def _wants_copy(dtype: np.dtype, path: Path) -> bool:
    """Whether a display copy of ``dtype`` data is needed (warns when it is not)."""
    if dtype.itemsize >= UNDISPLAYABLE_ITEMSIZE:
        return True
    warnings.warn(
        f"{path.name}: the data is {dtype}, which viewers show; no display copy "
        "written",
        ExportWarning,
        stacklevel=3,
    )
    return False


def _block(data: Any) -> int:
    """Frames per read: a lazy source's own block, else about 64 MiB of frames."""
    from playnano.lazy import block_frames, is_lazy

    if is_lazy(data):
        return int(data.block)
    return block_frames(data.shape, data.dtype.itemsize)


def _write_side_data(root: Any, c: BundleContents, codec: Compression) -> None:
    """Frame times, frame metadata, provenance (and state backups) as arrays."""
    side = root.create_group(layout.SIDE_GROUP)
    docs = {
        layout.FRAME_METADATA: c.frame_metadata_json,
        layout.PROVENANCE: c.provenance_json,
    }
    if c.state_backups_json is not None:
        docs[layout.STATE_BACKUPS] = c.state_backups_json
    arrays = {layout.TIMESTAMPS: c.timestamps}
    arrays.update(
        {k: np.frombuffer(v.encode("utf-8"), np.uint8) for k, v in docs.items()}
    )
    for key, arr in arrays.items():
        side.create_array(
            key.rsplit("/", 1)[1],
            data=arr,
            chunks=arr.shape,
            compressors=codec.zarr_codec(arr.dtype),
            dimension_names=("t",) if key == layout.TIMESTAMPS else None,
        )


@hookimpl
def register_exporters(register: Any) -> None:
    """Register the OME-Zarr exporter."""
    register(ZarrExporter())
