"""Checks before any bundle data is read: local, allocated storage only.

playnano's HDF5 bundles store every array in the file itself: hard links only (the
layer that is ``/data`` is a second hard link to it), no soft or external links, no
virtual datasets, no external raw storage, and every chunk written. A file that
breaks these rules is hostile or damaged: a virtual dataset onto itself crashes
HDF5, links and external storage silently read other files' bytes, and unallocated
storage reads as gigabytes of fill values. Each rule breaks into a one-line
:class:`~playnano.errors.ReadError` before any data is read. The storage checks are
the HDF5 readers' shared :func:`playnano.readers.guarded.hdf5.checked_dataset`, without
its inflation limit (our masks compress several hundred times), and the missing and
external links are refused by their :func:`~playnano.readers.guarded.hdf5.member`.
The file itself is opened by :func:`~playnano.readers.guarded.hdf5.open_hdf5`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playnano.errors import ReadError
from playnano.readers.guarded.hdf5 import checked_dataset, member


def dataset(group: Any, name: str, path: Path, what: str) -> Any:
    """``group[name]`` as a dataset stored in this file and fully allocated."""
    import h5py

    link = group.get(name, getlink=True)
    if isinstance(link, h5py.SoftLink):
        raise ReadError(
            f"{path}: {what} is a soft link to {link.path!r}; "
            "playnano bundles hold their datasets directly"
        )
    obj = member(group, name, path, what)  # refuses a missing or external link
    if not isinstance(obj, h5py.Dataset):
        raise ReadError(f"{path}: {what} is not a dataset")
    return checked_dataset(obj, path, what, max_inflation=None)
