"""The guarded TIFF opening: the image read is the image data the IFDs describe.

tifffile reads a contiguous image as one block from its first page's data and,
for its own ``shaped`` (JSON) or an ImageJ description, takes the frame count
from the description. Files here are written by tifffile and edited byte by byte
where a lying file differs; files that do not lie load bit for bit.
"""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
import tifffile

from playnano.errors import ReadError
from playnano.readers import load
from playnano.readers.guarded.tiff import checked_series, open_tiff, walk_ifds
from tests.readers.test_guarded_tiff import _entry, _ifds, _refusal

FRAMES = np.arange(3 * 4 * 5, dtype=np.float32).reshape(3, 4, 5)


def _shaped(path: Path, frames: int = 3, **kwargs) -> Path:
    """A contiguous 3-frame stack whose JSON description says ``frames`` frames
    (edited in place: the file keeps its length and layout)."""
    tifffile.imwrite(path, FRAMES, photometric="minisblack", contiguous=True,
                     **kwargs)  # fmt: skip
    data = path.read_bytes()
    assert data.count(b'{"shape": [3, 4, 5]') == 1
    path.write_bytes(
        data.replace(b'{"shape": [3, 4, 5]', f'{{"shape": [{frames}, 4, 5]'.encode())
    )
    return path


def _block(path: Path) -> tuple[int, int]:
    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        return series.dataoffset, series.nbytes


@pytest.mark.parametrize("frames", [4, 5])
@pytest.mark.parametrize(
    "kwargs", [{}, {"byteorder": ">"}, {"bigtiff": True}], ids=["le", "be", "big"]
)
def test_a_description_claiming_frames_the_pages_do_not_store(
    tmp_path, frames: int, kwargs: dict
) -> None:
    """Frames 4 and 5 would be the file's own IFDs: tifffile reads them (the
    file is long enough), the guard refuses, naming the IFD the block covers."""
    path = _shaped(tmp_path / "lie.tif", frames, **kwargs)
    offset, nbytes = _block(path)
    assert nbytes == frames * 80 and offset + nbytes <= path.stat().st_size
    ifd1 = walk_ifds(path)[1].offset
    assert offset + 3 * 80 <= ifd1 < offset + nbytes
    assert _refusal(path) == (
        f"the image is declared as ({frames}, 4, 5) ({nbytes} bytes from offset "
        f"{offset}) but IFD 1 lies at offset {ifd1}, inside it; the file stores "
        "less image data than it declares"
    )
    with pytest.raises(ReadError, match="inside it; the file stores less"):
        load(path)


def test_a_page_whose_data_is_not_where_the_block_puts_it(tmp_path) -> None:
    """Page 1 says its data is page 2's; tifffile would read the block anyway."""
    path = _shaped(tmp_path / "moved.tif")
    data = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tif:
        second, third = tif.pages[1].dataoffsets[0], tif.pages[2].dataoffsets[0]
    struct.pack_into("<HHII", data, _entry(bytes(data), 273, ifd=1), 273, 4, 1, third)
    path.write_bytes(bytes(data))
    offset, _ = _block(path)
    assert _refusal(path) == (
        f"the image is declared as (3, 4, 5) (240 bytes from offset {offset}) but "
        f"page 1 stores its data at offset {third}, not {second}"
    )


def test_frames_past_the_pages_where_the_chain_goes_on(tmp_path) -> None:
    """A file cut after its first IFD keeps its other frames as bytes after the
    first page's data. Here the chain goes on to an IFD that lies before that
    data (written into a private tag's bytes), so the frames past the first page
    are not a cut file's: refused, though no IFD lies inside the block."""
    path = tmp_path / "ahead.tif"
    pad = (65000, "B", 256, bytes(256), True)  # stored before the image data
    tifffile.imwrite(path, FRAMES, photometric="minisblack", truncate=True,
                     extratags=[pad])  # fmt: skip
    data = bytearray(path.read_bytes())
    [(ifd0, n)] = _ifds(bytes(data))
    where = data.index(bytes(256))  # the private tag's value
    copy = data[ifd0 : ifd0 + 2 + 12 * n] + bytes(4)  # IFD 0 again, last in chain
    data[where : where + len(copy)] = copy
    struct.pack_into("<I", data, ifd0 + 2 + 12 * n, where)
    path.write_bytes(bytes(data))
    offset, nbytes = _block(path)
    assert where + len(copy) <= offset  # not inside the block
    assert _refusal(path) == (
        f"the image is declared as (3, 4, 5) ({nbytes} bytes from offset {offset}) "
        f"but its 1 page(s) store 80 bytes of it and the rest would run past IFD 1 "
        f"at offset {where}; the file stores less image data than it declares"
    )


