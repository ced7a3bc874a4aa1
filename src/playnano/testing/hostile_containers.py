"""Hostile edits of HDF5 and zip (NPZ) containers, for :mod:`playnano.testing.hostile`.

Each edit rewrites a copy in place: for HDF5 (through h5py) the file's largest
dataset (its frames) or smallest one (its small metadata) becomes virtual, external,
soft-linked or far larger than what is stored; for zip the largest member claims
gigabytes in its directory entry or ``.npy`` header, inflates to 512 MiB of zeros,
or overlaps another member.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

Edit = Callable[[Path], None]


# ----------------------------------------------------------------------- HDF5
def _datasets(path: Path) -> list[tuple[int, str]]:
    """(bytes, name) of every dataset, largest first."""
    import h5py

    found: list[tuple[int, str]] = []
    with h5py.File(path, "r") as f:

        def visit(name: str, obj: Any) -> None:
            if isinstance(obj, h5py.Dataset) and obj.shape is not None:
                found.append((int(obj.size) * obj.dtype.itemsize, name))

        f.visititems(visit)
    return sorted(found, reverse=True)


def _h5(pick: int, change: Callable[[Any, str, Path], None]) -> Edit:
    """Apply ``change(file, name, path)`` to the largest (0) or smallest (-1) dataset."""

    def edit(path: Path) -> None:
        import h5py

        found = _datasets(path)
        if not found:
            return
        name = found[pick][1]
        with h5py.File(path, "a") as f:
            change(f, name, path)

    return edit


def _removed(f: Any, name: str) -> tuple[tuple[int, ...], np.dtype]:
    ds = f[name]
    shape, dtype = ds.shape, ds.dtype
    del f[name]
    if dtype.hasobject or dtype.kind in "SUV":
        dtype = np.dtype("<f8")
    return tuple(shape) or (1,), dtype


def _virtual(source: str) -> Callable[[Any, str, Path], None]:
    def change(f: Any, name: str, path: Path) -> None:
        import h5py

        shape, dtype = _removed(f, name)
        layout = h5py.VirtualLayout(shape=shape, dtype=dtype)
        layout[...] = h5py.VirtualSource(source, name, shape=shape)
        f.create_virtual_dataset(name, layout, fillvalue=0)

    return change


def _external_link(f: Any, name: str, path: Path) -> None:
    import h5py

    _removed(f, name)
    f[name] = h5py.ExternalLink(path.name, name)


def _soft_link(f: Any, name: str, path: Path) -> None:
    import h5py

    _removed(f, name)
    f[name] = h5py.SoftLink("/no/such/object")


def _external_storage(f: Any, name: str, path: Path) -> None:
    shape, dtype = _removed(f, name)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    f.create_dataset(name, shape, dtype, external=[(path.name, 0, nbytes)])


def _unallocated(chunked: bool) -> Callable[[Any, str, Path], None]:
    def change(f: Any, name: str, path: Path) -> None:
        shape, dtype = _removed(f, name)
        big = (shape[0] * 2**20, *shape[1:])
        chunks = tuple(min(s, 64) for s in big) if chunked else None
        f.create_dataset(name, big, dtype, chunks=chunks)

    return change


def _no_attributes(path: Path) -> None:
    """Every attribute of every group removed (the metadata a reader needs)."""
    import h5py

    with h5py.File(path, "a") as f:
        groups = [f]
        f.visititems(
            lambda _, o: groups.append(o) if isinstance(o, h5py.Group) else None
        )
        for g in groups:
            for key in list(g.attrs):
                del g.attrs[key]


HDF5_EDITS: dict[str, Edit] = {
    "largest dataset virtual onto itself": _h5(0, _virtual(".")),
    "largest dataset virtual onto a missing file": _h5(0, _virtual("missing.h5")),
    "largest dataset an external link": _h5(0, _external_link),
    "largest dataset a soft link to nothing": _h5(0, _soft_link),
    "largest dataset in external raw storage": _h5(0, _external_storage),
    "largest dataset 2**20 times longer, chunks unwritten": _h5(0, _unallocated(True)),
    "largest dataset 2**20 times longer, unwritten": _h5(0, _unallocated(False)),
    "smallest dataset 2**20 times longer, unwritten": _h5(-1, _unallocated(True)),
    "smallest dataset virtual onto itself": _h5(-1, _virtual(".")),
    "group attributes removed": _no_attributes,
}


# ------------------------------------------------------------------------ zip
def _members(path: Path) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(path) as zf:
        return [(i, zf.read(i)) for i in zf.infolist()]


def _rewrite(path: Path, items: list[tuple[str, bytes]]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in items:
            zf.writestr(name, payload)


def npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    """A version 1.0 ``.npy`` header for a C-order array of ``shape``."""
    d = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    text = d + " " * (-(10 + len(d) + 1) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1")


def _largest_npy(path: Path) -> tuple[list[tuple[zipfile.ZipInfo, bytes]], int, Any]:
    items = _members(path)
    big = max(range(len(items)), key=lambda i: items[i][0].file_size)
    try:
        arr = np.lib.format.read_array(io.BytesIO(items[big][1]), allow_pickle=False)
    except ValueError:
        arr = np.zeros((2, 4, 4))
    return items, big, arr


def _header_claims(path: Path) -> None:
    """The largest member's ``.npy`` header claims 100000000 frames; data unchanged."""
    items, big, arr = _largest_npy(path)
    shape = (100_000_000, *arr.shape[1:]) if arr.ndim else (100_000_000,)
    payload = npy_header(shape, arr.dtype.str) + arr.tobytes()
    out = [(i.filename, p) for i, p in items]
    out[big] = (out[big][0], payload)
    _rewrite(path, out)


