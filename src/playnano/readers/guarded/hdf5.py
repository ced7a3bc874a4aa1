"""The one guarded opening of an HDF5 file, and checks before any data is read.

:func:`open_hdf5` is how every door of every HDF5 reader opens a file: the HDF5
signature first, then the file's whole metadata walked in a helper process that a
time limit can stop (:mod:`playnano.readers.guarded.hdf5_probe`; libhdf5 can loop
for ever in C on one flipped bit, where no Python check runs), and only then the
file is opened here.

A hostile or damaged HDF5 file can also declare a dataset far larger than what it
stores (an unallocated dataset reads as gigabytes of fill values), keep its data in
another file (external links, external raw storage, virtual datasets: the input's
SHA-256 then describes the wrong bytes, and a virtual dataset onto itself crashes
HDF5), or inflate a few compressed bytes into gigabytes. :func:`member` and
:func:`checked_dataset` refuse all of these with a one-line
:class:`~playnano.errors.ReadError` *before* any data is read, so memory stays
bounded by the data the file really holds. h5py is imported by the functions,
never at module level.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from playnano.errors import ReadError

#: The eight bytes every HDF5 file starts with.
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"

#: A chunked, compressed dataset may inflate to this many times its stored bytes...
MAX_INFLATION = 64
#: ...or to this many bytes, whichever is larger (small datasets compress well).
INFLATION_FLOOR = 64 << 20


def has_hdf5_signature(path: Path) -> bool:
    """True when the HDF5 signature is where HDF5 puts it: at byte 0, or after a
    user block of 512, 1024, 2048... bytes."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        at = 0
        while at + 8 <= size:
            fh.seek(at)
            if fh.read(8) == HDF5_MAGIC:
                return True
            at = 512 if at == 0 else 2 * at
    return False


def open_hdf5(path: Path) -> Any:
    """``h5py.File(path, "r")``, once the file's metadata has been walked safely.

    Use it as h5py's file (``with open_hdf5(path) as f:``), or keep it open for
    frames read on demand.

    Raises
    ------
    ReadError
        Not an HDF5 file; reading its metadata hung, crashed HDF5 or needed
        gigabytes (see :func:`~playnano.readers.guarded.hdf5_probe.probe`); or
        HDF5 cannot open it.
    """
    import h5py

    from playnano.readers.guarded.hdf5_probe import probe

    path = Path(path)
    if not has_hdf5_signature(path):
        raise ReadError(f"{path}: not an HDF5 file (no HDF5 signature)")
    probe(path)
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        reason = (str(exc).splitlines() or [""])[0]
        raise ReadError(
            f"{path}: HDF5 file is truncated or corrupt ({reason})"
        ) from exc


def member(group: Any, name: str, path: Path, what: str) -> Any:
    """``group[name]``, refusing an external link (data from another file)."""
    import h5py

    link = group.get(name, getlink=True)
    if link is None:
        raise ReadError(f"{path}: {what} is missing")
    if isinstance(link, h5py.ExternalLink):
        raise ReadError(
            f"{path}: {what} is an external link to {link.filename!r}; "
            "only data stored in the file itself is read"
        )
    try:
        return group[name]
    except (KeyError, OSError) as exc:  # a soft link to nothing
        raise ReadError(f"{path}: {what} cannot be opened ({exc})") from exc


def checked_dataset(
    dset: Any, path: Path, what: str, *, max_inflation: int | None = MAX_INFLATION
) -> Any:
    """Return ``dset`` when reading it is safe; raise a ReadError otherwise.

    Refused: virtual datasets, external raw storage, contiguous data that is not
    (fully) allocated or runs past the end of the file, chunked data with chunks
    missing, and compressed data that would inflate beyond ``max_inflation`` times
    its stored size (and beyond ``INFLATION_FLOOR`` bytes). ``max_inflation=None``
    skips that last check, for files whose own writer compresses masks several
    hundred times (playnano's bundles).
    """
    import h5py

    where = f"{path}: {what}"
    plist = dset.id.get_create_plist()
    layout = plist.get_layout()
    if layout == h5py.h5d.VIRTUAL:
        raise ReadError(
            f"{where} is an HDF5 virtual dataset (its data lives elsewhere); "
            "only data stored in the file itself is read"
        )
    if plist.get_external_count() > 0:
        raise ReadError(
            f"{where} keeps its data in external files; "
            "only data stored in the file itself is read"
        )
    declared = int(dset.size) * int(dset.dtype.itemsize)
    if declared == 0 or layout == h5py.h5d.COMPACT:
        return dset  # compact data sits in the object header (at most 64 KiB)
    stored = int(dset.id.get_storage_size())
    shape = f"{'x'.join(map(str, dset.shape))} {dset.dtype}"
    if layout == h5py.h5d.CONTIGUOUS:
        offset = dset.id.get_offset()
        if stored < declared or offset is None:
            raise ReadError(
                f"{where} declares {shape} ({declared} bytes) but the file stores "
                f"{stored} bytes of it"
            )
        size = path.stat().st_size
        if offset + declared > size:
            raise ReadError(
                f"{where} declares {declared} bytes at offset {offset}; "
                f"file ends after {size} bytes"
            )
        return dset
    chunks = dset.chunks or dset.shape
    pairs = zip(dset.shape, chunks, strict=True)
    expected = math.prod(-(-n // c) for n, c in pairs)
    have = int(dset.id.get_num_chunks())
    if have < expected:
        raise ReadError(
            f"{where} declares {shape} in {expected} chunks but the file stores "
            f"{have} of them"
        )
    if max_inflation is not None and declared > max(
        INFLATION_FLOOR, max_inflation * stored
    ):
        raise ReadError(
            f"{where} declares {shape} ({declared} bytes) from {stored} stored "
            f"bytes; refusing to inflate it more than {max_inflation} times"
        )
    return dset
