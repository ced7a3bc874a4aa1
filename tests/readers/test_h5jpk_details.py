""".h5-jpk files that leave things out or say them oddly: what the reader makes of each.

Every file is a real HDF5 file (h5py) built from the minimal scan of
``test_h5jpk._write_scan`` with one thing changed; each test states the value or
the one-line message a user gets.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from playnano.errors import ReadError
from playnano.info import inspect
from playnano.readers import ReadWarning, available_channels, load
from tests.readers.test_h5jpk import _write_scan

M = "Measurement_000"
C = f"{M}/Channel_000"
INTERLACE = "environment.fast-imaging.feed-forward-parameters.yaxis.interlace"


def scan(tmp_path: Path, edit: Callable[[Any], None], *, times: bool = False) -> Path:
    """The minimal scan (3x2 pixels, 2 frames, height in m) with ``edit(file)``."""
    path = tmp_path / "scan.h5-jpk"
    _write_scan(path, times=times)
    with h5py.File(path, "a") as f:
        edit(f)
    return path


def refused(path: Path) -> str:
    with pytest.raises(ReadError) as err:
        load(path)
    return str(err.value)


# ------------------------------------------------------------ one-line refusals
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda f: f.move(M, "Scan_000"),
            "no Measurement_ group; not a JPK HDF5 scan",
        ),
        (
            lambda f: f[M].attrs.__delitem__("position-pattern.grid.ilength"),
            "attribute 'position-pattern.grid.ilength' is missing",
        ),
        (
            lambda f: f[M].attrs.__setitem__("position-pattern.grid.jlength", 2.5),
            "position-pattern.grid.jlength is 2.5, not a number of pixels",
        ),
        (
            lambda f: f[M].attrs.__setitem__("position-pattern.grid.ilength", 0),
            "position-pattern.grid.ilength is 0.0, not a number of pixels",
        ),
        (
            lambda f: f[M].attrs.__setitem__("position-pattern.grid.ulength", 0.0),
            "the scan length (ulength) is not positive",
        ),
        (
            lambda f: f[C].__delitem__("Height"),
            "channel 'height_trace' holds no data",
        ),
        (
            lambda f: (f[C].__delitem__("Height"), f[C].create_group("Height")),
            "channel 'height_trace' holds no dataset",
        ),
        (
            lambda f: (
                f[C].__delitem__("Height"),
                f[C].create_dataset("Height", data=np.zeros((6, 2, 1), np.int32)),
            ),
            "channel 'height_trace' has shape (6, 2, 1); expected (pixels, frames) "
            "with 3x2 pixels per frame",
        ),
        (
            lambda f: (
                f[C].__delitem__("Height"),
                f[C].create_dataset("Height", data=np.full((6, 2), b"ab")),
            ),
            "channel 'height_trace' holds |S2 values, not real numbers",
        ),
        (
            lambda f: (
                f[C].__delitem__("Height"),
                f[C].create_dataset("Height", shape=(6, 2), dtype="<i4"),
            ),
            "channel 'height_trace' declares 6x2 int32 (48 bytes) but the file "
            "stores 0 bytes of it",
        ),
    ],
    ids=[
        "no measurement",
        "grid missing",
        "grid fractional",
        "grid zero",
        "length zero",
        "only a thumbnail",
        "a group, not data",
        "three axes",
        "text values",
        "unallocated",
    ],
)
def test_refusals_are_one_line_naming_the_file(tmp_path, edit, message) -> None:
    path = scan(tmp_path, edit)
    assert refused(path) == f"{path}: {message}"
    with pytest.raises(ReadError, match=f"^{path}: "):
        inspect(path)


def test_a_one_pixel_wide_scan_is_read(tmp_path) -> None:
    def edit(f: Any) -> None:
        f[M].attrs["position-pattern.grid.ilength"] = 1
        f[M].attrs["position-pattern.grid.jlength"] = 6

    stack = load(scan(tmp_path, edit))
    assert stack.data.shape == (2, 6, 1)
    assert stack.pixel_size_nm == pytest.approx(3.0)


# ------------------------------------------------------------ what is assumed
def test_missing_scaling_reads_the_raw_values_without_a_unit(tmp_path) -> None:
    def edit(f: Any) -> None:
        for key in ("multiplier", "offset", "unit.unit"):
            del f[C].attrs[f"net-encoder.scaling.{key}"]

    stack = load(scan(tmp_path, edit))
    raw = np.arange(12).reshape(6, 2).astype(float)
    np.testing.assert_array_equal(stack.data, raw.T.reshape(2, 2, 3)[:, ::-1, :])
    assert stack.provenance["source"]["acquisition"]["z_unit"] is None


def test_a_unit_that_is_not_a_length_is_kept_and_not_converted(tmp_path) -> None:
    path = scan(
        tmp_path, lambda f: f[C].attrs.update({"net-encoder.scaling.unit.unit": b"V"})
    )
    stack = load(path)
    assert stack.data[0, -1, 0] == pytest.approx(1e-9)  # 0 x 2e-9 + 1e-9, in V
    assert stack.provenance["source"]["acquisition"]["z_unit"] == "V"
    assert inspect(path).data.units == "V"


def test_inspect_gives_the_unit_of_the_values(tmp_path) -> None:
    assert inspect(scan(tmp_path, lambda f: None)).data.units == "nm"


def test_missing_motion_interlace_and_retrace_flags(tmp_path) -> None:
    def edit(f: Any) -> None:
        for key in ("motion", INTERLACE):
            del f[M].attrs[key]
        del f[C].attrs["retrace"]

    stack = load(scan(tmp_path, edit))
    assert stack.channel == "height_trace"  # no retrace flag: trace
    assert stack.frame_metadata[0]["scan_direction"] is None
    assert stack.provenance["source"]["acquisition"]["bidirectional"] is False
    assert stack.get_frame_times() == [0.0, 0.5]  # 2 lines at 4 Hz, not halved


@pytest.mark.parametrize(
    ("rate", "times"),
    [
        (0.5, [0.0, 4.0]),
        (0.0, [None, None]),
        (-4.0, [None, None]),
        (np.nan, [None, None]),
        (np.array([4.0, 4.0]), [None, None]),
        (b"fast", [None, None]),
    ],
    ids=["slow", "zero", "negative", "nan", "two values", "text"],
)
def test_line_rate_gives_times_only_when_it_is_a_positive_number(
    tmp_path, rate, times
) -> None:
    def edit(f: Any) -> None:
        f[M].attrs["timing-settings.scanRate"] = rate
        del f[M].attrs[INTERLACE]

    stack = load(scan(tmp_path, edit))
    assert stack.get_frame_times() == times
    unknown = times[0] is None
    assert stack.frame_metadata[0]["line_rate"] == (None if unknown else rate)
    source = stack.provenance["source"]["acquisition"]["frame_times_from"]
    assert source == ("unknown" if unknown else "line rate")


def test_interlaced_scans_take_half_the_line_time(tmp_path) -> None:
    assert load(scan(tmp_path, lambda f: None)).get_frame_times() == [0.0, 0.25]


@pytest.mark.parametrize(
    ("starts", "ok"),
    [
        (np.array([[1000.0], [1500.0]]), True),
        (np.array([[1000], [1500], [2000]]), False),
        (np.array([[b"a"], [b"b"]]), False),
        (np.array([[1000.0], [np.nan]]), False),
        (np.array([[2.0**62], [1.0]]), False),
        (np.array([[1000], [1500]], np.float16), True),
    ],
    ids=["floats", "three for two frames", "text", "nan", "2**62", "float16"],
)
def test_frame_start_times_are_used_only_when_whole(tmp_path, starts, ok) -> None:
    def edit(f: Any) -> None:
        del f[f"{M}/meta-data/start-times"]
        f[f"{M}/meta-data/start-times"] = starts

    path = scan(tmp_path, edit, times=True)
    if ok:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            stack = load(path)
        assert stack.get_frame_times() == [0.0, 0.5]
        assert stack.frame_metadata[1]["start_epoch_ms"] == 1500
        assert stack.frame_metadata[0]["frame_duration_s"] == 0.4
        return
    with pytest.warns(ReadWarning, match=rf"^{path}: the frame start/end times are"):
        stack = load(path)
    assert stack.get_frame_times() == [0.0, 0.25]  # from the line rate


# ------------------------------------------------------------ channel names
def test_channels_in_file_order_skipping_groups_without_a_name(tmp_path) -> None:
    def edit(f: Any) -> None:
        f[M].create_group("Annotations")  # sorted before Channel_: not a channel
        f.move(C, f"{M}/Channel_002")
        f[M].create_group("Channel_001")  # no channel.name: skipped, not the end
        phase = f[M].create_group("Channel_003")
        phase.attrs.update({"channel.name": np.array([b"phase"]), "retrace": 1})
        phase["Phase"] = np.zeros((6, 2), np.int32)
        odd = f[M].create_group("Channel_004")
        odd.attrs.update({"channel.name": np.bytes_(b"\xffodd"), "retrace": np.True_})
        odd["Odd"] = np.zeros((6, 2), np.int32)

    path = scan(tmp_path, edit)
    assert available_channels(path) == [
        "height_trace",
        "phase_retrace",
        "\ufffdodd_retrace",
    ]
    assert load(path, channel="phase_retrace").channel == "phase_retrace"


def test_a_name_of_two_values_is_their_text(tmp_path) -> None:
    path = scan(
        tmp_path, lambda f: f[C].attrs.update({"channel.name": np.array([1, 2])})
    )
    assert available_channels(path) == ["[1 2]_trace"]


def test_two_measurements_read_the_first_and_say_so(tmp_path) -> None:
    path = scan(tmp_path, lambda f: f.copy(f[M], "Measurement_001"))
    with pytest.warns(ReadWarning) as caught:
        load(path)
    assert [str(w.message) for w in caught] == [
        f"{path}: 2 measurements; reading only Measurement_000"
    ]
