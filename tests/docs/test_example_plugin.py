"""Install plugins/playnano-example into a fresh virtual environment and use it.

This is what the plugin author's guide (docs/plugins.rst) promises: build and
install the plugin for real (a wheel, not an editable install), see its format
listed, export with it, run its own conformance tests, run the guide's
``$ playnano`` commands, then uninstall it and see the format go.

The venv sees this environment's packages (playnano and its dependencies) through a
``.pth`` file, so nothing but the plugin is installed into it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import site
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.docs._blocks import DOCS, REPO, check_output, commands, extract_blocks

PLUGIN = REPO / "plugins" / "playnano-example"
DIST, FORMAT = "playnano-example", "csv"

pytestmark = pytest.mark.slow


@dataclass
class Venv:
    python: Path
    env: dict[str, str]

    def run(
        self, *args: str | Path, cwd: Path, check: bool = True, extra_env=None
    ) -> subprocess.CompletedProcess[str]:
        env = {**self.env, **(extra_env or {})}
        proc = subprocess.run(
            [str(self.python), *map(str, args)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and proc.returncode != 0:
            pytest.fail(
                f"{' '.join(map(str, args))} exited {proc.returncode}\n"
                f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}",
                pytrace=False,
            )
        return proc

    def formats(self, cwd: Path, **extra_env: str) -> list[dict]:
        out = self.run(
            "-m", "playnano", "formats", "list", "--json", cwd=cwd, extra_env=extra_env
        )
        return json.loads(out.stdout)


def _outer_paths() -> tuple[list[str], list[str]]:
    """Site folders of this environment, and other sys.path folders (a src tree)."""
    sites = [*site.getsitepackages(), site.getusersitepackages()]
    sites += [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    sites = list(dict.fromkeys(p for p in sites if Path(p).is_dir()))
    stdlib = {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]}
    others = [
        p
        for p in sys.path
        if p
        and Path(p).is_dir()
        and p not in sites
        and p not in stdlib
        and Path(p).resolve() != REPO  # pytest's rootdir entry: not an install
        and not p.startswith(sys.base_prefix + os.sep + "lib")
    ]
    return sites, others


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venv]:
    if importlib.util.find_spec("playnano_example") is not None:
        pytest.fail(
            "playnano_example is importable in this environment; uninstall it "
            "(pip uninstall playnano-example) so the test can install its own copy"
        )
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(root / "env")], check=True)
    python = root / "env" / ("Scripts" if os.name == "nt" else "bin") / "python"
    purelib = subprocess.run(
        [
            str(python),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    sites, others = _outer_paths()
    # addsitedir also runs the outer site's own .pth files (editable installs)
    lines = [f"import site; site.addsitedir({p!r})" for p in sites] + others
    (Path(purelib) / "_playnano_outer_env.pth").write_text("\n".join(lines) + "\n")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "PLAYNANO_", "PIP_", "VIRTUAL_ENV"))
    }
    env.update(
        PYTHONDONTWRITEBYTECODE="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
    )
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    yield Venv(python, env)


@pytest.fixture(scope="module")
def installed(venv: Venv, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """The venv with the plugin built and installed from its folder (no editable)."""
    cwd = tmp_path_factory.mktemp("install")
    args = ["-m", "pip", "install", "--no-deps", "-q", PLUGIN]
    has_hatchling = venv.run("-c", "import hatchling", cwd=cwd, check=False)
    if has_hatchling.returncode == 0:
        args.insert(3, "--no-build-isolation")  # else pip fetches hatchling itself
    venv.run(*args, cwd=cwd)
    shown = venv.run("-m", "pip", "show", "-f", DIST, cwd=cwd).stdout
    assert "__editable__" not in shown and "exporter.py" in shown
    return venv


def test_format_is_listed_with_its_provider(installed: Venv, tmp_path: Path) -> None:
    rows = {r["name"]: r for r in installed.formats(tmp_path)}
    assert {"tif", "npz", "h5", "gif"} <= set(rows), rows
    row = rows[FORMAT]
    assert row["provider"] == DIST and row["version"] == "0.1.0"
    assert row["status"] == "ok" and row["builtin"] is False
    assert row["suffix"] == ".csv" and row["aliases"] == ["csv-long"]
    assert row["qualified_name"] == "playnano_example:csv"


def test_process_exports_a_valid_file(installed: Venv, tmp_path: Path) -> None:
    out = installed.run(
        "-m",
        "playnano",
        "process",
        "--synthetic",
        "--export",
        FORMAT,
        "-o",
        "OUT",
        cwd=tmp_path,
    )
    path = tmp_path / "OUT" / "synthetic_hsafm.csv"
    assert f"wrote {Path('OUT') / path.name}" in out.stdout
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    lines = path.read_text().splitlines()
    assert lines[0] == "# format: playnano-example csv 1"
    header = lines.index("frame,timestamp_s,y,x,height_nm")
    rows = np.loadtxt(lines[header + 1 :], delimiter=",")
    assert rows.shape == (40 * 128 * 128, 5)  # the synthetic video's size
    assert np.isfinite(rows).all()
    assert sorted(set(rows[:, 1])) == pytest.approx([0.5 * i for i in range(40)])


def test_the_plugins_own_tests_pass(installed: Venv, tmp_path: Path) -> None:
    proc = installed.run(
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        # napari-playnano's test tools, if the developer has it installed
        *("-p", "no:napari", "-p", "no:npe2", "-p", "no:xvfb"),
        PLUGIN / "tests",
        cwd=PLUGIN,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " passed" in proc.stdout and "skipped" not in proc.stdout, proc.stdout


def test_guide_commands_work(installed: Venv, tmp_path: Path) -> None:
    """Every ``$ playnano`` command of docs/plugins.rst, with the plugin installed."""
    page = DOCS / "plugins.rst"
    blocks = extract_blocks(page)
    ran = 0
    for block in blocks:
        if block.kind != "console":
            continue
        for cmd in commands(block):
            proc = installed.run(
                "-m",
                "playnano",
                *cmd.args,
                cwd=tmp_path,
                check=False,
                extra_env=cmd.env,
            )
            output = proc.stdout + proc.stderr
            if (proc.returncode == 0) == cmd.expect_failure:
                pytest.fail(
                    f"{cmd.where}: playnano {shlex.join(cmd.args)} exited "
                    f"{proc.returncode}:\n{output}",
                    pytrace=False,
                )
            check_output(cmd.shown, output, cmd.where)
            ran += 1
    assert ran >= 5
    # the "CSV starts like this" block shows the head of the file exported above
    [head] = [b for b in blocks if b.text.startswith("# format: playnano-example")]
    written = (tmp_path / "out" / "synthetic_hsafm_filtered.csv").read_text()
    assert written.splitlines()[: len(head.text.splitlines())] == head.text.splitlines()


def test_uninstall_removes_the_format_cleanly(installed: Venv, tmp_path: Path) -> None:
    installed.run("-m", "pip", "uninstall", "-y", DIST, cwd=tmp_path)
    rows = installed.formats(tmp_path)
    assert FORMAT not in {r["name"] for r in rows}
    assert all(r["status"] == "ok" for r in rows), rows
    assert DIST not in {r["provider"] for r in rows}
    proc = installed.run(
        "-m",
        "playnano",
        "process",
        "--synthetic",
        "--export",
        FORMAT,
        "-o",
        "OUT",
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 1
    assert "unknown format 'csv'" in proc.stderr
    assert not (tmp_path / "OUT").exists()
