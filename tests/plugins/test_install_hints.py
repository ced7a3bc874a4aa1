"""Install advice names what exists, from where this copy of playnano was installed.

The package index's ``playnano`` is an unrelated 0.5.0 and the repository's plugins
are not on the index, so every hint must name this checkout's folders and extras
(``pip install -e "/path/to/playnano[dask]"``, ``pip install
/path/to/playnano/plugins/playnano-video``), or, for a copy installed from a wheel,
the extra's own requirements.
"""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from playnano.plugins.install_hints import (
    extra_hint,
    install_source,
    plugin_hint,
    requirement_hint,
)
from playnano.plugins.registry import exporters
from tests.conftest import exporter_module

REPO = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
PLUGINS = sorted(p.name for p in (REPO / "plugins").iterdir() if p.is_dir())


def _extra_target(hint: str) -> tuple[Path, str]:
    m = re.fullmatch(r'pip install (?:-e )?"(.+)\[(\w+)\]"', hint)
    assert m, hint
    return Path(m[1]), m[2]


@pytest.mark.parametrize("where", ["repository", "elsewhere"])
@pytest.mark.parametrize("extra", ["dask", "test"])
def test_an_extra_is_installed_from_this_checkout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, where: str, extra: str
) -> None:
    monkeypatch.chdir(REPO if where == "repository" else tmp_path)
    assert install_source().checkout == REPO  # the tests run on a checkout
    path, named = _extra_target(extra_hint(extra))
    assert str(path) == ("." if where == "repository" else str(REPO))
    assert path.resolve() == REPO and named in PROJECT["optional-dependencies"]


@pytest.mark.parametrize("dist", PLUGINS)
def test_a_plugin_is_installed_from_its_folder(
    monkeypatch: pytest.MonkeyPatch, dist: str
) -> None:
    monkeypatch.chdir(REPO)
    hint = plugin_hint(dist)
    assert hint == f"pip install plugins/{dist}"
    project = REPO / hint.split()[-1] / "pyproject.toml"
    assert tomllib.loads(project.read_text())["project"]["name"] == dist


def _plugin_requiring(install_plugin, dist: str, hint: str, requirement: str) -> None:
    site = install_plugin(
        dist,
        {
            "acme_fmt": exporter_module(
                "acme", requires=("acme_missing_lib",), hint=hint
            )
        },
        {"playnano.exporters": {"acme": "acme_fmt"}},
    )
    [info] = site.glob("*.dist-info")
    with open(info / "METADATA", "a") as fh:
        fh.write(
            f"Requires-Dist: {requirement}\nRequires-Dist: pytest; extra == 'test'\n"
        )


def test_a_repository_plugins_missing_requirement_names_the_requirement(
    install_plugin,
) -> None:
    """playnano-video's own hint ("pip install playnano-video") would install
    nothing: the missing requirement, from the plugin's metadata, is what works."""
    _plugin_requiring(
        install_plugin, "playnano-video", "pip install playnano-video",
        "acme-missing-lib>=1.2",
    )  # fmt: skip
    [entry] = [e for e in exporters().entries() if e.name == "acme"]
    assert entry.install_hint() == 'pip install "acme-missing-lib>=1.2"'
    assert entry.status() == (
        'missing dependency acme_missing_lib (pip install "acme-missing-lib>=1.2")'
    )


def test_a_third_partys_own_hint_is_kept(install_plugin) -> None:
    _plugin_requiring(
        install_plugin, "acme-formats", "conda install -c acme acme-lib", "acme-lib"
    )
    [entry] = [e for e in exporters().entries() if e.name == "acme"]
    assert entry.install_hint() == "conda install -c acme acme-lib"


def test_a_module_named_unlike_its_distribution() -> None:
    assert requirement_hint(None, ["PIL"]) == "pip install pillow"
    assert requirement_hint(None, ["yaml"]) == "pip install pyyaml"


def test_the_readme_install_commands_name_what_exists() -> None:
    """Every ``pip install`` in the README installs this checkout, an extra it
    declares, or a folder of plugins/; never a name from the package index."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"pip install ([^`\n)]+)", readme)
    assert commands
    for cmd in commands:
        args = cmd.split("&&")[0].split()
        for target in (a.strip("\"'") for a in args if not a.startswith("-")):
            if target.startswith("playnano-<"):  # a third party's, named as such
                continue
            m = re.fullmatch(r"(.*?)(?:\[([\w,]+)\])?", target)
            path, extras = m[1], (m[2] or "").split(",")
            assert (REPO / path).is_dir(), f"README: pip install {cmd}: no {path}"
            assert (REPO / path / "pyproject.toml").is_file(), cmd
            for extra in filter(None, extras):
                assert extra in PROJECT["optional-dependencies"], cmd


def _purelib() -> list[str]:
    paths = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    return list(dict.fromkeys(paths))


@pytest.mark.slow
def test_a_wheel_install_advises_requirements_and_a_checkout_install_its_path(
    tmp_path: Path,
) -> None:
    """Installed for real into a fresh environment: from a wheel (no checkout to
    point at: the extra's requirements, and the plugins' source folder), then
    built from this checkout (its path, without -e)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    # this environment's packages (playnano's dependencies) after the venv's own
    (Path(site) / "outer.pth").write_text("\n".join(_purelib()) + "\n")
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels),
         str(REPO)],
        check=True, capture_output=True,
    )  # fmt: skip
    [wheel] = wheels.glob("playnano-*.whl")
    pip = [str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall"]
    show = (
        "from playnano.plugins.install_hints import extra_hint, plugin_hint\n"
        "import playnano; print(playnano.__file__)\n"
        "print(extra_hint('dask')); print(plugin_hint('playnano-video'))\n"
    )

    def hints() -> list[str]:
        out = subprocess.run(
            [str(python), "-c", show], capture_output=True, text=True, cwd=tmp_path
        )
        assert out.returncode == 0, out.stderr
        return out.stdout.splitlines()

    subprocess.run([*pip, str(wheel)], check=True, capture_output=True)
    where, dask, video = hints()
    assert where.startswith(site)
    dask_reqs = [r for r in PROJECT["optional-dependencies"]["dask"]]
    assert dask == "pip install " + " ".join(f'"{r}"' for r in dask_reqs)
    assert video.startswith("pip install PATH/TO/playnano/plugins/playnano-video ")

    subprocess.run([*pip, str(REPO)], check=True, capture_output=True)
    where, dask, video = hints()
    assert where.startswith(site)
    assert dask == f'pip install "{REPO}[dask]"'
    assert video == f"pip install {REPO / 'plugins' / 'playnano-video'}"
