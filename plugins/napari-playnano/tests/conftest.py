"""Fixtures: real AFM files, a CLI run to compare with, a display for Qt.

napari's canvas is an OpenGL widget, which Qt 6 draws only on a real platform:
pytest-xvfb starts a virtual X server (Xvfb, installed by .ci/run) and the tests
use Qt's xcb platform on it, so no window appears on any screen. Without a display
they fall back to the offscreen platform (widgets work, the canvas stays black).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.hookimpl(trylast=True)  # after pytest-xvfb has set DISPLAY
def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault(
        "QT_QPA_PLATFORM", "xcb" if os.environ.get("DISPLAY") else "offscreen"
    )


REPO = Path(__file__).resolve().parents[3]


def data_root() -> Path:
    """The real instrument files: $PLAYNANO_TEST_DATA/afm or ../shared/data/afm."""
    env = os.environ.get("PLAYNANO_TEST_DATA")
    base = Path(env) if env else REPO.parent / "shared" / "data"
    return base / "afm"


@pytest.fixture(scope="session")
def afm() -> Path:
    root = data_root()
    if not root.is_dir():
        pytest.skip(f"real AFM files not found at {root} (set PLAYNANO_TEST_DATA)")
    return root


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``playnano ARGS`` in a subprocess, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "playnano", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def wait_for(qtbot, widget, timeout_ms: int = 120_000) -> None:
    """Wait until the widget's job is done and its result is shown."""
    qtbot.waitUntil(
        lambda: (
            widget.job is not None and widget.job.done and not widget._timer.isActive()
        ),
        timeout=timeout_ms,
    )
