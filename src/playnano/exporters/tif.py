"""OME-TIFF exporter: one multi-frame ``TYX`` stack for ImageJ/Fiji and Bio-Formats.

The OME-XML carries ``PhysicalSizeX/Y`` in µm, ``TimeIncrement`` in s, one ``Plane``
per frame with its ``DeltaT`` (s) and the channel name. Private tags on the first
page hold what OME-XML cannot:

- 65000: provenance JSON (the tag playnano 0.5.0 reads),
- 65001: JSON list of the stack's processed layer names (as 0.5.0 writes),
- 65002: JSON object with ``playnano_format_version``, ``pixel_size_nm``,
  ``channel`` and the full ``frame_metadata`` (read back by our loader).

Frames are written one page at a time in their own dtype (float64 stays float64).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.errors import ExportWarning
from playnano.plugins import Capabilities, hookimpl
from playnano.provenance import make_json_safe, to_json

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

FORMAT_VERSION = 1
PROVENANCE_TAG = 65000
LAYER_NAMES_TAG = 65001
PLAYNANO_TAG = 65002
_UNDEFINED = 7  # TIFF type for opaque bytes, as 0.5.0 writes its tags

# OME pixel types; other dtypes are written as the closest one that holds them
_OME_DTYPES = {"int8", "int16", "int32", "uint8", "uint16", "uint32"}
_OME_DTYPES |= {"float32", "float64"}


def tiff_dtype(data: np.ndarray) -> tuple[np.dtype, str | None]:
    """The dtype OME-TIFF stores ``data`` in, and a note when it is not the data's."""
    dt = data.dtype
    if dt.name in _OME_DTYPES:
        return dt, None
    if dt == np.float16:
        return np.dtype(np.float32), "float16 data was written as float32 (lossless)"
    if np.issubdtype(dt, np.integer):
        lo, hi = int(data.min()), int(data.max())
        for cand in (np.int32, np.uint32):
            info = np.iinfo(cand)
            if info.min <= lo and hi <= info.max:
                return np.dtype(cand), f"{dt} data was written as {cand.__name__}"
    return np.dtype(np.float64), f"{dt} data was written as float64 (may round)"


def time_increment(times: list[float | None]) -> float | None:
    """Mean interval between frames with known timestamps, in s (None if unknown)."""
    known = [(i, t) for i, t in enumerate(times) if t is not None]
    if len(known) < 2:
        return None
    (i0, t0), (i1, t1) = known[0], known[-1]
    return (t1 - t0) / (i1 - i0)


def _ranges(indices: list[int]) -> str:
    """'0, 3-5' for [0, 3, 4, 5]."""
    parts: list[str] = []
    start = prev = indices[0]
    for i in [*indices[1:], None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if i is not None:
            start = prev = i
    return ", ".join(parts)


def metadata_notes(
    stack: AFMImageStack, meta: list[dict[str, Any]], times: list[float | None]
) -> list[str]:
    """What the OME-XML cannot say about these frames, one sentence each."""
    notes = []
    missing = [i for i, t in enumerate(times) if t is None]
    if missing:
        notes.append(
            f"frame(s) {_ranges(missing)} have no timestamp; "
            "their OME Plane has no DeltaT"
        )
    sizes = [md.get("frame_pixel_size_nm") for md in meta]
    known = [s for s in sizes if s is not None]
    ps = stack.pixel_size_nm
    if any(not math.isclose(s, ps, rel_tol=1e-9) for s in known):
        notes.append(
            f"per-frame pixel sizes differ ({min(known):g}-{max(known):g} nm); "
            f"OME PhysicalSizeX/Y hold the stack's {ps:g} nm, per-frame sizes are "
            f"kept only in tag {PLAYNANO_TAG}"
        )
    return notes


def ome_metadata(stack: AFMImageStack, times: list[float | None]) -> dict[str, Any]:
    """The OME-XML fields tifffile writes for a ``TYX`` stack."""
    size_um = stack.pixel_size_nm / 1000.0
    md: dict[str, Any] = {
        "axes": "TYX",
        "PhysicalSizeX": size_um,
        "PhysicalSizeXUnit": "µm",
        "PhysicalSizeY": size_um,
        "PhysicalSizeYUnit": "µm",
        "Plane": [
            {} if t is None else {"DeltaT": float(t), "DeltaTUnit": "s"} for t in times
        ],
        "Channel": {"Name": stack.channel},
    }
    inc = time_increment(times)
    if inc is not None:
        md["TimeIncrement"] = inc
        md["TimeIncrementUnit"] = "s"
    return md


def _tag(code: int, text: str) -> tuple[int, int, int, bytes, bool]:
    payload = text.encode("utf-8")
    return (code, _UNDEFINED, len(payload), payload, True)  # first page only


class TifExporter:
    """Write a stack as a multi-frame OME-TIFF."""

    name = "tif"
    aliases: tuple[str, ...] = ("tiff", "ome-tif", "ome-tiff")
    suffix = ".ome.tif"
    description = (
        "OME-TIFF stack (TYX) for ImageJ/Fiji and Bio-Formats, with provenance"
    )
    capabilities = Capabilities(
        supports_raw=True,
        supports_processed_layers=False,
        supports_masks=False,
        supports_provenance=True,
        supports_timestamps=True,
        lossy=False,
        streaming=True,
    )
    options: tuple[Any, ...] = ()
    requires: tuple[str, ...] = ("tifffile",)
    install_hint = "pip install tifffile"

    def export(
        self, stack: AFMImageStack, path: Path, *, raw: bool = False
    ) -> list[Path]:
        """Write ``stack`` to ``path`` as OME-TIFF; return ``[path]``."""
        import tifffile

        data, meta = stack.export_source(raw=raw)
        times = [md.get("timestamp") for md in meta]
        dtype, dtype_note = tiff_dtype(data)
        notes = metadata_notes(stack, meta, times)
        if dtype_note:
            notes.append(dtype_note)
        provenance = dict(stack.provenance)
        if notes:
            provenance["export_notes"] = [*provenance.get("export_notes", []), *notes]
            for note in notes:
                warnings.warn(f"{path.name}: {note}", ExportWarning, stacklevel=2)
        own = {
            "playnano_format_version": FORMAT_VERSION,
            "pixel_size_nm": stack.pixel_size_nm,
            "channel": stack.channel,
            "frame_metadata": make_json_safe(meta),
        }
        extratags = [
            _tag(PROVENANCE_TAG, to_json(provenance)),
            _tag(LAYER_NAMES_TAG, json.dumps(list(stack.processed))),
            _tag(PLAYNANO_TAG, to_json(own)),
        ]

        def frames() -> Iterator[np.ndarray]:
            for frame in data:
                yield np.ascontiguousarray(frame, dtype=dtype)

        per_cm = 1e7 / stack.pixel_size_nm  # TIFF resolution: pixels per centimetre
        nbytes = math.prod(data.shape) * dtype.itemsize
        tifffile.imwrite(
            path,
            frames(),
            shape=data.shape,
            dtype=dtype,
            bigtiff=nbytes > 2**32 - 2**25,  # tifffile cannot size an iterator
            ome=True,
            photometric="minisblack",
            metadata=ome_metadata(stack, times),
            resolution=(per_cm, per_cm),
            resolutionunit="CENTIMETER",
            extratags=extratags,
        )
        return [path]


@hookimpl
def register_exporters(register: Any) -> None:
    """Register the OME-TIFF exporter."""
    register(TifExporter())
