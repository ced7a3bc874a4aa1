"""``playnano info`` and ``--check`` for HDF5 bundles: attributes and small datasets.

Frame datasets are described from their HDF5 metadata (shape, dtype, filters,
``units``); only timestamps and the JSON documents are read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from playnano.errors import ReadError
from playnano.formats import _reading
from playnano.formats._inspect import BundleView, problems, real_values, to_info
from playnano.formats.bundle import text_budget
from playnano.formats.h5 import layout, safety
from playnano.info import ArrayInfo, StackInfo


def _name(dtype: np.dtype) -> str:
    return "str" if dtype.kind == "O" and dtype.metadata else dtype.name


def _attr_entry(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {"dtype": "str", "shape": []}
    arr = np.asarray(value)
    return {"dtype": arr.dtype.name, "shape": list(arr.shape)}


def _filters(ds: Any) -> str:
    if ds.compression is None:
        return "none"
    text = f"{ds.compression}"
    if ds.compression_opts is not None:
        text += f" level {ds.compression_opts}"
    return text + (" + shuffle" if ds.shuffle else "")


def table(path: Path) -> tuple[dict[str, dict[str, Any]], BundleView]:
    """The member table (HDF5 path or @attribute -> dtype, shape, units) and view."""
    import h5py

    from playnano.readers.guarded.hdf5 import open_hdf5

    p = _reading.existing(path)
    f = open_hdf5(p)
    found: list[str] = []
    members: dict[str, dict[str, Any]] = {}
    datasets: dict[str, Any] = {}
    with f:

        def visit(name: str, obj: Any) -> None:
            if isinstance(obj, h5py.Dataset):
                units = obj.attrs.get(layout.UNITS_ATTR)
                members[f"/{name}"] = {
                    "dtype": _name(obj.dtype),
                    "shape": list(obj.shape),
                    "units": units if isinstance(units, str) else None,
                }
                datasets[f"/{name}"] = obj
            elif name not in (layout.LAYERS_GROUP, layout.MASKS_GROUP):
                found.append(f"unexpected group /{name}")

        def walk(grp: Any, prefix: str) -> None:
            for name in grp:  # by name: a hard-linked layer is listed too
                link = grp.get(name, getlink=True)
                hard = isinstance(link, h5py.HardLink)
                if hard and grp.get(name, getclass=True) is h5py.Group:
                    obj = grp[name]
                else:  # datasets only as the reader takes them: no links out
                    obj = safety.dataset(grp, name, p, f"/{prefix}{name}")
                visit(f"{prefix}{name}", obj)
                if isinstance(obj, h5py.Group) and not prefix:
                    walk(obj, f"{name}/")
                elif isinstance(obj, h5py.Group):
                    found.append(f"unexpected group /{prefix}{name}")

        try:
            walk(f, "")
            attrs = {k: f.attrs[k] for k in f.attrs}
            data_shape = members.get(f"/{layout.DATA}", {}).get("shape") or [0]
            budget = text_budget(data_shape[0])
            small = {}
            for key in (layout.TIMESTAMPS, layout.FRAME_METADATA, layout.PROVENANCE):
                ds = datasets.get(f"/{key}")
                if ds is None:
                    continue
                if ds.size * ds.dtype.itemsize > budget:
                    found.append(f"/{key} holds more than {budget} bytes; not read")
                    continue
                small[key] = ds[()]
            data_ds = datasets.get(f"/{layout.DATA}")
            compression = _filters(data_ds) if data_ds is not None else None
        except (OSError, KeyError, RuntimeError) as exc:
            raise ReadError(f"{p}: unreadable ({exc})") from None
    members |= {f"@{k}": _attr_entry(v) for k, v in attrs.items()}

    def text_json(key: str) -> Any:
        if key not in small:
            return None
        try:
            return json.loads(_reading.as_text(p, key, small[key]))
        except (ReadError, ValueError) as exc:
            found.append(f"/{key} is not valid JSON text ({exc})")
            return None

    def arr(key: str) -> ArrayInfo:
        m = members[key]
        return ArrayInfo(tuple(m["shape"]), m["dtype"], m.get("units"))

    def group(prefix: str) -> dict[str, ArrayInfo]:
        return {k[len(prefix) :]: arr(k) for k in members if k.startswith(prefix)}

    channel = attrs.get(layout.CHANNEL_ATTR)
    if isinstance(channel, bytes):
        channel = channel.decode("utf-8", "replace")
    version = attrs.get(layout.VERSION_KEY)
    layers = group(f"/{layout.LAYERS_GROUP}/")
    units = None
    if f"/{layout.DATA}" in members and members[f"/{layout.DATA}"]["units"] is not None:
        units = {
            "data": members[f"/{layout.DATA}"]["units"],
            "processed": {k: v.units for k, v in layers.items() if v.units is not None},
            "timestamps": members.get(f"/{layout.TIMESTAMPS}", {}).get("units"),
            "pixel_size_nm": "nm",
        }
    times = small.get(layout.TIMESTAMPS)
    view = BundleView(
        path=p,
        version=np.asarray(version).item() if version is not None else None,
        data=arr(f"/{layout.DATA}") if f"/{layout.DATA}" in members else None,
        pixel_size_nm=(
            np.asarray(attrs[layout.PIXEL_SIZE_ATTR]).item()
            if layout.PIXEL_SIZE_ATTR in attrs
            else None
        ),
        channel=channel,
        frame_metadata=text_json(layout.FRAME_METADATA),
        provenance=text_json(layout.PROVENANCE),
        timestamps=real_values(times, layout.TIMESTAMPS, found),
        layers=layers,
        masks=group(f"/{layout.MASKS_GROUP}/"),
        units=units,
        compression=compression,
        found=found,
    )
    return members, view


def inspect(path: Path) -> StackInfo:
    """Describe an HDF5 bundle without reading its frames."""
    members, view = table(path)
    missing = [f"/{k}" for k in layout.REQUIRED if f"/{k}" not in members]
    missing += [
        f"attribute {a}" for a in layout.REQUIRED_ATTRS if f"@{a}" not in members
    ]
    if missing:
        raise ReadError(f"{path}: not a playnano bundle; missing {', '.join(missing)}")
    _reading.check_version(view.path, view.version, layout.FORMAT_VERSION)
    return to_info(view, "h5-bundle")


def check(path: Path) -> list[str]:
    """Every way the HDF5 bundle departs from the specification, one line each."""
    from playnano.schemas import load_schema, validate

    try:
        members, view = table(path)
    except ReadError as exc:  # refused before reading: that is the one problem
        return [str(exc).removeprefix(f"{path}: ")]
    out = validate(members, load_schema("h5-bundle"), "file")
    return out + problems(view, layout.FORMAT_VERSION)
