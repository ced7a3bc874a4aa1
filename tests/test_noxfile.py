"""The nox sessions: pinned to Pythons that exist here, mutation testing on demand."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from types import ModuleType

import pytest

from tests.conftest import REPO

nox = pytest.importorskip("nox", reason="nox is a developer tool (pip install nox)")


@pytest.fixture(scope="module")
def noxfile() -> ModuleType:
    spec = importlib.util.spec_from_file_location("noxfile", REPO / "noxfile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pinned_pythons_run_here(noxfile: ModuleType) -> None:
    assert noxfile.PYTHONS and noxfile.PYTHON == noxfile.PYTHONS[0]
    for version in noxfile.PYTHONS:
        exe = version if "/" in version else f"python{version}"
        out = subprocess.run(
            [exe, "-c", "import sys; print(sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip().startswith("(3, ")
    if noxfile._runs(noxfile.OLDEST):
        assert noxfile.PYTHON == noxfile.OLDEST


def test_only_installed_versions_are_kept(
    noxfile: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(noxfile, "_runs", lambda v: v == noxfile.NEWEST)
    assert noxfile._pythons() == [noxfile.NEWEST]
    monkeypatch.setattr(noxfile, "_runs", lambda v: False)
    assert noxfile._pythons() == [sys.executable]  # one Python: sessions still run


def test_ci_runs_every_session_but_mutants(noxfile: ModuleType) -> None:
    ci = (REPO / ".ci" / "run").read_text()
    lines = [x for x in ci.splitlines() if x.startswith("nox -s ")]
    run = {name for line in lines for name in line.split("--")[0].split()[2:]}
    assert {"lint", "typecheck", "compat", "plugins", "docs", "fuzz"} <= run
    assert "mutants" not in run
    assert "mutants" not in noxfile.nox.options.sessions
