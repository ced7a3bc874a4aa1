"""formats/_inspect.py: a bundle's description and its specification check, from the
view each format's ``info`` module reads (plain values in, plain values out).

The format tests (test_npz.py, test_h5.py, test_ometiff.py) reach these through
real files; here every branch is told apart with views that differ in one field.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from playnano.errors import ReadError
from playnano.formats._inspect import BundleView, problems, real_values, to_info
from playnano.info import ArrayInfo, StackInfo

PATH = Path("v.npz")
PROVENANCE = {
    "environment": {"playnano": "0.6.0", "python": "3.11", "numpy": "2.0",
                    "platform": "Linux"},
    "source": {"file": "v.asd", "sha256": "ab" * 32, "reader": "asd",
               "channel": "height"},
    "processing": {"steps": [], "keys_by_name": {}},
    "exports": [],
}  # fmt: skip
UNITS = {"data": "nm", "timestamps": "s", "pixel_size_nm": "nm"}


def _view(**change) -> BundleView:
    fields = {
        "path": PATH,
        "version": 1,
        "data": ArrayInfo((2, 3, 4), "float64", "nm"),
        "pixel_size_nm": 1.5,
        "channel": "height",
        "frame_metadata": [{"timestamp": 0.0}, {"timestamp": 0.5}],
        "provenance": PROVENANCE,
        "timestamps": [0.0, 0.5],
    }
    return BundleView(**{**fields, **change})


def test_a_sound_view_is_described_whole() -> None:
    layers = {"raw": ArrayInfo((2, 3, 4), "float64", "nm")}
    masks = {"m": ArrayInfo((2, 3, 4), "bool")}
    view = _view(layers=layers, masks=masks, compression="zip deflate", units=UNITS)
    assert to_info(view, "npz-bundle") == StackInfo(
        reader="npz-bundle",
        metadata_only=True,
        format_version=1,
        data=ArrayInfo((2, 3, 4), "float64", "nm"),
        pixel_size_nm=1.5,
        channel="height",
        channels=["height"],
        timestamps=[0.0, 0.5],
        layers=layers,
        masks=masks,
        provenance=PROVENANCE,
        compression="zip deflate",
        path=PATH,
    )
    assert problems(view, 1) == []


def test_frame_times_come_from_timestamps_first() -> None:
    view = _view(timestamps=np.array([0.0, np.nan]), frame_metadata=[{}, {}])
    assert to_info(view, "r").timestamps == [0.0, None]
    view = _view(timestamps=[0, 2], frame_metadata=[{"timestamp": 5.0}] * 2)
    assert to_info(view, "r").timestamps == [0.0, 2.0]


def test_frame_times_from_the_frame_metadata() -> None:
    meta = [{"timestamp": 1}, {"timestamp": "2"}, "not a frame", {"timestamp": None}]
    view = _view(data=ArrayInfo((4, 3, 4), "float64"), frame_metadata=meta,
                 timestamps=None)  # fmt: skip
    assert to_info(view, "r").timestamps == [1.0, None, None, None]


def test_frame_times_without_any_record() -> None:
    view = _view(frame_metadata={"not": "a list"}, timestamps=None)
    assert to_info(view, "r").timestamps == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"data": None}, "no frame data"),
        ({"data": None, "found": ["data is missing", "timestamps is missing"]},
         "data is missing"),
        ({"found": ["units_json is not JSON", "x"]}, "units_json is not JSON"),
        ({"frame_metadata": [{}]},
         "frame_metadata has 1 entries; the data has 2 frames"),
        ({"data": ArrayInfo((), "float64"), "frame_metadata": [{}]},
         "frame_metadata has 1 entries; the data has 0 frames"),
        ({"version": "one"}, "version or pixel size is not a number"),
        ({"pixel_size_nm": None}, "version or pixel size is not a number"),
    ],
)  # fmt: skip
def test_views_that_cannot_be_described(change, message) -> None:
    with pytest.raises(ReadError) as err:
        to_info(_view(**change), "r")
    assert str(err.value) == f"{PATH}: {message}"


def test_odd_but_describable_values() -> None:
    info = to_info(
        _view(version=None, pixel_size_nm="2", channel=3, provenance=["x"],
              data=ArrayInfo((), "float64"), frame_metadata=None, timestamps=[]),
        "r",
    )  # fmt: skip
    assert (info.format_version, info.pixel_size_nm, info.channel, info.channels) == (
        None,
        2.0,
        "3",
        ["3"],
    )
    assert info.provenance is None


def test_real_values() -> None:
    found: list[str] = []
    assert real_values(None, "k", found) is None
    assert real_values(np.array([[1, 2]], np.int8), "k", found) == [1.0, 2.0]
    assert real_values(np.array([True]), "k", found) == [1.0]
    assert found == []
    assert real_values(np.array(["a"]), "k", found) is None
    assert real_values(np.array([1j]), "k", found) is None
    assert found == [
        "k holds <U1 values, not real numbers",
        "k holds complex128 values, not real numbers",
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"data": ArrayInfo((2, 3), "float64"), "frame_metadata": None,
          "timestamps": None},
         ["data has shape [2, 3]; expected (frames, y, x)",
          "frame_metadata_json is NoneType; expected array"]),
        ({"data": ArrayInfo((0, 3, 4), "float64"), "frame_metadata": [],
          "timestamps": []},
         ["data has shape [0, 3, 4]; expected (frames, y, x)"]),
        ({"data": ArrayInfo((2, 3, 4), "<U3")},
         ["data has dtype <U3; expected a numeric dtype"]),
        ({"data": ArrayInfo((2, 3, 4), "complex64")},
         ["data has dtype complex64; expected a numeric dtype"]),
        ({"layers": {"raw": ArrayInfo((2, 3), "float64")}},
         ["processed layer 'raw' has shape [2, 3]; expected (frames, y, x)"]),
        ({"masks": {"m": ArrayInfo((1, 3, 4), "uint8")}},
         ["mask 'm' has shape [1, 3, 4]; data has [2, 3, 4]",
          "mask 'm' has dtype uint8; expected bool"]),
        ({"timestamps": [0.0]}, ["timestamps has 1 values for 2 frames"]),
        ({"pixel_size_nm": 0}, ["pixel_size_nm is 0; expected a positive number"]),
        ({"pixel_size_nm": -1.0},
         ["pixel_size_nm is -1.0; expected a positive number"]),
        ({"pixel_size_nm": math.inf},
         ["pixel_size_nm is inf; expected a positive number"]),
        ({"pixel_size_nm": "1.5"},
         ["pixel_size_nm is '1.5'; expected a positive number"]),
        ({"channel": 3}, ["channel is 3; expected a string"]),
        ({"version": True}, ["playnano_format_version is True; expected int"]),
        ({"version": 1.0}, ["playnano_format_version is 1.0; expected int"]),
        ({"version": 0},
         ["playnano_format_version is 0; this playnano knows 1 to 2"]),
        ({"version": 3},
         ["playnano_format_version is 3; this playnano knows 1 to 2"]),
        ({"frame_metadata": [{"timestamp": 0.0}]},
         ["frame_metadata_json has 1 entries for 2 frames"]),
        ({"found": ["units_json is missing"]}, ["units_json is missing"]),
        ({"units": {**UNITS, "processed": {"raw": "nm", "gone": "nm"}},
          "layers": {"raw": ArrayInfo((2, 3, 4), "float64")}},
         ["units names a layer 'gone' the file does not hold"]),
        ({"provenance": {**PROVENANCE, "source": 3}},
         ["provenance_json.source is int; expected object"]),
        ({"data": ArrayInfo((2, 3), "float64"), "provenance": None,
          "frame_metadata": [{}, {}]},
         ["data has shape [2, 3]; expected (frames, y, x)",
          "provenance_json is NoneType; expected object"]),
        ({"found": ["timestamps is missing"], "units": {"data": "nm"}},
         ["timestamps is missing", "units has no 'timestamps'",
          "units has no 'pixel_size_nm'"]),
        ({"found": ["timestamps is missing"],
          "units": {**UNITS, "processed": {"gone": "nm"}}},
         ["timestamps is missing",
          "units names a layer 'gone' the file does not hold"]),
        ({"units": {"data": "nm"}},
         ["units has no 'timestamps'", "units has no 'pixel_size_nm'"]),
    ],
)  # fmt: skip
def test_each_departure_from_the_specification(change, expected) -> None:
    assert problems(_view(**change), 2) == expected


def test_what_the_specification_allows() -> None:
    for version in (None, 1, 2):
        assert problems(_view(version=version), 2) == []
    # OME-TIFF keeps no timestamps array; a bool stack is numeric enough
    assert problems(_view(bundle=False, timestamps=[0.0]), 1) == []
    assert problems(_view(data=ArrayInfo((2, 3, 4), "bool")), 1) == []
    assert problems(_view(data=ArrayInfo((2, 3, 4), "uint16")), 1) == []
    assert problems(_view(data=ArrayInfo((2, 3, 4), "int8")), 1) == []
    assert problems(_view(pixel_size_nm=2), 1) == []
    assert problems(_view(pixel_size_nm=0.5), 1) == []  # below a nanometre
    one_frame = ArrayInfo((1, 1, 1), "float32")  # one frame of one pixel
    assert problems(_view(data=one_frame, frame_metadata=[{}], timestamps=[0]), 1) == []
    masks = {"m": ArrayInfo((2, 3, 4), "bool")}
    layers = {"raw": ArrayInfo((1, 3, 4), "float32")}  # a snapshot before a drop
    assert problems(_view(masks=masks, layers=layers), 1) == []
    assert problems(_view(data=None, timestamps=None), 1) == []
    assert problems(_view(units={**UNITS, "processed": {}}), 1) == []
