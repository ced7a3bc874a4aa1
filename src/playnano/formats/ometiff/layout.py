"""The OME-TIFF layout shared by the exporter and the reader.

One multi-frame ``TYX`` stack for ImageJ/Fiji and Bio-Formats. The OME-XML carries
``PhysicalSizeX/Y`` in µm, ``TimeIncrement`` in s, one ``Plane`` per frame with its
``DeltaT`` (s) and the channel name. Private tags on the first page hold what
OME-XML cannot:

- 65000: provenance JSON (the tag playnano 0.5.0 reads),
- 65001: JSON list of the stack's processed layer names (as 0.5.0 writes),
- 65002: JSON object with ``playnano_format_version``, ``pixel_size_nm``,
  ``channel`` and the full ``frame_metadata`` (read back by our reader).

Only this module knows these names; it imports nothing heavy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

FORMAT_VERSION = 1
SUFFIX = ".ome.tif"
PROVENANCE_TAG = 65000
LAYER_NAMES_TAG = 65001
PLAYNANO_TAG = 65002
UNDEFINED = 7  # TIFF type for opaque bytes, as 0.5.0 writes its tags
TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
#: Seconds per OME time unit the reader understands.
TIME_UNITS_S = {"s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6, "min": 60.0, "h": 3600.0}

# OME pixel types; other dtypes are written as the closest one that holds them
_OME_DTYPES = {"int8", "int16", "int32", "uint8", "uint16", "uint32"}
_OME_DTYPES |= {"float32", "float64"}


def tiff_dtype(data: np.ndarray) -> tuple[np.dtype, str | None]:
    """The dtype OME-TIFF stores ``data`` in, and a note when it is not the data's.

    Frames are written in native byte order: data in the other order is converted
    (same values) and the note says so, since it reads back in native order.
    """
    dt = data.dtype
    if dt.isnative:
        return _stored_dtype(data, dt)
    native = dt.newbyteorder("=")
    stored, note = _stored_dtype(data, native)
    endian = "big-endian" if dt.byteorder == ">" else "little-endian"
    note = note or f"{native.name} data was written as {stored.name}"
    return stored, f"{endian} {note} in native byte order (values unchanged)"


def _stored_dtype(data: np.ndarray, dt: np.dtype) -> tuple[np.dtype, str | None]:
    if dt.name in _OME_DTYPES:
        return dt, None
    if dt == np.float16:
        return np.dtype(np.float32), "float16 data was written as float32 (lossless)"
    if np.issubdtype(dt, np.integer):
        from playnano.lazy import is_lazy

        if is_lazy(data):  # one pass over the blocks, not the stack in memory
            lo, hi = (int(v) for v in data.extremes(finite=False))
        else:
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


def tag(code: int, text: str) -> tuple[int, int, int, bytes, bool]:
    """A private first-page tag holding ``text`` as opaque UTF-8 bytes."""
    payload = text.encode("utf-8")
    return (code, UNDEFINED, len(payload), payload, True)  # first page only
