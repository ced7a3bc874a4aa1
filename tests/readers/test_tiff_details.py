"""TIFF stacks shaped or tagged unusually: what the TIFF reader makes of each.

Real files written by tifffile (and a tag renamed by a byte edit where tifffile
will not write the oddity); each test states the frames, pixel size, times,
channels or one-line message a user gets.
"""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
import tifffile

from playnano.readers import available_channels, load
from playnano.readers.tiff import PixelSizeWarning, TiffReader

FRAMES = np.arange(3 * 4 * 5, dtype=np.uint16).reshape(3, 4, 5)


def _write(path: Path, data: np.ndarray, **kwargs) -> Path:
    tifffile.imwrite(path, data, photometric="minisblack", **kwargs)
    return path


def test_one_row_frames_keep_their_row(tmp_path) -> None:
    data = FRAMES[:, :1, :]
    path = _write(tmp_path / "row.tif", data, resolution=(2.0, 2.0), resolutionunit=5)
    stack = load(path)
    assert stack.data.shape == (3, 1, 5)
    np.testing.assert_array_equal(stack.data, data)


def test_axes_of_one_are_dropped_and_a_channel_of_one_is_no_channel(tmp_path) -> None:
    data = FRAMES.reshape(3, 1, 1, 4, 5)  # T Z C Y X, one plane and one channel
    path = tmp_path / "hyper.tif"
    tifffile.imwrite(
        path, data.astype(np.float32), imagej=True, resolution=(1.0, 1.0),
        metadata={"axes": "TZCYX", "unit": "nm"},
    )  # fmt: skip
    assert available_channels(path) == ["height"]
    stack = load(path)
    assert stack.channel == "height" and stack.data.shape == (3, 4, 5)
    np.testing.assert_array_equal(stack.data, FRAMES.astype(np.float32))


def test_the_frame_interval_in_milliseconds(tmp_path) -> None:
    path = tmp_path / "ms.tif"
    tifffile.imwrite(
        path, FRAMES.astype(np.float32), imagej=True, resolution=(1.0, 1.0),
        metadata={"axes": "TYX", "unit": "nm", "finterval": 250, "tunit": "ms"},
    )  # fmt: skip
    stack = load(path)
    assert stack.get_frame_times() == [0.0, 0.25, 0.5]
    assert stack.frame_metadata[1]["frame_pixel_size_nm"] == 1.0
    assert stack.file_path == path
    assert stack.provenance["source"]["acquisition"] == {
        "imagej": True,
        "pixel_size_known": True,
    }


def test_an_imagej_unit_wins_over_the_resolution_unit(tmp_path) -> None:
    path = tmp_path / "both.tif"
    tifffile.imwrite(
        path, FRAMES, imagej=True, resolution=(0.5, 0.5),
        metadata={"axes": "TYX", "unit": "nm"},
    )  # fmt: skip
    data = bytearray(path.read_bytes())
    at = data.find(struct.pack("<HHI", 296, 3, 1))  # ResolutionUnit: NONE -> CM
    assert at > 0
    struct.pack_into("<HHIHH", data, at, 296, 3, 1, 3, 0)
    path.write_bytes(bytes(data))
    assert load(path).pixel_size_nm == pytest.approx(2.0)  # nm per pixel, not cm


def test_no_resolution_unit_means_inches(tmp_path) -> None:
    path = _write(tmp_path / "inch.tif", FRAMES, resolution=(500.0, 500.0))
    data = bytearray(path.read_bytes())
    at = data.find(struct.pack("<HH", 296, 3))
    assert at > 0
    struct.pack_into("<H", data, at, 65010)  # the tag renamed: no ResolutionUnit
    path.write_bytes(bytes(data))
    assert load(path).pixel_size_nm == pytest.approx(5.08e4)


def test_a_unit_with_a_non_ascii_letter_and_an_escape_is_no_length(tmp_path) -> None:
    path = tmp_path / "odd_unit.tif"
    tifffile.imwrite(
        path, FRAMES, imagej=True, resolution=(0.5, 0.5),
        metadata={"axes": "TYX", "unit": "Q\\u00B5m"},
    )  # fmt: skip
    data = path.read_bytes()
    path.write_bytes(data.replace(b"unit=Q", b"unit=\xb5", 1))  # a latin-1 micro
    with pytest.warns(PixelSizeWarning, match="no pixel size"):
        assert load(path).pixel_size_nm == 1.0


def test_only_files_named_like_tiffs_are_claimed(tmp_path) -> None:
    other = _write(tmp_path / "video.xyz", FRAMES)
    assert TiffReader().can_read(other) is False
    assert TiffReader().can_read(other.rename(tmp_path / "video.tif")) is True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PixelSizeWarning)
        assert load(tmp_path / "video.tif").data.shape == (3, 4, 5)
