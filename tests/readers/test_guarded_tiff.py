"""The guarded opening of TIFF files: every refusal, word for word, before tifffile.

Files are written by tifffile and then edited byte by byte where a damaged or
hostile file differs (a next-IFD offset, an entry count, a tag's value or type).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import tifffile

from playnano.errors import ReadError
from playnano.readers.guarded.tiff import (
    check_ome_sizes,
    check_tiff_page,
    checked_series,
    open_tiff,
    walk_ifds,
)

FRAMES = np.arange(3 * 4 * 5, dtype=np.uint16).reshape(3, 4, 5)


def _tiff(path: Path, **kwargs) -> Path:
    """A 3-page stack of float32 frames (tifffile then writes SampleFormat)."""
    tifffile.imwrite(
        path, FRAMES.astype(np.float32), photometric="minisblack", **kwargs
    )
    return path


def _refusal(path: Path) -> str:
    with pytest.raises(ReadError) as err, open_tiff(path) as opened:
        checked_series(opened)
    return str(err.value).removeprefix(f"{path}: ")


def _ifds(data: bytes, order: str = "<") -> list[tuple[int, int]]:
    """(offset, entry count) of each IFD of a classic TIFF."""
    out = []
    (at,) = struct.unpack_from(order + "I", data, 4)
    while at:
        (n,) = struct.unpack_from(order + "H", data, at)
        out.append((at, n))
        (at,) = struct.unpack_from(order + "I", data, at + 2 + 12 * n)
    return out


def _entry(data: bytes, tag: int, ifd: int = 0, order: str = "<") -> int:
    at, n = _ifds(data, order)[ifd]
    for i in range(n):
        entry = at + 2 + 12 * i
        if struct.unpack_from(order + "H", data, entry)[0] == tag:
            return entry
    raise AssertionError(f"no tag {tag}")


def test_every_ifd_is_found_in_either_byte_order_and_bigtiff(tmp_path) -> None:
    for name, kwargs in (("le.tif", {}), ("be.tif", {"byteorder": ">"}),
                         ("big.tif", {"bigtiff": True})):  # fmt: skip
        path = _tiff(tmp_path / name, **kwargs)
        ifds = walk_ifds(path)
        with tifffile.TiffFile(path) as tif:
            assert [i.offset for i in ifds] == [p.offset for p in tif.pages]
        assert [(i.width, i.length, i.bits, i.sample_format) for i in ifds] == [
            (5, 4, 32, 3)
        ] * 3
        assert [i.index for i in ifds] == [0, 1, 2]


def test_values_stored_out_of_line_are_read(tmp_path) -> None:
    path = tmp_path / "rgb.tif"
    tifffile.imwrite(path, np.zeros((2, 4, 5, 3), np.uint8), photometric="rgb")
    [first, *_] = walk_ifds(path)
    assert (first.bits, first.samples) == (8, 3)  # BitsPerSample: 3 values


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d, o: d[:2] + b"\x2c\x00" + d[4:], "not a TIFF file (no TIFF signature)"),
        (lambda d, o: b"XX" + d[2:], "not a TIFF file (no TIFF signature)"),
        (lambda d, o: d[:6], "not a TIFF file (no TIFF signature)"),
        (
            lambda d, o: d[:4] + struct.pack("<I", 4) + d[8:],
            "file is truncated or corrupt after {size} bytes (IFD 0 at offset 4 "
            "lies outside it)",
        ),
        (
            lambda d, o: d[:4] + struct.pack("<I", len(d)) + d[8:],
            "file is truncated or corrupt after {size} bytes (IFD 0 at offset "
            "{size} lies outside it)",
        ),
        (
            lambda d, o: d[: o[0][0]] + b"\x00\x00" + d[o[0][0] + 2 :],
            "IFD 0 at offset {first} is empty; the file is damaged",
        ),
        (
            lambda d, o: d[: o[0][0]] + b"\xff\xff" + d[o[0][0] + 2 :],
            "file is truncated or corrupt after {size} bytes (IFD 0 at offset "
            "{first} declares 65535 entries)",
        ),
        (
            lambda d, o: _link(d, o, 2, o[1][0]),
            "the TIFF's IFD chain loops (IFD 2 points back at offset {second}); the "
            "file is damaged",
        ),
    ],
    ids=["magic", "byte order", "short", "offset 4", "past the end", "empty",
         "too many entries", "loop"],
)  # fmt: skip
def test_the_ifd_walk_refuses_with_a_reason(tmp_path, edit, message) -> None:
    path = _tiff(tmp_path / "t.tif")
    data = path.read_bytes()
    ifds = _ifds(data)
    path.write_bytes(edit(data, ifds))
    size = path.stat().st_size
    expected = message.format(size=size, first=ifds[0][0], second=ifds[1][0])
    with pytest.raises(ReadError) as err:
        walk_ifds(path)
    assert str(err.value) == f"{path}: {expected}"


def _link(data: bytes, ifds: list[tuple[int, int]], i: int, target: int) -> bytes:
    at, n = ifds[i]
    pos = at + 2 + 12 * n
    return data[:pos] + struct.pack("<I", target) + data[pos + 4 :]


@pytest.mark.parametrize("padding", [0, 72])
def test_overlapping_ifds_are_refused(tmp_path, padding: int) -> None:
    """IFD 0 at 8 says the next IFD is at 10, inside IFD 0: its one entry's tag
    (1) reads as IFD 1's entry count. Short, the IFDs take more bytes than the
    file; padded, they fit but overlap."""
    entry = struct.pack("<HHII", 1, 3, 1, 0)
    data = b"II*\x00" + struct.pack("<IH", 8, 1) + entry + struct.pack("<I", 10)
    path = tmp_path / "overlap.tif"
    path.write_bytes(data + bytes(4 + padding))
    with pytest.raises(ReadError) as err:
        walk_ifds(path)
    where = "" if not padding else "at offsets 8 and 10 "
    assert (
        str(err.value) == f"{path}: the TIFF's IFDs {where}overlap; the file is damaged"
    )


@pytest.mark.parametrize(
    ("tag", "typ", "value", "message"),
    [
        (339, 4, 0xFFFFFFFF, "IFD 1 declares SampleFormat 4294967295, which TIFF "
         "does not define; the file is damaged"),
        (339, 3, 7, "IFD 1 declares SampleFormat 7, which TIFF does not define; "
         "the file is damaged"),
        (258, 3, 0, "IFD 1 declares 0 bits per sample; the file is damaged"),
        (258, 3, 129, "IFD 1 declares 129 bits per sample; the file is damaged"),
    ],
)  # fmt: skip
def test_sample_formats_and_bit_depths_tiff_does_not_define(
    tmp_path, tag, typ, value, message
) -> None:
    path = _tiff(tmp_path / "t.tif")
    data = bytearray(path.read_bytes())
    entry = _entry(bytes(data), tag, ifd=1)
    struct.pack_into("<HHII", data, entry, tag, typ, 1, value)
    path.write_bytes(bytes(data))
    with pytest.raises(ReadError) as err:
        walk_ifds(path)
    assert str(err.value) == f"{path}: {message}"


def test_sample_formats_tiff_defines_pass(tmp_path) -> None:
    for fmt in range(1, 7):
        path = _tiff(tmp_path / f"f{fmt}.tif")
        data = bytearray(path.read_bytes())
        entry = _entry(bytes(data), 339)
        struct.pack_into("<HHIHH", data, entry, 339, 3, 1, fmt, 0)
        path.write_bytes(bytes(data))
        assert walk_ifds(path)[0].sample_format == fmt


def test_a_page_unlike_the_first_is_refused(tmp_path) -> None:
    path = _tiff(tmp_path / "t.tif")
    data = bytearray(path.read_bytes())
    entry = _entry(bytes(data), 256, ifd=2)  # page 2 says it is 4 pixels wide
    struct.pack_into("<HHIHH", data, entry, 256, 3, 1, 4, 0)
    path.write_bytes(bytes(data))
    assert _refusal(path) == (
        "page 2 declares 4 x 4, 1 sample(s) of 32 bits, sample format 3; page 0 "
        "declares 5 x 4, 1 sample(s) of 32 bits, sample format 3"
    )


def test_ome_sizes_the_pages_cannot_hold(tmp_path) -> None:
    xml = '<OME><Image><Pixels SizeX="5" SizeY="4" SizeZ="{z}" SizeC="1" SizeT="3"/>'
    path = tmp_path / "x.ome.tif"
    check_ome_sizes(path, xml.format(z=1) + "</Image></OME>", 3, (4, 5))
    cases = {
        xml.format(z=2) + "</Image></OME>": "OME-XML declares 6 planes (SizeZ 2 x "
        "SizeC 1 x SizeT 3) but the file has 3 pages",
        xml.format(z=0) + "</Image></OME>": "OME-XML declares a size below 1 "
        "({'X': 5, 'Y': 4, 'Z': 0, 'C': 1, 'T': 3})",
        xml.format(z="two") + "</Image></OME>": "OME-XML size not understood "
        "(invalid literal for int() with base 10: 'two')",
        "<OME><Image>": "OME-XML is malformed (no element found: line 1, column 12)",
        '<OME><UUID FileName="other.ome.tif">u</UUID></OME>': "OME-XML puts planes "
        "in another file ('other.ome.tif'); only data stored in the file itself "
        "is read",
    }  # fmt: skip
    for text, message in cases.items():
        with pytest.raises(ReadError) as err:
            check_ome_sizes(path, text, 3, (4, 5))
        assert str(err.value) == f"{path}: {message}"
    with pytest.raises(
        ReadError, match="SizeX 5 x SizeY 4 but the first page is 6 x 4"
    ):
        check_ome_sizes(path, xml.format(z=1) + "</Image></OME>", 3, (4, 6))
    own = '<OME><UUID FileName="X.OME.TIF">u</UUID></OME>'
    check_ome_sizes(path, own, 3, (4, 5))  # the file itself, any case


def test_an_imagej_image_count_the_file_cannot_hold(tmp_path) -> None:
    path = tmp_path / "ij.tif"
    frames = np.zeros((12, 4, 5), np.uint16)
    tifffile.imwrite(path, frames, imagej=True, metadata={"axes": "TYX"})
    data = path.read_bytes()
    path.write_bytes(data.replace(b"images=12\n", b"images=99\n", 1))  # 99 x 40 B
    with pytest.raises(ReadError) as err, open_tiff(path):
        pass
    assert str(err.value) == (
        f"{path}: the ImageJ description declares 99 images of (4, 5) uint16 but "
        f"the file has 12 pages and {path.stat().st_size} bytes"
    )


def test_an_imagej_frame_count_the_file_cannot_hold(tmp_path) -> None:
    path = tmp_path / "ij.tif"
    frames = np.zeros((12, 4, 5), np.uint16)
    tifffile.imwrite(path, frames, imagej=True, metadata={"axes": "TYX"})
    data = path.read_bytes()
    path.write_bytes(data.replace(b"frames=12\n", b"frames=99\n", 1))
    with pytest.raises(ReadError, match="declares 99 images of"), open_tiff(path):
        pass


def test_imagej_files_that_are_honest_about_their_images(tmp_path) -> None:
    one = tmp_path / "one.tif"  # a single image whose description says no images=
    tifffile.imwrite(one, FRAMES[0], imagej=True)
    one.write_bytes(one.read_bytes().replace(b"images=1\n", b"imagex=1\n", 1))
    with open_tiff(one) as opened:
        assert "images" not in (opened.tif.imagej_metadata or {})
        assert checked_series(opened).shape == (4, 5)
    # all 12 frames stored one after the other, the chain cut after the first
    # page (as ImageJ writes stacks over 4 GB): more images than pages, but the
    # file holds them
    stack = tmp_path / "contiguous.tif"
    frames = np.arange(12 * 4 * 5, dtype=np.uint16).reshape(12, 4, 5)
    tifffile.imwrite(stack, frames, imagej=True, metadata={"axes": "TYX"})
    data = stack.read_bytes()
    stack.write_bytes(_link(data, _ifds(data), 0, 0))
    with open_tiff(stack) as opened:
        assert len(opened.ifds) == 1
        np.testing.assert_array_equal(checked_series(opened).asarray(), frames)


def _imagej(path: Path, axes: str, **kwargs) -> Path:
    """A 12-image ImageJ stack of 4 x 5 uint16 images along ``axes[0]``."""
    frames = np.zeros((12, 4, 5), np.uint16)
    tifffile.imwrite(path, frames, imagej=True, metadata={"axes": axes}, **kwargs)
    return path


@pytest.mark.parametrize(
    ("axes", "key"), [("TYX", b"frames"), ("ZYX", b"slices"), ("CYX", b"channels")]
)
def test_each_imagej_count_is_checked(tmp_path, axes: str, key: bytes) -> None:
    path = _imagej(tmp_path / "ij.tif", axes)
    data = path.read_bytes()
    assert key + b"=12\n" in data
    path.write_bytes(data.replace(key + b"=12\n", key + b"=99\n", 1))
    with pytest.raises(ReadError) as err, open_tiff(path):
        pass
    assert str(err.value) == (
        f"{path}: the ImageJ description declares 99 images of (4, 5) uint16 but "
        f"the file has 12 pages and {path.stat().st_size} bytes"
    )


@pytest.mark.parametrize("key", [b"images", b"frames"])
def test_imagej_counts_that_are_not_numbers(tmp_path, key: bytes) -> None:
    path = _imagej(tmp_path / "ij.tif", "TYX")
    path.write_bytes(path.read_bytes().replace(key + b"=12\n", key + b"=ab\n", 1))
    with pytest.raises(ReadError) as err, open_tiff(path):
        pass
    assert str(err.value) == (
        f"{path}: the ImageJ description's image counts are not numbers"
    )


def test_a_compressed_imagej_stack_with_all_its_pages_opens(tmp_path) -> None:
    """Twelve zlib pages of zeros decode to far more bytes than the file holds;
    the image count is checked against the file's length only when it exceeds
    the pages found."""
    path = tmp_path / "ij.tif"
    frames = np.zeros((12, 40, 50), np.uint16)
    tifffile.imwrite(path, frames, imagej=True, metadata={"axes": "TYX"},
                     compression="zlib")  # fmt: skip
    assert 12 * frames[0].nbytes > path.stat().st_size
    with open_tiff(path) as opened:
        np.testing.assert_array_equal(checked_series(opened).asarray(), frames)


def test_a_single_large_imagej_image_without_a_count_opens(tmp_path) -> None:
    """No ``images=`` means one image, even one larger than half the file."""
    path = tmp_path / "one.tif"
    image = np.arange(100 * 120, dtype=np.uint16).reshape(100, 120)
    tifffile.imwrite(path, image, imagej=True)
    path.write_bytes(path.read_bytes().replace(b"images=1\n", b"imagex=1\n", 1))
    assert 2 * image.nbytes > path.stat().st_size
    with open_tiff(path) as opened:
        np.testing.assert_array_equal(checked_series(opened).asarray(), image)


def test_an_imagej_count_the_file_exactly_holds_is_taken(tmp_path) -> None:
    """99 images of 40 bytes fit a file of 3960 bytes (the pages' IFDs aside),
    not one of 3959."""
    path = _imagej(tmp_path / "ij.tif", "TYX")
    data = path.read_bytes().replace(b"images=12\n", b"images=99\n", 1)
    assert len(data) < 99 * 40
    path.write_bytes(data + bytes(99 * 40 - len(data)))
    with open_tiff(path) as opened:
        assert len(opened.ifds) == 12
    path.write_bytes(data + bytes(99 * 40 - 1 - len(data)))
    with pytest.raises(ReadError, match="declares 99 images of"), open_tiff(path):
        pass


def test_what_tifffile_logs_names_the_damage(tmp_path) -> None:
    """A page whose RowsPerStrip needs four strips but lists one: tifffile logs
    it (with its page's name in brackets) and reads on; the log's own words,
    without the page's name, end the read."""
    path = _tiff(tmp_path / "t.tif")
    data = bytearray(path.read_bytes())
    struct.pack_into("<HHII", data, _entry(bytes(data), 278, ifd=1), 278, 3, 1, 1)
    path.write_bytes(bytes(data))
    with pytest.raises(ReadError) as err, open_tiff(path) as opened:
        checked_series(opened).asarray()
    assert str(err.value) == (
        f"{path}: file is truncated or corrupt after {path.stat().st_size} bytes "
        "(tifffile: incorrect StripByteCounts count (1 != 4))"
    )


def test_pages_without_samples_or_format_tags_are_described_as_tiff_reads_them(
    tmp_path,
) -> None:
    """No SamplesPerPixel means one sample, no SampleFormat means unsigned."""
    path = tmp_path / "t.tif"
    tifffile.imwrite(path, FRAMES, photometric="minisblack")
    data = bytearray(path.read_bytes())
    for ifd in range(3):  # SamplesPerPixel becomes Orientation 1 (tags stay sorted)
        struct.pack_into("<HHIHH", data, _entry(bytes(data), 277, ifd), 274, 3, 1, 1, 0)
    struct.pack_into("<HHIHH", data, _entry(bytes(data), 256, ifd=2), 256, 3, 1, 4, 0)
    path.write_bytes(bytes(data))
    assert all(i.samples is None and i.sample_format is None for i in walk_ifds(path))
    assert _refusal(path) == (
        "page 2 declares 4 x 4, 1 sample(s) of 16 bits, sample format 1; page 0 "
        "declares 5 x 4, 1 sample(s) of 16 bits, sample format 1"
    )


def test_ome_sizes_left_out_count_as_one() -> None:
    path = Path("x.ome.tif")
    check_ome_sizes(path, '<OME><Image><Pixels SizeX="5" SizeY="4"/></Image></OME>',
                    1, (4, 5))  # fmt: skip


def test_ome_planes_of_every_image_are_counted_together() -> None:
    path = Path("x.ome.tif")
    pixels = '<Image><Pixels SizeX="5" SizeY="4" SizeT="2"/></Image>'
    check_ome_sizes(path, f"<OME>{pixels}</OME>", 3, (4, 5))
    with pytest.raises(ReadError) as err:
        check_ome_sizes(path, f"<OME>{pixels}{pixels}</OME>", 3, (4, 5))
    assert str(err.value) == (
        f"{path}: OME-XML declares 4 planes (SizeZ 1 x SizeC 1 x SizeT 2) but the "
        "file has 3 pages"
    )


def test_a_strip_past_the_end_of_the_file(tmp_path) -> None:
    path = _tiff(tmp_path / "t.tif")
    data = bytearray(path.read_bytes())
    struct.pack_into("<HHII", data, _entry(bytes(data), 279, ifd=1), 279, 4, 1, 5000)
    path.write_bytes(bytes(data))
    with tifffile.TiffFile(path) as tif:
        offset = tif.pages[1].dataoffsets[0]
    assert _refusal(path) == (
        f"file ends after {len(data)} bytes; the header declares image data of "
        f"page 1 (needs {offset + 5000} bytes)"
    )


def _stored(tmp_path: Path, stored: int, compression: int = 1) -> Path:
    """One 64 x 64 uint16 page (8192 bytes) that says it stores ``stored`` bytes."""
    path = tmp_path / f"s{stored}-{compression}.tif"
    tifffile.imwrite(path, np.zeros((64, 64), np.uint16), photometric="minisblack")
    data = bytearray(path.read_bytes())
    struct.pack_into("<HHII", data, _entry(bytes(data), 279), 279, 4, 1, stored)
    struct.pack_into("<HHIHH", data, _entry(bytes(data), 259), 259, 3, 1,
                     compression, 0)  # fmt: skip
    path.write_bytes(bytes(data))
    return path


def _check_page(path: Path) -> None:
    with tifffile.TiffFile(path) as tif:
        check_tiff_page(path, tif.pages[0], "page 0")


def test_pixels_the_stored_bytes_cannot_decode_to(tmp_path) -> None:
    """Uncompressed, a stored byte holds 8 pixels at most (1-bit pixels), and 4096
    bytes are allowed over: 8192 bytes of pixels need 512 stored bytes."""
    _check_page(_stored(tmp_path, 512))
    path = _stored(tmp_path, 511)
    with pytest.raises(ReadError) as err:
        _check_page(path)
    assert str(err.value) == (
        f"{path}: page 0 declares 64 x 64 uint16 (8192 bytes) but stores 511 bytes"
    )


def test_a_codec_without_a_known_limit_gets_the_general_one(tmp_path) -> None:
    """LZW (5) is not in the table: 4096 decoded bytes per stored byte."""
    _check_page(_stored(tmp_path, 1, compression=5))
    with pytest.raises(ReadError, match="stores 1 bytes"):
        _check_page(_stored(tmp_path, 1, compression=1))


def test_a_series_that_is_not_there(tmp_path) -> None:
    path = _tiff(tmp_path / "t.tif")
    with pytest.raises(ReadError) as err, open_tiff(path) as opened:
        checked_series(opened, index=1)
    assert str(err.value) == f"{path}: holds no image"


def test_one_byte_over_the_decode_limit(tmp_path) -> None:
    """59 x 83 uint8 (4897 bytes) from 100 stored bytes: 8 x 100 + 4096 = 4896."""
    path = tmp_path / "odd.tif"
    tifffile.imwrite(path, np.zeros((59, 83), np.uint8), photometric="minisblack")
    data = bytearray(path.read_bytes())
    struct.pack_into("<HHII", data, _entry(bytes(data), 279), 279, 4, 1, 100)
    path.write_bytes(bytes(data))
    with pytest.raises(ReadError) as err:
        _check_page(path)
    assert str(err.value) == (
        f"{path}: page 0 declares 59 x 83 uint8 (4897 bytes) but stores 100 bytes"
    )


def test_a_contiguous_image_past_the_end_of_the_file(tmp_path) -> None:
    """tifffile's own 'shaped' description says 99 frames stored one after the
    other from the first page's data; the file holds 3."""
    path = tmp_path / "shaped.tif"
    tifffile.imwrite(path, FRAMES, photometric="minisblack", contiguous=True)
    data = path.read_bytes()
    assert b'{"shape": [3, 4, 5]}' in data
    path.write_bytes(data.replace(b'{"shape": [3, 4, 5]}', b'{"shape": [99,4, 5]}'))
    with tifffile.TiffFile(path) as tif:
        offset = tif.series[0].dataoffset
    assert _refusal(path) == (
        f"the image is declared as (99, 4, 5) ({99 * 4 * 5 * 2} bytes from offset "
        f"{offset}) but the file has {path.stat().st_size} bytes"
    )
