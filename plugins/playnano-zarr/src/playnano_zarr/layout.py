"""The store layout shared by the exporter and the reader: names, axes, metadata.

A store written by playnano looks like this (NGFF 0.5, Zarr format 3)::

    video.ome.zarr/                 root image: the exported frames
        zarr.json                   attributes: "ome" (multiscales) and "playnano"
        0/                          (t, y, x) array, one chunk per frame
        labels/                     NGFF labels group: "ome": {"labels": [...]}
            <mask>/                 NGFF image-label, uint8 (1 inside the mask)
                0/
        processed/                  playnano's processed layers
            <layer>/                a complete NGFF image of its own
                0/

Only this module knows these names; it imports neither zarr nor anything heavy.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

NGFF_VERSION = "0.5"
#: Version of the ``playnano`` attribute block; bumped when its meaning changes.
FORMAT_VERSION = 1
PLAYNANO_KEY = "playnano"
#: Path of the full-resolution array inside every image group (no pyramid is written).
LEVEL_PATH = "0"
LABELS_GROUP = "labels"
PROCESSED_GROUP = "processed"
DIMENSION_NAMES = ("t", "y", "x")
TIME_UNIT = "second"
SPACE_UNIT = "nanometer"
UNKNOWN_INTERVAL_NOTE = (
    "frame interval unknown (fewer than two increasing timestamps); "
    "the time axis scale is set to 1.0"
)
#: Bytes of frames written per call: bounds memory, lets zarr encode chunks in parallel.
WRITE_BLOCK_BYTES = 64 << 20

#: Length units NGFF allows, in nanometres (readers of foreign stores convert).
SPACE_UNITS_NM = {
    "nanometer": 1.0,
    "micrometer": 1e3,
    "millimeter": 1e6,
    "centimeter": 1e7,
    "meter": 1e9,
    "angstrom": 0.1,
    "picometer": 1e-3,
}
#: Time units NGFF allows, in seconds.
TIME_UNITS_S = {
    "second": 1.0,
    "millisecond": 1e-3,
    "microsecond": 1e-6,
    "nanosecond": 1e-9,
    "minute": 60.0,
    "hour": 3600.0,
}

_UNSAFE_NODE = re.compile(r"[^A-Za-z0-9._-]+")


def axes() -> list[dict[str, str]]:
    """NGFF axes of every image: time in seconds, then y and x in nanometres."""
    return [
        {"name": "t", "type": "time", "unit": TIME_UNIT},
        {"name": "y", "type": "space", "unit": SPACE_UNIT},
        {"name": "x", "type": "space", "unit": SPACE_UNIT},
    ]


def multiscales(name: str, scale: Sequence[float]) -> list[dict[str, Any]]:
    """The ``multiscales`` list of a one-level (t, y, x) image named ``name``.

    Parameters
    ----------
    name : str
        Image name (the channel, the layer key or the mask key).
    scale : sequence of float
        ``[frame interval s, pixel size nm, pixel size nm]``.
    """
    return [
        {
            "name": name,
            "axes": axes(),
            "datasets": [
                {
                    "path": LEVEL_PATH,
                    "coordinateTransformations": [
                        {"type": "scale", "scale": [float(s) for s in scale]}
                    ],
                }
            ],
        }
    ]


def frame_interval_s(timestamps: Iterable[float | None]) -> float | None:
    """Median difference between consecutive known timestamps, in seconds.

    Returns ``None`` when fewer than two consecutive frames have timestamps or the
    median step is not a positive, finite number.
    """
    times = list(timestamps)
    steps = [
        b - a for a, b in itertools.pairwise(times) if a is not None and b is not None
    ]
    if not steps:
        return None
    steps.sort()
    mid = len(steps) // 2
    median = steps[mid] if len(steps) % 2 else (steps[mid - 1] + steps[mid]) / 2
    return median if median > 0 and math.isfinite(median) else None


def node_names(keys: Iterable[str]) -> dict[str, str]:
    """A Zarr node name for each layer or mask key: safe characters, all distinct.

    Keys are kept as they are when already safe (``step_1_remove_plane``); others
    have runs of unsafe characters replaced by ``_`` and a number added on collision.
    The original keys are stored in the attributes, so nothing is lost.
    """
    out: dict[str, str] = {}
    taken: set[str] = set()
    for key in keys:
        base = _UNSAFE_NODE.sub("_", key).strip(".") or "layer"
        if base.startswith("__"):  # reserved by Zarr v3
            base = "layer" + base
        name, n = base, 1
        while name.lower() in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name.lower())
        out[key] = name
    return out


def read_attributes(path: Path) -> dict[str, Any] | None:
    """Attributes of the Zarr group at ``path`` read as plain JSON, or ``None``.

    Reads ``zarr.json`` (Zarr 3) or ``.zattrs`` (Zarr 2) without importing zarr, so
    readers can be asked cheaply whether they recognise a folder.
    """
    try:
        v3 = path / "zarr.json"
        if v3.is_file():
            meta = json.loads(v3.read_text(encoding="utf-8"))
            if not isinstance(meta, dict) or meta.get("node_type") != "group":
                return None
            attrs = meta.get("attributes", {})
        elif (path / ".zgroup").is_file():
            v2 = path / ".zattrs"
            attrs = json.loads(v2.read_text(encoding="utf-8")) if v2.is_file() else {}
        else:
            return None
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return attrs if isinstance(attrs, dict) else None


def ome_block(attrs: dict[str, Any]) -> dict[str, Any]:
    """The NGFF metadata of a group: under ``ome`` (0.5) or at the top level (<=0.4)."""
    ome = attrs.get("ome")
    return ome if isinstance(ome, dict) else attrs
