"""The Gwyddion reader: ``.gwy`` files from playnano and from Gwyddion itself.

A file playnano wrote comes back whole and bit for bit: frames (in nm, in their
own dtype), every layer and mask written, frame metadata, pixel size, channel and
provenance (:mod:`playnano.formats.gwy.exact` undoes the SI scaling exactly).

Any other ``.gwy`` (Gwyddion's own, e.g. ``gwyddion --convert-to-gwy``) is read by
channel title: ``channel`` picks a title (default ``Height`` when there is one,
else the first channel), and every channel with that title becomes a frame, in
channel-number order, so a file that merged several images of one scan size reads
as a video. Lengths in metres become nm; other z units are kept and recorded.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.errors import ChannelError, ReadError
from playnano.formats import _reading
from playnano.formats.gwy import exact, layout
from playnano.formats.gwy._parse import opened
from playnano.formats.gwy.content import Channel, channels_of, stack_document
from playnano.plugins import ReaderBase, hookimpl
from playnano.readers.common import (
    ReadWarning,
    length_to_nm,
    pick_channel,
    set_source_details,
)

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack


def _pixels(buf: Any, channel: Channel) -> np.ndarray:
    return channel.data.read(buf).reshape(channel.shape)


def _json(path: Path, channel: Channel, key: str) -> Any:
    try:
        return json.loads(channel.meta[key])
    except (KeyError, ValueError):
        raise ReadError(
            f"{path}: channel {channel.number} has no valid '{key}' record"
        ) from None


def read_playnano(
    path: Path, buf: Any, channels: list[Channel], doc: dict[str, Any]
) -> AFMImageStack:
    """The stack a playnano-written file holds, as it was written."""
    try:
        n = int(doc["n_frames"])
        per_si = float(doc["per_si_unit"])
        blocks = list(doc["blocks"])
        provenance = json.loads(channels[0].meta.get(layout.PROVENANCE_KEY, "{}"))
    except (KeyError, TypeError, ValueError) as exc:
        raise ReadError(f"{path}: '{layout.STACK_KEY}' is incomplete ({exc})") from None
    by_number = {c.number: c for c in channels}

    def block_arrays(block: dict[str, Any]) -> tuple[np.ndarray, list[Channel]]:
        first, count = int(block["first"]), int(block["count"])
        role = str(block["role"])
        is_mask = role.startswith(layout.MASK_PREFIX)
        frames, used = [], []
        for i in range(count):
            ch = by_number.get(first + i)
            if ch is None or _json(path, ch, layout.FRAME_KEY) != {
                "frame": i,
                "layer": role,
            }:
                raise ReadError(
                    f"{path}: frame {i} of {role!r} is missing (channel {first + i})"
                )
            stored = _pixels(buf, ch)
            what = f"{path}: channel {ch.number}"
            frames.append(
                stored > 0.5
                if is_mask
                else exact.from_si(stored, per_si, ch.meta.get(layout.EXACT_KEY), what)
            )
            used.append(ch)
        arr = np.stack(frames) if frames else np.zeros((0, 1, 1))
        return (arr if is_mask else arr.astype(block["dtype"], copy=False)), used

    data = None
    layers: dict[str, np.ndarray] = {}
    masks: dict[str, np.ndarray] = {}
    data_channels: list[Channel] = []
    for block in blocks:
        arr, used = block_arrays(block)
        role = str(block["role"])
        if role == layout.DATA_LAYER:
            data, data_channels = arr, used
        elif role.startswith(layout.MASK_PREFIX):
            masks[role.removeprefix(layout.MASK_PREFIX)] = arr
        else:
            layers[role] = arr
    if data is None or data.shape[0] != n:
        raise ReadError(f"{path}: the frames ({n} channels) are not all there")
    if doc.get("data_layer"):
        layers[str(doc["data_layer"])] = data
    order = [str(k) for k in doc.get("layer_order") or []]
    layers = {k: layers[k] for k in order if k in layers} | layers
    attached = doc.get("attached_mask")
    if attached:
        if any(c.mask is None for c in data_channels):
            raise ReadError(f"{path}: mask {attached!r} is missing from a frame")
        masks[attached] = np.stack(
            [c.mask.read(buf).reshape(c.shape) > 0.5 for c in data_channels if c.mask]
        )
    return _reading.build_stack(
        path,
        data,
        doc.get("pixel_size_nm"),
        str(doc.get("channel")),
        doc.get("frame_metadata"),
        provenance,
        state_backups=doc.get("state_backups") or None,
        layers=layers,
        masks=masks,
    )


def read_foreign(
    path: Path, buf: Any, channels: list[Channel], channel: str | None
) -> AFMImageStack:
    """Frames of one channel title from a .gwy playnano did not write."""
    from playnano.afm_stack import AFMImageStack

    titles = list(dict.fromkeys(c.title for c in channels))
    title = pick_channel(path, channel, titles, layout.DEFAULT_TITLE)
    chosen = [c for c in channels if c.title == title]
    first = chosen[0]
    for c in chosen[1:]:
        if (c.shape, c.xreal, c.yreal) != (first.shape, first.xreal, first.yreal):
            raise ReadError(
                f"{path}: channels {first.number} and {c.number} (both {title!r}) "
                "differ in size; read them one file at a time"
            )
    xy_nm = length_to_nm(first.xy_unit)
    if xy_nm is None:
        raise ReadError(
            f"{path}: channel {title!r} has lateral unit {first.xy_unit!r}, not a length"
        )
    px_x = first.xreal / first.xres * xy_nm
    px_y = first.yreal / first.yres * xy_nm
    if not math.isclose(px_x, px_y, rel_tol=1e-6):
        warnings.warn(
            f"{path}: pixels of {title!r} are {px_x:g} x {px_y:g} nm; "
            f"playnano uses {px_x:g} nm for both",
            ReadWarning,
            stacklevel=3,
        )
    z_nm = length_to_nm(first.z_unit)
    unit = "nm" if z_nm is not None else (first.z_unit or "unknown")
    data = np.stack([_pixels(buf, c) for c in chosen]) * (z_nm or 1.0)
    meta = [{"frame_pixel_size_nm": px_x, "z_unit": unit} for _ in chosen]
    stack = AFMImageStack(data, px_x, title, path, meta)
    masks = [c.mask for c in chosen]
    if all(m is not None for m in masks):
        stack.masks["gwyddion_mask"] = np.stack(
            [m.read(buf).reshape(first.shape) > 0.5 for m in masks]  # type: ignore[union-attr]
        )
    set_source_details(
        stack,
        gwy_channels=[c.number for c in chosen],
        z_unit=unit,
        offset_nm=[first.xoff * xy_nm, first.yoff * xy_nm],
    )
    return stack


class GwyReader(ReaderBase):
    """Reads Gwyddion ``.gwy`` files (playnano's and Gwyddion's own)."""

    name = "gwy"
    aliases = ("gwyddion",)
    suffixes = (layout.SUFFIX,)
    supports_inspect = True
    supports_channels = True
    supports_check = True
    description = "Gwyddion .gwy: playnano's in full; others by channel title"

    def can_read(self, path: Path) -> bool:
        """True for a file with the ``.gwy`` suffix and the GWYP signature."""
        path = Path(path)
        return (
            path.is_file()
            and self.has_suffix(path)
            and _reading.starts_with(path, layout.MAGIC)
        )

    def channels(self, path: Path) -> list[str]:
        """The stack channel of a playnano file, else every channel title."""
        path = _reading.existing(path)
        with opened(path) as (_, root):
            found = channels_of(path, root)
            doc = stack_document(path, found)
        if doc is not None:
            return [str(doc.get("channel"))]
        return list(dict.fromkeys(c.title for c in found))

    def read(self, path: Path, channel: str | None = None) -> AFMImageStack:
        """Read ``path``; ``channel`` is a title (any case) of a foreign file."""
        path = _reading.existing(path)
        with opened(path) as (buf, root):
            found = channels_of(path, root)
            if not found:
                raise ReadError(f"{path}: holds no image channels (/N/data)")
            doc = stack_document(path, found)
            if doc is None:
                return read_foreign(path, buf, found, channel)
            stack = read_playnano(path, buf, found, doc)
        if channel is not None and channel.strip().lower() != stack.channel.lower():
            raise ChannelError(
                f"{path}: no channel {channel!r}; it has {stack.channel}"
            )
        previous = stack.provenance.get("source") or {}
        stack.provenance["source"] = {"previous_source": previous} if previous else {}
        return stack

    def inspect(self, path: Path) -> Any:
        """What the file holds, from its structure (no pixels read)."""
        from playnano.formats.gwy.content import describe

        return describe(_reading.existing(path))

    def check(self, path: Path) -> list[str]:
        """Problems against playnano's .gwy layout, one line each."""
        from playnano.formats.gwy.content import check

        return check(Path(path))


@hookimpl
def register_readers(register: Any) -> None:
    """Register the Gwyddion reader."""
    register(GwyReader())
