"""Developer and CI sessions: tests, lint, typecheck, compat, consumers, plugins, docs,
fuzz, bench, bench-stream, bench-zarr, demo, mutants."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = False

#: The oldest and the newest Python playnano supports.
OLDEST, NEWEST = "3.11", "3.13"


def _runs(version: str) -> bool:
    exe = shutil.which(f"python{version}")
    if exe is None:
        return False
    return subprocess.run([exe, "-c", ""], capture_output=True).returncode == 0


def _pythons() -> list[str]:
    """OLDEST and NEWEST where installed; else the Python running nox (so every
    session runs once on a machine with a single Python)."""
    found = [v for v in dict.fromkeys((OLDEST, NEWEST)) if _runs(v)]
    return found or [sys.executable]


#: Plugin packages are tested on each; single-Python sessions use the first.
PYTHONS = _pythons()
PYTHON = PYTHONS[0]


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """The README's test command, in the current environment."""
    session.run("python", "-m", "pip", "install", "-q", "-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff format (check), ruff lint, and the architecture's import contracts
    (``[tool.importlinter]`` in pyproject.toml: layers, plugin core, no GUI or
    cluster in the core, no import cycle)."""
    session.install("ruff", "import-linter>=2.1")
    session.run(
        "ruff",
        "format",
        "--check",
        "src",
        "tests",
        "plugins",
        "benchmarks",
        "noxfile.py",
    )
    session.run("ruff", "check", "src", "tests", "plugins", "benchmarks", "noxfile.py")
    # the source tree is read, not installed: playnano's dependencies are not needed
    session.run("lint-imports", env={"PYTHONPATH": str(ROOT / "src")})


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy on src/."""
    session.install("-e", ".[test]", "mypy")  # pytest: playnano.testing uses it
    session.run("mypy")


@nox.session(python=PYTHON)
def compat(session: nox.Session) -> None:
    """Both-way compatibility with playnano 0.5.0, and real .asd files read as
    AFMReader 0.0.7 reads them; each installed in its own environment."""
    # the video plugin too: 0.5.0's --make-video lines run on ours (test_export_cli_050)
    session.install("-e", ".[test]", "-e", "plugins/playnano-video[test]")
    old = Path(session.create_tmp()).absolute() / "playnano050"  # tests run elsewhere
    session.run("python", "-m", "venv", "--clear", str(old))
    old_python = old / "bin" / "python"
    session.run(
        str(old_python), "-m", "pip", "install", "-q", "playnano==0.5.0", external=True
    )
    afmreader = Path(session.create_tmp()).absolute() / "afmreader007"  # .asd reference
    session.run("python", "-m", "venv", "--clear", str(afmreader))
    afmreader_python = afmreader / "bin" / "python"
    session.run(
        str(afmreader_python),
        "-m",
        "pip",
        "install",
        "-q",
        "afmreader==0.0.7",
        external=True,
    )
    session.run(
        "python",
        "-m",
        "pytest",
        "tests/compat",
        "-p",
        "no:cacheprovider",
        env={
            "PLAYNANO_050_PYTHON": str(old_python),
            "PLAYNANO_AFMREADER_PYTHON": str(afmreader_python),
            "PLAYNANO_REQUIRE_COMPAT": "1",
        },
    )


@nox.session(python=PYTHON)
def consumers(session: nox.Session) -> None:
    """Each format opened by the tool its users open it with, installed for real:
    Gwyddion (Debian's ``gwyddion``, on PATH; .ci/run installs it), AFMReader 0.0.7
    and TopoStats 2.4.2 (its loader and a processing run) in their own environment,
    bioio for OME-TIFF, and plain h5py, NumPy, tifffile and Pillow. A tool that
    cannot open its format fails the session; none is skipped."""
    session.install("-e", ".[test]", "bioio", "bioio-ome-tiff")
    tools = Path(session.create_tmp()).absolute() / "topostats242"
    session.run("python", "-m", "venv", "--clear", str(tools))
    python = tools / "bin" / "python"
    # TopoStats' worker pool re-raises pandas 3.1's deprecation warnings as errors
    session.run(
        str(python),
        "-m",
        "pip",
        "install",
        "-q",
        "topostats==2.4.2",
        "afmreader==0.0.7",
        "pandas<3.1",
        external=True,
    )
    session.run(
        "python",
        "-m",
        "pytest",
        "tests/consumers",
        "-p",
        "no:cacheprovider",
        *session.posargs,
        env={
            "PLAYNANO_AFMREADER_PYTHON": str(python),
            "PLAYNANO_TOPOSTATS_PYTHON": str(python),
            "PLAYNANO_REQUIRE_CONSUMERS": "1",
        },
    )


@nox.session(python=PYTHON)
def fuzz(session: nox.Session) -> None:
    """Mutated files for every reader family, each opened through every door (read,
    read_lazy, inspect, channels, check) under CPU and memory limits.

    ``nox -s fuzz -- --seconds 1800 --door lazy`` runs longer (default 300 s) or
    through one door; found cases are saved to tests/fuzz/corpus/, which the test
    suite replays through every door. See docs/fuzzing.rst.
    """
    session.install("-e", ".[test]")
    args = session.posargs or ["--seconds", "300"]
    session.run("python", "-m", "tests.fuzz", *args, env={"OPENBLAS_NUM_THREADS": "1"})


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """`playnano process` end to end against its limits (and 0.5.0 if set); GIF speed;
    batch workers; the block path's peak RSS on a 4 GiB bundle; OME-Zarr beside the
    HDF5 bundle on a 5 GB session."""
    session.install("-e", ".[dask]", "-e", "plugins/playnano-zarr")
    # posargs go to the end-to-end benchmark: `nox -s bench -- --size M`
    session.run(
        "python", str(ROOT / "benchmarks" / "bench_export.py"), *session.posargs
    )
    session.run("python", str(ROOT / "benchmarks" / "bench_gif.py"))
    session.run("python", str(ROOT / "benchmarks" / "bench_batch.py"))
    session.run("python", str(ROOT / "benchmarks" / "bench_lazy_read.py"))
    session.run("python", str(ROOT / "benchmarks" / "bench_hdf5_probe.py"))
    # stacks larger than memory: a 4 GiB bundle through the block path (~12 GiB disk)
    session.run("python", str(ROOT / "benchmarks" / "bench_ooc.py"))
    session.run("python", str(ROOT / "benchmarks" / "bench_zarr.py"))


@nox.session(python=PYTHON, name="bench-stream")
def bench_stream(session: nox.Session) -> None:
    """The stream against the in-memory path and playnano 0.5.0 in one run: M (and
    each format against its limit), a 1.5 GB and a 10 GB bundle, wall time, peak
    RSS, each stage's busy fraction (~35 GB disk); 0.5.0 from PLAYNANO_050_PYTHON or
    `-- --old-python PY`; posargs go to benchmarks/bench_stream.py."""
    session.install("-e", ".")
    session.run(
        "python", str(ROOT / "benchmarks" / "bench_stream.py"), *session.posargs
    )


@nox.session(python=PYTHON, name="bench-zarr")
def bench_zarr(session: nox.Session) -> None:
    """OME-Zarr at session scale on its own: 20,000 x 256 x 256 float32 through the
    block path, files, peak RSS and MB/s beside the HDF5 bundle (~13 GB disk);
    posargs go to benchmarks/bench_zarr.py (`nox -s bench-zarr -- --sweep`)."""
    session.install("-e", ".", "-e", "plugins/playnano-zarr")
    session.run("python", str(ROOT / "benchmarks" / "bench_zarr.py"), *session.posargs)


@nox.session(python=False)
def demo(session: nox.Session) -> None:
    """The README's main job: a synthetic HS-AFM video through every installed format."""
    session.run("python", "-m", "pip", "install", "-q", ".")
    session.run(
        "python",
        "-m",
        "playnano",
        "process",
        "--synthetic",
        "-p",
        "remove_plane",
        "--export",
        "all",
        "--overwrite",
    )


CHECK_PLUGIN = """
import json, subprocess, sys, tempfile
from pathlib import Path
dist, names = sys.argv[1], sys.argv[2:]
rows = json.loads(subprocess.run([sys.executable, "-m", "playnano", "formats", "list", "--json"],
                                 capture_output=True, text=True, check=True).stdout)
mine = {r["name"]: r for r in rows if r["provider"] == dist}
for name in names:
    assert name in mine, f"{dist}: {name} is not listed: {sorted(mine)}"
    assert mine[name]["status"] == "ok", mine[name]
    out = Path(tempfile.mkdtemp())
    subprocess.run([sys.executable, "-m", "playnano", "process", "--synthetic", "-p", "remove_plane",
                    "--export", name, "-o", str(out)], check=True)
    [written] = list(out.iterdir())
    size = sum(f.stat().st_size for f in written.rglob("*")) if written.is_dir() else written.stat().st_size
    assert size > 0, written
    import playnano
    from playnano.plugins.registry import readers
    if readers().for_suffix(written, lambda r: r.suffixes) is not None:
        stack = playnano.load(written)
        assert stack.data.shape == (40, 128, 128), stack.data.shape
    print(f"{dist}: {name} listed and wrote {written.name} ({size} bytes)")
"""


def _plugin_formats(pyproject: Path) -> tuple[str, list[str]]:
    """The distribution name and its ``playnano.exporters`` names (maybe none)."""
    import tomllib

    meta = tomllib.loads(pyproject.read_text())["project"]
    eps = meta.get("entry-points", {}).get("playnano.exporters", {})
    return meta["name"], list(eps)


def _is_napari_plugin(pyproject: Path) -> bool:
    import tomllib

    meta = tomllib.loads(pyproject.read_text())["project"]
    return "napari.manifest" in meta.get("entry-points", {})


#: napari's, npe2's and pytest-xvfb's pytest plugins load napari (and start Xvfb)
#: in every pytest run of the environment; only napari plugins' tests want them.
NO_NAPARI_PYTEST = ("-p", "no:napari", "-p", "no:npe2", "-p", "no:xvfb")


@nox.session(python=PYTHONS)
def plugins(session: nox.Session) -> None:
    """Build every package in plugins/ as a wheel, install it with the core in a fresh
    environment, run its own tests, check its formats are listed and write valid
    files (a napari plugin: its manifest validates), and that it disappears cleanly
    when uninstalled. napari-playnano's tests need Xvfb (.ci/run installs it)."""
    session.install(".")
    wheels = Path(session.create_tmp()) / "wheels"
    projects = sorted(p.parent for p in (ROOT / "plugins").glob("*/pyproject.toml"))
    for proj in projects:
        session.run(
            "python",
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(wheels),
            str(proj),
        )
    for proj in projects:
        dist, _ = _plugin_formats(proj / "pyproject.toml")
        [wheel] = wheels.glob(dist.replace("-", "_") + "-*.whl")
        session.install(f"{wheel}[test]")
    for proj in projects:
        dist, names = _plugin_formats(proj / "pyproject.toml")
        napari_plugin = _is_napari_plugin(proj / "pyproject.toml")
        session.run(
            "python",
            "-m",
            "pytest",
            str(proj / "tests"),
            "-q",
            "-p",
            "no:cacheprovider",
            *(() if napari_plugin else NO_NAPARI_PYTEST),
        )
        if names:
            session.run("python", "-c", CHECK_PLUGIN, dist, *names)
        if napari_plugin:  # its manifest is valid and `playnano play` finds it
            session.run("npe2", "validate", dist)
            session.run("python", "-m", "playnano", "play", "--help", silent=True)
    for proj in projects:
        dist, names = _plugin_formats(proj / "pyproject.toml")
        session.run("python", "-m", "pip", "uninstall", "-q", "-y", dist)
        session.run(
            "python",
            "-c",
            "import json, subprocess, sys\n"
            "rows = json.loads(subprocess.run([sys.executable, '-m', 'playnano', 'formats', 'list', '--json'], capture_output=True, text=True, check=True).stdout)\n"
            "left = [r for r in rows if r['provider'] == sys.argv[1]]\n"
            "assert not left, left\n"
            "assert all(r['status'] == 'ok' for r in rows), rows\n"
            "print(sys.argv[1], 'uninstalled cleanly')",
            dist,
        )


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation (warnings are errors) and run every example in it."""
    session.install("-e", ".[docs,test]")
    session.run(
        "python",
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-b",
        "html",
        "docs",
        "docs/_build/html",
    )
    session.run(
        "python",
        "-m",
        "pytest",
        "tests/docs",
        "-p",
        "no:cacheprovider",
        *session.posargs,
    )


#: Mutation testing scope (``[tool.mutmut]`` in pyproject.toml): one run per module.
MUTATED = [
    "playnano.io.atomic*",
    "playnano.formats.npz*",
    "playnano.formats.h5*",
    "playnano.formats.ometiff*",
    "playnano.formats.bundle*",
    "playnano.formats._reading*",
    "playnano.formats.gif.exporter*",
    "playnano.plugins.registry*",
    "playnano.readers.common*",
    "playnano.readers.guarded*",
    "playnano.readers.__init__*",
    "playnano.plugins.reader*",
    "playnano.readers.tiff*",
    "playnano.readers.asd*",
    "playnano.readers.h5jpk*",
    "playnano.readers.jpk_folder*",
    "playnano.readers.spm*",
    "playnano.testing*",
]


@nox.session(python=PYTHON, default=False)
def mutants(session: nox.Session) -> None:
    """Mutation testing on demand (hours on 2 cores; not in CI): kill ratio per module.

    ``nox -s mutants`` runs every module of MUTATED; ``nox -s mutants --
    'playnano.formats.npz*'`` one. Results accumulate in ``mutants/``; survivors are
    listed by ``python benchmarks/mutation_report.py --survivors``.
    """
    session.install("-e", ".[test]", "mutmut==3.8.1")
    data = os.environ.get("PLAYNANO_TEST_DATA", str(ROOT.parent / "shared" / "data"))
    env = {
        "PLAYNANO_TEST_DATA": str(Path(data).resolve()),
        "PLAYNANO_REQUIRE_DATA": "1",
    }
    children = str(min(2, os.cpu_count() or 1))
    for pattern in session.posargs or MUTATED:
        session.run("mutmut", "run", "--max-children", children, pattern, env=env)
    session.run("python", "benchmarks/mutation_report.py")
