"""``playnano info`` and ``--check`` for NPZ bundles: headers and small members only.

Frame members are described from their ``.npy`` headers; only the small members
(text, JSON, scalars, timestamps) are read.
"""

from __future__ import annotations

import contextlib
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from playnano.errors import ReadError
from playnano.formats import _reading
from playnano.formats._inspect import BundleView, problems, real_values, to_info
from playnano.formats.bundle import text_budget
from playnano.formats.npz import layout
from playnano.info import ArrayInfo, StackInfo

_COMPRESSION = {
    zipfile.ZIP_STORED: "none (zip stored)",
    zipfile.ZIP_DEFLATED: "zip deflate",
}
_COMPRESSION |= {zipfile.ZIP_BZIP2: "zip bzip2", zipfile.ZIP_LZMA: "zip lzma"}


def table(path: Path) -> tuple[dict[str, dict[str, Any]], dict[str, Any], BundleView]:
    """The member table (name -> dtype, shape), the small members, and the view.

    Sizes are checked first (:func:`.members.open_npz`), so a hostile file is a
    one-line ReadError before anything is inflated.
    """
    from playnano.formats.npz.members import open_npz
    from playnano.formats.npz.reader import read_member

    p = _reading.existing(path)
    found: list[str] = []
    small: dict[str, Any] = {}
    with open_npz(p) as (zf, declared):
        members = {
            k: {"dtype": m.dtype.name, "shape": list(m.shape)}
            for k, m in declared.items()
        }
        frames = declared[layout.DATA].shape[0] if layout.DATA in declared else 0
        budget = text_budget(frames)
        for key, m in declared.items():
            big = key == layout.DATA or key.startswith(
                (layout.LAYER_PREFIX, layout.MASK_PREFIX)
            )
            if not big and m.info.file_size > budget:  # a bomb in a small member
                found.append(f"{key} holds {m.info.file_size} bytes; not read")
            elif not big:
                try:
                    small[key] = read_member(zf, m.info.filename, p)
                except ReadError as exc:
                    found.append(str(exc).removeprefix(f"{p}: "))
        data = declared.get(layout.DATA)
    view = _view(p, members, small, found)
    if data is not None:
        view.compression = _COMPRESSION.get(data.info.compress_type, "other")
    return members, small, view


def _text_json(p: Path, small: dict[str, Any], key: str, found: list[str]) -> Any:
    if key not in small:
        return None
    try:
        return json.loads(_reading.as_text(p, key, small[key]))
    except (ReadError, ValueError) as exc:
        found.append(
            f"{key} is not valid JSON text ({str(exc).removeprefix(f'{p}: ')})"
        )
        return None


def _scalar(value: Any) -> Any:
    arr = np.asarray(value)
    return (
        arr.reshape(()).item() if arr.size == 1 and arr.dtype.kind in "biuf" else value
    )


def _view(
    p: Path, members: dict[str, dict[str, Any]], small: dict[str, Any], found: list[str]
) -> BundleView:
    def arr(key: str, units: Any = None) -> ArrayInfo:
        m = members[key]
        return ArrayInfo(tuple(m["shape"]), m["dtype"], units)

    units = _text_json(p, small, layout.UNITS, found)
    unit_map = units if isinstance(units, dict) else {}
    layer_units: dict[str, Any] = unit_map.get("processed") or {}
    if not isinstance(layer_units, dict):
        layer_units = {}
    channel: Any = small.get(layout.CHANNEL)
    if channel is not None:
        with contextlib.suppress(ReadError):
            channel = _reading.as_text(p, "channel", channel)
    times = small.get(layout.TIMESTAMPS)
    return BundleView(
        path=p,
        version=_scalar(small[layout.VERSION_KEY])
        if layout.VERSION_KEY in small
        else None,
        data=arr(layout.DATA, unit_map.get("data")) if layout.DATA in members else None,
        pixel_size_nm=_scalar(small.get(layout.PIXEL_SIZE)),
        channel=channel,
        frame_metadata=_text_json(p, small, layout.FRAME_METADATA, found),
        provenance=_text_json(p, small, layout.PROVENANCE, found),
        timestamps=real_values(times, layout.TIMESTAMPS, found),
        layers={
            k[len(layout.LAYER_PREFIX) :]: arr(
                k, layer_units.get(k[len(layout.LAYER_PREFIX) :])
            )
            for k in members
            if k.startswith(layout.LAYER_PREFIX)
        },
        masks={
            k[len(layout.MASK_PREFIX) :]: arr(k)
            for k in members
            if k.startswith(layout.MASK_PREFIX)
        },
        units=units if layout.UNITS in small else None,
        found=found,
    )


def inspect(path: Path) -> StackInfo:
    """Describe an NPZ bundle without reading its frames."""
    members, _small, view = table(path)
    missing = [k for k in layout.REQUIRED if k not in members]
    if missing:
        raise ReadError(f"{path}: not a playnano bundle; missing {', '.join(missing)}")
    _reading.check_version(view.path, view.version, layout.FORMAT_VERSION)
    return to_info(view, "npz-bundle")


def check(path: Path) -> list[str]:
    """Every way the NPZ bundle departs from the specification, one line each."""
    from playnano.schemas import load_schema, validate

    try:
        members, _small, view = table(path)
    except ReadError as exc:  # refused before reading: that is the one problem
        return [str(exc).removeprefix(f"{path}: ")]
    out = validate(members, load_schema("npz-bundle"), "members")
    return out + problems(view, layout.FORMAT_VERSION)
