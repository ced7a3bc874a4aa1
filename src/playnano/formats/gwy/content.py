"""What a ``.gwy`` file holds, from its parsed structure (no pixels read).

:func:`channels_of` lists the channels (data fields with their titles, sizes,
units, masks and metadata), :func:`stack_document` finds playnano's stack record,
and :func:`check` lists every way a file departs from what playnano writes and
other readers need (``playnano info --check``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playnano.errors import ReadError
from playnano.formats.gwy import layout
from playnano.formats.gwy._parse import ArrayRef, GwyObject, opened

#: Component types every .gwy reader knows (AFMReader reads no others).
PORTABLE_TYPES = frozenset("oidsD")


@dataclass
class Channel:
    """One data field of the file, described from its headers."""

    number: int
    title: str
    xres: int
    yres: int
    xreal: float
    yreal: float
    xoff: float
    yoff: float
    xy_unit: str
    z_unit: str
    data: ArrayRef
    mask: ArrayRef | None = None
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)`` in pixels."""
        return (self.yres, self.xres)


def _unit(obj: Any) -> str:
    if isinstance(obj, GwyObject) and isinstance(obj.get("unitstr"), str):
        return obj.get("unitstr")
    return ""


def _field(path: Path, key: str, obj: Any) -> tuple[int, int, ArrayRef]:
    """Checked ``(xres, yres, data)`` of a GwyDataField component."""
    if not isinstance(obj, GwyObject) or obj.name != layout.DATA_FIELD:
        raise ReadError(f"{path}: {key} is not a GwyDataField")
    xres, yres, data = obj.get("xres"), obj.get("yres"), obj.get("data")
    if not (isinstance(xres, int) and isinstance(yres, int) and xres > 0 and yres > 0):
        raise ReadError(f"{path}: {key} has no valid xres/yres ({xres}, {yres})")
    if not isinstance(data, ArrayRef) or data.code != "D":
        raise ReadError(f"{path}: {key} holds no array of doubles")
    if data.count != xres * yres:
        raise ReadError(
            f"{path}: {key} declares {xres}x{yres} pixels but holds {data.count} values"
        )
    return xres, yres, data


def _real(path: Path, key: str, obj: GwyObject, name: str, default: float) -> float:
    value = obj.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ReadError(f"{path}: {key} {name} is not a number")
    value = float(value)
    if not math.isfinite(value) or (name.endswith("real") and value <= 0):
        raise ReadError(f"{path}: {key} {name} is not a valid size ({value})")
    return value


def channels_of(path: Path, root: GwyObject) -> list[Channel]:
    """Every channel (``/N/data``) of the file in channel-number order."""
    out = []
    for key, obj in root.items.items():
        number = layout.channel_number(key)
        if number is None:
            continue
        xres, yres, data = _field(path, key, obj)
        title = root.get(layout.title_key(number))
        mask_obj = root.get(layout.mask_key(number))
        mask = None
        if mask_obj is not None:
            mx, my, mask = _field(path, layout.mask_key(number), mask_obj)
            if (mx, my) != (xres, yres):
                raise ReadError(
                    f"{path}: {layout.mask_key(number)} is {mx}x{my}; "
                    f"its channel is {xres}x{yres}"
                )
        meta_obj = root.get(layout.meta_key(number))
        meta = {}
        if isinstance(meta_obj, GwyObject):
            meta = {k: v for k, v in meta_obj.items.items() if isinstance(v, str)}
        out.append(
            Channel(
                number=number,
                title=title if isinstance(title, str) else f"channel {number}",
                xres=xres,
                yres=yres,
                xreal=_real(path, key, obj, "xreal", float(xres)),
                yreal=_real(path, key, obj, "yreal", float(yres)),
                xoff=_real(path, key, obj, "xoff", 0.0),
                yoff=_real(path, key, obj, "yoff", 0.0),
                xy_unit=_unit(obj.get("si_unit_xy")),
                z_unit=_unit(obj.get("si_unit_z")),
                data=data,
                mask=mask,
                meta=meta,
            )
        )
    return sorted(out, key=lambda c: c.number)


def stack_document(path: Path, channels: list[Channel]) -> dict[str, Any] | None:
    """playnano's stack record (channel 0's ``playnano stack``), or ``None``."""
    text = next(
        (c.meta[layout.STACK_KEY] for c in channels if layout.STACK_KEY in c.meta), None
    )
    if text is None:
        return None
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ReadError(
            f"{path}: '{layout.STACK_KEY}' is not valid JSON ({exc})"
        ) from None
    if not isinstance(doc, dict):
        raise ReadError(f"{path}: '{layout.STACK_KEY}' is not a JSON object")
    version = doc.get(layout.VERSION_FIELD)
    if not isinstance(version, int) or version > layout.FORMAT_VERSION:
        raise ReadError(
            f"{path}: written by a newer playnano (gwy layout version {version}; "
            f"this one reads up to {layout.FORMAT_VERSION}); upgrade playnano to read it"
        )
    return doc


