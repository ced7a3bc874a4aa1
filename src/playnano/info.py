"""What a file holds, without reading its frames: :class:`StackInfo`, :func:`inspect`
and :func:`check`.

A reader that can describe a file from its headers declares ``supports_inspect``
and implements ``inspect(path) -> StackInfo``; for any other reader :func:`inspect`
opens the stack (lazily when the reader declares it) and says so
(``metadata_only`` is False).
:meth:`StackInfo.to_dict` is the structure ``playnano info --json`` prints; its
schema is ``playnano/schemas/info.schema.json``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

#: Identifies the ``--json`` structure; changes only when a key changes meaning.
INFO_SCHEMA = "playnano-info/1"
#: Relative spread of frame intervals above which the times count as irregular.
IRREGULAR_TOLERANCE = 1e-3


@dataclass
class ArrayInfo:
    """Shape, dtype and unit of one array in a file."""

    shape: tuple[int, ...]
    dtype: str
    units: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"shape": list(self.shape), "dtype": self.dtype, "units": self.units}


@dataclass
class StackInfo:
    """What a file or folder holds, as a reader describes it from its metadata.

    Attributes
    ----------
    reader : str
        Name of the reader plugin.
    metadata_only : bool
        True when no frame data was read to describe the file.
    format_version : int or None
        ``playnano_format_version`` of a bundle; None for instrument files and
        playnano 0.5.0's unversioned bundles.
    data : ArrayInfo
        The frames: ``(frames, height, width)``, dtype and unit.
    pixel_size_nm : float
        Pixel size in nanometres.
    channel : str
        The channel read by default; ``channels`` lists all the file holds.
    timestamps : list of float or None
        Time of each frame in seconds from the first, None where unknown.
    """

    reader: str
    metadata_only: bool
    format_version: int | None
    data: ArrayInfo
    pixel_size_nm: float
    channel: str
    channels: list[str]
    timestamps: list[float | None]
    layers: dict[str, ArrayInfo] = field(default_factory=dict)
    masks: dict[str, ArrayInfo] = field(default_factory=dict)
    provenance: dict[str, Any] | None = None
    compression: str | None = None
    path: Path | None = None
    notes: list[str] = field(default_factory=list)
    #: SHA-256 of the file itself (all frame files of a folder); only on request.
    file_sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The stable ``--json`` structure (see ``info.schema.json``)."""
        p = self.path
        return {
            "schema": INFO_SCHEMA,
            "path": str(p) if p is not None else None,
            "reader": self.reader,
            "metadata_only": self.metadata_only,
            "format_version": self.format_version,
            "file_size_bytes": file_size(p) if p is not None else None,
            "file_sha256": self.file_sha256,
            "compression": self.compression,
            "data": self.data.to_dict(),
            "frames": self.data.shape[0] if self.data.shape else 0,
            "pixel_size": {"value": self.pixel_size_nm, "unit": "nm"},
            "channel": self.channel,
            "channels": list(self.channels),
            "frame_times": frame_times(self.timestamps),
            "layers": {k: v.to_dict() for k, v in self.layers.items()},
            "masks": {k: v.to_dict() for k, v in self.masks.items()},
            "provenance": provenance_summary(self.provenance),
            "notes": list(self.notes),
        }


