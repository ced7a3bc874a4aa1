"""The public helpers of playnano.readers.common, as a reader plugin uses them."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from playnano.errors import ChannelError, ReadError
from playnano.readers.common import (
    check_size,
    describe_failure,
    direction_name,
    epoch_ms,
    finite,
    frame_entry,
    length_to_nm,
    one_line,
    pick_channel,
    printable,
)

P = Path("scan.xyz")


def test_printable_cuts_long_text_and_flattens_lines() -> None:
    assert printable(b"\xffab\ncd\x00") == "\ufffdab cd"
    assert printable("x" * 80) == "x" * 80
    assert printable("x" * 81) == "x" * 79 + "…"
    assert printable("abcdef", limit=4) == "abc…"
    assert one_line(" a\nb\r\tc \x7f") == "a b c"


@pytest.mark.parametrize(
    ("value", "number"),
    [(np.array([[2.5]]), 2.5), (np.int16(-3), -3.0), (True, 1.0), (7, 7.0)],
)
def test_finite_takes_one_real_number(value, number) -> None:
    assert finite(P, value, "the gain") == number


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "scan.xyz: the gain is not a real number (abc)"),
        (np.array([1.0, 2.0]), "scan.xyz: the gain is not a real number ([1. 2.])"),
        (1 + 2j, "scan.xyz: the gain is not a real number ((1+2j))"),
        (float("inf"), "scan.xyz: the gain is not a finite number (inf)"),
        (np.nan, "scan.xyz: the gain is not a finite number (nan)"),
    ],
)
def test_finite_refuses_anything_else_naming_it(value, message) -> None:
    with pytest.raises(ReadError) as err:
        finite(P, value, "the gain")
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("exc", "text"),
    [
        (struct.error("unpack requires 4 bytes"), "file is truncated or corrupt "
         "(error: unpack requires 4 bytes)"),
        (EOFError(), "file is truncated or corrupt (EOFError)"),
        (OSError("disk\ngone"), "cannot be read (OSError: disk)"),
        (KeyError("k"), "is corrupt or not understood (KeyError: 'k')"),
        (AssertionError(), "is corrupt or not understood (AssertionError)"),
    ],
)  # fmt: skip
def test_describe_failure_says_what_a_library_error_means(exc, text) -> None:
    assert describe_failure(exc) == text


def test_length_units() -> None:
    assert length_to_nm(None) is None
    assert length_to_nm(" µm ") == 1e3
    assert length_to_nm("NM") == 1.0
    assert length_to_nm("~m") == 1e3  # Nanoscope's micro
    assert length_to_nm("V") is None


def test_pick_channel() -> None:
    names = ["Height", "Phase"]
    assert pick_channel(P, None, names, "Height") == "Height"
    assert pick_channel(P, None, names, "Amplitude") == "Height"  # the first
    assert pick_channel(P, None, ["Phase", "Height"], "height") == "Height"
    assert pick_channel(P, " phase ", names, "Height") == "Phase"
    assert pick_channel(P, "Phase", ["phase", "Phase"], "Height") == "Phase"
    with pytest.raises(ChannelError) as err:
        pick_channel(P, "amp\nlitude", names, "Height")
    assert str(err.value) == "scan.xyz: no channel 'amp litude'; it has Height, Phase"
    with pytest.raises(ReadError) as err:
        pick_channel(P, None, [], "Height")
    assert str(err.value) == "scan.xyz: holds no image channels"


def test_check_size_says_what_the_header_declares() -> None:
    check_size(P, 100, 100, "x")
    with pytest.raises(ReadError) as err:
        check_size(P, 99, 100, "4x4 int16 data")
    assert str(err.value) == (
        "scan.xyz: file ends after 99 bytes; the header declares 4x4 int16 data "
        "(needs 100 bytes)"
    )


def test_dates_and_directions() -> None:
    assert epoch_ms(2025, 1, 1, 13, 2, 3) == 1735736523000
    assert epoch_ms(2025, 2, 30) is None
    assert epoch_ms(None, 1, 1) is None  # type: ignore[arg-type]
    assert direction_name(" Down ") == "topDown"
    assert direction_name("UP") == "bottomUp"
    assert direction_name("sideways") == "sideways"
    assert direction_name("") is None and direction_name(None) is None
    assert frame_entry(0.5, 2.0, 0.25, 7, "topDown", 100.0) == {
        "timestamp": 0.5,
        "frame_pixel_size_nm": 2.0,
        "frame_duration_s": 0.25,
        "start_epoch_ms": 7,
        "scan_direction": "topDown",
        "line_rate": 100.0,
    }
