"""Real-data tests skip on a user's machine without the data, and fail in CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

NODE = "tests/readers/test_spm.py::test_v5_lowercase_header_keys_give_the_metadata"


def run_without_data(data: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PLAYNANO_TEST_DATA": str(data)}
    environ.pop("PLAYNANO_REQUIRE_DATA", None)
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", NODE, "-q", "-rs", "-p", "no:cacheprovider"],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
    )


def test_absent_data_skips_with_the_reason(tmp_path: Path) -> None:
    out = run_without_data(tmp_path / "nowhere")
    assert out.returncode == 0, out.stdout
    assert "1 skipped" in out.stdout
    assert f"real AFM data not found at {tmp_path / 'nowhere' / 'afm'}" in out.stdout


def test_absent_data_fails_when_required(tmp_path: Path) -> None:
    out = run_without_data(tmp_path / "nowhere", PLAYNANO_REQUIRE_DATA="1")
    assert out.returncode == 1, out.stdout
    assert "1 error" in out.stdout and "skipped" not in out.stdout
    assert "PLAYNANO_REQUIRE_DATA=1 requires it" in out.stdout


def test_incomplete_data_fails_when_required(tmp_path: Path) -> None:
    afm = tmp_path / "data" / "afm"
    afm.mkdir(parents=True)
    (afm / "MANIFEST.tsv").write_text("file\tformat\nspm/old_bruker.002\tspm\n")
    out = run_without_data(tmp_path / "data", PLAYNANO_REQUIRE_DATA="1")
    assert out.returncode == 1, out.stdout
    assert "missing ['spm/old_bruker.002']" in out.stdout


@pytest.mark.parametrize("command", ["python -m pytest", "nox -s"])
def test_ci_requires_the_data(command: str) -> None:
    ci = (REPO / ".ci" / "run").read_text()
    switch = ci.index("\nexport PLAYNANO_REQUIRE_DATA=1\n")  # reaches nox sessions too
    assert command in ci
    assert switch < ci.index(command)
