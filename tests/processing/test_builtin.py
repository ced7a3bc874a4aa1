"""The builtin steps: registered like plugins, well declared, runnable with defaults."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from playnano.plugins import registry
from playnano.plugins.registry import filters
from playnano.plugins.step import FilterSpec, is_required
from playnano.processing import builtin
from playnano.provenance import to_json
from tests.processing.synthetic import symmetric_bumps, tilted_plane

SPECS = builtin.FILTER_SPECS
PER_FRAME = [s for s in SPECS if s.kind in ("filter", "mask")]


def test_every_builtin_is_registered_once() -> None:
    names = [s.name for s in SPECS]
    assert len(set(names)) == len(names)
    registered = {e.name: e for e in filters().entries()}
    assert set(names) <= set(registered)
    for spec in SPECS:
        entry = registered[spec.name]
        assert entry.obj is spec and entry.plugin.builtin
    assert filters().resolve("ALIGN").obj.name == "align_frames"


def test_fallback_without_package_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_entry_points", lambda group: [])
    registry.reset()
    entry = filters().resolve("remove_plane")
    assert entry.plugin.builtin and entry.plugin.target == "playnano.processing.builtin"


def test_hook_registers_every_spec() -> None:
    got: list[FilterSpec] = []
    builtin.register_filters(register=got.append)
    assert got == list(SPECS)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_declarations(spec: FilterSpec) -> None:
    registry.validate_filter(spec)
    assert spec.version == builtin.VERSION
    to_json(spec.describe())  # listable as JSON
    for option in spec.options:
        if not is_required(option):
            assert option.parse(option.default) == option.default
    masked = {
        "remove_plane",
        "row_median_align",
        "polynomial_flatten",
        "zero_mean",
        "zero_median",
    }
    assert (spec.masked_func is not None) == (spec.name in masked)


@pytest.mark.parametrize("spec", PER_FRAME, ids=lambda s: s.name)
def test_per_frame_steps_run_with_their_defaults(spec: FilterSpec) -> None:
    frame = tilted_plane() + symmetric_bumps()
    params = {o.name: o.default for o in spec.options}
    out = spec.func(frame, **params)
    assert out.shape == frame.shape
    assert out.dtype == (np.bool_ if spec.kind == "mask" else np.float64)
    if spec.masked_func is not None:
        masked = spec.masked_func(frame, symmetric_bumps() > 0, **params)
        assert masked.shape == frame.shape


def test_importing_the_package_stays_light() -> None:
    code = (
        "import sys, playnano.processing as p; "
        "assert 'scipy' not in sys.modules, 'scipy imported'; "
        "assert callable(p.run_pipeline)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