def _types(obj: GwyObject, where: str) -> list[str]:
    """Components (at any depth) of types other readers do not know."""
    out = []
    for key, code in obj.types.items():
        if code not in PORTABLE_TYPES:
            out.append(f"{where}{key} is of type {code!r}, which AFMReader cannot read")
        value = obj.items[key]
        if isinstance(value, GwyObject):
            out += _types(value, f"{where}{key}/")
    return out


def check(path: Path) -> list[str]:
    """Every way ``path`` departs from playnano's .gwy layout, one line each."""
    try:
        with opened(path) as (_, root):
            channels = channels_of(path, root)
            found = _types(root, "")
            doc = stack_document(path, channels)
    except ReadError as exc:
        return [str(exc).removeprefix(f"{path}: ")]
    if not channels:
        return [*found, "holds no channels (/N/data)"]
    titles = [c.title for c in channels]
    found += [
        f"title {t!r} is used by more than one channel"
        for t in sorted(set(titles))
        if titles.count(t) > 1
    ]
    for c in channels:
        if c.xy_unit != "m":
            found.append(
                f"{layout.data_key(c.number)} lateral unit is {c.xy_unit!r}, not 'm'"
            )
        if not math.isclose(c.xreal / c.xres, c.yreal / c.yres, rel_tol=1e-9):
            found.append(f"{layout.data_key(c.number)} pixels are not square")
    if doc is None:
        found.append(f"no '{layout.STACK_KEY}' record: not written by playnano")
    else:
        blocks = doc.get("blocks")
        n = doc.get("n_frames")
        if not isinstance(blocks, list) or not isinstance(n, int):
            found.append(f"'{layout.STACK_KEY}' has no blocks or frame count")
        else:
            want = sum(int(b.get("count", 0)) for b in blocks if isinstance(b, dict))
            if want != len(channels):
                found.append(
                    f"'{layout.STACK_KEY}' lists {want} channels; the file has {len(channels)}"
                )
    return found


def describe(path: Path) -> Any:
    """``playnano info``'s StackInfo of a .gwy, from its structure (no pixels read)."""
    from playnano.info import ArrayInfo, StackInfo
    from playnano.readers.common import length_to_nm, pick_channel

    with opened(path) as (_, root):
        found = channels_of(path, root)
        doc = stack_document(path, found)
    if not found:
        raise ReadError(f"{path}: holds no image channels (/N/data)")
    first = found[0]
    if doc is None:  # another writer's file: the channels of the default title
        titles = list(dict.fromkeys(c.title for c in found))
        title = pick_channel(path, None, titles, layout.DEFAULT_TITLE)
        same = [c for c in found if c.title == title]
        first = same[0]
        xy = length_to_nm(first.xy_unit) or 1.0
        unit = "nm" if length_to_nm(first.z_unit) else (first.z_unit or None)
        return StackInfo(
            reader="gwy",
            metadata_only=True,
            format_version=None,
            data=ArrayInfo((len(same), *first.shape), "float64", unit),
            pixel_size_nm=first.xreal / first.xres * xy,
            channel=title,
            channels=titles,
            timestamps=[None] * len(same),
            path=path,
        )
    blocks = [b for b in doc.get("blocks") or [] if isinstance(b, dict)]

    def info(block: dict[str, Any], unit: str | None) -> ArrayInfo:
        return ArrayInfo((int(block["count"]), *first.shape), str(block["dtype"]), unit)

    unit = doc.get("unit")
    layers = {str(b["role"]): info(b, unit) for b in blocks[1:]}
    masks = {
        k[len(layout.MASK_PREFIX) :]: ArrayInfo(v.shape, "bool")
        for k, v in layers.items()
        if k.startswith(layout.MASK_PREFIX)
    }
    layers = {k: v for k, v in layers.items() if not k.startswith(layout.MASK_PREFIX)}
    if doc.get("data_layer"):
        layers[str(doc["data_layer"])] = info(blocks[0], unit)
    if doc.get("attached_mask"):
        masks[str(doc["attached_mask"])] = ArrayInfo(
            info(blocks[0], None).shape, "bool"
        )
    meta = doc.get("frame_metadata") or []
    return StackInfo(
        reader="gwy",
        metadata_only=True,
        format_version=doc.get(layout.VERSION_FIELD),
        data=info(blocks[0], unit),
        pixel_size_nm=float(doc.get("pixel_size_nm") or 0.0),
        channel=str(doc.get("channel")),
        channels=[str(doc.get("channel"))],
        timestamps=[m.get("timestamp") if isinstance(m, dict) else None for m in meta],
        layers=layers,
        masks=masks,
        provenance=json.loads(first.meta.get(layout.PROVENANCE_KEY, "null")),
        path=path,
    )
