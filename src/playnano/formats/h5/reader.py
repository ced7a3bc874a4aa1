"""The HDF5 bundle reader: playnano's ``.h5`` bundles (this version's and 0.5.0's).

Bundles come back bit for bit: data, every processed layer and mask in their own
dtype, frame metadata, provenance and state backups. Anything missing or malformed
raises :class:`~playnano.errors.ReadError` naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from playnano.errors import ReadError
from playnano.formats import _reading
from playnano.formats.bundle import text_budget
from playnano.formats.h5 import layout, safety
from playnano.formats.h5.chunks import read_array, read_range
from playnano.plugins import hookimpl
from playnano.readers.guarded.hdf5 import HDF5_MAGIC, open_hdf5

if TYPE_CHECKING:
    import h5py

    from playnano.afm_stack import AFMImageStack


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
    p = _reading.existing(path)
    with open_hdf5(p) as f:
        try:
            return _load_open(p, f)
        except (OSError, KeyError, RuntimeError) as exc:  # corrupt or truncated
            raise ReadError(f"{p}: unreadable ({exc})") from None


class _SharedFile:
    """An open HDF5 file shared by a lazy stack's frame sources; closed with the last."""

    def __init__(self, f: h5py.File) -> None:
        self.f, self.users = f, 0

    def release(self) -> None:
        self.users -= 1
        if self.users <= 0 and self.f.id.valid:
            self.f.close()


class H5FrameSource:
    """A :class:`~playnano.lazy.FrameSource` over one 3D dataset of a bundle."""

    def __init__(self, path: Path, shared: _SharedFile, ds: h5py.Dataset) -> None:
        self.path, self.shared, self.ds = path, shared, ds
        self.name = ds.name
        self.shape = tuple(ds.shape)
        self.dtype = ds.dtype
        #: frames a chunk holds: a sample of one frame reads them all
        self.read_unit = ds.chunks[0] if ds.chunks else 1
        self._open = True
        shared.users += 1

    def read(self, start: int, stop: int) -> Any:
        """Frames ``start:stop``, inflated in threads (``chunks.read_range``)."""
        if not self._open:
            raise ReadError(f"{self.path}: {self.name} was read after the file closed")
        try:
            return read_range(self.ds, start, stop)
        except (OSError, KeyError, RuntimeError, ValueError) as exc:
            raise ReadError(
                f"{self.path}: {self.name} frames {start}-{stop - 1} are unreadable "
                f"({exc})"
            ) from None

    def close(self) -> None:
        """Release the file (closed once every source of it is closed)."""
        if self._open:
            self._open = False
            self.shared.release()


def load_h5_bundle_lazy(path: str | Path) -> AFMImageStack:
    """Like :func:`load_h5_bundle`, but frames, layers and masks are read on demand.

    Metadata is read and checked now; every frame array is a
    :class:`~playnano.lazy.LazyFrames` over the open file, read a block at a time
    (``stack.close()`` closes the file).
    """
    p = _reading.existing(path)
    f = open_hdf5(p)
    shared = _SharedFile(f)
    shared.users += 1  # held until the stack is built

    def lazy(ds: h5py.Dataset) -> Any:
        from playnano.lazy import LazyFrames

        if ds.ndim != 3:  # refused by the stack's checks, as when read in memory
            return read_array(ds)
        return LazyFrames(H5FrameSource(p, shared, ds))

    try:
        stack = _load_open(p, f, lazy)
    except BaseException as exc:  # no stack: close the file whoever opened datasets
        f.close()
        if isinstance(exc, (OSError, KeyError, RuntimeError)):
            raise ReadError(f"{p}: unreadable ({exc})") from None
        raise
    shared.release()
    return stack