def _loads_as_written(path: Path, frames: np.ndarray) -> None:
    with open_tiff(path) as opened:
        assert checked_series(opened).asarray().tobytes() == frames.tobytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no pixel size in these files
        stack = load(path)
    assert stack.data.tobytes() == frames.astype(stack.data.dtype).tobytes()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"contiguous": True},
        {"contiguous": True, "bigtiff": True},
        {"contiguous": True, "byteorder": ">"},
        {"truncate": True},
        {"imagej": True, "metadata": {"axes": "TYX"}},
        {"metadata": None},
        {"tile": (16, 16)},
        {"compression": "zlib"},
    ],
    ids=["contiguous", "bigtiff", "big-endian", "truncated", "imagej", "plain",
         "tiled", "zlib"],
)  # fmt: skip
def test_stacks_that_store_what_they_declare_load_bit_for_bit(
    tmp_path, kwargs: dict
) -> None:
    frames = np.random.default_rng(1).random((5, 32, 48)).astype(np.float32)
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, frames, photometric="minisblack", **kwargs)
    _loads_as_written(path, frames)


def test_a_stack_written_page_by_page_and_a_second_series(tmp_path) -> None:
    frames = np.random.default_rng(2).random((4, 16, 16)).astype(np.float32)
    path = tmp_path / "pages.tif"
    with tifffile.TiffWriter(path) as tw:
        tw.write(frames, photometric="minisblack", contiguous=True)
        tw.write(frames[:2] * 2, photometric="minisblack", truncate=True)
    _loads_as_written(path, frames)


def test_an_ifd_without_strip_offsets_is_named(tmp_path) -> None:
    """RowsPerStrip 0 and no StripOffsets in page 1: tifffile raised
    RuntimeError('incompatible keyframe'), which the guard did not name."""
    path = _shaped(tmp_path / "nostrips.tif")
    data = bytearray(path.read_bytes())
    struct.pack_into("<HHII", data, _entry(bytes(data), 278, ifd=1), 278, 3, 1, 0)
    # StripOffsets becomes Orientation 1 (the tags stay sorted)
    struct.pack_into("<HHII", data, _entry(bytes(data), 273, ifd=1), 274, 3, 1, 1)
    path.write_bytes(bytes(data))
    message = (
        "IFD 1 lists no StripOffsets or TileOffsets, so where its image data lies "
        "is unknown; the file is damaged"
    )
    assert _refusal(path) == message
    with pytest.raises(ReadError) as err:
        load(path)
    assert str(err.value) == f"{path}: {message}"


def test_pages_of_one_image_in_different_numbers_of_strips(tmp_path) -> None:
    path = tmp_path / "strips.tif"
    tifffile.imwrite(path, FRAMES, photometric="minisblack", rowsperstrip=2)
    data = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tif:
        first = tif.pages[1].dataoffsets[0]
    struct.pack_into("<HHII", data, _entry(bytes(data), 273, ifd=1), 273, 4, 1, first)
    struct.pack_into("<HHII", data, _entry(bytes(data), 279, ifd=1), 279, 4, 1, 80)
    path.write_bytes(bytes(data))
    assert _refusal(path) == (
        "IFD 1 stores its image in 1 strips or tiles but IFD 0, of the same size "
        "and type, in 2; pages of one image must be stored alike"
    )
