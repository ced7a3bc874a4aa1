"""Damaged values our readers parse themselves are refused in the readers' own words.

Each file here holds one value of the wrong kind where a reader parses it (a flag
that is an array, a tag that holds no value or bytes, a number that is not one); the
refusal must be one line naming the file and the value, at ``load`` and at
``playnano info``, not the safety net's "is corrupt or not understood (TypeError:
...)". Files are real: written with h5py or tifffile, then byte-edited.
"""

from __future__ import annotations

import struct
from pathlib import Path

import h5py
import numpy as np
import pytest
import tifffile
from click.testing import CliRunner

from playnano.cli import cli
from playnano.errors import ReadError
from playnano.readers import load
from tests.readers.test_guarded_tiff import _entry, _tiff
from tests.readers.test_h5jpk import _write_scan
from tests.readers.test_jpk_folder import _write_jpk


def _refusals(path: Path) -> tuple[str, str]:
    """The one-line message of ``load(path)`` and ``playnano info path``'s error."""
    with pytest.raises(ReadError) as err:
        load(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{path}: "), message
    res = CliRunner().invoke(cli, ["info", str(path)])
    assert res.exit_code == 1, res.output
    [line] = res.output.strip().splitlines()
    return message, line


def _same_cause(path: Path, expected: str) -> None:
    message, line = _refusals(path)
    assert message == f"{path}: {expected}"
    assert line.endswith(message), line


@pytest.mark.parametrize("value", [[1, 2, 3], []])
def test_h5jpk_retrace_array_is_not_a_flag(tmp_path, value):
    path = tmp_path / "scan.h5-jpk"
    _write_scan(path)
    with h5py.File(path, "a") as f:
        f["Measurement_000/Channel_000"].attrs["retrace"] = value
    _same_cause(
        path,
        f"attribute retrace of Measurement_000/Channel_000 is an array of "
        f"{len(value)} values, not a flag",
    )


def test_h5jpk_interlace_array_is_not_a_flag(tmp_path):
    path = tmp_path / "scan.h5-jpk"
    _write_scan(path)
    key = "environment.fast-imaging.feed-forward-parameters.yaxis.interlace"
    with h5py.File(path, "a") as f:
        f["Measurement_000"].attrs[key] = [b"true", b"false"]
    message, _ = _refusals(path)
    assert message == (
        f"{path}: attribute {key} of Measurement_000 is an array of 2 values, "
        "not a flag"
    )


def _edit_entry(path: Path, tag: int, ifd: int, fmt: str, *values: int) -> Path:
    """Overwrite IFD ``ifd``'s entry of ``tag`` with ``values`` packed as ``fmt``."""
    data = bytearray(path.read_bytes())
    struct.pack_into("<" + fmt, data, _entry(bytes(data), tag, ifd=ifd), *values)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        # RowsPerStrip of no value: tifffile compared an int with ()
        ((278, 1, "HHI", 278, 3, 0), "IFD 1's tag RowsPerStrip holds 0 values; "
         "expected one; the file is damaged"),
        # ... of type BYTE: tifffile compared an int with bytes
        ((278, 1, "HHIBxxx", 278, 1, 1, 4), "IFD 1's tag RowsPerStrip holds BYTE "
         "values (TIFF field type 1); TIFF stores it as SHORT or LONG; the file is "
         "damaged"),
        # BitsPerSample as text: tifffile's int('\x10') failed
        ((258, 2, "HHI4s", 258, 2, 2, b"\x10\x00\x00\x00"), "IFD 2's tag "
         "BitsPerSample holds ASCII values (TIFF field type 2); TIFF stores it as "
         "SHORT or LONG; the file is damaged"),
        ((256, 1, "HHI", 256, 3, 3), "IFD 1's tag ImageWidth holds 3 values; "
         "expected one; the file is damaged"),
        # ImageWidth's tag renamed: tifffile divided by a zero width
        ((256, 0, "H", 33024), "IFD 0 declares no ImageWidth; the file is damaged"),
        ((257, 2, "HHII", 257, 4, 1, 0), "IFD 2 declares a zero ImageLength; the "
         "file is damaged"),
    ],
    ids=["rows-empty", "rows-byte", "bits-ascii", "width-3", "no-width", "length-0"],
)  # fmt: skip
def test_tiff_tag_that_sizes_the_image_wrongly(tmp_path, edit, expected):
    path = _edit_entry(_tiff(tmp_path / "stack.tif"), *edit)
    _same_cause(path, expected)


