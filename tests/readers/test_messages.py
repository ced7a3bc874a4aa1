"""Reader errors are one line naming the file; no numpy warning escapes a reader."""

from __future__ import annotations

import struct
import warnings

import numpy as np
import pytest
import tifffile

from playnano.errors import ChannelError, PlaynanoWarning, ReadError
from playnano.readers import load
from tests.readers.test_asd import V1_HEAD, _levels, build_asd
from tests.readers.test_h5jpk import _write_scan


def _load_quietly(path, **kwargs):
    """load(), failing on any warning (pytest's filter would turn it into an error
    that load() then wraps, hiding that it was a warning)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return load(path, **kwargs)
        finally:
            numpy = [w for w in caught if not issubclass(w.category, PlaynanoWarning)]
            assert [str(w.message) for w in numpy] == []


def _one_line_naming(err, path):
    message = str(err.value)
    assert "\n" not in message and "\r" not in message
    assert message.startswith(f"{path}: ")
    return message


# ------------------------------------------------------------------ not an .asd
def test_text_file_named_asd_says_it_is_not_an_asd_file(tmp_path):
    path = tmp_path / "notes.asd"
    path.write_text("hello, this is a text file\n")
    with pytest.raises(ReadError) as err:
        load(path)
    message = _one_line_naming(err, path)
    assert "not an .asd file" in message
    assert "unknown .asd version" not in message


def test_no_reader_lists_the_nanoscope_numbered_suffixes(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ReadError) as err:
        load(path)
    assert ".00N" in str(err.value)


# --------------------------------------------------- StackErrors while building
def test_zero_scan_size_asd_is_a_read_error_naming_the_file(tmp_path):
    path = tmp_path / "video.asd"
    path.write_bytes(build_asd(1, {"TP": _levels(5)}, scan_nm=(0, 0)))
    with pytest.raises(ReadError) as err:
        _load_quietly(path)
    message = _one_line_naming(err, path)
    assert "pixel" in message and "positive" in message


def test_bool_tiff_is_a_read_error_naming_the_file(tmp_path):
    path = tmp_path / "mask.tif"
    tifffile.imwrite(path, np.zeros((2, 4, 4), dtype=bool))
    with pytest.raises(ReadError) as err:
        _load_quietly(path)
    assert "real numbers" in _one_line_naming(err, path)


# ----------------------------------------------------------- numpy warnings
_GAIN_AT = struct.calcsize(V1_HEAD) - 4  # z piezo gain: the header's last float


@pytest.mark.parametrize("gain", [float("inf"), float("nan")])
def test_asd_with_a_non_finite_gain_is_an_error_without_warnings(tmp_path, gain):
    raw = bytearray(build_asd(1, {"TP": _levels(6)}))
    raw[_GAIN_AT : _GAIN_AT + 4] = struct.pack("<f", gain)
    path = tmp_path / "video.asd"
    path.write_bytes(bytes(raw))
    with pytest.raises(ReadError) as err:
        _load_quietly(path)
    assert "gain" in _one_line_naming(err, path)


def test_asd_with_an_infinite_frame_time_has_no_times(tmp_path):
    path = tmp_path / "video.asd"
    path.write_bytes(build_asd(1, {"TP": _levels(7)}, frame_time_ms=float("inf")))
    stack = _load_quietly(path)
    assert stack.get_frame_times() == [None, None, None]


def _patch_h5(path, fn):
    import h5py

    with h5py.File(path, "a") as f:
        fn(f["Measurement_000"])


@pytest.mark.parametrize(
    ("patch", "words"),
    [
        (
            lambda m: m["Channel_000"].attrs.__setitem__(
                "net-encoder.scaling.multiplier", 1e308
            ),
            "scaling",
        ),
        (
            lambda m: m["Channel_000"].attrs.__setitem__(
                "net-encoder.scaling.offset", float("nan")
            ),
            "offset",
        ),
        (
            lambda m: m["Channel_000"].attrs.__setitem__(
                "net-encoder.scaling.multiplier", np.complex128(1 + 2j)
            ),
            "multiplier",
        ),
        (
            lambda m: m.attrs.__setitem__(
                "position-pattern.grid.ulength", float("inf")
            ),
            "ulength",
        ),
    ],
    ids=["overflow", "nan-offset", "complex-multiplier", "inf-length"],
)
def test_h5jpk_bad_numbers_are_errors_without_warnings(tmp_path, patch, words):
    path = tmp_path / "scan.h5-jpk"
    _write_scan(path)
    _patch_h5(path, patch)
    with pytest.raises(ReadError) as err:
        _load_quietly(path)
    assert words in _one_line_naming(err, path)


def test_h5jpk_complex_data_is_an_error_without_warnings(tmp_path):
    path = tmp_path / "scan.h5-jpk"
    _write_scan(path)

    def complex_data(m):
        del m["Channel_000/Height"]
        m["Channel_000/Height"] = np.ones((6, 2), np.complex64)

    _patch_h5(path, complex_data)
    with pytest.raises(ReadError) as err:
        _load_quietly(path)
    assert "complex" in _one_line_naming(err, path)


@pytest.mark.parametrize("bad", [np.nan, 1e30])
def test_h5jpk_unusable_frame_times_fall_back_without_warnings(tmp_path, bad):
    path = tmp_path / "scan.h5-jpk"
    _write_scan(path, times=True)

    def bad_times(m):
        del m["meta-data/start-times"]
        m["meta-data/start-times"] = np.array([[1000.0], [bad]])

    _patch_h5(path, bad_times)
    stack = _load_quietly(path)
    assert stack.provenance["source"]["acquisition"]["frame_times_from"] == (
        "line rate"
    )


# ---------------------------------------------------------- raw tag bytes
def test_jpk_channel_names_with_newlines_stay_on_one_line(tmp_path):
    path = tmp_path / "frame.jpk"
    grid = [(32834, "d", 1, 8.5e-8, True), (32838, "I", 1, 4, True)]
    tifffile.imwrite(path, np.zeros((8, 8), np.uint8), extratags=grid)
    name = [(32848, "s", 0, "height\nINJECTED\r\nline", True), (32849, "I", 1, 0, True)]
    tifffile.imwrite(path, np.zeros((3, 4), np.int32), append=True, extratags=name)
    with pytest.raises(ChannelError) as err:
        load(path, channel="phase")
    assert "INJECTED" in _one_line_naming(err, path)


def test_jpk_unknown_scaling_kind_stays_on_one_line(tmp_path):
    path = tmp_path / "frame.jpk"
    grid = [(32834, "d", 1, 8.5e-8, True), (32838, "I", 1, 4, True)]
    tifffile.imwrite(path, np.zeros((8, 8), np.uint8), extratags=grid)
    tags = [
        (32848, "s", 0, "height", True),
        (32849, "I", 1, 0, True),
        (32896, "I", 1, 1, True),  # one calibration slot
        (32897, "s", 0, "nominal", True),  # the default slot's name
        (32912, "s", 0, "nominal", True),  # slot 0's name
        (32912 + 19, "s", 0, "Weird\nScaling\x07", True),  # slot 0's kind
    ]
    tifffile.imwrite(path, np.zeros((3, 4), np.int32), append=True, extratags=tags)
    with pytest.raises(ReadError) as err:
        _load_quietly(path)
    assert "Weird" in _one_line_naming(err, path)


def test_a_readers_multi_line_error_reaches_the_user_as_one_line(afm_data, monkeypatch):
    from playnano.readers.asd import AsdReader

    def broken(self, path, channel=None):
        raise ChannelError(f"{path}: no channel 'X'; it has\nTP\r\nPH")

    monkeypatch.setattr(AsdReader, "read", broken)
    with pytest.raises(ChannelError) as err:
        load(path := afm_data / "asd/asd_sample_0.asd")
    assert str(err.value) == f"{path}: no channel 'X'; it has TP PH"
