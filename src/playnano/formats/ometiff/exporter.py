"""OME-TIFF exporter: one multi-frame ``TYX`` stack for ImageJ/Fiji and Bio-Formats.

The layout is :mod:`playnano.formats.ometiff.layout`. Frames are written one page
at a time in their own dtype (float64 stays float64).
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
from playnano.formats.ometiff import layout
from playnano.plugins import Capabilities, hookimpl
from playnano.progress_ticks import frames_done
from playnano.provenance import make_json_safe, to_json

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack


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
            f"kept only in tag {layout.PLAYNANO_TAG}"
        )
    return notes


class TifExporter:
    """Write a stack as a multi-frame OME-TIFF."""

    name = "tif"
    aliases: tuple[str, ...] = ("tiff", "ome-tif", "ome-tiff")
    suffix = layout.SUFFIX
    media_type = "image/tiff"
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
        dtype, dtype_note = layout.tiff_dtype(data)
        notes = metadata_notes(stack, meta, times)
        if dtype_note:
            notes.append(dtype_note)
        provenance = dict(stack.provenance)
        if notes:
            provenance["export_notes"] = [*provenance.get("export_notes", []), *notes]
            for note in notes:
                warnings.warn(f"{path.name}: {note}", ExportWarning, stacklevel=2)
        own = {
            "playnano_format_version": layout.FORMAT_VERSION,
            "pixel_size_nm": stack.pixel_size_nm,
            "channel": stack.channel,
            "frame_metadata": make_json_safe(meta),
        }
        extratags = [
            layout.tag(layout.PROVENANCE_TAG, to_json(provenance)),
            layout.tag(layout.LAYER_NAMES_TAG, json.dumps(list(stack.processed))),
            layout.tag(layout.PLAYNANO_TAG, to_json(own)),
        ]

        def frames() -> Iterator[np.ndarray]:
            for frame in data:
                yield np.ascontiguousarray(frame, dtype=dtype)
                frames_done(1)

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
            metadata=layout.ome_metadata(stack, times),
            resolution=(per_cm, per_cm),
            resolutionunit="CENTIMETER",
            extratags=extratags,
        )
        return [path]


@hookimpl
def register_exporters(register: Any) -> None:
    """Register the OME-TIFF exporter."""
    register(TifExporter())