def test_jpk_frame_rowsperstrip_without_value(tmp_path):
    """A JPK frame page whose RowsPerStrip holds no value (found by the fuzzer)."""
    path = tmp_path / "frame.jpk"
    _write_jpk(path, np.arange(30, dtype=np.int32).reshape(5, 6))
    _edit_entry(path, 278, 1, "HHI", 278, 3, 0)
    _same_cause(
        path,
        "IFD 1's tag RowsPerStrip holds 0 values; expected one; the file is damaged",
    )


def _imagej(path: Path, finterval: str) -> Path:
    """An ImageJ stack whose description's ``finterval`` reads ``finterval``."""
    tifffile.imwrite(
        path,
        np.zeros((3, 4, 5), np.float32),
        imagej=True,
        resolution=(0.5, 0.5),
        metadata={"unit": "nm", "finterval": 0.25, "axes": "TYX"},
    )
    data = path.read_bytes()
    assert data.count(b"finterval=0.25") == 1 and len(finterval) == 4
    path.write_bytes(
        data.replace(b"finterval=0.25", b"finterval=" + finterval.encode())
    )
    return path


@pytest.mark.parametrize(
    ("finterval", "shown"),
    [
        ("0.2\x02", r"'0.2\x02'"),
        ("0.2x", "'0.2x'"),
        ("-1.0", "-1.0"),
        ("inf.", "'inf.'"),
    ],
)
def test_imagej_frame_interval_that_is_not_a_number(tmp_path, finterval, shown):
    path = _imagej(tmp_path / "stack.tif", finterval)
    _same_cause(
        path, f"the ImageJ description's finterval {shown} is not a number >= 0"
    )


def test_imagej_frame_interval_still_gives_frame_times(tmp_path):
    stack = load(_imagej(tmp_path / "stack.tif", "0.50"))
    assert stack.get_frame_times() == [0.0, 0.5, 1.0]


def test_xresolution_with_three_values(tmp_path):
    path = _edit_entry(_tiff(tmp_path / "stack.tif"), 282, 0, "HHI", 282, 5, 3)
    _same_cause(path, "tag XResolution holds 3 values; expected one")


def test_resolution_unit_as_text(tmp_path):
    path = _tiff(tmp_path / "stack.tif", resolution=(2.0, 2.0), resolutionunit=5)
    _edit_entry(path, 296, 0, "HHI4s", 296, 2, 2, b"\x05\x00\x00\x00")
    _same_cause(path, r"tag ResolutionUnit holds '\x05', not a unit code")


def _jpk_with_grid(path: Path, length: tuple, pixels: tuple) -> Path:
    """A JPK frame (see test_jpk_folder) whose grid tags hold ``length``/``pixels``."""
    tifffile.imwrite(
        path,
        np.zeros((8, 8), np.uint8),
        extratags=[
            (32834, "d", len(length), length, True),
            (32838, "I", len(pixels), pixels, True),
        ],
    )
    name = [(32848, "s", 0, "height", True), (32849, "I", 1, 0, True)]
    image = np.arange(30, dtype=np.int32).reshape(5, 6)
    tifffile.imwrite(path, image, append=True, extratags=name)
    return path


@pytest.mark.parametrize(
    ("length", "pixels", "expected"),
    [
        ((8.5e-8,) * 8, (6,), "tag 32834 (scan grid length) holds 8 values; "
         "expected one"),
        ((8.5e-8,), (6, 6), "tag 32838 (scan grid pixels) holds 2 values; "
         "expected one"),
        ((float("nan"),), (6,), "tag 32834 (scan grid length) is not a finite "
         "number (nan)"),
    ],
    ids=["length-8", "pixels-2", "length-nan"],
)  # fmt: skip
def test_jpk_scan_grid_tag_that_is_not_one_number(tmp_path, length, pixels, expected):
    path = _jpk_with_grid(tmp_path / "frame.jpk", length, pixels)
    _same_cause(path, expected)


def test_jpk_scan_grid_of_one_number_each_is_read(tmp_path):
    path = _jpk_with_grid(tmp_path / "frame.jpk", (8.5e-8,), (6,))
    assert load(path).pixel_size_nm == pytest.approx(85 / 6)
