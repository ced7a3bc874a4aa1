"""Provenance: where a stack came from, what was done to it, what was written."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import platform
import sys
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack


def utc_now() -> str:
    """Current time as an ISO 8601 string in UTC."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


def environment_info() -> dict[str, Any]:
    """Versions of Python, playnano and numpy, and the platform."""
    import numpy

    from playnano.__about__ import __version__

    return {
        "python": sys.version.split()[0],
        "playnano": __version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
    }


def new_provenance() -> dict[str, Any]:
    """A fresh provenance record for a stack."""
    return {
        "environment": environment_info(),
        "source": {},
        "processing": {"steps": [], "keys_by_name": {}},
        "exports": [],
    }


def make_json_safe(obj: Any) -> Any:
    """Return ``obj`` with numpy scalars/arrays, paths and sets turned into JSON types.

    Non-finite floats become ``None`` so the output is strict JSON.
    """
    import numpy as np

    if isinstance(obj, Mapping):
        return {str(k): make_json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [make_json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return make_json_safe(obj.tolist())
    if isinstance(obj, np.generic):
        return make_json_safe(obj.item())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, (_dt.datetime, _dt.date)):
        return obj.isoformat()
    return str(obj)


def to_json(obj: Any) -> str:
    """Serialise ``obj`` to strict JSON after :func:`make_json_safe`."""
    return json.dumps(make_json_safe(obj), allow_nan=False)


def sha256_of(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """SHA-256 of a file, or of a folder's file names and contents.

    A folder's digest covers every file below it in order of relative POSIX path:
    for each, the path (UTF-8), a NUL byte, the size in bytes (decimal), a NUL byte,
    then the content. Renaming, moving, adding or changing a file changes it.
    """
    p = Path(path)
    digest = hashlib.sha256()
    if p.is_dir():
        named = sorted(
            (f.relative_to(p).as_posix(), f) for f in p.rglob("*") if f.is_file()
        )
    else:
        named = [("", p)]
    for name, f in named:
        with open(f, "rb") as fh:
            if p.is_dir():
                size = os.fstat(fh.fileno()).st_size
                digest.update(f"{name}\0{size}\0".encode())
            while chunk := fh.read(chunk_size):
                digest.update(chunk)
    return digest.hexdigest()


def record_source(
    stack: AFMImageStack, path: str | Path, reader: str, **details: Any
) -> None:
    """Record the input file of a stack: name, SHA-256, reader and extra details."""
    p = Path(path)
    stack.provenance["source"] = make_json_safe(
        {
            "file": p.name,
            "path": str(p.resolve()),
            "sha256": sha256_of(p),
            "reader": reader,
            "read_at": utc_now(),
            **details,
        }
    )


def record_step(
    stack: AFMImageStack,
    *,
    index: int,
    name: str,
    params: Mapping[str, Any],
    version: str,
    kind: str,
    output_key: str | None,
    duration_s: float | None = None,
) -> dict[str, Any]:
    """Append one processing step to the provenance and return its record."""
    rec = make_json_safe(
        {
            "index": index,
            "name": name,
            "kind": kind,
            "params": dict(params),
            "version": version,
            "output_key": output_key,
            "timestamp": utc_now(),
            "duration_s": duration_s,
        }
    )
    proc = stack.provenance.setdefault("processing", {"steps": [], "keys_by_name": {}})
    proc.setdefault("steps", []).append(rec)
    if output_key is not None:
        proc.setdefault("keys_by_name", {}).setdefault(name, []).append(output_key)
    return rec


def record_export(
    stack: AFMImageStack,
    *,
    format_name: str,
    plugin: str,
    plugin_version: str | None,
    path: str | Path,
    raw: bool,
    deflate_engine: str | None = None,
) -> dict[str, Any]:
    """Append one export record (format, plugin and version, file, time, raw).

    ``deflate_engine`` (``"isal"`` or ``"zlib"``) is recorded when given: the engine
    that compressed the file's members or chunks.
    """
    rec: dict[str, Any] = {
        "format": format_name,
        "plugin": plugin,
        "plugin_version": plugin_version,
        "file": Path(path).name,
        "timestamp": utc_now(),
        "raw": bool(raw),
    }
    if deflate_engine is not None:
        rec["deflate_engine"] = deflate_engine
    stack.provenance.setdefault("exports", []).append(rec)
    return rec
