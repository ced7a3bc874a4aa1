"""Hostile and damaged bundles and TIFFs, each built by a small function, and a runner.

Every builder writes one file into a folder and returns its path; the files are tiny
(a few kB) but claim gigabytes, point outside themselves or loop. :func:`load_in_child`
reads one in a fresh interpreter under an address-space limit, so a regression ends
in a failed test instead of a crash, a hang or an exhausted machine.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

#: Peak resident memory a hostile file may cost, interpreter and imports included.
MAX_RSS_MB = 300
#: ...and beyond what the interpreter held after importing playnano and its readers.
MAX_GROWTH_MB = 64
#: A child still running after this long is hung (a hang detector, not a timing).
HANG_S = 20
_AS_LIMIT = 3 << 30  # bytes of address space the child may map

_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
    out = {{}}
    try:
        import h5py, numpy, tifffile
        import playnano
        from playnano.errors import ReadError
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        try:
            stack = playnano.load(sys.argv[1])
            out["outcome"] = "loaded"
            out["shape"] = list(stack.data.shape)
        except ReadError as exc:
            out["outcome"] = "ReadError"
            out["message"] = str(exc)
        out["growth_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base
    except BaseException as exc:
        out["outcome"] = type(exc).__name__
        out["message"] = str(exc)[:2000]
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(out))
    """
)


