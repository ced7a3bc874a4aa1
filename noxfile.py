"""Developer and CI sessions: tests, lint, typecheck, compat, plugins, docs, bench, demo."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import nox

ROOT = Path(__file__).parent
nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = False
PYTHON = "3.11"


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """The README's test command, in the current environment."""
    session.run("python", "-m", "pip", "install", "-q", "-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff format (check) and ruff lint."""
    session.install("ruff")
    session.run("ruff", "format", "--check", "src", "tests", "plugins", "benchmarks", "noxfile.py")
    session.run("ruff", "check", "src", "tests", "plugins", "benchmarks", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy on src/."""
    session.install("-e", ".", "mypy")
    session.run("mypy")


@nox.session
def compat(session: nox.Session) -> None:
    """Both-way compatibility with playnano 0.5.0, installed in its own environment."""
    session.install("-e", ".[test]")
    old = Path(session.create_tmp()) / "playnano050"
    session.run("python", "-m", "venv", "--clear", str(old))
    old_python = old / "bin" / "python"
    session.run(str(old_python), "-m", "pip", "install", "-q", "playnano==0.5.0", external=True)
    session.run(
        "python", "-m", "pytest", "tests/compat", "-p", "no:cacheprovider",
        env={"PLAYNANO_050_PYTHON": str(old_python), "PLAYNANO_REQUIRE_COMPAT": "1"},
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Export speed and memory against the raw-write limit (and playnano 0.5.0 if set)."""
    session.install("-e", ".")
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)


@nox.session(python=False)
def demo(session: nox.Session) -> None:
    """The README's main job: a synthetic HS-AFM video through every installed format."""
    session.run("python", "-m", "pip", "install", "-q", ".")
    session.run(
        "python", "-m", "playnano", "process", "--synthetic", "-p", "remove_plane",
        "--export", "all", "--overwrite",
    )
