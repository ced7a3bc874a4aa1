"""The store layout shared by the exporter and the reader: names, axes, metadata.

A store written by playnano looks like this (NGFF 0.5, Zarr format 3)::

    video.ome.zarr/                 root image: the exported frames
        zarr.json                   "ome" (multiscales, omero) and a small "playnano"
        0/  [1/ 2/ ...]             (t, y, x) levels, sharded: few files per level
        labels/                     NGFF labels group: "ome": {"labels": [...]}
            <mask>/                 NGFF image-label, uint8 (1 inside the mask)
                0/ [1/ ...]
        processed/                  playnano's processed layers
            <layer>/                a complete NGFF image of its own
                0/ [1/ ...]
        display/                    optional float32 copy of the root image
                0/ [1/ ...]
        playnano/                   side data, plain Zarr arrays
            timestamps              float64 (t,), seconds; NaN: unknown
            frame_metadata          uint8: UTF-8 JSON, one object per frame
            provenance              uint8: UTF-8 JSON
            state_backups           uint8: UTF-8 JSON (when the stack has any)

Per-frame data lives in arrays, so ``zarr.json`` stays a few kB however long the
video. Only this module knows these names; it imports neither zarr nor anything
heavy.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack
    from playnano.formats.bundle import BundleContents

NGFF_VERSION = "0.5"
#: Version of the ``playnano`` attribute block; bumped when its meaning changes.
#: 1: frame metadata and provenance in the attributes, one chunk per frame.
#: 2: sharded arrays, side data under ``playnano/``, omero, optional levels.
FORMAT_VERSION = 2
PLAYNANO_KEY = "playnano"
#: Path of the full-resolution array inside every image group; level ``n`` is
#: at ``str(n)``.
LEVEL_PATH = "0"
LABELS_GROUP = "labels"
PROCESSED_GROUP = "processed"
DISPLAY_GROUP = "display"
SIDE_GROUP = "playnano"
TIMESTAMPS = f"{SIDE_GROUP}/timestamps"
FRAME_METADATA = f"{SIDE_GROUP}/frame_metadata"
PROVENANCE = f"{SIDE_GROUP}/provenance"
STATE_BACKUPS = f"{SIDE_GROUP}/state_backups"
#: A processed layer that is the exported data itself is stored once, as the root
#: image; its entry in ``playnano.processed`` is this path.
ROOT_IMAGE = "."
DIMENSION_NAMES = ("t", "y", "x")
TIME_UNIT = "second"
SPACE_UNIT = "nanometer"
#: Frame times count as regular when every frame lies within this fraction of a
#: frame interval of ``t0 + i * dt`` (float rounding and clock ticks, not jitter).
REGULAR_TOLERANCE = 1e-3
#: Display colour of mask pixels in viewers that honour ``image-label`` colours.
MASK_RGBA = [255, 64, 64, 160]
#: What the downsampled levels are, for the multiscales ``type``.
DOWNSCALE_TYPE = "mean"

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


@dataclass(frozen=True)
class TimeAxis:
    """What NGFF 0.5 can say about the frame times: one step and an origin.

    NGFF 0.5 has a ``scale`` and a ``translation`` per axis, nothing per frame.
    Regular times are ``origin_s + i * interval_s`` in seconds; otherwise the axis
    has no unit and counts frames (``interval_s`` and ``origin_s`` are None, the
    scale 1), and the exact times are only in :data:`TIMESTAMPS`.
    """

    interval_s: float | None
    origin_s: float | None
    state: str  # "regular", "irregular" or "unknown"

    @property
    def scale(self) -> float:
        """The ``t`` scale: seconds per frame, or 1 (frames) when not regular."""
        return self.interval_s if self.interval_s is not None else 1.0

    @property
    def origin(self) -> float:
        """The ``t`` translation: the first frame's time, or 0 when not regular."""
        return self.origin_s if self.origin_s is not None else 0.0

    @property
    def unit(self) -> str | None:
        """``second`` when regular, else None (the axis counts frames)."""
        return TIME_UNIT if self.interval_s is not None else None


def time_axis(timestamps: Sequence[float | None]) -> TimeAxis:
    """The NGFF time axis of frames taken at ``timestamps`` (seconds or None).

    Regular when there are two frames or more, all times are known and increasing,
    and every frame is within :data:`REGULAR_TOLERANCE` of a frame interval of the
    line through the first and the last.
    """
    times = list(timestamps)
    known = [t for t in times if t is not None and math.isfinite(t)]
    if len(times) < 2 or len(known) < len(times):
        return TimeAxis(None, None, "unknown")
    t0, n = float(known[0]), len(known)
    dt = (float(known[-1]) - t0) / (n - 1)
    if not (dt > 0 and math.isfinite(dt)):
        return TimeAxis(None, None, "irregular")
    worst = max(abs(t - (t0 + i * dt)) for i, t in enumerate(known))
    if worst > REGULAR_TOLERANCE * dt:
        return TimeAxis(None, None, "irregular")
    return TimeAxis(dt, t0, "regular")


def axes(time: TimeAxis) -> list[dict[str, str]]:
    """NGFF axes of every image: time (seconds when regular), y and x in nm."""
    t: dict[str, str] = {"name": "t", "type": "time"}
    if time.unit is not None:
        t["unit"] = time.unit
    return [
        t,
        {"name": "y", "type": "space", "unit": SPACE_UNIT},
        {"name": "x", "type": "space", "unit": SPACE_UNIT},
    ]


