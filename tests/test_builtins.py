"""The one table of builtin plugins says what pyproject.toml's entry points say."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from playnano.builtins import ENTRY_POINTS
from playnano.plugins import registry

REPO = Path(__file__).resolve().parents[1]
GROUPS = ("playnano.exporters", "playnano.readers", "playnano.filters")


def test_the_table_is_pyprojects_entry_points() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    declared = project["project"]["entry-points"]
    assert set(ENTRY_POINTS) == {g for g in declared if g.startswith("playnano.")}
    for group in GROUPS:
        assert ENTRY_POINTS[group] == declared[group], group


@pytest.mark.parametrize("group", GROUPS)
def test_without_metadata_the_table_registers_what_the_entry_points_do(
    monkeypatch: pytest.MonkeyPatch, group: str
) -> None:
    kind = {
        k.group: k for k in (registry.EXPORTERS, registry.READERS, registry.FILTERS)
    }
    reg = registry.get_registry(kind[group])
    with_metadata = {(p.name, p.target) for p in reg.plugins()}
    assert with_metadata == set(ENTRY_POINTS[group].items())
    monkeypatch.setattr(registry, "_entry_points", lambda group: [])
    registry.reset()
    fallback = registry.get_registry(kind[group])
    assert {(p.name, p.target) for p in fallback.plugins()} == with_metadata
    assert all(p.status == "ok" and p.builtin for p in fallback.plugins())
    names = {e.name for e in fallback.entries()}
    registry.reset()
    assert names == {e.name for e in registry.get_registry(kind[group]).entries()}
