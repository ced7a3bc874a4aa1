"""Load playnano bundles (NPZ, HDF5) and OME-TIFF stacks back into an AFMImageStack.

NPZ and HDF5 bundles come back bit for bit: data, every processed layer and mask in
their own dtype, frame metadata, provenance and state backups. OME-TIFF stacks come
back with their data, pixel size, timestamps, channel and provenance.

Files written by playnano 0.5.0 load too. Its NPZ files store strings as pickled
object arrays; those are decoded by reading the pickle's opcodes, never by unpickling,
so a crafted file cannot run code. Anything missing or malformed raises
:class:`~playnano.errors.ReadError` naming the file.
"""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from playnano.afm_stack import AFMImageStack
from playnano.errors import ReadError, StackError
from playnano.exporters import npz as _npz
from playnano.exporters import tif as _tif
from playnano.io._npz_members import read_member

__all__ = ["load_h5_bundle", "load_npz_bundle", "load_ome_tiff_stack"]

_DEFAULT_CHANNEL = "height_trace"  # what playnano 0.5.0 falls back to


# ------------------------------------------------------------------------- common
def _existing(path: str | Path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise ReadError(f"{p}: no such file")
    return p


def _json(path: Path, key: str, text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReadError(f"{path}: {key!r} is not valid JSON ({exc})") from None


def _check_version(path: Path, version: Any, supported: int) -> None:
    if version is None:
        return
    try:
        v = int(np.asarray(version).item())
    except (TypeError, ValueError):
        raise ReadError(f"{path}: format version {version!r} is not a number") from None
    if v > supported:
        raise ReadError(
            f"{path}: written by a newer playnano (format version {v}; this one "
            f"reads up to {supported}); upgrade playnano to read it"
        )


def _build_stack(
    path: Path,
    data: Any,
    pixel_size_nm: Any,
    channel: str,
    frame_metadata: Any,
    provenance: Any,
    *,
    state_backups: Any = None,
    layers: dict[str, Any] | None = None,
    masks: dict[str, Any] | None = None,
) -> AFMImageStack:
    """An AFMImageStack from what a file held; any inconsistency is a ReadError."""
    if not isinstance(data, np.ndarray) or data.dtype.hasobject:
        raise ReadError(f"{path}: 'data' is not a numeric array")
    if not isinstance(frame_metadata, list):
        raise ReadError(f"{path}: frame metadata is not a JSON list")
    try:
        pixel_size_nm = float(np.asarray(pixel_size_nm).item())
        stack = AFMImageStack(data, pixel_size_nm, channel, path, frame_metadata)
        stack.processed = layers or {}
        stack.masks = masks or {}
    except (StackError, TypeError, ValueError) as exc:
        raise ReadError(f"{path}: {exc}") from None
    if provenance is not None:
        if not isinstance(provenance, dict):
            raise ReadError(f"{path}: provenance is not a JSON object")
        stack.provenance = provenance
    if state_backups is not None:
        if not isinstance(state_backups, dict):
            raise ReadError(f"{path}: state_backups is not a JSON object")
        stack.state_backups = state_backups
    return stack


def _as_text(path: Path, key: str, value: Any) -> str:
    """A str from a 0-d/1-element unicode or bytes array, str or bytes."""
    if isinstance(value, np.ndarray):
        if value.size != 1 or value.dtype.kind not in "US":
            raise ReadError(f"{path}: {key!r} is not a string")
        value = value.reshape(()).item()
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise ReadError(f"{path}: {key!r} is not UTF-8 text") from None
    if not isinstance(value, str):
        raise ReadError(f"{path}: {key!r} is not a string")
    return value


# --------------------------------------------------------------------------- NPZ
def load_npz_bundle(path: str | Path, channel: str | None = None) -> AFMImageStack:
    """Load an NPZ bundle written by playnano (this version or 0.5.0).

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.npz`` file.
    channel : str, optional
        Accepted for compatibility with playnano 0.5.0 and ignored: the bundle
        names its channel.

    Returns
    -------
    AFMImageStack
        Data, processed layers, masks, frame metadata, provenance and state backups
        as stored, in their own dtypes.
    """
    p = _existing(path)
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReadError(f"{p}: not an NPZ file ({exc})") from None
    with zf:
        members = {n[: -len(".npy")]: n for n in zf.namelist() if n.endswith(".npy")}
        required = [
            "data",
            "pixel_size_nm",
            "channel",
            "frame_metadata_json",
            "provenance_json",
        ]
        missing = [k for k in required if k not in members]
        if missing:
            raise ReadError(f"{p}: not a playnano bundle; missing {', '.join(missing)}")
        if _npz.VERSION_KEY in members:
            version = read_member(zf, members[_npz.VERSION_KEY], p)
            _check_version(p, version, _npz.FORMAT_VERSION)

        def get(key: str) -> Any:
            return read_member(zf, members[key], p)

        def text(key: str) -> str:
            return _as_text(p, key, get(key))

        layers: dict[str, Any] = {}
        masks: dict[str, Any] = {}
        for key in members:
            for prefix, into in (("processed__", layers), ("masks__", masks)):
                if key.startswith(prefix):
                    arr = get(key)
                    if not isinstance(arr, np.ndarray) or arr.dtype.hasobject:
                        raise ReadError(f"{p}: {key!r} is not a numeric array")
                    into[key[len(prefix) :]] = arr
        backups = None
        if "state_backups_json" in members:
            backups = _json(p, "state_backups_json", text("state_backups_json"))
        return _build_stack(
            p,
            get("data"),
            get("pixel_size_nm"),
            text("channel"),
            _json(p, "frame_metadata_json", text("frame_metadata_json")),
            _json(p, "provenance_json", text("provenance_json")),
            state_backups=backups,
            layers=layers,
            masks=masks,
        )


# -------------------------------------------------------------------------- HDF5
def load_h5_bundle(path: str | Path, channel: str | None = None) -> AFMImageStack:
    """Load an HDF5 bundle written by playnano (this version or 0.5.0).

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.h5`` file.
    channel : str, optional
        Accepted for compatibility with playnano 0.5.0 and ignored.

    Returns
    -------
    AFMImageStack
        Data, processed layers, masks, frame metadata, provenance and state backups
        as stored, in their own dtypes.
    """
    import h5py

    p = _existing(path)
    try:
        f = h5py.File(p, "r")
    except OSError as exc:
        raise ReadError(f"{p}: not an HDF5 file ({exc})") from None
    with f:
        try:
            required = ("data", "frame_metadata_json", "provenance_json")
            missing = [k for k in required if k not in f]
            attrs = ("pixel_size_nm", "channel")
            missing += [f"attribute {a}" for a in attrs if a not in f.attrs]
            if missing:
                raise ReadError(
                    f"{p}: not a playnano bundle; missing {', '.join(missing)}"
                )
            _check_version(p, f.attrs.get(_npz.VERSION_KEY), _npz.FORMAT_VERSION)

            def arrays(group_name: str) -> dict[str, np.ndarray]:
                group = f.get(group_name)
                if group is None:
                    return {}
                if not isinstance(group, h5py.Group):
                    raise ReadError(f"{p}: /{group_name} is not a group")
                out = {}
                for name, ds in group.items():
                    if not isinstance(ds, h5py.Dataset):
                        raise ReadError(f"{p}: /{group_name}/{name} is not a dataset")
                    out[name] = ds[()]
                return out

            def text(key: str) -> str:
                ds = f[key]
                if not isinstance(ds, h5py.Dataset):
                    raise ReadError(f"{p}: /{key} is not a dataset")
                return _as_text(p, key, ds[()])

            backups = None
            if "state_backups_json" in f:
                backups = _json(p, "state_backups_json", text("state_backups_json"))
            data = f["data"]
            return _build_stack(
                p,
                data[()] if isinstance(data, h5py.Dataset) else None,
                f.attrs["pixel_size_nm"],
                _as_text(p, "channel", f.attrs["channel"]),
                _json(p, "frame_metadata_json", text("frame_metadata_json")),
                _json(p, "provenance_json", text("provenance_json")),
                state_backups=backups,
                layers=arrays("processed"),
                masks=arrays("masks"),
            )
        except (OSError, KeyError, RuntimeError) as exc:  # corrupt or truncated
            raise ReadError(f"{p}: unreadable ({exc})") from None


# ---------------------------------------------------------------------- OME-TIFF
_TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_TIME_S = {"s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6, "min": 60.0, "h": 3600.0}


def _frames_tyx(path: Path, data: np.ndarray, axes: str) -> np.ndarray:
    """(frames, height, width) from a series: size-1 axes dropped, YX kept last."""
    keep = [i for i, ax in enumerate(axes) if ax in "YX" or data.shape[i] != 1]
    data = data.reshape([data.shape[i] for i in keep])
    axes = "".join(axes[i] for i in keep)
    if axes == "YX":
        return data[np.newaxis]
    if len(axes) == 3 and axes.endswith("YX"):
        return data
    raise ReadError(f"{path}: image axes {axes!r} are not a single-channel stack")


def _read_tiff(p: Path) -> tuple[np.ndarray, dict[int, Any], str | None]:
    """Frames as (T, H, W), the values of tags 65000/65002, and the OME-XML.

    A truncated or damaged file is a ReadError, never a partial stack.
    """
    import tifffile

    from playnano.readers._common import check_tiff_page, tifffile_guard

    with open(p, "rb") as fh:
        if fh.read(4) not in _TIFF_MAGICS:
            raise ReadError(f"{p}: not a TIFF file (no TIFF signature)")
    try:
        with tifffile_guard(p), tifffile.TiffFile(p) as tif:
            if not tif.series:
                raise ReadError(f"{p}: holds no image")
            series = tif.series[0]
            for i, page in enumerate(series.pages):
                if page is not None:
                    check_tiff_page(p, page, f"image data of page {i}")
            data = _frames_tyx(p, series.asarray(), series.axes)
            first = tif.pages[0]
            if not isinstance(first, tifffile.TiffPage):
                raise ReadError(f"{p}: first page is unreadable")
            codes = (_tif.PROVENANCE_TAG, _tif.PLAYNANO_TAG)
            tags = {c: first.tags[c].value for c in codes if c in first.tags}
            return data, tags, tif.ome_metadata
    except ReadError:
        raise
    except (tifffile.TiffFileError, OSError, ValueError, IndexError) as exc:
        raise ReadError(f"{p}: unreadable TIFF ({exc})") from None


def _ome_fields(
    path: Path, xml: str, n_frames: int
) -> tuple[float | None, list[float | None], str | None]:
    """Pixel size (nm), timestamp of each frame (s) and channel name from OME-XML."""
    import xml.etree.ElementTree as ET

    from playnano.readers._common import length_to_nm

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
                scale = _TIME_S[plane.get("DeltaTUnit", "s")]
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
    p = _existing(path)
    data, tags, xml = _read_tiff(p)
    prov_tag, own_tag = _tif.PROVENANCE_TAG, _tif.PLAYNANO_TAG
    provenance = (
        _json(p, f"tag {prov_tag}", tags[prov_tag]) if prov_tag in tags else None
    )
    own = _json(p, f"tag {own_tag}", tags[own_tag]) if own_tag in tags else {}
    if not isinstance(own, dict):
        raise ReadError(f"{p}: tag {own_tag} is not a JSON object")
    _check_version(p, own.get("playnano_format_version"), _tif.FORMAT_VERSION)
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
    names = (ome_channel, own.get("channel"), channel, _DEFAULT_CHANNEL)
    name = next(c for c in names if c is not None)
    return _build_stack(p, data, size_nm, str(name), frame_metadata, provenance)
