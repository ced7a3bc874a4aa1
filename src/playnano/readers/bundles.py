"""Readers for playnano's own bundles: ``.npz``, ``.h5`` and ``.ome.tif``.

The work is done by :mod:`playnano.io.loaders`, imported when a bundle is read so
that registering these readers imports neither h5py nor tifffile. A bundle holds one
channel; asking for another is a :class:`~playnano.errors.ChannelError`. The
provenance the bundle carries is kept, and its ``source`` record (the instrument
file it came from) moves to ``source["previous_source"]`` when :func:`load`
records the bundle itself as the source.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playnano.plugins import hookimpl
from playnano.readers._common import ReaderBase, pick_channel

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

ZIP_MAGIC = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def _starts_with(path: Path, *magics: bytes) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(8)
    return any(head.startswith(m) for m in magics)


class BundleReader(ReaderBase):
    """A playnano bundle format, read by one function of ``playnano.io.loaders``."""

    loader_name = ""
    magics: tuple[bytes, ...] = ()

    def _loader(self) -> Callable[[Path], AFMImageStack]:
        from playnano.io import loaders

        fn: Callable[[Path], AFMImageStack] = getattr(loaders, self.loader_name)
        return fn

    def can_read(self, path: Path) -> bool:
        """True for a file with this bundle's suffix and file signature."""
        return (
            path.is_file()
            and self.has_suffix(path)
            and _starts_with(path, *self.magics)
        )

    def read(self, path: Path, channel: str | None = None) -> AFMImageStack:
        """Load the bundle; ``channel``, if given, must be the one it holds."""
        path = Path(path)
        stack = self._loader()(path)
        if channel is not None:
            pick_channel(path, channel, [stack.channel], stack.channel)
        previous = stack.provenance.get("source") or {}
        stack.provenance["source"] = {"previous_source": previous} if previous else {}
        return stack


class NpzBundleReader(BundleReader):
    """Reads playnano ``.npz`` bundles (this version's and 0.5.0's)."""

    name = "npz-bundle"
    aliases = ("npz",)
    suffixes = (".npz",)
    description = "playnano NPZ bundle (data, layers, masks, metadata, provenance)"
    loader_name = "load_npz_bundle"
    magics = (ZIP_MAGIC,)


class H5BundleReader(BundleReader):
    """Reads playnano ``.h5`` bundles (this version's and 0.5.0's)."""

    name = "h5-bundle"
    aliases = ("h5", "hdf5")
    suffixes = (".h5", ".hdf5")
    description = "playnano HDF5 bundle (data, layers, masks, metadata, provenance)"
    requires = ("h5py",)
    install_hint = "pip install h5py"
    loader_name = "load_h5_bundle"
    magics = (HDF5_MAGIC,)


class OmeTiffReader(BundleReader):
    """Reads OME-TIFF stacks written by playnano (this version's and 0.5.0's)."""

    name = "ome-tiff"
    aliases = ("ome-tif",)
    suffixes = (".ome.tif", ".ome.tiff")
    description = "OME-TIFF stack with pixel size, timestamps and provenance"
    requires = ("tifffile",)
    install_hint = "pip install tifffile"
    loader_name = "load_ome_tiff_stack"
    magics = TIFF_MAGICS


@hookimpl
def register_readers(register: Any) -> None:
    """Register the three bundle readers."""
    for reader in (NpzBundleReader(), H5BundleReader(), OmeTiffReader()):
        register(reader)
