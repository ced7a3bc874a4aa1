"""Gwyddion exporter: a ``.gwy`` file with one channel per frame, in SI units.

The layout is :mod:`playnano.formats.gwy.layout`. Components are serialised by the
``gwyfile`` package one channel at a time and written as they are made, so memory
holds one frame, not the file; the root container's size is written last.
"""

from __future__ import annotations

import math
import struct
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.errors import ExportError, ExportWarning
from playnano.formats.bundle import same_array
from playnano.formats.gwy import exact, layout, meta
from playnano.plugins import Capabilities, Option, hookimpl
from playnano.progress_ticks import frames_done
from playnano.provenance import make_json_safe

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

#: Bytes a channel's title, metadata and field headers take beyond its pixels.
_CHANNEL_OVERHEAD = 4096


@dataclass
class Block:
    """A run of channels, one per frame of ``array``: the data, a layer or a mask."""

    role: str  # layout.DATA_LAYER, a layer key, or layout.MASK_PREFIX + mask key
    label: str  # what the channel's "Layer" metadata says
    array: Any
    first: int


def plan_blocks(
    stack: AFMImageStack, data: Any, raw: bool, layers: str
) -> tuple[list[Block], str | None, str | None]:
    """The channel blocks to write, the layer that *is* the data, the attached mask.

    The newest mask rides on the data channels as their Gwyddion mask; older masks
    get channels of their own. Raw exports hold the raw frames only.
    """
    label = "raw" if raw else ("processed" if stack.is_processed() else "as read")
    blocks = [Block(layout.DATA_LAYER, label, data, 0)]
    data_layer = None

    def add(role: str, text: str, arr: Any) -> None:
        blocks.append(Block(role, text, arr, blocks[-1].first + len(blocks[-1].array)))

    if not raw and layers == "all":
        for key, arr in stack.processed.items():
            if data_layer is None and same_array(arr, data):
                data_layer = key
                blocks[0].label = f"processed ({key})"
            else:
                add(key, f"processed layer {key}" if key != "raw" else "raw", arr)
    masks = [] if raw else list(stack.masks.items())
    attached = masks[-1][0] if masks else None
    for key, arr in masks[:-1]:
        add(layout.MASK_PREFIX + key, f"mask {key} (1 = masked)", arr)
    return blocks, data_layer, attached


