"""FilterSpec declarations, the extra option types and the 0.5.0 legacy adapter."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from playnano.afm_stack import AFMImageStack
from playnano.errors import OptionError
from playnano.plugins.options import Option, resolve_options
from playnano.plugins.registry import filters
from playnano.plugins.step import (
    REQUIRED,
    ExtraOption,
    FilterSpec,
    as_spec,
    is_required,
    legacy_filter,
)
from playnano.processing import run_pipeline, validate_steps


def _ident(frame):
    return frame


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "warp"}, "kind must be one of"),
        ({"func": 3}, "func must be callable"),
        ({"masked_func": "x"}, "masked_func must be callable"),
        ({"options": ("sigma",)}, "Option objects"),
        (
            {"options": (Option("a", "int", 1, "."), Option("a", "int", 2, "."))},
            "repeat",
        ),
        ({"version": ""}, "version"),
    ],
)
def test_filter_spec_rejects_bad_declarations(kwargs, match) -> None:
    base = {"name": "x", "description": "X.", "kind": "filter", "func": _ident}
    with pytest.raises(ValueError, match=match):
        FilterSpec(**{**base, **kwargs})


def test_describe_and_as_spec() -> None:
    spec = FilterSpec(name="x", description="X.", kind="mask", func=_ident)
    assert spec.describe()["kind"] == "mask"
    assert as_spec(spec) is spec

    class LookAlike:
        name = "y"
        aliases = ("yy",)
        description = "Y."
        requires = ()
        func = staticmethod(_ident)

    converted = as_spec(LookAlike(), "2.0")
    assert (converted.kind, converted.version, converted.aliases) == (
        "filter",
        "2.0",
        ("yy",),
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [([1, 2], [1, 2]), ((3,), [3]), ("1, 2", [1, 2]), ("[4,5]", [4, 5]), (7, [7])],
)
def test_int_list_option_parses(value, expected) -> None:
    opt = ExtraOption("idx", "int_list", REQUIRED, ".", minimum=0)
    assert opt.parse(value) == expected


@pytest.mark.parametrize("value", [[1.5], ["a"], [-1], True, 2.0, None])
def test_int_list_option_refuses(value) -> None:
    opt = ExtraOption("idx", "int_list", REQUIRED, ".", minimum=0)
    with pytest.raises(ValueError):
        opt.parse(value)


def test_extra_option_types_are_checked() -> None:
    with pytest.raises(ValueError, match="not one of"):
        ExtraOption("a", "float", 0.0, ".")
    anything = ExtraOption("a", "any", None, ".")
    assert anything.parse({"k": 1}) == {"k": 1}
    assert copy.deepcopy(REQUIRED) is REQUIRED and repr(REQUIRED) == "<required>"


def legacy_plugin(
    frame,
    sigma=1.0,
    iterations=3,
    flip=False,
    mode="edge",
    extra=None,
    *,
    scale: float = 1,
):
    """Scale a frame (a 0.5.0-style plugin).

    More text.
    """
    return frame * scale


legacy_plugin.__version__ = "0.3.1"  # type: ignore[attr-defined]


def test_legacy_filter_derives_options_from_the_signature() -> None:
    spec = legacy_filter("Legacy", legacy_plugin)
    assert spec.name == "legacy" and spec.kind == "filter"
    assert spec.description == "Scale a frame (a 0.5.0-style plugin)."
    assert spec.version == "0.3.1"
    types = {o.name: o.type for o in spec.options}
    assert types == {
        "sigma": "float",
        "iterations": "int",
        "flip": "bool",
        "mode": "str",
        "extra": "any",
        "scale": "float",  # from the annotation, not the int default
    }
    params = resolve_options(spec.options, {"sigma": "2e-1", "extra": [1]}, owner="t")
    assert params["sigma"] == 0.2 and params["extra"] == [1] and params["scale"] == 1
    with pytest.raises(OptionError, match="did you mean 'sigma'"):
        resolve_options(spec.options, {"sigm": 1}, owner="t")
    with pytest.raises(OptionError, match="'iterations'"):
        resolve_options(spec.options, {"iterations": 1.5}, owner="t")


def test_legacy_filter_required_parameters_and_errors() -> None:
    def needs(frame, threshold, level: int):
        return frame

    spec = legacy_filter("needs", needs)
    assert all(is_required(o) for o in spec.options)
    assert [o.type for o in spec.options] == ["any", "int"]
    with pytest.raises(ValueError, match="first argument"):
        legacy_filter("bad", lambda: None)
    with pytest.raises(ValueError, match="not callable"):
        legacy_filter("bad", 3)  # type: ignore[arg-type]
    assert legacy_filter("nodoc", lambda frame: frame).description.startswith(
        "Filter plugin nodoc"
    )


LEGACY_MODULE = '''
import numpy as np

def double_height(frame, factor=2.0):
    """Multiply heights by a factor."""
    return np.asarray(frame) * factor
'''


def test_legacy_plugin_installed_through_an_entry_point(install_plugin) -> None:
    install_plugin(
        "old-filters",
        {"old_filters": LEGACY_MODULE},
        {"playnano.filters": {"double_height": "old_filters:double_height"}},
        version="2.3",
    )
    entry = filters().resolve("double_height")
    assert entry.obj.version == "2.3"  # from the distribution
    stack = AFMImageStack(np.ones((2, 4, 4)), 1.0, "h", None)
    run_pipeline(stack, [("double_height", {"factor": 3})])
    np.testing.assert_allclose(stack.data, 3.0)
    rec = stack.provenance["processing"]["steps"][0]
    assert rec["params"] == {"factor": 3.0}
    assert rec["version"] == "2.3" and rec["plugin"] == "old-filters"
    with pytest.raises(OptionError, match="did you mean 'factor'"):
        validate_steps([("double_height", {"facter": 3})])