def load_in_child(path: Path) -> dict[str, Any]:
    """``playnano.load(path)`` in a child process: outcome, message, peak RSS."""
    code = _CHILD.format(limit=_AS_LIMIT)
    try:
        proc = subprocess.run(
            [sys.executable, "-W", "error", "-c", code, str(path)],
            capture_output=True,
            text=True,
            timeout=HANG_S,
        )
    except subprocess.TimeoutExpired:
        return {"outcome": f"hang (> {HANG_S} s)"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        return {
            "outcome": f"exit {proc.returncode}",
            "message": proc.stderr.strip()[-2000:],
        }
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    return result


# --------------------------------------------------------------------------- HDF5
def _h5_bundle_parts(f: Any, n_frames: int) -> None:
    """Everything but /data: what a bundle needs besides its frames."""
    meta = [{"timestamp": float(i)} for i in range(n_frames)]
    f.create_dataset("frame_metadata_json", data=np.bytes_(json.dumps(meta).encode()))
    f.create_dataset("provenance_json", data=np.bytes_(b"{}"))
    f.create_dataset("timestamps", data=np.arange(n_frames, dtype=np.float64))
    f.attrs["pixel_size_nm"] = 1.0
    f.attrs["channel"] = "height_trace"
    f.attrs["playnano_format_version"] = 1


def _h5_good_frames(f: Any, name: str = "data", n_frames: int = 2) -> None:
    f.create_dataset(name, data=np.ones((n_frames, 4, 4)), chunks=(1, 4, 4))


def h5_vds_self(folder: Path) -> Path:
    """/data is a virtual dataset mapping onto itself (crashed HDF5)."""
    import h5py

    path = folder / "vds_self.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 2)
        vlayout = h5py.VirtualLayout(shape=(2, 4, 4), dtype="f8")
        vlayout[:] = h5py.VirtualSource(".", "data", shape=(2, 4, 4))
        f.create_virtual_dataset("data", vlayout)
    return path


def _other_file(folder: Path) -> Path:
    import h5py

    other = folder / "other.h5"
    with h5py.File(other, "w") as g:
        g.create_dataset("frames", data=np.full((2, 4, 4), 7.0))
    return other


def h5_vds_other(folder: Path) -> Path:
    """/data is a virtual dataset onto another file's frames."""
    import h5py

    _other_file(folder)
    path = folder / "vds_other.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 2)
        vlayout = h5py.VirtualLayout(shape=(2, 4, 4), dtype="f8")
        vlayout[:] = h5py.VirtualSource("other.h5", "frames", shape=(2, 4, 4))
        f.create_virtual_dataset("data", vlayout)
    return path


def h5_external_link(folder: Path) -> Path:
    """/data is an external link to another file."""
    import h5py

    _other_file(folder)
    path = folder / "external_link.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 2)
        f["data"] = h5py.ExternalLink("other.h5", "/frames")
    return path


def h5_soft_link(folder: Path) -> Path:
    """/data is a soft link to a dataset outside the bundle layout."""
    import h5py

    path = folder / "soft_link.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 2)
        _h5_good_frames(f, "elsewhere")
        f["data"] = h5py.SoftLink("/elsewhere")
    return path


def h5_external_storage(folder: Path) -> Path:
    """/data keeps its bytes in a raw file beside the bundle."""
    import h5py

    raw = folder / "frames.bin"
    raw.write_bytes(np.full((2, 4, 4), 7.0).tobytes())
    path = folder / "external_storage.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 2)
        f.create_dataset(
            "data", shape=(2, 4, 4), dtype="f8", external=[(str(raw), 0, 256)]
        )
    return path


def h5_layer_external_link(folder: Path) -> Path:
    """A processed layer is an external link; a mask a virtual dataset."""
    import h5py

    _other_file(folder)
    path = folder / "layer_link.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 2)
        _h5_good_frames(f)
        f.create_group("processed")["x"] = h5py.ExternalLink("other.h5", "/frames")
    return path


def h5_mask_vds(folder: Path) -> Path:
    """A mask is a virtual dataset onto another file."""
    import h5py

    _other_file(folder)
    path = folder / "mask_vds.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 2)
        _h5_good_frames(f)
        vlayout = h5py.VirtualLayout(shape=(2, 4, 4), dtype="f8")
        vlayout[:] = h5py.VirtualSource("other.h5", "frames", shape=(2, 4, 4))
        f.create_group("masks").create_virtual_dataset("m", vlayout)
    return path


def h5_unallocated_data(folder: Path) -> Path:
    """/data declares 3 GiB in chunks none of which is stored."""
    import h5py

    path = folder / "unallocated_data.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 96)
        f.create_dataset(
            "data", shape=(96, 2048, 2048), dtype="f8", chunks=(1, 2048, 2048)
        )
    return path


def h5_unallocated_contiguous(folder: Path) -> Path:
    """/data declares 3 GiB of contiguous storage that was never allocated."""
    import h5py

    path = folder / "unallocated_contiguous.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 96)
        f.create_dataset("data", shape=(96, 2048, 2048), dtype="f8")
    return path


def h5_unallocated_layer(folder: Path) -> Path:
    """A processed layer declares 1 GiB that is not stored (loaded as zeros)."""
    import h5py

    path = folder / "unallocated_layer.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 2)
        _h5_good_frames(f)
        f.create_group("processed").create_dataset(
            "x", shape=(32, 2048, 2048), dtype="f8", chunks=(1, 2048, 2048)
        )
    return path


def h5_partly_allocated(folder: Path) -> Path:
    """/data has 3 frames declared and only 2 stored (frame 3 would read as zeros)."""
    import h5py

    path = folder / "partly_allocated.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 3)
        ds = f.create_dataset("data", shape=(3, 4, 4), dtype="f8", chunks=(1, 4, 4))
        ds[:2] = 1.0
    return path


def h5_frame_count_bomb(folder: Path) -> Path:
    """/data holds 2 GiB of stored zeros (2 MB on disk); frame metadata lists 2."""
    import h5py

    path = folder / "frame_count_bomb.h5"
    chunk = zlib.compress(bytes(512 * 512 * 8), 9)
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 2)
        ds = f.create_dataset(
            "data",
            shape=(1024, 512, 512),
            dtype="f8",
            chunks=(1, 512, 512),
            compression="gzip",
        )
        for i in range(1024):
            ds.id.write_direct_chunk((i, 0, 0), chunk)
    return path