#: Zeros are deflated a block at a time: one block compressed, its segment repeated.
_ZERO_BLOCK = 16 << 20


def zeros_deflated(header: bytes, n_zero: int) -> tuple[bytes, int, int]:
    """A raw deflate stream of ``header`` then ``n_zero`` zero bytes (a multiple of
    16 MiB), its CRC-32 and its inflated size; 512 MiB take milliseconds to build."""
    assert n_zero % _ZERO_BLOCK == 0
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts = [head.compress(header) + head.flush(zlib.Z_FULL_FLUSH)]
    zeros = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(_ZERO_BLOCK)
    segment = zeros.compress(block) + zeros.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(header)
    for _ in range(n_zero // _ZERO_BLOCK):
        parts.append(segment)
        crc = zlib.crc32(block, crc)
    parts.append(zlib.compressobj(9, zlib.DEFLATED, -15).flush())  # final block
    return b"".join(parts), crc, len(header) + n_zero


#: One zip entry: name, payload as stored, method, CRC-32, uncompressed size.
ZipEntry = tuple[str, bytes, int, int, int]


def raw_zip(path: Path, entries: list[ZipEntry]) -> Path:
    """Write a zip of ``entries`` by hand (sizes and CRCs as given, unchecked)."""
    local, central = bytearray(), bytearray()
    for name, payload, method, crc, size in entries:
        raw = name.encode()
        head = struct.pack(
            "<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 33, crc,
            len(payload), size, len(raw), 0,
        )  # fmt: skip
        central += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 33, crc,
            len(payload), size, len(raw), 0, 0, 0, 0, 0, len(local),
        ) + raw  # fmt: skip
        local += head + raw + payload
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
        len(central), len(local), 0,
    )  # fmt: skip
    path.write_bytes(bytes(local + central + end))
    return path


def stored(name: str, payload: bytes) -> ZipEntry:
    """A zip entry that stores ``payload`` as it is."""
    return (name, payload, zipfile.ZIP_STORED, zlib.crc32(payload), len(payload))


def _bomb(path: Path) -> None:
    """The largest member becomes 512 MiB of zeros (its header agrees), ~0.5 MB."""
    items, big, arr = _largest_npy(path)
    plane = int(np.prod(arr.shape[1:])) * max(arr.dtype.itemsize, 1)
    frames = max(1, (512 << 20) // plane)
    while (frames * plane) % _ZERO_BLOCK:
        frames += 1
    header = npy_header((frames, *arr.shape[1:]), arr.dtype.str)
    body, crc, size = zeros_deflated(header, frames * plane)
    entries = [stored(i.filename, p) for i, p in items]
    entries[big] = (items[big][0].filename, body, zipfile.ZIP_DEFLATED, crc, size)
    raw_zip(path, entries)


def _directory_claims(path: Path) -> None:
    """The largest member's central-directory entry declares 4 GB uncompressed."""
    raw = bytearray(path.read_bytes())
    items = _members(path)
    big = max(items, key=lambda item: item[0].file_size)[0].filename.encode()
    at = raw.find(b"PK\x01\x02")
    while at >= 0:
        name_len = struct.unpack_from("<H", raw, at + 28)[0]
        if bytes(raw[at + 46 : at + 46 + name_len]) == big:
            struct.pack_into("<I", raw, at + 24, 0xFFFF0000)
        at = raw.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(raw))


def _overlap(path: Path) -> None:
    """Every central-directory entry points at the first member's local header."""
    raw = bytearray(path.read_bytes())
    at = raw.find(b"PK\x01\x02")
    while at >= 0:
        struct.pack_into("<I", raw, at + 42, 0)
        at = raw.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(raw))


ZIP_EDITS: dict[str, Edit] = {
    "largest member's .npy header claims 100000000 frames": _header_claims,
    "largest member inflates to 512 MiB of zeros": _bomb,
    "largest member's directory entry claims 4 GB": _directory_claims,
    "members overlap": _overlap,
}
