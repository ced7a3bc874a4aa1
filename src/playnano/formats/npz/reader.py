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

from playnano.errors import ReadError
from playnano.formats import _reading
from playnano.formats.npz import _members, layout
from playnano.formats.npz._pickle import UnsafePickle, string_from_pickle
from playnano.plugins import hookimpl

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack
    from playnano.info import StackInfo

ZIP_MAGIC = b"PK\x03\x04"


def read_member(zf: zipfile.ZipFile, member: str, path: Path) -> Any:
    """An array from an NPZ member; object arrays only as their single string."""
    key = member[: -len(layout.MEMBER_SUFFIX)]
    fmt = np.lib.format
    try:
        with zf.open(member) as fh:
            version = fmt.read_magic(fh)
            read_header = (
                fmt.read_array_header_1_0
                if version == (1, 0)
                else fmt.read_array_header_2_0
            )
            _shape, _fortran, dtype = read_header(fh)
            if dtype.hasobject:
                try:
                    return string_from_pickle(fh.read())
                except UnsafePickle as exc:
                    raise ReadError(
                        f"{path}: member {key!r} is a pickled object that is not a "
                        f"plain string ({exc}); refusing to unpickle it"
                    ) from None
        with zf.open(member) as fh:
            return fmt.read_array(fh, allow_pickle=False)
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
    p = _reading.existing(path)
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReadError(f"{p}: not an NPZ file ({exc})") from None
    with zf:
        members = _members.declared(zf, p)
        missing = [k for k in layout.REQUIRED if k not in members]
        if missing:
            raise ReadError(f"{p}: not a playnano bundle; missing {', '.join(missing)}")

        def get(key: str) -> Any:
            return read_member(zf, members[key].info.filename, p)

        def text(key: str) -> str:
            return _reading.as_text(p, key, get(key))

        def json_member(key: str) -> Any:
            return _reading.parse_json(p, key, text(key))

        if layout.VERSION_KEY in members:
            version = get(layout.VERSION_KEY)
            _reading.check_version(p, version, layout.FORMAT_VERSION)
        frame_metadata = json_member(layout.FRAME_METADATA)
        n_frames = members[layout.DATA].shape[0]
        if isinstance(frame_metadata, list) and len(frame_metadata) != n_frames:
            raise ReadError(
                f"{p}: frame_metadata has {len(frame_metadata)} entries; "
                f"'data' has {n_frames} frames"
            )
        provenance = json_member(layout.PROVENANCE)
        backups = None
        if layout.STATE_BACKUPS in members:
            backups = json_member(layout.STATE_BACKUPS)
        pixel_size, channel_name = get(layout.PIXEL_SIZE), text(layout.CHANNEL)
        layers: dict[str, Any] = {}
        masks: dict[str, Any] = {}
        for key in members:
            for prefix, into in (
                (layout.LAYER_PREFIX, layers),
                (layout.MASK_PREFIX, masks),
            ):
                if key.startswith(prefix):
                    arr = get(key)
                    if not isinstance(arr, np.ndarray) or arr.dtype.hasobject:
                        raise ReadError(f"{p}: {key!r} is not a numeric array")
                    into[key[len(prefix) :]] = arr
        return _reading.build_stack(
            p,
            get(layout.DATA),
            pixel_size,
            channel_name,
            frame_metadata,
            provenance,
            state_backups=backups,
            layers=layers,
            masks=masks,
        )


class NpzBundleReader(_reading.BundleReader):
    """Reads playnano ``.npz`` bundles (this version's and 0.5.0's)."""

    name = "npz-bundle"
    aliases = ("npz",)
    suffixes = (layout.SUFFIX,)
    description = "playnano NPZ bundle (data, layers, masks, metadata, provenance)"
    magics = (ZIP_MAGIC,)

    def load_file(self, path: Path) -> AFMImageStack:
        """Load the bundle with :func:`load_npz_bundle`."""
        return load_npz_bundle(path)

    def inspect(self, path: Path) -> StackInfo:
        """Describe the file from its metadata (see :mod:`.info`)."""
        from playnano.formats.npz import info

        return info.inspect(path)

    def check(self, path: Path) -> list[str]:
        """Problems against the bundle specification, one line each."""
        from playnano.formats.npz import info

        return info.check(path)


@hookimpl
def register_readers(register: Any) -> None:
    """Register the NPZ bundle reader."""
    register(NpzBundleReader())