def level_transforms(
    level: int, time: TimeAxis, pixel_nm: float
) -> list[dict[str, Any]]:
    """``coordinateTransformations`` of level ``level`` (0: full resolution).

    Level ``n`` pixels are ``2**n`` level-0 pixels wide; their centres sit
    ``(2**n - 1) / 2`` level-0 pixels in, which the translation says.
    """
    factor = 2.0**level
    px = float(pixel_nm) * factor
    shift = float(pixel_nm) * (factor - 1) / 2
    out: list[dict[str, Any]] = [
        {"type": "scale", "scale": [float(time.scale), px, px]}
    ]
    if time.origin or shift:
        out.append(
            {"type": "translation", "translation": [float(time.origin), shift, shift]}
        )
    return out


def multiscales(
    name: str, time: TimeAxis, pixel_nm: float, levels: int = 1
) -> list[dict[str, Any]]:
    """The ``multiscales`` list of a (t, y, x) image named ``name``.

    Parameters
    ----------
    name : str
        Image name (the channel, the layer key or the mask key).
    time : TimeAxis
        The frame times as NGFF can say them.
    pixel_nm : float
        Level-0 pixel size in nm.
    levels : int
        Number of levels (1: full resolution only).
    """
    image: dict[str, Any] = {
        "name": name,
        "axes": axes(time),
        "datasets": [
            {
                "path": str(level),
                "coordinateTransformations": level_transforms(level, time, pixel_nm),
            }
            for level in range(levels)
        ],
    }
    if levels > 1:
        image["type"] = DOWNSCALE_TYPE
        image["metadata"] = {
            "description": "each level is the mean of 2x2 pixel blocks of the one "
            "above (finite values only; masks: the majority)",
            "method": "playnano_zarr.pyramid",
        }
    return [image]


def image_ome(name: str, time: TimeAxis, pixel_nm: float, levels: int) -> Any:
    """The ``ome`` attribute of a (t, y, x) image group (without ``omero``)."""
    return {
        "version": NGFF_VERSION,
        "multiscales": multiscales(name, time, pixel_nm, levels),
    }


def label_ome(key: str, time: TimeAxis, pixel_nm: float, levels: int) -> Any:
    """The ``ome`` attribute of the image-label of mask ``key`` (1: inside)."""
    ome = image_ome(key, time, pixel_nm, levels)
    ome["image-label"] = {
        "colors": [{"label-value": 1, "rgba": MASK_RGBA}],
        "properties": [{"label-value": 1, "playnano-mask": key}],
        "source": {"image": "../../"},
    }
    return ome


def omero(
    label: str,
    window: tuple[float, float],
    extremes: tuple[float, float],
    colormap: str,
    color_hex: str,
) -> dict[str, Any]:
    """The ``omero`` rendering block of a one-channel height image.

    ``window`` is the display range (``start``, ``end``); ``extremes`` the data's
    finite minimum and maximum (``min``, ``max``, widened to hold the window).
    OMERO's ``lut`` names the colour map; ``color`` is its brightest colour, for
    viewers that draw a black-to-colour ramp.
    """
    lo, hi = (float(v) for v in window)
    mn, mx = (float(v) for v in extremes)
    mn = min(mn, lo) if math.isfinite(mn) else lo
    mx = max(mx, hi) if math.isfinite(mx) else hi
    return {
        "channels": [
            {
                "label": label,
                "color": color_hex,
                "lut": colormap,
                "window": {"min": mn, "max": mx, "start": lo, "end": hi},
                "active": True,
                "coefficient": 1.0,
                "family": "linear",
                "inverted": False,
            }
        ],
        "rdefs": {"model": "color", "defaultT": 0},
    }


def playnano_attrs(
    stack: AFMImageStack,
    c: BundleContents,
    time: TimeAxis,
    raw: bool,
    paths: Mapping[str, Any],
    window: tuple[float, float] | None,
    zmin: Any,
    zmax: Any,
    cmap: str,
    copy: bool,
    levels: int,
) -> dict[str, Any]:
    """The root's ``playnano`` block: small whatever the number of frames.

    ``paths`` maps ``processed`` and ``masks`` to ``{key: group path}``.
    """
    from playnano.provenance import make_json_safe

    from playnano_zarr import __version__

    attrs: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "writer": f"playnano-zarr {__version__}",
        "channel": stack.channel,
        "pixel_size_nm": stack.pixel_size_nm,
        "n_frames": int(c.data.shape[0]),
        "units": c.units,
        "raw": bool(raw),
        "source_file": stack.file_path.name if stack.file_path else None,
        "frame_interval_s": time.interval_s,
        "time": {
            "axis": time.state,
            "interval_s": time.interval_s,
            "origin_s": time.origin_s,
            "timestamps": TIMESTAMPS,
        },
        "frame_metadata": FRAME_METADATA,
        "provenance": PROVENANCE,
        "state_backups": STATE_BACKUPS if c.state_backups_json else None,
        **paths,
        "levels": levels,
        "display": {
            "colormap": cmap,
            "window": list(window) if window is not None else None,
            "zmin": zmin,
            "zmax": zmax,
            "float32_copy": DISPLAY_GROUP if copy else None,
        },
    }
    out = make_json_safe(attrs)
    json.dumps(out, allow_nan=False)  # strict JSON, as every Zarr reader expects
    return out


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
