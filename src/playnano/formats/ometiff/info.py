"""``playnano info`` and ``--check`` for playnano's OME-TIFF: tags and OME-XML only."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from playnano.errors import ReadError
from playnano.formats import _reading
from playnano.formats._inspect import BundleView, problems, to_info
from playnano.formats.bundle import VERSION_KEY
from playnano.formats.ometiff import layout
from playnano.info import ArrayInfo, StackInfo


def view(path: Path) -> BundleView:
    """What the OME-TIFF holds, from its first page's tags and OME-XML."""
    from playnano.formats.ometiff.reader import _ome_fields
    from playnano.readers.guarded.tiff import checked_series, open_tiff

    p = _reading.existing(path)
    if not _reading.starts_with(p, *layout.TIFF_MAGICS):
        raise ReadError(f"{p}: not a TIFF file (no TIFF signature)")
    with open_tiff(p) as opened:
        series = checked_series(opened)
        shape = tuple(
            n
            for n, ax in zip(series.shape, series.axes, strict=True)
            if ax in "YX" or n != 1
        )
        shape = shape if len(shape) == 3 else (1, *shape)
        first = opened.tif.pages.first
        codes = (layout.PROVENANCE_TAG, layout.PLAYNANO_TAG)
        tags: dict[int, Any] = {
            c: first.tags[c].value for c in codes if c in first.tags
        }
        compression = first.compression
        xml = opened.tif.ome_metadata
        dtype = series.dtype.name
    found: list[str] = []

    def tag_json(code: int) -> Any:
        return (
            _reading.parse_json(p, f"tag {code}", tags[code]) if code in tags else None
        )

    own = tag_json(layout.PLAYNANO_TAG) or {}
    if not isinstance(own, dict):
        raise ReadError(f"{p}: tag {layout.PLAYNANO_TAG} is not a JSON object")
    size_nm, times, ome_channel = (
        _ome_fields(p, xml, shape[0]) if xml else (None, [None] * shape[0], None)
    )
    own_size = own.get("pixel_size_nm")
    if isinstance(own_size, (int, float)) and (
        size_nm is None or math.isclose(own_size, size_nm, rel_tol=1e-9)
    ):
        size_nm = own_size
    meta = own.get("frame_metadata")
    if not isinstance(meta, list):
        meta = [{"timestamp": t} for t in times]
    name = next(
        (c for c in (ome_channel, own.get("channel")) if c is not None),
        _reading.DEFAULT_CHANNEL,
    )
    comp = compression.name
    return BundleView(
        path=p,
        version=own.get(VERSION_KEY),
        data=ArrayInfo(shape, dtype, None),
        pixel_size_nm=size_nm,
        channel=name,
        frame_metadata=meta,
        provenance=tag_json(layout.PROVENANCE_TAG),
        compression=comp.lower() if isinstance(comp, str) else None,
        found=found,
        bundle=False,
    )


def inspect(path: Path) -> StackInfo:
    """Describe an OME-TIFF without reading its frames."""
    v = view(path)
    _reading.check_version(v.path, v.version, layout.FORMAT_VERSION)
    return to_info(v, "ome-tiff")


def check(path: Path) -> list[str]:
    """Every way the OME-TIFF departs from what playnano writes, one line each."""
    try:
        v = view(path)
    except ReadError as exc:
        return [str(exc).removeprefix(f"{path}: ")]
    return problems(v, layout.FORMAT_VERSION)