class GwyExporter:
    """Write a stack as a Gwyddion ``.gwy`` file."""

    name = "gwy"
    aliases: tuple[str, ...] = ("gwyddion",)
    suffix = layout.SUFFIX
    media_type = "application/x-gwyddion-spm"
    description = "Gwyddion file: one channel per frame in metres, masks, metadata"
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
            "layers",
            "str",
            "current",
            "current: one channel per frame (the exported frames); all: every "
            "processed layer (raw included) as its own channels too",
            choices=("current", "all"),
        ),
    )
    requires: tuple[str, ...] = ("gwyfile",)
    install_hint = "pip install gwyfile"

    def export(
        self,
        stack: AFMImageStack,
        path: Path,
        *,
        raw: bool = False,
        layers: str = "current",
    ) -> list[Path]:
        """Write ``stack`` to ``path`` as a ``.gwy`` file; return ``[path]``."""
        from gwyfile.objects import serialize_component

        from playnano.__about__ import __version__
        from playnano.info import data_units

        data, frame_meta = stack.export_source(raw=raw)
        n, h, w = data.shape
        blocks, data_layer, attached = plan_blocks(stack, data, raw, layers)
        n_fields = sum(len(b.array) for b in blocks) + n * (attached is not None)
        need = n_fields * (h * w * 8 + _CHANNEL_OVERHEAD)
        if need > layout.MAX_BYTES:
            raise ExportError(
                f"{path.name}: a .gwy file holds at most 4 GiB; these "
                f"{n_fields} fields of {w}x{h} need about {need / 2**30:.1f} GiB "
                "(export fewer frames, layers=current, or use h5)"
            )
        unit = data_units(stack)
        si_unit, per_si = layout.si_factor(unit)
        shared = meta.shared_entries(stack, __version__)
        doc = {
            layout.VERSION_FIELD: layout.FORMAT_VERSION,
            "channel": stack.channel,
            "pixel_size_nm": float(stack.pixel_size_nm),
            "n_frames": n,
            "raw": bool(raw),
            "unit": unit,
            "per_si_unit": per_si,
            "blocks": [
                {
                    "role": b.role,
                    "first": b.first,
                    "count": len(b.array),
                    "dtype": str(b.array.dtype),
                }
                for b in blocks
            ],
            "data_layer": data_layer,
            "layer_order": [] if raw or layers != "all" else list(stack.processed),
            "attached_mask": attached,
            "frame_metadata": make_json_safe(frame_meta),
            "state_backups": make_json_safe(stack.state_backups) if not raw else {},
        }
        nonfinite: list[int] = []

        def components() -> Iterator[bytes]:
            for block in blocks:
                is_mask = block.role.startswith(layout.MASK_PREFIX)
                metas = _block_metadata(stack, block, frame_meta)
                for i, frame in enumerate(_frames(block.array)):
                    number = block.first + i
                    md = metas[i]
                    px = _frame_pixel_nm(md, stack.pixel_size_nm)
                    entries = dict(shared)
                    if is_mask:
                        stored, text = frame.astype(np.float64), None
                        z_unit = ""
                    else:
                        stored, text = exact.to_si(frame, per_si)
                        z_unit = si_unit
                        if not np.isfinite(frame).all():
                            nonfinite.append(i)
                    if text is not None:
                        entries[layout.EXACT_KEY] = text
                    title = layout.frame_title(
                        stack.channel,
                        i,
                        md.get("timestamp"),
                        "" if block.role == layout.DATA_LAYER else block.role,
                    )
                    mask = attached if block.role == layout.DATA_LAYER else None
                    entries |= meta.frame_entries(i, md, block.role, block.label, mask)
                    if number == 0:
                        entries |= meta.stack_entries(doc, stack.provenance)
                    field = _field(stored, px, md, z_unit)
                    yield serialize_component(layout.data_key(number), field, "o")
                    yield serialize_component(layout.title_key(number), title, "s")
                    yield serialize_component(
                        layout.meta_key(number), _strings(entries), "o"
                    )
                    if mask is not None:
                        ones = np.asarray(stack.masks[mask][i], dtype=np.float64)
                        yield serialize_component(
                            layout.mask_key(number), _field(ones, px, md, ""), "o"
                        )
                    if block.role == layout.DATA_LAYER:
                        frames_done(1)

        with open(path, "wb") as fh:
            header = layout.MAGIC + layout.CONTAINER.encode() + b"\0"
            fh.write(header + b"\0\0\0\0")
            for chunk in components():
                fh.write(chunk)
            size = fh.tell() - len(header) - 4
            if size > layout.MAX_BYTES:
                raise ExportError(f"{path.name}: a .gwy file holds at most 4 GiB")
            fh.seek(len(header))
            fh.write(struct.pack("<I", size))
        if nonfinite:
            frames = sorted(set(nonfinite))
            warnings.warn(
                f"{path.name}: frame(s) {', '.join(map(str, frames[:10]))} hold NaN "
                "or infinite heights, which Gwyddion cannot show; they are written "
                "as the frame's mean (playnano reads them back exactly)",
                ExportWarning,
                stacklevel=2,
            )
        return [path]


def _frames(arr: Any) -> Iterator[np.ndarray]:
    """The frames of ``arr`` one at a time (lazy frames block by block)."""
    from playnano.lazy import iter_blocks

    for _, block in iter_blocks(arr, 16):
        yield from block


def _block_metadata(
    stack: AFMImageStack, block: Block, frame_meta: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each frame's metadata for a block (a raw layer with frames the
    processing removed has its own; other frame counts have none)."""
    count = len(block.array)
    if count == len(frame_meta):
        return frame_meta
    if block.role == "raw":
        _, raw_meta = stack.export_source(raw=True)
        if len(raw_meta) == count:
            return raw_meta
    return [{} for _ in range(count)]


def _frame_pixel_nm(md: dict[str, Any], default: float) -> float:
    value = md.get("frame_pixel_size_nm")
    if isinstance(value, (int, float)) and math.isfinite(value) and value > 0:
        return float(value)
    return float(default)


def _field(values: np.ndarray, px_nm: float, md: dict[str, Any], z_unit: str) -> Any:
    """A GwyDataField: ``values`` over the frame's real size and offset (metres)."""
    from gwyfile.objects import GwyDataField, GwySIUnit

    h, w = values.shape
    offsets = [md.get(k) for k in layout.OFFSET_KEYS]
    xoff, yoff = (
        float(v) / 1e9 if isinstance(v, (int, float)) and math.isfinite(v) else 0.0
        for v in offsets
    )
    return GwyDataField(
        np.ascontiguousarray(values, dtype=np.float64),
        xreal=exact.si_size(px_nm, w),
        yreal=exact.si_size(px_nm, h),
        xoff=xoff,
        yoff=yoff,
        si_unit_xy=GwySIUnit(unitstr="m"),
        si_unit_z=GwySIUnit(unitstr=z_unit),
    )


def _strings(entries: dict[str, str]) -> Any:
    """A GwyContainer of text entries (typed as strings, even one character long)."""
    from gwyfile.objects import GwyContainer

    return GwyContainer(entries, typecodes=dict.fromkeys(entries, "s"))


@hookimpl
def register_exporters(register: Any) -> None:
    """Register the Gwyddion exporter."""
    register(GwyExporter())
