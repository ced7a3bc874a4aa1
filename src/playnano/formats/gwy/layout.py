"""The Gwyddion ``.gwy`` layout playnano writes and reads: keys, titles, units.

A ``.gwy`` file is ``GWYP`` followed by one serialised ``GwyContainer`` whose items
are keyed like paths. playnano writes one *channel* per frame (and per layer or mask
when asked), numbered from 0::

    /N/data          GwyDataField: the frame, float64 in SI units (metres for
                     heights) with its real width, height and offset
    /N/data/title    "<channel> frame <i> (t = <s> s)"; a layer's channels put the
                     layer name before "frame", a mask's say "mask <name>"
    /N/mask          GwyDataField of 0/1: the newest mask of that frame
    /N/meta          GwyContainer of strings: the frame's time, start time, line
                     rate, scan direction, channel, layer, source and processing for
                     people; ``playnano`` (JSON: frame index, layer, dtype, frame
                     metadata) and, where needed, ``playnano exact values`` for
                     playnano's reader. Channel 0's also hold ``playnano stack``
                     (JSON: format version, channel, pixel size, units, layers,
                     masks, state backups) and ``Provenance`` (JSON).

Channels 0..n-1 are the exported frames; with ``layers=all`` each other processed
layer follows as a block of n channels, then each older mask as a block of mask
channels. Only the component types every other ``.gwy`` reader knows are written
(object, int, double, string, double array; AFMReader reads no others), and only
the keys Gwyddion's ``--check`` knows. Only this module knows these names; it
imports nothing heavy.
"""

from __future__ import annotations

import math
from typing import Any

from playnano.readers.common import length_to_nm

SUFFIX = ".gwy"
MAGIC = b"GWYP"
CONTAINER = "GwyContainer"
DATA_FIELD = "GwyDataField"
SI_UNIT = "GwySIUnit"
#: Version of what playnano stores in the metadata (``playnano stack``), and its key.
FORMAT_VERSION = 1
VERSION_FIELD = "playnano_format_version"
#: Frame-metadata keys a reader may give for the frame's offset (nm).
OFFSET_KEYS = ("x_offset_nm", "y_offset_nm")

#: Metadata keys playnano's reader uses (in each channel's /N/meta).
STACK_KEY = "playnano stack"
FRAME_KEY = "playnano"
EXACT_KEY = "playnano exact values"
PROVENANCE_KEY = "Provenance"
#: Role of a channel in ``FRAME_KEY``'s ``layer``: the exported frames.
DATA_LAYER = "data"
#: Prefix of a mask channel's ``layer``.
MASK_PREFIX = "mask:"
#: Channel title read from a file playnano did not write when none is asked for.
DEFAULT_TITLE = "Height"
#: Largest file a .gwy can be: the root container's size is a 32-bit number.
MAX_BYTES = 2**32 - 1


def data_key(n: int) -> str:
    """``/N/data``: channel ``n``'s data field."""
    return f"/{n}/data"


def title_key(n: int) -> str:
    """``/N/data/title``: channel ``n``'s title."""
    return f"/{n}/data/title"


def mask_key(n: int) -> str:
    """``/N/mask``: channel ``n``'s mask."""
    return f"/{n}/mask"


def meta_key(n: int) -> str:
    """``/N/meta``: channel ``n``'s metadata container."""
    return f"/{n}/meta"


def channel_number(key: str, suffix: str = "/data") -> int | None:
    """``N`` of a key ``/N<suffix>``, or ``None`` when ``key`` is not one."""
    if not (key.startswith("/") and key.endswith(suffix)):
        return None
    number = key[1 : len(key) - len(suffix)]
    return int(number) if number.isdigit() and len(number) < 10 else None


def frame_title(channel: str, index: int, time_s: float | None, layer: str = "") -> str:
    """What Gwyddion lists for a channel: name, frame index and time."""
    name = f"{channel} {layer}".strip()
    if time_s is None or not math.isfinite(time_s):
        return f"{name} frame {index}"
    return f"{name} frame {index} (t = {time_s:.3f} s)"


def si_factor(unit: str | None) -> tuple[str, float]:
    """The SI unit heights in ``unit`` are written in, and data units per SI unit.

    Lengths become metres (``("m", 1e9)`` for nm: stored = nm / 1e9); anything
    else keeps its unit and values (``unknown`` is written unitless).
    """
    nm = length_to_nm(unit)
    if nm is not None:
        return "m", 1e9 / nm
    if unit is None or unit == "unknown":
        return "", 1.0
    return unit, 1.0


def format_duration(value: Any, unit: str = "s") -> str | None:
    """A number with its unit for the metadata browser, or ``None``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value):
        return None
    return f"{value:g} {unit}"
