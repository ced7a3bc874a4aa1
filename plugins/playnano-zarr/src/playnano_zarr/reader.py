"""The ``zarr`` reader: OME-Zarr stores back into an AFMImageStack.

Stores written by :mod:`playnano_zarr.exporter` come back whole: data bit for bit,
processed layers, masks, frame metadata, pixel size, channel and provenance. Other
OME-Zarr images (NGFF 0.1-0.5) whose axes end in ``y, x`` are read too: their first
(full-resolution) dataset becomes the frames, a ``t`` axis the frame order, and the
scale transform the pixel size and frame interval.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from playnano.errors import ChannelError, ReadError
from playnano.plugins import ReaderBase, hookimpl
from playnano.readers.lazy_stack import lazy_stack

from playnano_zarr import layout

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack


class ZarrReader(ReaderBase):
    """Read an OME-Zarr store (a folder such as ``video.ome.zarr``)."""

    name = "zarr"
    aliases = ("ome-zarr",)
    suffixes = (".ome.zarr", ".zarr")
    reads_folders = True
    description = "OME-Zarr stores: playnano's own in full, other NGFF (t,) y, x images"
    requires = ("zarr",)
    install_hint = "pip install playnano-zarr"
    supports_lazy = True

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
        stack = self._read(Path(path), channel, lazy=False)
        assert stack is not None
        return stack

    def read_lazy(self, path: Path, channel: str | None = None) -> AFMImageStack | None:
        """:meth:`read` with the frames (and layers, masks) read on demand.

        The metadata is read and checked now (a store with missing frame chunks
        fails here, as in :meth:`read`); the arrays are
        ``playnano.lazy.LazyFrames`` over :class:`~playnano_zarr._frames.ZarrFrames`,
        which read only the chunks a block of frames touches.
        """
        return self._read(Path(path), channel, lazy=True)

    def _read(self, path: Path, channel: str | None, *, lazy: bool) -> AFMImageStack:
        import zarr

        if not path.exists():
            raise ReadError(f"{path}: no such file or folder")
        attrs = layout.read_attributes(path) if path.is_dir() else None
        if attrs is None:
            raise ReadError(f"{path}: not a Zarr group folder")
        try:
            root = zarr.open_group(store=path, mode="r")
        except Exception as exc:
            raise ReadError(f"{path}: cannot open as Zarr ({_one_line(exc)})") from exc
        info = attrs.get(layout.PLAYNANO_KEY)
        if isinstance(info, dict):
            return _read_playnano(root, path, info, channel, lazy)
        return _read_ngff(root, path, attrs, channel, lazy)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _array(root: Any, key: str, store: str, *, complete: bool) -> Any:
    """Zarr array ``key``; ``complete`` refuses missing chunks (a truncated copy)."""
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
    return arr


def _load(root: Any, key: str, store: str, *, complete: bool) -> np.ndarray:
    """Array ``key`` as numpy; ``complete`` refuses missing chunks (a truncated copy)."""
    arr = _array(root, key, store, complete=complete)
    try:
        return np.asarray(arr[...])
    except Exception as exc:
        raise ReadError(f"{store}: cannot read {key!r} ({_one_line(exc)})") from exc


def _read_playnano(
    root: Any, path: Path, info: dict[str, Any], channel: str | None, lazy: bool
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
    side = _side_data(root, store, info, version)
    if lazy:
        return _lazy_playnano(root, path, info, stored, side)
    data = _load(root, layout.LEVEL_PATH, store, complete=True)
    try:
        stack = AFMImageStack(
            data, info["pixel_size_nm"], stored, path, side["frame_metadata"]
        )
        stack.processed = {
            key: data
            if node == layout.ROOT_IMAGE
            else _load(root, _level0(node), store, complete=True)
            for key, node in info.get("processed", {}).items()
        }
        stack.masks = {
            key: _load(root, _level0(node), store, complete=False).astype(bool)
            for key, node in info.get("masks", {}).items()
        }
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        if isinstance(exc, ReadError):
            raise
        raise ReadError(
            f"{store}: inconsistent playnano metadata ({_one_line(exc)})"
        ) from exc
    _restore(stack, side)
    return stack


def _level0(node: str) -> str:
    """The full-resolution array of the image group ``node``."""
    return f"{node}/{layout.LEVEL_PATH}"


def _side_data(
    root: Any, store: str, info: dict[str, Any], version: int
) -> dict[str, Any]:
    """Frame metadata, provenance and state backups: attributes (format 1) or the
    JSON arrays under ``playnano/`` (format 2)."""
    from playnano.formats.bundle import text_budget

    keys = ("frame_metadata", "provenance", "state_backups")
    if version < 2:
        return {k: info.get(k) for k in keys}
    n = info.get("n_frames")
    budget = text_budget(n if isinstance(n, int) and n > 0 else 1)
    out: dict[str, Any] = {}
    for key in keys:
        where = info.get(key)
        if where is None and key == "state_backups":
            out[key] = None
            continue
        if not isinstance(where, str):
            raise ReadError(f"{store}: playnano metadata {key!r} is not an array path")
        # the declared size is checked before anything is read or counted
        arr = _array(root, where, store, complete=False)
        if arr.ndim != 1 or arr.dtype != np.uint8 or arr.shape[0] > budget:
            raise ReadError(
                f"{store}: {where!r} is not a JSON document of at most {budget} bytes"
            )
        _array(root, where, store, complete=True)
        try:
            out[key] = json.loads(bytes(np.asarray(arr[...])).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ReadError(
                f"{store}: {where!r} is not JSON ({_one_line(exc)})"
            ) from exc
        except Exception as exc:
            raise ReadError(
                f"{store}: cannot read {where!r} ({_one_line(exc)})"
            ) from exc
    return out


def _restore(stack: AFMImageStack, side: dict[str, Any]) -> None:
    """Put the stored provenance and state backups on ``stack``."""
    if isinstance(side.get("provenance"), dict):
        stack.provenance = side["provenance"]
    if isinstance(side.get("state_backups"), dict):
        stack.state_backups = side["state_backups"]


def _lazy_playnano(
    root: Any, path: Path, info: dict[str, Any], stored: Any, side: dict[str, Any]
) -> AFMImageStack:
    """The store's stack with data, layers and masks as lazy frames."""
    from playnano_zarr._frames import ZarrFrames

    store = path.name

    def frames(key: str, complete: bool, as_bool: bool = False) -> ZarrFrames:
        arr = _array(root, key, store, complete=complete)
        if arr.ndim != 3:
            raise ReadError(f"{store}: {key!r} is not a (t, y, x) array")
        return ZarrFrames(store, key, arr, 0, {}, as_bool=as_bool)

    try:
        data = frames(layout.LEVEL_PATH, True)
        layers = {
            k: frames(
                layout.LEVEL_PATH if node == layout.ROOT_IMAGE else _level0(node), True
            )
            for k, node in info.get("processed", {}).items()
        }
        masks = {
            k: frames(_level0(node), False, as_bool=True)
            for k, node in info.get("masks", {}).items()
        }
        stack = lazy_stack(
            path,
            data,
            info["pixel_size_nm"],
            stored,
            side["frame_metadata"],
            layers=layers,
            masks=masks,
        )
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        if isinstance(exc, ReadError):
            raise
        raise ReadError(
            f"{store}: inconsistent playnano metadata ({_one_line(exc)})"
        ) from exc
    _restore(stack, side)
    return stack


