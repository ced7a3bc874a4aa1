"""TopoStats exporter: a folder of ``.topostats`` frame files and their index.

The layout is :mod:`playnano.formats.topostats.layout`. Frames are written one at a
time (one frame in memory); the folder is staged whole by the export core and
renamed into place when every frame and the index are written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.formats.topostats import layout
from playnano.plugins import Capabilities, Option, hookimpl
from playnano.progress_ticks import frames_done
from playnano.provenance import make_json_safe, to_json

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack


def _text(f: Any, key: str, text: str) -> None:
    """A string as TopoStats stores one: variable-length UTF-8 bytes."""
    f.create_dataset(key, data=text.encode("utf-8"))


def originals(stack: AFMImageStack, data: Any, raw: bool) -> tuple[Any, str]:
    """The frames for ``image_original`` and what they are (``raw``/``exported``).

    The raw snapshot when it matches the exported frames one for one; otherwise
    (a raw export, no snapshot, frames removed by processing) the exported frames.
    """
    if not raw and "raw" in stack.processed:
        snapshot = stack.processed["raw"]
        if snapshot.shape == data.shape:
            return snapshot, "raw"
    return data, "raw" if raw or not stack.is_processed() else "exported"


def _frames(arr: Any) -> Any:
    from playnano.lazy import iter_blocks

    for _, block in iter_blocks(arr, 16):
        yield from block


class TopostatsExporter:
    """Write a stack as TopoStats ``.topostats`` files, one per frame."""

    name = "topostats"
    aliases: tuple[str, ...] = ()
    suffix = layout.FOLDER_SUFFIX
    media_type = "application/x-hdf5"
    description = "TopoStats .topostats files (one per frame) with a playnano index"
    capabilities = Capabilities(
        supports_raw=True,
        supports_processed_layers=False,
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
            "gzip level 0-9 of the images and masks (0 stores uncompressed)",
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
        """Write the frames of ``stack`` into the new folder ``path``; return it."""

        from playnano.formats.h5.chunks import guarded_hdf5
        from playnano.info import data_units

        folder = Path(path)
        stem = folder.name.removesuffix(layout.FOLDER_SUFFIX) or folder.name
        folder.mkdir()  # must be new: the export core stages it
        data, meta = stack.export_source(raw=raw)
        original, original_is = originals(stack, data, raw)
        masks = {} if raw else dict(stack.masks)
        source = stack.provenance.get("source") or {}
        img_path = str(source.get("file") or stack.file_path or stem)
        gzip: dict[str, Any] = (
            {"compression": "gzip", "compression_opts": compress_level}
            if compress_level
            else {}
        )
        files = []
        for i, (frame, first) in enumerate(
            zip(_frames(data), _frames(original), strict=True)
        ):
            name = layout.frame_name(stem, i)
            md = meta[i]
            px = md.get("frame_pixel_size_nm") or stack.pixel_size_nm
            record = {
                layout.VERSION_FIELD: layout.FORMAT_VERSION,
                "frame": i,
                "n_frames": len(meta),
                "channel": stack.channel,
                "index": layout.index_name(stem),
                "frame_metadata": make_json_safe(md),
            }
            with guarded_hdf5(folder / name) as f:
                f.create_dataset(layout.IMAGE, data=np.asarray(frame), **gzip)
                f.create_dataset(layout.IMAGE_ORIGINAL, data=np.asarray(first), **gzip)
                f.create_dataset(layout.PIXEL_TO_NM, data=np.float64(px))
                _text(f, layout.FILENAME, layout.topostats_filename(stem, i))
                _text(f, layout.IMG_PATH, img_path)
                _text(f, layout.TOPOSTATS_VERSION_KEY, layout.TOPOSTATS_VERSION)
                if masks:
                    group = f.create_group(layout.GRAIN_MASKS, track_order=True)
                    for key, mask in masks.items():
                        group.create_dataset(key, data=np.asarray(mask[i]), **gzip)
                _text(f, layout.PLAYNANO, to_json(record))
            files.append(name)
            frames_done(1)
        index = {
            "format": layout.FORMAT_NAME,
            layout.VERSION_FIELD: layout.FORMAT_VERSION,
            "channel": stack.channel,
            "pixel_size_nm": float(stack.pixel_size_nm),
            "unit": data_units(stack),
            "dtype": str(data.dtype),
            "raw": bool(raw),
            "image_original": original_is,
            "topostats_version": layout.TOPOSTATS_VERSION,
            "frames": [
                {"file": name, "timestamp": md.get("timestamp")}
                for name, md in zip(files, meta, strict=True)
            ],
            "masks": list(masks),
            "frame_metadata": meta,
            "provenance": stack.provenance,
            "state_backups": {} if raw else stack.state_backups,
        }
        (folder / layout.index_name(stem)).write_text(
            json.dumps(make_json_safe(index), indent=1, allow_nan=False) + "\n",
            encoding="utf-8",
        )
        return [folder]


@hookimpl
def register_exporters(register: Any) -> None:
    """Register the TopoStats exporter."""
    register(TopostatsExporter())
