"""What each channel's Gwyddion metadata says: for people, and for playnano's reader.

Gwyddion shows a channel's metadata (Data Process → Metadata Browser) as text
pairs; every value here is a string. The human entries are plain words with units;
the ``playnano`` entries are JSON that :mod:`playnano.formats.gwy.reader` reads.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import TYPE_CHECKING, Any

from playnano.formats.gwy import layout
from playnano.provenance import to_json

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack


def start_time(epoch_ms: Any) -> str | None:
    """``2017-11-21 13:12:39.000 UTC`` from epoch milliseconds, or ``None``."""
    if isinstance(epoch_ms, bool) or not isinstance(epoch_ms, (int, float)):
        return None
    try:
        when = _dt.datetime.fromtimestamp(epoch_ms / 1000, tz=_dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return when.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def processing_summary(provenance: dict[str, Any]) -> str:
    """The processing steps in order with their parameters, one line."""
    processing = provenance.get("processing") or {}
    steps = processing.get("steps") if isinstance(processing, dict) else None
    parts = []
    for step in steps or []:
        if not isinstance(step, dict):
            continue
        params = step.get("params") or {}
        args = ",".join(f"{k}={v}" for k, v in params.items()) if params else ""
        parts.append(f"{step.get('name')}:{args}" if args else str(step.get("name")))
    return "; ".join(parts) or "none"


def source_summary(provenance: dict[str, Any]) -> str | None:
    """``video.asd (sha256 …)``: the instrument file the frames came from."""
    source = provenance.get("source") or {}
    if not isinstance(source, dict) or not source.get("file"):
        return None
    sha = source.get("sha256")
    return f"{source['file']} (sha256 {sha})" if sha else str(source["file"])


def shared_entries(stack: AFMImageStack, version: str) -> dict[str, str]:
    """Entries every channel carries: channel, source, processing, writer."""
    out = {
        "Channel": stack.channel,
        "Processing": processing_summary(stack.provenance),
        "Exported by": f"playnano {version}",
    }
    source = source_summary(stack.provenance)
    if source:
        out["Source"] = source
    return out


def frame_entries(
    index: int, md: dict[str, Any], role: str, label: str, mask: str | None
) -> dict[str, str]:
    """One channel's own entries: frame, times, line rate, layer, mask, JSON."""
    out = {"Frame": str(index), "Layer": label}
    values = {
        "Time": layout.format_duration(md.get("timestamp")),
        "Frame duration": layout.format_duration(md.get("frame_duration_s")),
        "Start time": start_time(md.get("start_epoch_ms")),
        "Line rate": layout.format_duration(md.get("line_rate"), "lines/s"),
        "Scan direction": md.get("scan_direction"),
        "Mask": mask,
    }
    out |= {k: str(v) for k, v in values.items() if v is not None}
    out[layout.FRAME_KEY] = json.dumps({"frame": index, "layer": role})
    return out


def stack_entries(
    stack_doc: dict[str, Any], provenance: dict[str, Any]
) -> dict[str, str]:
    """Channel 0's extra entries: the stack document and the provenance."""
    return {
        layout.STACK_KEY: to_json(stack_doc),
        layout.PROVENANCE_KEY: to_json(provenance),
    }
