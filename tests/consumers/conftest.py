"""The consumer matrix: each format opened by the tool its users open it with.

The tools are installed for real, never mocked: Gwyddion from Debian (``gwyddion``
on PATH, or ``PLAYNANO_GWYDDION``), AFMReader 0.0.7 and TopoStats 2.4.2 in their
own environments (``PLAYNANO_AFMREADER_PYTHON``, ``PLAYNANO_TOPOSTATS_PYTHON``), and
bioio with its OME-TIFF reader in ours. ``nox -s consumers`` sets all of them up.
A tool that is missing skips its tests with the reason, unless
``PLAYNANO_REQUIRE_CONSUMERS=1`` (``.ci/run`` sets it through nox) makes that a
failure: in CI a consumer that cannot open a format fails.

The files under test are written once per session by the command a user types:
``playnano process asd_sample_0.asd -p remove_plane -e ...``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REQUIRE_ENV = "PLAYNANO_REQUIRE_CONSUMERS"
ASD = "asd/asd_sample_0.asd"
JPK_FOLDER = "jpk_folder/streptavidin_hs"
NANOSCOPE = "spm/old_bruker.002"
#: Every format the matrix opens, as ``playnano process`` writes them.
FORMATS = ("gwy", "topostats", "tif", "npz", "h5", "gif", "png")


def unavailable(reason: str) -> None:
    """Skip with ``reason``; fail instead when the consumers are required."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason}; {REQUIRE_ENV}=1 requires it", pytrace=False)
    pytest.skip(reason)


def need_module(name: str) -> None:
    """Skip (or fail) unless ``name`` is importable here."""
    if importlib.util.find_spec(name) is None:
        unavailable(f"{name} is not installed (`nox -s consumers` installs it)")


def _python(env: str, dist: str, version: str) -> str:
    python = os.environ.get(env)
    if not python:
        unavailable(f"{env} is not set (a python with {dist}=={version})")
    python = os.path.abspath(python)  # drivers run in other folders
    code = f"import importlib.metadata as m; print(m.version({dist!r}))"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True)
    if out.returncode != 0 or out.stdout.strip() != version:
        pytest.fail(f"{python} does not have {dist} {version}: {out.stderr[-500:]}")
    return python


@pytest.fixture(scope="session")
def afmreader_python() -> str:
    """The python of an environment with AFMReader 0.0.7."""
    return _python("PLAYNANO_AFMREADER_PYTHON", "afmreader", "0.0.7")


@pytest.fixture(scope="session")
def topostats_python() -> str:
    """The python of an environment with TopoStats 2.4.2."""
    return _python("PLAYNANO_TOPOSTATS_PYTHON", "topostats", "2.4.2")


@pytest.fixture(scope="session")
def gwyddion() -> str:
    """The ``gwyddion`` program (Debian's package: ``apt-get install gwyddion``)."""
    exe = os.environ.get("PLAYNANO_GWYDDION") or shutil.which("gwyddion")
    if not exe:
        unavailable("gwyddion is not installed (apt-get install gwyddion)")
    return str(exe)


def run_gwyddion(gwyddion: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Gwyddion's headless mode: no display needed for these options."""
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    return subprocess.run(
        [gwyddion, "--no-splash", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=env,
    )


def run_driver(python: str, driver: str, *args: str, cwd: Path) -> str:
    """Run ``tests/consumers/<driver>`` under ``python``; its stdout."""
    script = Path(__file__).with_name(driver)
    run = subprocess.run(
        [python, str(script), *args],
        capture_output=True,
        text=True,
        timeout=1200,
        cwd=cwd,
    )
    assert run.returncode == 0, f"{driver} failed:\n{run.stderr[-4000:]}"
    return run.stdout


@pytest.fixture(scope="session")
def exports(afm_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``playnano process asd_sample_0.asd -p remove_plane -e <every format>``."""
    out = tmp_path_factory.mktemp("exports")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "playnano",
            "process",
            str(afm_data / ASD),
            "-p",
            "remove_plane",
            "-e",
            *FORMATS,
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    return out
