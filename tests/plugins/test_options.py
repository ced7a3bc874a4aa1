"""Declared options parse strictly and explain what is wrong."""

from __future__ import annotations

import pytest

from playnano.errors import OptionError
from playnano.plugins.options import Option, resolve_options

OPTS = (
    Option("scale_bar_nm", "float", 100.0, "Scale bar.", minimum=0),
    Option("zmin", "float|auto", "auto", "Lower z."),
    Option("fps", "float", None, "Frame rate.", minimum=0, exclusive_minimum=True),
    Option("loop", "int", 0, "Loops.", minimum=0),
    Option("draw_ts", "bool", True, "Timestamps."),
    Option("cmap", "str", "afmhot", "Colour map.", choices=("afmhot", "gray")),
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"scale_bar_nm": "1.5e2"}, {"scale_bar_nm": 150.0}),
        ({"zmin": "AUTO"}, {"zmin": "auto"}),
        ({"zmin": "-3"}, {"zmin": -3.0}),
        ({"fps": "None"}, {"fps": None}),
        ({"loop": "2.0"}, {"loop": 2}),
        ({"draw_ts": "no"}, {"draw_ts": False}),
        ({"cmap": "gray"}, {"cmap": "gray"}),
    ],
)
def test_values_parse(given, expected) -> None:
    out = resolve_options(OPTS, given, owner="format 'gif'")
    for k, v in expected.items():
        assert out[k] == v
    assert set(out) == {o.name for o in OPTS}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"scale_bar": 1},
            "unknown option 'scale_bar' \\(did you mean 'scale_bar_nm'\\?\\)",
        ),
        ({"scale_bar_nm": -1}, "must be >= 0"),
        ({"fps": 0}, "must be > 0"),
        ({"loop": 1.5}, "expected an integer"),
        ({"draw_ts": "maybe"}, "expected true or false"),
        ({"zmin": "low"}, "expected a number"),
        ({"scale_bar_nm": "nan"}, "finite"),
        ({"cmap": "jet"}, "must be one of afmhot, gray"),
        ({"scale_bar_nm": None}, "a value is required"),
    ],
)
def test_bad_values_name_the_owner_and_the_problem(given, message) -> None:
    with pytest.raises(OptionError, match="^format 'gif': .*" + message):
        resolve_options(OPTS, given, owner="format 'gif'")


def test_bad_declarations_are_refused() -> None:
    with pytest.raises(ValueError, match="identifier"):
        Option("scale-bar", "float", 1, "x")
    with pytest.raises(ValueError, match="type 'complex'"):
        Option("x", "complex", 1, "x")


def test_step_option_types_live_with_the_other_options() -> None:
    import pickle

    from playnano.plugins import options
    from playnano.plugins import step as spec

    assert spec.ExtraOption is options.ExtraOption
    assert spec.REQUIRED is options.REQUIRED
    assert pickle.loads(pickle.dumps(options.REQUIRED)) is options.REQUIRED
    idx = options.ExtraOption("idx", "int_list", options.REQUIRED, ".", maximum=9)
    assert isinstance(idx, Option)
    assert resolve_options((idx,), {"idx": "[3, 1]"}, owner="o") == {"idx": [3, 1]}
    with pytest.raises(OptionError, match="every value must be <= 9; got 10"):
        resolve_options((idx,), {"idx": [10]}, owner="o")
