"""Describing and checking a bundle from its metadata, shared by the three formats.

Each format's ``info`` module reads a file's headers, small members and JSON
documents into a :class:`BundleView`, without reading frame data. :func:`to_info`
turns the view into the :class:`~playnano.info.StackInfo` ``playnano info`` shows;
:func:`problems` checks it against the bundle specification (``docs/bundle-format``
and ``playnano/schemas``) for ``playnano info --check``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playnano.info import ArrayInfo, StackInfo


@dataclass
class BundleView:
    """What a bundle holds, read from its metadata (frames are not read)."""

    path: Path
    version: Any
    data: ArrayInfo | None
    pixel_size_nm: Any
    channel: Any
    frame_metadata: Any
    provenance: Any
    timestamps: Any = None
    layers: dict[str, ArrayInfo] = field(default_factory=dict)
    masks: dict[str, ArrayInfo] = field(default_factory=dict)
    units: dict[str, Any] | None = None
    compression: str | None = None
    #: Problems met while reading (missing or unreadable parts), one line each.
    found: list[str] = field(default_factory=list)
    #: Whether the layout requires timestamps and a version (not for OME-TIFF).
    bundle: bool = True


def real_values(value: Any, key: str, found: list[str]) -> list[float] | None:
    """``value`` (a stored array) as a list of floats; a problem in ``found`` and
    None when it holds something else (text, complex numbers...)."""
    import numpy as np

    if value is None:
        return None
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        found.append(f"{key} holds {arr.dtype} values, not real numbers")
        return None
    return [float(v) for v in arr.ravel()]


def _times(view: BundleView) -> list[float | None]:
    """Frame times from /timestamps, else from the frame metadata."""
    ts = view.timestamps
    if ts is not None:
        return [None if not math.isfinite(float(t)) else float(t) for t in ts]
    meta = view.frame_metadata if isinstance(view.frame_metadata, list) else []
    out: list[float | None] = []
    for md in meta:
        t = md.get("timestamp") if isinstance(md, dict) else None
        out.append(float(t) if isinstance(t, (int, float)) else None)
    return out


def to_info(view: BundleView, reader: str) -> StackInfo:
    """The StackInfo of a bundle whose view has no problems that stop reading."""
    from playnano.errors import ReadError

    if view.data is None or view.found:
        first = view.found[0] if view.found else "no frame data"
        raise ReadError(f"{view.path}: {first}")
    meta, n = view.frame_metadata, view.data.shape[0] if view.data.shape else 0
    if isinstance(meta, list) and len(meta) != n:  # read() refuses it too
        raise ReadError(
            f"{view.path}: frame_metadata has {len(meta)} entries; the data has "
            f"{n} frames"
        )
    try:
        version = None if view.version is None else int(view.version)
        size = float(view.pixel_size_nm)
    except (TypeError, ValueError):
        raise ReadError(f"{view.path}: version or pixel size is not a number") from None
    return StackInfo(
        reader=reader,
        metadata_only=True,
        format_version=version,
        data=view.data,
        pixel_size_nm=size,
        channel=str(view.channel),
        channels=[str(view.channel)],
        timestamps=_times(view),
        layers=view.layers,
        masks=view.masks,
        provenance=view.provenance if isinstance(view.provenance, dict) else None,
        compression=view.compression,
        path=view.path,
    )


def _check_json(view: BundleView, out: list[str]) -> None:
    from playnano.schemas import load_schema, validate

    n = view.data.shape[0] if view.data is not None and view.data.shape else None
    meta = view.frame_metadata
    out += validate(meta, load_schema("frame_metadata"), "frame_metadata_json")
    if isinstance(meta, list) and n is not None and len(meta) != n:
        out.append(f"frame_metadata_json has {len(meta)} entries for {n} frames")
    out += validate(view.provenance, load_schema("provenance"), "provenance_json")


def problems(view: BundleView, supported_version: int) -> list[str]:
    """Every way the bundle departs from the specification, one line each."""
    out = list(view.found)
    data = view.data
    if data is not None:
        if len(data.shape) != 3 or min(data.shape, default=0) < 1:
            out.append(f"data has shape {list(data.shape)}; expected (frames, y, x)")
        if data.dtype[:1] not in {"f", "i", "u"} and data.dtype != "bool":
            out.append(f"data has dtype {data.dtype}; expected a numeric dtype")
        # layers are snapshots: frames dropped later change data only; masks match
        for kind, arrays in (("processed layer", view.layers), ("mask", view.masks)):
            for key, arr in arrays.items():
                if len(arr.shape) != 3:
                    out.append(
                        f"{kind} {key!r} has shape {list(arr.shape)}; "
                        "expected (frames, y, x)"
                    )
                if kind == "mask" and arr.shape != data.shape:
                    out.append(
                        f"mask {key!r} has shape {list(arr.shape)}; "
                        f"data has {list(data.shape)}"
                    )
                if kind == "mask" and arr.dtype != "bool":
                    out.append(f"mask {key!r} has dtype {arr.dtype}; expected bool")
        ts = view.timestamps
        if view.bundle and ts is not None and len(ts) != data.shape[0]:
            out.append(f"timestamps has {len(ts)} values for {data.shape[0]} frames")
    size = view.pixel_size_nm
    if not isinstance(size, (int, float)) or not math.isfinite(size) or size <= 0:
        out.append(f"pixel_size_nm is {size!r}; expected a positive number")
    if not isinstance(view.channel, str):
        out.append(f"channel is {view.channel!r}; expected a string")
    if view.version is not None:
        if not isinstance(view.version, int) or isinstance(view.version, bool):
            out.append(f"playnano_format_version is {view.version!r}; expected int")
        elif not 1 <= view.version <= supported_version:
            out.append(
                f"playnano_format_version is {view.version}; this playnano "
                f"knows 1 to {supported_version}"
            )
    if view.units is not None:
        from playnano.schemas import load_schema, validate

        out += validate(view.units, load_schema("units"), "units")
        layer_units = view.units.get("processed") if view.units else None
        if isinstance(layer_units, dict):
            extra = sorted(set(layer_units) - set(view.layers))
            out += [f"units names a layer {k!r} the file does not hold" for k in extra]
    _check_json(view, out)
    return out
