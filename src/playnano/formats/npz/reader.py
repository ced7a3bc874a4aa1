"""The NPZ bundle reader: playnano's ``.npz`` bundles (this version's and 0.5.0's).

Bundles come back bit for bit: data, every processed layer and mask in their own
dtype, frame metadata, provenance and state backups. playnano 0.5.0's pickled
strings are decoded by :mod:`._pickle` without unpickling. Anything missing or
malformed raises :class:`~playnano.errors.ReadError` naming the file.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.errors import ReadError, StackError
from playnano.formats import _reading
from playnano.formats.npz import layout, members
from playnano.formats.npz._pickle import UnsafePickle, string_from_pickle
from playnano.plugins import hookimpl

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

ZIP_MAGIC = b"PK\x03\x04"


def read_member(zf: zipfile.ZipFile, member: str, path: Path) -> Any:
    """An array from an NPZ member; object arrays only as their single string."""
    key = member[: -len(layout.MEMBER_SUFFIX)]
    try:
        with zf.open(member) as fh:
            if members.npy_header(fh)[2].hasobject:
                try:
                    return string_from_pickle(fh.read())
                except UnsafePickle as exc:
                    raise ReadError(
                        f"{path}: member {key!r} is a pickled object that is not a "
                        f"plain string ({exc}); refusing to unpickle it"
                    ) from None
        with zf.open(member) as fh:
            return np.lib.format.read_array(fh, allow_pickle=False)
    except (ValueError, OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise ReadError(f"{path}: member {key!r} is unreadable ({exc})") from None


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
    stack = _load(_reading.existing(path), lazy=False)
    assert stack is not None
    return stack


def load_npz_bundle_lazy(path: str | Path) -> AFMImageStack | None:
    """:func:`load_npz_bundle` with data, layers and masks read on demand.

    The metadata is read and every member's declaration checked now; the arrays
    are :class:`~playnano.lazy.LazyFrames` over
    :class:`~playnano.formats.npz._frames.NpyMemberFrames`. ``None`` when an
    array is stored in Fortran order (its frames are not contiguous).
    """
    return _load(_reading.existing(path), lazy=True)


def _load(p: Path, *, lazy: bool) -> AFMImageStack | None:
    with members.open_npz(p) as (zf, declared):
        missing = [k for k in layout.REQUIRED if k not in declared]
        if missing:
            raise ReadError(f"{p}: not a playnano bundle; missing {', '.join(missing)}")

        def get(key: str) -> Any:
            return read_member(zf, declared[key].info.filename, p)

        def text(key: str) -> str:
            return _reading.as_text(p, key, get(key))

        def json_member(key: str) -> Any:
            return _reading.parse_json(p, key, text(key))

        if layout.VERSION_KEY in declared:
            version = get(layout.VERSION_KEY)
            _reading.check_version(p, version, layout.FORMAT_VERSION)
        frame_metadata = json_member(layout.FRAME_METADATA)
        n_frames = declared[layout.DATA].shape[0]
        if isinstance(frame_metadata, list) and len(frame_metadata) != n_frames:
            raise ReadError(
                f"{p}: frame_metadata has {len(frame_metadata)} entries; "
                f"'data' has {n_frames} frames"
            )
        provenance = json_member(layout.PROVENANCE)
        backups = None
        if layout.STATE_BACKUPS in declared:
            backups = json_member(layout.STATE_BACKUPS)
        pixel_size, channel_name = get(layout.PIXEL_SIZE), text(layout.CHANNEL)
        layers: dict[str, Any] = {}
        masks: dict[str, Any] = {}
        for key in declared:
            for prefix, into in (
                (layout.LAYER_PREFIX, layers),
                (layout.MASK_PREFIX, masks),
            ):
                if key.startswith(prefix):
                    into[key[len(prefix) :]] = key
        arrays = [layout.DATA, *layers.values(), *masks.values()]
        for key in arrays:
            if declared[key].dtype.hasobject:
                what = "'data'" if key == layout.DATA else repr(key)
                raise ReadError(f"{p}: {what} is not a numeric array")
        if lazy:
            if any(declared[key].fortran for key in arrays):
                return None
            return _lazy_bundle(p, declared, layers, masks, pixel_size, channel_name,
                                frame_metadata, provenance, backups)  # fmt: skip
        return _reading.build_stack(
            p,
            get(layout.DATA),
            pixel_size,
            channel_name,
            frame_metadata,
            provenance,
            state_backups=backups,
            layers={name: get(key) for name, key in layers.items()},
            masks={name: get(key) for name, key in masks.items()},
        )


def _lazy_bundle(
    p: Path,
    declared: dict[str, members.Member],
    layers: dict[str, str],
    masks: dict[str, str],
    pixel_size: Any,
    channel: str,
    frame_metadata: Any,
    provenance: Any,
    backups: Any,
) -> AFMImageStack:
    """The bundle's stack with its arrays as LazyFrames over its members."""
    from playnano.formats.npz._frames import NpyMemberFrames
    from playnano.readers.lazy_stack import lazy_stack

    if not isinstance(frame_metadata, list):
        raise ReadError(f"{p}: frame metadata is not a JSON list")
    try:
        size = float(np.asarray(pixel_size).item())
    except (TypeError, ValueError) as exc:
        raise ReadError(f"{p}: {exc}") from None
    try:
        stack = lazy_stack(
            p,
            NpyMemberFrames(p, declared[layout.DATA]),
            size,
            channel,
            frame_metadata,
            layers={k: NpyMemberFrames(p, declared[m]) for k, m in layers.items()},
            masks={k: NpyMemberFrames(p, declared[m]) for k, m in masks.items()},
        )
    except (StackError, TypeError, ValueError) as exc:  # as build_stack says it
        raise ReadError(f"{p}: {exc}") from None
    try:
        return _reading.finish_stack(p, stack, provenance, backups)
    except ReadError:
        stack.close()
        raise


class NpzBundleReader(_reading.BundleReader):
    """Reads playnano ``.npz`` bundles (this version's and 0.5.0's)."""

    name = "npz-bundle"
    aliases = ("npz",)
    suffixes = (layout.SUFFIX,)
    description = "playnano NPZ bundle (data, layers, masks, metadata, provenance)"
    magics = (ZIP_MAGIC,)
    info_module = "playnano.formats.npz.info"

    def load_file(self, path: Path) -> AFMImageStack:
        """Load the bundle with :func:`load_npz_bundle`."""
        return load_npz_bundle(path)

    def load_file_lazy(self, path: Path) -> AFMImageStack | None:
        """Load the bundle with :func:`load_npz_bundle_lazy`."""
        return load_npz_bundle_lazy(path)


@hookimpl
def register_readers(register: Any) -> None:
    """Register the NPZ bundle reader."""
    register(NpzBundleReader())