def _load_open(p: Path, f: h5py.File, read: Any = None) -> AFMImageStack:
    """Check what ``f`` declares, then read it: data last, in bounded memory.

    ``read(dataset)`` gives each frame array (default: the whole array now).
    """
    import h5py

    read = read or read_array

    missing = [k for k in layout.REQUIRED if f.get(k, getlink=True) is None]
    missing += [f"attribute {a}" for a in layout.REQUIRED_ATTRS if a not in f.attrs]
    if missing:
        raise ReadError(f"{p}: not a playnano bundle; missing {', '.join(missing)}")
    _reading.check_version(p, f.attrs.get(layout.VERSION_KEY), layout.FORMAT_VERSION)

    data = safety.dataset(f, layout.DATA, p, f"/{layout.DATA}")
    if data.ndim != 3:
        raise ReadError(
            f"{p}: /data must be a 3D (frames, height, width) array; got {data.shape}"
        )
    budget = text_budget(data.shape[0])

    def json_dataset(key: str) -> Any:
        ds = safety.dataset(f, key, p, f"/{key}")
        if ds.shape not in ((), (1,)):
            raise ReadError(f"{p}: /{key} is not a single string (shape {ds.shape})")
        if ds.dtype.itemsize > budget:
            raise ReadError(
                f"{p}: /{key} holds {ds.dtype.itemsize} bytes of text for "
                f"{data.shape[0]} frames; refusing to read it"
            )
        return _reading.parse_json(p, key, _reading.as_text(p, key, ds[()]))

    def group_items(group_name: str) -> list[tuple[str, h5py.Dataset]]:
        link = f.get(group_name, getlink=True)
        if link is None:
            return []
        if not isinstance(link, h5py.HardLink):
            raise ReadError(f"{p}: /{group_name} is a link to elsewhere")
        group = f[group_name]
        if not isinstance(group, h5py.Group):
            raise ReadError(f"{p}: /{group_name} is not a group")
        return [
            (name, safety.dataset(group, name, p, f"/{group_name}/{name}"))
            for name in group
        ]

    backups = None
    if f.get(layout.STATE_BACKUPS, getlink=True) is not None:
        backups = json_dataset(layout.STATE_BACKUPS)
    frame_metadata = json_dataset(layout.FRAME_METADATA)
    provenance = json_dataset(layout.PROVENANCE)
    if isinstance(frame_metadata, list) and len(frame_metadata) != data.shape[0]:
        raise ReadError(
            f"{p}: frame_metadata has {len(frame_metadata)} entries; "
            f"/data has {data.shape[0]} frames"
        )
    layers = group_items(layout.LAYERS_GROUP)
    masks = group_items(layout.MASKS_GROUP)
    for name, ds in masks:
        if ds.shape != data.shape:
            raise ReadError(
                f"{p}: mask {name!r} has shape {ds.shape}; /data is {data.shape}"
            )
    stack = _reading.build_stack(
        p,
        read(data),
        f.attrs[layout.PIXEL_SIZE_ATTR],
        _reading.as_text(p, "channel", f.attrs[layout.CHANNEL_ATTR]),
        frame_metadata,
        provenance,
        state_backups=backups,
        layers={name: read(ds) for name, ds in layers},
        masks={name: read(ds) for name, ds in masks},
    )
    # frames stored together: the same in memory and lazily (a sample reads them)
    stack.read_unit = int(data.chunks[0]) if data.chunks else 1
    return stack


class H5BundleReader(_reading.BundleReader):
    """Reads playnano ``.h5`` bundles (this version's and 0.5.0's)."""

    name = "h5-bundle"
    aliases = ("h5", "hdf5")
    suffixes = (layout.SUFFIX, ".hdf5")
    description = "playnano HDF5 bundle (data, layers, masks, metadata, provenance)"
    requires = ("h5py",)
    install_hint = "pip install h5py"
    magics = (HDF5_MAGIC,)
    info_module = "playnano.formats.h5.info"

    def load_file(self, path: Path) -> AFMImageStack:
        """Load the bundle with :func:`load_h5_bundle`."""
        return load_h5_bundle(path)

    def load_file_lazy(self, path: Path) -> AFMImageStack:
        """The bundle with frames read on demand (:func:`load_h5_bundle_lazy`)."""
        return load_h5_bundle_lazy(path)


@hookimpl
def register_readers(register: Any) -> None:
    """Register the HDF5 bundle reader."""
    register(H5BundleReader())