def _read_ngff(
    root: Any, path: Path, attrs: dict[str, Any], channel: str | None, lazy: bool
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
        arr = _array(root, dataset["path"], store, complete=False)
        names = [a["name"] if isinstance(a, dict) else a for a in image.get("axes", [])]
        units = [
            a.get("unit") if isinstance(a, dict) else None
            for a in image.get("axes", [])
        ]
    except (KeyError, IndexError, TypeError) as exc:
        raise ReadError(
            f"{store}: malformed multiscales metadata ({_one_line(exc)})"
        ) from exc
    shape = tuple(arr.shape)
    if not names:  # NGFF 0.1/0.2: implicit (t, c, z, y, x)
        names = ["t", "c", "z", "y", "x"][-len(shape) :]
        units = [None] * len(shape)
    if len(names) != len(shape) or names[-2:] != ["y", "x"]:
        raise ReadError(
            f"{store}: axes {names} do not end in y, x; playnano reads (t, y, x)"
        )
    scale = _scale(image, dataset, len(shape))
    index, label = _select_channel(store, shape, names, ome, channel)
    t_axis = names.index("t") if "t" in names else None
    for ax, size in zip(names, shape, strict=True):
        if ax not in ("t", "c", "y", "x") and size != 1:
            raise ReadError(
                f"{store}: axis {ax!r} has {size} planes; playnano reads (t, y, x)"
            )
    pixel_nm = scale[-1] * layout.SPACE_UNITS_NM.get(units[-1] or "nanometer", 1.0)
    n_frames = shape[t_axis] if t_axis is not None else 1
    meta = None
    if t_axis is not None and units[t_axis] in layout.TIME_UNITS_S:
        to_s = layout.TIME_UNITS_S[str(units[t_axis])]
        dt, t0 = (
            scale[t_axis] * to_s,
            _origin(image, dataset, len(shape))[t_axis] * to_s,
        )
        meta = [{"timestamp": t0 + i * dt} for i in range(n_frames)]
    name = label or image.get("name") or "data"
    fixed = {i: 0 for i, ax in enumerate(names) if ax not in ("t", "c", "y", "x")}
    if index is not None:
        fixed[names.index("c")] = index
    if lazy:
        from playnano_zarr._frames import ZarrFrames

        source = ZarrFrames(store, dataset["path"], arr, t_axis, fixed)
        stack = lazy_stack(path, source, pixel_nm, name, meta)
    else:
        data = _load(root, dataset["path"], store, complete=False)
        if index is not None:
            data = np.take(data, index, axis=names.index("c"))
        stack = AFMImageStack(
            data.reshape(n_frames, shape[-2], shape[-1]), pixel_nm, name, path, meta
        )
    record_source(
        stack, path, "zarr", ngff_version=ome.get("version") or image.get("version")
    )
    return stack


def _vectors(
    image: dict[str, Any], dataset: dict[str, Any], kind: str, ndim: int
) -> list[list[float]]:
    """The ``kind`` (scale, translation) vectors of the first dataset, then of the
    multiscale as a whole, that have one entry per axis."""
    out = []
    for transforms in (
        dataset.get("coordinateTransformations"),
        image.get("coordinateTransformations"),
    ):
        for tr in transforms if isinstance(transforms, list) else []:
            values = tr.get(kind) if isinstance(tr, dict) else None
            if (
                isinstance(tr, dict)
                and tr.get("type") == kind
                and isinstance(values, list)
                and len(values) == ndim
                and all(isinstance(v, (int, float)) for v in values)
            ):
                out.append([float(v) for v in values])
    return out


def _scale(image: dict[str, Any], dataset: dict[str, Any], ndim: int) -> list[float]:
    """Scale of the first dataset times any multiscale-wide scale (1.0 when absent)."""
    out = [1.0] * ndim
    for vec in _vectors(image, dataset, "scale", ndim):
        out = [a * b for a, b in zip(out, vec, strict=True)]
    return [s if math.isfinite(s) and s > 0 else 1.0 for s in out]


def _origin(image: dict[str, Any], dataset: dict[str, Any], ndim: int) -> list[float]:
    """Translation of the first dataset plus any multiscale-wide one (0 when absent)."""
    out = [0.0] * ndim
    for vec in _vectors(image, dataset, "translation", ndim):
        out = [a + b for a, b in zip(out, vec, strict=True)]
    return [v if math.isfinite(v) else 0.0 for v in out]


def _select_channel(
    store: str,
    shape: tuple[int, ...],
    names: list[str],
    ome: dict[str, Any],
    channel: str | None,
) -> tuple[int | None, str | None]:
    """The index to read on a ``c`` axis (``None``: no such axis) and its label."""
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
        return None, channel or (labels[0] if labels else None)
    n = shape[names.index("c")]
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
    return index, labels[index] if index < len(labels) else None


@hookimpl
def register_readers(register: Any) -> None:
    """Register the OME-Zarr reader."""
    register(ZarrReader())
