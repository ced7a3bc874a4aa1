"""The ``zarr`` reader: OME-Zarr stores back into an AFMImageStack.

Stores written by :mod:`playnano_zarr.exporter` come back whole: data bit for bit,
processed layers, masks, frame metadata, pixel size, channel and provenance. Other
OME-Zarr images (NGFF 0.1-0.5) whose axes end in ``y, x`` are read too: their first
(full-resolution) dataset becomes the frames, a ``t`` axis the frame order, and the
scale transform the pixel size and frame interval.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from playnano.errors import ChannelError, ReadError
from playnano.plugins import hookimpl

from playnano_zarr import layout

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack


class ZarrReader:
    """Read an OME-Zarr store (a folder such as ``video.ome.zarr``)."""

    name = "zarr"
    aliases = ("ome-zarr",)
    suffixes = (".ome.zarr", ".zarr")
    reads_folders = True
    description = "OME-Zarr stores: playnano's own in full, other NGFF (t,) y, x images"
    requires = ("zarr",)
    install_hint = "pip install playnano-zarr"

    def can_read(self, path: Path) -> bool:
        """True for a Zarr group folder with playnano or NGFF multiscales metadata."""
        path = Path(path)
        attrs = layout.read_attributes(path) if path.is_dir() else None
        if attrs is None:
            return False
        if isinstance(attrs.get(layout.PLAYNANO_KEY), dict):
            return True
        found = layout.ome_block(attrs).get("multiscales")
        return isinstance(found, list) and bool(found)

    def read(self, path: Path, channel: str | None = None) -> AFMImageStack:
        """Read the store at ``path``.

        Parameters
        ----------
        path : pathlib.Path
            The store folder.
        channel : str, optional
            Must match the stored channel (or, for a foreign image with a ``c``
            axis, an ``omero`` channel label); ``None`` takes the stored one.
        """
        import zarr

        path = Path(path)
        if not path.exists():
            raise ReadError(f"{path}: no such file or folder")
        attrs = layout.read_attributes(path) if path.is_dir() else None
        if attrs is None:
            raise ReadError(f"{path.name}: not a Zarr group folder")
        try:
            root = zarr.open_group(store=path, mode="r")
        except Exception as exc:
            raise ReadError(
                f"{path.name}: cannot open as Zarr ({_one_line(exc)})"
            ) from exc
        info = attrs.get(layout.PLAYNANO_KEY)
        if isinstance(info, dict):
            return _read_playnano(root, path, info, channel)
        return _read_ngff(root, path, attrs, channel)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _load(root: Any, key: str, store: str, *, complete: bool) -> np.ndarray:
    """Array ``key`` as numpy; ``complete`` refuses missing chunks (a truncated copy)."""
    import zarr

    try:
        arr = root[key]
    except KeyError:
        raise ReadError(f"{store}: array {key!r} is missing") from None
    if not isinstance(arr, zarr.Array):
        raise ReadError(f"{store}: {key!r} is a group, not an array")
    if complete and arr.nchunks_initialized < arr.nchunks:
        raise ReadError(
            f"{store}: {key!r} has {arr.nchunks - arr.nchunks_initialized} of "
            f"{arr.nchunks} frame chunks missing (incomplete copy?)"
        )
    try:
        return np.asarray(arr[...])
    except Exception as exc:
        raise ReadError(f"{store}: cannot read {key!r} ({_one_line(exc)})") from exc


def _read_playnano(
    root: Any, path: Path, info: dict[str, Any], channel: str | None
) -> AFMImageStack:
    from playnano.afm_stack import AFMImageStack

    store = path.name
    version = info.get("format_version")
    if not isinstance(version, int) or version > layout.FORMAT_VERSION:
        raise ReadError(
            f"{store}: playnano-zarr format {version!r} is newer than this reader "
            f"({layout.FORMAT_VERSION}); upgrade playnano-zarr"
        )
    stored = info.get("channel")
    if channel is not None and channel.lower() != str(stored).lower():
        raise ChannelError(f"{store}: no channel {channel!r}; it holds {stored!r}")
    level = layout.LEVEL_PATH
    data = _load(root, level, store, complete=True)
    try:
        stack = AFMImageStack(
            data, info["pixel_size_nm"], stored, path, info.get("frame_metadata")
        )
        stack.processed = {
            key: _load(root, f"{node}/{level}", store, complete=True)
            for key, node in info.get("processed", {}).items()
        }
        stack.masks = {
            key: _load(root, f"{node}/{level}", store, complete=False).astype(bool)
            for key, node in info.get("masks", {}).items()
        }
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        if isinstance(exc, ReadError):
            raise
        raise ReadError(
            f"{store}: inconsistent playnano metadata ({_one_line(exc)})"
        ) from exc
    if isinstance(info.get("provenance"), dict):
        stack.provenance = info["provenance"]
    if isinstance(info.get("state_backups"), dict):
        stack.state_backups = info["state_backups"]
    return stack


def _read_ngff(
    root: Any, path: Path, attrs: dict[str, Any], channel: str | None
) -> AFMImageStack:
    from playnano.afm_stack import AFMImageStack
    from playnano.provenance import record_source

    store = path.name
    ome = layout.ome_block(attrs)
    found = ome.get("multiscales")
    if not isinstance(found, list) or not found:
        raise ReadError(f"{store}: no OME-Zarr multiscales metadata")
    image = found[0]
    try:
        dataset = image["datasets"][0]
        data = _load(root, dataset["path"], store, complete=False)
        names = [a["name"] if isinstance(a, dict) else a for a in image.get("axes", [])]
        units = [
            a.get("unit") if isinstance(a, dict) else None
            for a in image.get("axes", [])
        ]
    except (KeyError, IndexError, TypeError) as exc:
        raise ReadError(
            f"{store}: malformed multiscales metadata ({_one_line(exc)})"
        ) from exc
    if not names:  # NGFF 0.1/0.2: implicit (t, c, z, y, x)
        names = ["t", "c", "z", "y", "x"][-data.ndim :]
        units = [None] * data.ndim
    if len(names) != data.ndim or names[-2:] != ["y", "x"]:
        raise ReadError(
            f"{store}: axes {names} do not end in y, x; playnano reads (t, y, x)"
        )
    scale = _scale(image, dataset, data.ndim)
    data, label = _select_channel(store, data, names, ome, channel)
    t_axis = names.index("t") if "t" in names else None
    kept = [n for n in names if n != "c"]
    for ax, size in zip(kept, data.shape, strict=True):
        if ax not in ("t", "y", "x") and size != 1:
            raise ReadError(
                f"{store}: axis {ax!r} has {size} planes; playnano reads (t, y, x)"
            )
    data = data.reshape(
        [s for s, n in zip(data.shape, kept, strict=True) if n in ("t", "y", "x")]
    )
    if t_axis is None:
        data = data[np.newaxis]
    pixel_nm = scale[-1] * layout.SPACE_UNITS_NM.get(units[-1] or "nanometer", 1.0)
    meta = None
    if t_axis is not None and units[t_axis] in layout.TIME_UNITS_S:
        dt = scale[t_axis] * layout.TIME_UNITS_S[units[t_axis]]
        meta = [{"timestamp": i * dt} for i in range(data.shape[0])]
    stack = AFMImageStack(
        data, pixel_nm, label or image.get("name") or "data", path, meta
    )
    record_source(
        stack, path, "zarr", ngff_version=ome.get("version") or image.get("version")
    )
    return stack


def _scale(image: dict[str, Any], dataset: dict[str, Any], ndim: int) -> list[float]:
    """Scale of the first dataset times any multiscale-wide scale (1.0 when absent)."""
    out = [1.0] * ndim
    for transforms in (
        dataset.get("coordinateTransformations"),
        image.get("coordinateTransformations"),
    ):
        for tr in transforms or []:
            if (
                isinstance(tr, dict)
                and tr.get("type") == "scale"
                and len(tr.get("scale", [])) == ndim
            ):
                out = [a * float(b) for a, b in zip(out, tr["scale"], strict=True)]
    return [s if math.isfinite(s) and s > 0 else 1.0 for s in out]


def _select_channel(
    store: str,
    data: np.ndarray,
    names: list[str],
    ome: dict[str, Any],
    channel: str | None,
) -> tuple[np.ndarray, str | None]:
    """Drop a ``c`` axis by picking one channel; return the data and its label."""
    channels = (
        ome.get("omero", {}).get("channels", [])
        if isinstance(ome.get("omero"), dict)
        else []
    )
    labels = [
        str(c.get("label", i)) for i, c in enumerate(channels) if isinstance(c, dict)
    ]
    if "c" not in names:
        if channel is not None and labels and channel not in labels:
            raise ChannelError(f"{store}: no channel {channel!r}; it holds {labels}")
        return data, channel or (labels[0] if labels else None)
    c = names.index("c")
    n = data.shape[c]
    if channel is None:
        if n != 1:
            raise ChannelError(
                f"{store}: {n} channels ({', '.join(labels) or 'unlabelled'}); name one"
            )
        index = 0
    elif channel in labels:
        index = labels.index(channel)
    else:
        raise ChannelError(f"{store}: no channel {channel!r}; it holds {labels or n}")
    return np.take(data, index, axis=c), labels[index] if index < len(labels) else None


@hookimpl
def register_readers(register: Any) -> None:
    """Register the OME-Zarr reader."""
    register(ZarrReader())
