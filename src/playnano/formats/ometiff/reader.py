"""The OME-TIFF reader: stacks written by playnano (this version's and 0.5.0's).

Stacks come back with their data, pixel size, timestamps, channel and provenance;
full frame metadata when playnano's own tag is there. A truncated or damaged file is
a :class:`~playnano.errors.ReadError` naming the file, never a partial stack.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.errors import ReadError, StackError
from playnano.formats import _reading
from playnano.formats.ometiff import layout
from playnano.formats.ometiff._frames import TiffFrames
from playnano.plugins import hookimpl

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack


def _tyx_shape(path: Path, shape: tuple[int, ...], axes: str) -> tuple[int, ...]:
    """(frames, height, width) of a series: size-1 axes dropped, YX kept last."""
    keep = [i for i, ax in enumerate(axes) if ax in "YX" or shape[i] != 1]
    kept = tuple(shape[i] for i in keep)
    axes = "".join(axes[i] for i in keep)
    if axes == "YX":
        return (1, *kept)
    if len(axes) == 3 and axes.endswith("YX"):
        return kept
    raise ReadError(f"{path}: image axes {axes!r} are not a single-channel stack")


def _frames_tyx(path: Path, data: np.ndarray, axes: str) -> np.ndarray:
    """(frames, height, width) from a series: size-1 axes dropped, YX kept last."""
    return data.reshape(_tyx_shape(path, data.shape, axes))


def _read_tiff(
    p: Path, lazy: bool = False
) -> tuple[np.ndarray | TiffFrames | None, dict[int, Any], str | None]:
    """Frames as (T, H, W), the values of tags 65000/65002, and the OME-XML.

    The file is opened by the guarded opening every TIFF door uses
    (:func:`~playnano.readers.guarded.tiff.open_tiff`: IFD chain, sample formats,
    OME sizes, every page within the file). ``lazy`` gives the frames as a
    :class:`TiffFrames`, or ``None`` when the frames are not one page each.
    """
    from playnano.readers.guarded.tiff import checked_series, open_tiff

    with open_tiff(p) as opened:
        tif = opened.tif
        series = checked_series(opened)
        first = tif.pages.first
        data: np.ndarray | TiffFrames | None
        if lazy:  # one page per frame, else None: read() it
            t, h, w = _tyx_shape(p, tuple(series.shape), series.axes)
            pages = len(series.pages)
            data = TiffFrames(p, (t, h, w), series.dtype) if pages == t else None
        else:
            data = _frames_tyx(p, series.asarray(), series.axes)
        codes = (layout.PROVENANCE_TAG, layout.PLAYNANO_TAG)
        tags = {c: first.tags[c].value for c in codes if c in first.tags}
        return data, tags, tif.ome_metadata


def _ome_fields(
    path: Path, xml: str, n_frames: int
) -> tuple[float | None, list[float | None], str | None]:
    """Pixel size (nm), timestamp of each frame (s) and channel name from OME-XML."""
    import xml.etree.ElementTree as ET

    from playnano.readers.common import length_to_nm

    try:
        pixels = ET.fromstring(xml).find(".//{*}Pixels")
    except ET.ParseError as exc:
        raise ReadError(f"{path}: OME-XML is malformed ({exc})") from None
    if pixels is None:
        raise ReadError(f"{path}: OME-XML has no Pixels element")
    attr = pixels.attrib
    unit = attr.get("PhysicalSizeXUnit", "µm")
    nm_per_unit = length_to_nm(unit)
    if nm_per_unit is None:
        raise ReadError(f"{path}: PhysicalSizeXUnit {unit!r} is not a length")
    try:
        size_nm = None
        if "PhysicalSizeX" in attr:
            size_nm = float(attr["PhysicalSizeX"]) * nm_per_unit
        times: list[float | None] = [None] * n_frames
        for plane in pixels.findall("{*}Plane"):
            t = int(plane.get("TheT", 0))
            if "DeltaT" in plane.attrib and 0 <= t < n_frames and times[t] is None:
                scale = layout.TIME_UNITS_S[plane.get("DeltaTUnit", "s")]
                times[t] = float(plane.attrib["DeltaT"]) * scale
    except (KeyError, ValueError) as exc:
        raise ReadError(f"{path}: OME-XML value not understood ({exc})") from None
    chan = pixels.find("{*}Channel")
    return size_nm, times, chan.get("Name") if chan is not None else None


def load_ome_tiff_stack(path: str | Path, channel: str | None = None) -> AFMImageStack:
    """Load an OME-TIFF stack written by playnano (this version or 0.5.0).

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.ome.tif`` file.
    channel : str, optional
        Channel name to use when the file names none.

    Returns
    -------
    AFMImageStack
        Frames in the file's dtype, pixel size, timestamps, channel and provenance
        (tag 65000). Full frame metadata is restored when playnano's own tag is there.
    """
    stack = _load(_reading.existing(path), channel, lazy=False)
    assert stack is not None
    return stack


def load_ome_tiff_stack_lazy(
    path: str | Path, channel: str | None = None
) -> AFMImageStack | None:
    """:func:`load_ome_tiff_stack` with the pages read on demand (:class:`TiffFrames`).

    ``None`` when the frames are not one page each.
    """
    return _load(_reading.existing(path), channel, lazy=True)


def _load(p: Path, channel: str | None, *, lazy: bool) -> AFMImageStack | None:
    data, tags, xml = _read_tiff(p, lazy)
    if data is None:
        return None
    prov_tag, own_tag = layout.PROVENANCE_TAG, layout.PLAYNANO_TAG
    provenance = (
        _reading.parse_json(p, f"tag {prov_tag}", tags[prov_tag])
        if prov_tag in tags
        else None
    )
    own = (
        _reading.parse_json(p, f"tag {own_tag}", tags[own_tag])
        if own_tag in tags
        else {}
    )
    if not isinstance(own, dict):
        raise ReadError(f"{p}: tag {own_tag} is not a JSON object")
    version = own.get("playnano_format_version")
    _reading.check_version(p, version, layout.FORMAT_VERSION)
    if not xml and not own:
        raise ReadError(f"{p}: has no OME-XML metadata; not an OME-TIFF")
    n = data.shape[0]
    size_nm, times, ome_channel = (
        _ome_fields(p, xml, n) if xml else (None, [None] * n, None)
    )
    own_size = own.get("pixel_size_nm")
    if isinstance(own_size, (int, float)) and (
        size_nm is None or math.isclose(own_size, size_nm, rel_tol=1e-9)
    ):
        size_nm = own_size  # exact, where the µm value in the XML may round
    if size_nm is None:
        raise ReadError(f"{p}: has no pixel size (OME PhysicalSizeX)")
    frame_metadata = own.get("frame_metadata")
    if not isinstance(frame_metadata, list) or len(frame_metadata) != n:
        frame_metadata = [
            {"timestamp": t, "frame_pixel_size_nm": size_nm} for t in times
        ]
    names = (ome_channel, own.get("channel"), channel, _reading.DEFAULT_CHANNEL)
    name = next(c for c in names if c is not None)
    if isinstance(data, TiffFrames):
        from playnano.readers.lazy_stack import lazy_stack

        try:
            stack = lazy_stack(p, data, size_nm, str(name), frame_metadata)
        except (StackError, TypeError, ValueError) as exc:  # as build_stack says it
            raise ReadError(f"{p}: {exc}") from None
        try:
            return _reading.finish_stack(p, stack, provenance, None)
        except ReadError:
            stack.data.close()  # type: ignore[attr-defined]
            raise
    return _reading.build_stack(p, data, size_nm, str(name), frame_metadata, provenance)


class OmeTiffReader(_reading.BundleReader):
    """Reads OME-TIFF stacks written by playnano (this version's and 0.5.0's)."""

    name = "ome-tiff"
    aliases = ("ome-tif",)
    suffixes = (layout.SUFFIX, ".ome.tiff")
    description = "OME-TIFF stack with pixel size, timestamps and provenance"
    requires = ("tifffile",)
    install_hint = "pip install tifffile"
    magics = layout.TIFF_MAGICS
    info_module = "playnano.formats.ometiff.info"

    def load_file(self, path: Path) -> AFMImageStack:
        """Load the stack with :func:`load_ome_tiff_stack`."""
        return load_ome_tiff_stack(path)

    def load_file_lazy(self, path: Path) -> AFMImageStack | None:
        """Load the metadata now and the pages on demand (:class:`TiffFrames`)."""
        return load_ome_tiff_stack_lazy(path)


@hookimpl
def register_readers(register: Any) -> None:
    """Register the OME-TIFF reader."""
    register(OmeTiffReader())
