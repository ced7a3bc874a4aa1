"""Checks before any bundle data is read: local, allocated storage only.

playnano's HDF5 bundles store every array in the file itself: hard links only (the
layer that is ``/data`` is a second hard link to it), no soft or external links, no
virtual datasets, no external raw storage, and every chunk written. A file that
breaks these rules is hostile or damaged: a virtual dataset onto itself crashes
HDF5, links and external storage silently read other files' bytes, and unallocated
storage reads as gigabytes of fill values. Each rule breaks into a one-line
:class:`~playnano.errors.ReadError` before any data is read.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from playnano.errors import ReadError

_LOCAL_ONLY = "only data stored in the bundle itself is read"


def dataset(group: Any, name: str, path: Path, what: str) -> Any:
    """``group[name]`` as a dataset stored in this file and fully allocated."""
    import h5py

    link = group.get(name, getlink=True)
    if link is None:
        raise ReadError(f"{path}: {what} is missing")
    if isinstance(link, h5py.ExternalLink):
        raise ReadError(
            f"{path}: {what} is an external link to {link.filename!r}; {_LOCAL_ONLY}"
        )
    if isinstance(link, h5py.SoftLink):
        raise ReadError(
            f"{path}: {what} is a soft link to {link.path!r}; "
            "playnano bundles hold their datasets directly"
        )
    obj = group[name]
    if not isinstance(obj, h5py.Dataset):
        raise ReadError(f"{path}: {what} is not a dataset")
    check_storage(obj, path, what)
    return obj


def check_storage(dset: Any, path: Path, what: str) -> None:
    """Refuse virtual, external or (partly) unallocated storage of ``dset``."""
    import h5py

    plist = dset.id.get_create_plist()
    layout = plist.get_layout()
    if layout == h5py.h5d.VIRTUAL:
        raise ReadError(
            f"{path}: {what} is an HDF5 virtual dataset (its data lives elsewhere); "
            f"{_LOCAL_ONLY}"
        )
    if plist.get_external_count() > 0:
        raise ReadError(
            f"{path}: {what} keeps its data in external files; {_LOCAL_ONLY}"
        )
    declared = int(dset.size) * int(dset.dtype.itemsize)
    if declared == 0 or layout == h5py.h5d.COMPACT:
        return  # compact data sits in the object header (at most 64 KiB)
    stored = int(dset.id.get_storage_size())
    size = path.stat().st_size
    shape = f"{'x'.join(map(str, dset.shape)) or 'scalar'} {dset.dtype}"
    if stored > size:
        raise ReadError(
            f"{path}: {what} claims {stored} stored bytes in a {size}-byte file"
        )
    if layout == h5py.h5d.CONTIGUOUS:
        offset = dset.id.get_offset()
        if offset is None or stored < declared:
            raise ReadError(
                f"{path}: {what} declares {shape} ({declared} bytes) but the file "
                f"stores {0 if offset is None else stored} bytes of it"
            )
        if offset + declared > size:
            raise ReadError(
                f"{path}: {what} runs past the end of the file "
                f"({declared} bytes at offset {offset}; file size {size})"
            )
        return
    chunks = dset.chunks or dset.shape
    expected = math.prod(-(-n // c) for n, c in zip(dset.shape, chunks, strict=True))
    have = int(dset.id.get_num_chunks())
    if have < expected:
        raise ReadError(
            f"{path}: {what} declares {shape} in {expected} chunks but the file "
            f"stores {have} of them"
        )
