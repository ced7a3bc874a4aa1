"""The guarded openings of containers: every door of every reader starts here.

:func:`~playnano.readers.guarded.tiff.open_tiff` for TIFF files (instrument TIFFs,
ImageJ stacks, OME-TIFF, JPK frames) and
:func:`~playnano.readers.guarded.hdf5.open_hdf5` for HDF5 files (``.h5-jpk``,
playnano's HDF5 bundles) refuse a damaged or hostile file with one
:class:`~playnano.errors.ReadError` line naming it, before the container's library
can loop, crash or allocate what the file does not hold. NPZ bundles have theirs
in :func:`playnano.formats.npz.members.open_npz`. Nothing here imports tifffile or
h5py until a file is opened.
"""

from playnano.readers.guarded.hdf5 import checked_dataset, member, open_hdf5
from playnano.readers.guarded.tiff import checked_series, open_tiff

__all__ = ["checked_dataset", "checked_series", "member", "open_hdf5", "open_tiff"]