def file_size(path: Path) -> int:
    """Bytes of a file, or of every file under a folder."""
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def frame_times(times: list[float | None]) -> dict[str, Any]:
    """First, last and typical interval (s) of frame times, and whether they are regular.

    ``interval_s`` is the median step between consecutive known times; ``regular``
    is None when fewer than two frames have a time.
    """
    known = [t for t in times if t is not None and math.isfinite(t)]
    steps = [
        b - a
        for a, b in pairwise(times)
        if a is not None and b is not None and math.isfinite(a) and math.isfinite(b)
    ]
    interval = sorted(steps)[len(steps) // 2] if steps else None
    regular = None
    if interval is not None:
        spread = max(abs(s - interval) for s in steps)
        gaps = len(known) < len(times)
        regular = not gaps and spread <= IRREGULAR_TOLERANCE * max(abs(interval), 1e-12)
    return {
        "unit": "s",
        "count": len(times),
        "missing": len(times) - len(known),
        "first": known[0] if known else None,
        "last": known[-1] if known else None,
        "interval": interval,
        "regular": regular,
    }


def provenance_summary(prov: dict[str, Any] | None) -> dict[str, Any] | None:
    """Source file and SHA-256, steps with parameters, versions and exports."""
    if not isinstance(prov, dict):
        return None
    source = prov.get("source") or {}
    if not isinstance(source, dict):
        source = {}
    origin = source.get("previous_source") or source
    env = prov.get("environment") or {}
    processing = prov.get("processing") or {}
    steps = processing.get("steps") if isinstance(processing, dict) else None
    exports = prov.get("exports") or []
    plugins = {
        str(e.get("plugin")): e.get("plugin_version")
        for e in exports
        if isinstance(e, dict) and e.get("plugin")
    }
    return {
        "source_file": origin.get("file"),
        "source_sha256": origin.get("sha256"),
        "source_reader": origin.get("reader"),
        "steps": [
            {
                "name": s.get("name"),
                "params": s.get("params", {}),
                "version": s.get("version"),
            }
            for s in (steps or [])
            if isinstance(s, dict)
        ],
        "playnano_version": env.get("playnano") if isinstance(env, dict) else None,
        "plugin_versions": plugins,
        "exports": [
            {k: e.get(k) for k in ("format", "file", "plugin", "raw", "timestamp")}
            for e in exports
            if isinstance(e, dict)
        ],
    }


def data_units(stack: AFMImageStack) -> str | None:
    """Unit of the frame values, as the reader recorded it (None if it did not).

    Looks at the frames' ``z_unit``, the source's acquisition record, and falls
    back to nm for height channels, which every builtin reader converts to nm.
    """
    first = stack.frame_metadata[0] if stack.frame_metadata else {}
    source = stack.provenance.get("source") or {}
    acq = source.get("acquisition") if isinstance(source, dict) else None
    for holder in (first, acq if isinstance(acq, dict) else {}, source):
        unit = holder.get("z_unit") if isinstance(holder, dict) else None
        if isinstance(unit, str) and unit:
            return unit
    name = stack.channel.lower()
    if name in {"tp", "height"} or name.startswith(("height", "measuredheight")):
        return "nm"
    return None


def from_stack(stack: AFMImageStack, reader: str, channels: list[str]) -> StackInfo:
    """A StackInfo describing a loaded stack (the fallback: frames were read)."""
    unit = data_units(stack)

    def arr(a: Any, units: str | None) -> ArrayInfo:
        return ArrayInfo(tuple(a.shape), str(a.dtype), units)

    return StackInfo(
        reader=reader,
        metadata_only=False,
        format_version=None,
        data=arr(stack.data, unit),
        pixel_size_nm=float(stack.pixel_size_nm),
        channel=stack.channel,
        channels=channels or [stack.channel],
        timestamps=stack.get_frame_times(),
        layers={k: arr(v, unit) for k, v in stack.processed.items()},
        masks={k: arr(v, None) for k, v in stack.masks.items()},
        # the environment is this process's, not the file's: leave it out
        provenance={k: v for k, v in stack.provenance.items() if k != "environment"},
        path=stack.file_path,
        notes=[f"the {reader} reader has no metadata-only path; the frames were read"],
    )


def _describe_by_opening(reader: Any, name: str, path: Path) -> StackInfo:
    """The default ``inspect``: open the stack (lazily when the reader declares it;
    no frame is then kept in memory) and describe it, saying so in a note."""
    stack = reader.read_lazy(path) if reader.supports_lazy else None
    lazily = stack is not None
    if stack is None:
        stack = reader.read(path)
    with stack:
        channels = reader.channels(path) if reader.supports_channels else []
        info = from_stack(stack, name, channels or [stack.channel])
    if lazily:
        info.notes = [
            f"the {name} reader has no metadata-only path; the file was opened "
            "for reading frames on demand, and no frame was kept in memory"
        ]
    return info


def inspect(path: str | Path, *, sha256: bool = False) -> StackInfo:
    """Describe ``path`` (a file or frame folder) from its metadata where possible.

    ``sha256=True`` also hashes the file (reads all of it; recorded in
    :attr:`StackInfo.file_sha256`).

    Raises
    ------
    ReadError
        The path is missing, not understood, truncated or corrupt.
    """
    from playnano.readers import read_errors, reader_for, usable_reader

    p = Path(path)
    entry = reader_for(p)
    reader = usable_reader(entry)
    with read_errors(p):
        if reader.supports_inspect:
            info = reader.inspect(p)
        else:
            info = _describe_by_opening(reader, entry.name, p)
    info.reader = entry.name
    info.path = p
    if p.is_dir():  # why the folder is one video (when it is not, reading said why)
        from playnano.readers._folder_frames import folder_series

        info.notes.insert(0, f"one video: {folder_series(reader, p).reason}")
    if sha256:
        from playnano.provenance import sha256_of

        info.file_sha256 = sha256_of(p)
    return info


def check(path: str | Path) -> list[str]:
    """Every way ``path`` departs from its format's specification, one line each.

    ``[]`` for a file that follows it. Readers that declare ``supports_check``
    (playnano's bundles) check against their specification; any other reader
    reports why the file cannot be read, or that it has no specification.

    Raises
    ------
    ReadError
        The path is missing, or an intact file's reader has no specification.
    """
    from playnano.readers import read_errors, reader_for, usable_reader

    p = Path(path)
    reader = usable_reader(reader_for(p))
    with read_errors(p):
        return [str(line) for line in reader.check(p)]