# ---------------------------------------------------------------------------- NPZ
def _npy(arr: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _npz(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for key, payload in members.items():
            zf.writestr(f"{key}.npy", payload)
    return path


def _npz_parts(n_frames: int) -> dict[str, bytes]:
    meta = json.dumps([{"timestamp": float(i)} for i in range(n_frames)])
    return {
        "pixel_size_nm": _npy(np.array(1.0)),
        "channel": _npy(np.array("height_trace")),
        "frame_metadata_json": _npy(np.array(meta)),
        "provenance_json": _npy(np.array("{}")),
    }


def npz_version_array(folder: Path) -> Path:
    """``playnano_format_version`` is a 100-element array, not a number."""
    members = {"data": _npy(np.ones((2, 4, 4))), **_npz_parts(2)}
    members["playnano_format_version"] = _npy(np.arange(100))
    return _npz(folder / "version_array.npz", members)


def _fix_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    """A version 1.0 .npy header for a C-order array of ``shape``."""
    d = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    total = 10 + len(d) + 1
    pad = -total % 64
    text = (d + " " * pad + "\n").encode("latin1")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text


_ZERO_BLOCK = 16 << 20


def _zeros_deflated(header: bytes, n_zero: int) -> tuple[bytes, int, int]:
    """Raw deflate of ``header`` + ``n_zero`` zero bytes, its CRC-32 and length.

    One 16 MiB block of zeros is compressed once and its byte-aligned segment
    repeated, so a 512 MiB member takes milliseconds to build.
    """
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


def _raw_zip(path: Path, entries: list[tuple[str, bytes, int, int, int]]) -> Path:
    """A zip of (name, payload, method, crc, uncompressed size) entries, by hand."""
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


def _stored(name: str, payload: bytes) -> tuple[str, bytes, int, int, int]:
    return (name, payload, zipfile.ZIP_STORED, zlib.crc32(payload), len(payload))


def _zeros_entry(
    name: str, shape: tuple[int, ...], descr: str = "<f8"
) -> tuple[str, bytes, int, int, int]:
    header = _fix_header(shape, descr)
    n = int(np.prod(shape)) * np.dtype(descr).itemsize
    payload, crc, size = _zeros_deflated(header, n)
    return (name, payload, zipfile.ZIP_DEFLATED, crc, size)


def npz_frame_count_bomb(folder: Path) -> Path:
    """'data' inflates to 512 MiB of zeros; the frame metadata lists 2 frames."""
    entries = [_zeros_entry("data.npy", (256, 512, 512))]
    entries += [_stored(f"{k}.npy", v) for k, v in _npz_parts(2).items()]
    return _raw_zip(folder / "frame_count_bomb.npz", entries)


def npz_mask_bomb(folder: Path) -> Path:
    """A mask inflates to 512 MiB of False while 'data' is 2 frames of 4x4."""
    entries = [_stored("data.npy", _npy(np.ones((2, 4, 4))))]
    entries.append(_zeros_entry("masks__m.npy", (2, 16384, 16384), "|b1"))
    entries += [_stored(f"{k}.npy", v) for k, v in _npz_parts(2).items()]
    return _raw_zip(folder / "mask_bomb.npz", entries)


def npz_header_lies(folder: Path) -> Path:
    """'data' says (2, 100000, 100000) float64 (160 GB) in a 200-byte member."""
    members = {"data": _fix_header((2, 100000, 100000)) + bytes(128), **_npz_parts(2)}
    return _npz(folder / "header_lies.npz", members)


def npz_size_lies(folder: Path) -> Path:
    """The central directory says 'data' inflates to 4 GB from 200 bytes."""
    payload = _npy(np.ones((2, 4, 4)))
    name, body, method, crc, _ = _stored("data.npy", payload)
    entries = [(name, body, method, crc, 0xFFFF0000)]
    entries += [_stored(f"{k}.npy", v) for k, v in _npz_parts(2).items()]
    return _raw_zip(folder / "size_lies.npz", entries)


def npz_json_bomb(folder: Path) -> Path:
    """'frame_metadata_json' claims 512 MiB of text (a 128 Mi-character string)."""
    entries = [_stored("data.npy", _npy(np.ones((2, 4, 4))))]
    parts = _npz_parts(2)
    del parts["frame_metadata_json"]
    entries += [_stored(f"{k}.npy", v) for k, v in parts.items()]
    entries.append(_zeros_entry("frame_metadata_json.npy", (), "<U134217728"))
    return _raw_zip(folder / "json_bomb.npz", entries)


# --------------------------------------------------------------------------- TIFF
def _ifd_offsets(data: bytes) -> tuple[str, list[int], list[int]]:
    """Byte order, the offset of each IFD, and where each IFD's next-offset sits."""
    order = "<" if data[:2] == b"II" else ">"
    big = struct.unpack(order + "H", data[2:4])[0] == 43
    offsets, links = [], []
    if big:
        off = struct.unpack(order + "Q", data[8:16])[0]
    else:
        off = struct.unpack(order + "I", data[4:8])[0]
    while off:
        offsets.append(off)
        if big:
            n = struct.unpack(order + "Q", data[off : off + 8])[0]
            link = off + 8 + 20 * n
            links.append(link)
            off = struct.unpack(order + "Q", data[link : link + 8])[0]
        else:
            n = struct.unpack(order + "H", data[off : off + 2])[0]
            link = off + 2 + 12 * n
            links.append(link)
            off = struct.unpack(order + "I", data[link : link + 4])[0]
    return order, offsets, links


def _loop_back(path: Path, to: int = 0) -> Path:
    """Make the last IFD's next-offset point back at IFD number ``to``."""
    data = bytearray(path.read_bytes())
    order, offsets, links = _ifd_offsets(bytes(data))
    big = data[2:4] in (b"+\x00", b"\x00+")
    fmt = order + ("Q" if big else "I")
    struct.pack_into(fmt, data, links[-1], offsets[to])
    path.write_bytes(bytes(data))
    return path


def tiff_cycle_plain(folder: Path) -> Path:
    """A one-page plain TIFF whose IFD points at itself (a few hundred bytes)."""
    import tifffile

    path = folder / "cycle_plain.tif"
    tifffile.imwrite(path, np.ones((4, 4), np.float32), metadata=None)
    return _loop_back(path)


def tiff_cycle_imagej(folder: Path) -> Path:
    """A 3-frame ImageJ stack whose last IFD points back at the second."""
    import tifffile

    path = folder / "cycle_imagej.tif"
    tifffile.imwrite(path, np.ones((3, 4, 4), np.float32), imagej=True)
    return _loop_back(path, to=1)


def tiff_cycle_ome(folder: Path) -> Path:
    """A 3-frame OME-TIFF whose last IFD points back at the first."""
    import tifffile

    path = folder / "cycle.ome.tif"
    tifffile.imwrite(
        path,
        np.ones((3, 4, 4), np.float32),
        ome=True,
        photometric="minisblack",
        metadata={"axes": "TYX", "PhysicalSizeX": 0.001},
    )
    return _loop_back(path)


def tiff_cycle_bigtiff(folder: Path) -> Path:
    """A 2-frame BigTIFF whose last IFD points back at the first."""
    import tifffile

    path = folder / "cycle_big.tif"
    tifffile.imwrite(path, np.ones((2, 4, 4), np.float32), bigtiff=True)
    return _loop_back(path)


def _ome_xml(size_x: int, size_y: int, size_z: int, size_t: int) -> str:
    planes = "".join(
        f'<Plane TheZ="0" TheC="0" TheT="{t}" DeltaT="{t}"/>' for t in range(size_t)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">'
        '<Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" '
        f'Type="float" SizeX="{size_x}" SizeY="{size_y}" SizeZ="{size_z}" '
        f'SizeC="1" SizeT="{size_t}" PhysicalSizeX="0.001" PhysicalSizeY="0.001">'
        '<Channel ID="Channel:0:0" SamplesPerPixel="1"/>'
        '<TiffData IFD="0" PlaneCount="2"/>'
        f"{planes}</Pixels></Image></OME>"
    )


def _ome_with(folder: Path, name: str, xml: str) -> Path:
    import tifffile

    path = folder / name
    with tifffile.TiffWriter(path) as tw:
        for i in range(2):
            tw.write(
                np.full((4, 4), i, np.float32),
                description=xml if i == 0 else None,
                metadata=None,
                contiguous=False,
            )
    return path


def ome_size_x_huge(folder: Path) -> Path:
    """OME-XML says SizeX=2147483647 over two 4x4 pages."""
    return _ome_with(folder, "size_x.ome.tif", _ome_xml(2147483647, 4, 1, 2))


def ome_size_z_huge(folder: Path) -> Path:
    """OME-XML says SizeZ=100000000 over two 4x4 pages."""
    return _ome_with(folder, "size_z.ome.tif", _ome_xml(4, 4, 100000000, 2))


def ome_size_t_short(folder: Path) -> Path:
    """OME-XML says SizeT=5 over two 4x4 pages (three frames would be zeros)."""
    return _ome_with(folder, "size_t.ome.tif", _ome_xml(4, 4, 1, 5))
