"""Hostile TIFFs: looping IFD chains, pages and OME sizes that claim gigabytes."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np


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


#: tifffile notices a loop only when it closes within the first 100 IFDs.
_CYCLE_FRAMES = 102


def _cycle(path: Path, **kwargs: Any) -> Path:
    """A stack of 102 tiny frames whose last IFD points at itself."""
    import tifffile

    frames = np.ones((_CYCLE_FRAMES, 2, 2), np.float32)
    tifffile.imwrite(path, frames, photometric="minisblack", **kwargs)
    return _loop_back(path, to=-1)


def tiff_cycle_plain(folder: Path) -> Path:
    """A plain TIFF whose last IFD points at itself (tifffile loops forever)."""
    return _cycle(folder / "cycle_plain.tif", metadata=None)


def tiff_cycle_imagej(folder: Path) -> Path:
    """An ImageJ stack whose last IFD points at itself."""
    return _cycle(folder / "cycle_imagej.tif", imagej=True, resolution=(1.0, 1.0))


def tiff_cycle_ome(folder: Path) -> Path:
    """An OME-TIFF whose last IFD points at itself."""
    return _cycle(
        folder / "cycle.ome.tif",
        ome=True,
        metadata={"axes": "TYX", "PhysicalSizeX": 0.001},
    )


def tiff_cycle_bigtiff(folder: Path) -> Path:
    """A BigTIFF whose last IFD points at itself."""
    return _cycle(folder / "cycle_big.tif", bigtiff=True, metadata=None)


def tiff_cycle_early(folder: Path) -> Path:
    """A one-page TIFF whose IFD points at itself (tifffile notices this one)."""
    import tifffile

    path = folder / "cycle_early.tif"
    tifffile.imwrite(path, np.ones((4, 4), np.float32), metadata=None)
    return _loop_back(path)


def tiff_huge_page(folder: Path) -> Path:
    """A 2-page TIFF whose pages claim 65535 x 65535 float32 (17 GB) in 64 bytes."""
    import tifffile

    path = folder / "huge_page.tif"
    tifffile.imwrite(
        path, np.ones((2, 4, 4), np.float32), photometric="minisblack", metadata=None
    )
    data = bytearray(path.read_bytes())
    _order, offsets, _links = _ifd_offsets(bytes(data))
    for off in offsets:
        n = struct.unpack("<H", data[off : off + 2])[0]
        for i in range(n):
            entry = off + 2 + 12 * i
            code, typ = struct.unpack("<HH", data[entry : entry + 4])
            if code in (256, 257, 278):  # ImageWidth, ImageLength, RowsPerStrip
                fmt = "<H" if typ == 3 else "<I"
                struct.pack_into(fmt, data, entry + 8, 65535)
    path.write_bytes(bytes(data))
    return path


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


def ome_bad_sample_format(folder: Path) -> Path:
    """A playnano OME-TIFF whose every IFD says SampleFormat 0xFFFFFFFF."""
    import playnano
    from playnano.testing import make_sample_stack

    stack = make_sample_stack(n_frames=3, shape=(8, 11))
    [path] = playnano.export(stack, folder / "bad_sample_format.ome.tif", "tif")
    data = bytearray(path.read_bytes())
    order, offsets, _ = _ifd_offsets(bytes(data))
    for off in offsets:
        n = struct.unpack(order + "H", data[off : off + 2])[0]
        for i in range(n):
            entry = off + 2 + 12 * i
            if struct.unpack(order + "H", data[entry : entry + 2])[0] == 339:
                struct.pack_into(order + "HHII", data, entry, 339, 4, 1, 0xFFFFFFFF)
    path.write_bytes(bytes(data))
    return path


def shaped_frames_inflated(folder: Path) -> Path:
    """A contiguous 3-frame stack whose JSON description says 5 frames: frames 4
    and 5 would be the file's own IFDs (the file is long enough to hold them)."""
    import tifffile

    path = folder / "shaped_inflated.tif"
    frames = np.arange(3 * 4 * 5, dtype=np.float32).reshape(3, 4, 5)
    tifffile.imwrite(path, frames, photometric="minisblack", contiguous=True)
    data = path.read_bytes()
    path.write_bytes(data.replace(b'{"shape": [3, 4, 5]', b'{"shape": [5, 4, 5]', 1))
    return path


def no_strip_offsets(folder: Path) -> Path:
    """A 3-page stack whose page 1 has RowsPerStrip 0 and no StripOffsets."""
    import tifffile

    path = folder / "no_strip_offsets.tif"
    tifffile.imwrite(path, np.ones((3, 4, 5), np.float32), photometric="minisblack")
    data = bytearray(path.read_bytes())
    order, offsets, _ = _ifd_offsets(bytes(data))
    n = struct.unpack_from(order + "H", data, offsets[1])[0]
    for i in range(n):
        entry = offsets[1] + 2 + 12 * i
        code = struct.unpack_from(order + "H", data, entry)[0]
        if code == 278:  # RowsPerStrip 0
            struct.pack_into(order + "HHII", data, entry, 278, 3, 1, 0)
        elif code == 273:  # StripOffsets becomes Orientation (tags stay sorted)
            struct.pack_into(order + "HHII", data, entry, 274, 3, 1, 1)
    path.write_bytes(bytes(data))
    return path
