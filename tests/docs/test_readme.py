"""README and quickstart promises that can be checked: install, test data, examples."""

from __future__ import annotations

import re
import shlex
import shutil
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageSequence

from playnano.cli import cli

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")


def run_on_sample(line: str, afm_data: Path, out: Path):
    argv = shlex.split(line)[2:]  # after "playnano process"
    sample = str(afm_data / "asd" / "asd_sample_0.asd")
    argv = [sample if a == "video.asd" else a for a in argv]
    return CliRunner().invoke(cli, ["process", *argv, "-o", str(out)])


@pytest.mark.filterwarnings("always::playnano.errors.ExportWarning")
def test_readme_gif_examples_show_the_sample(afm_data: Path, tmp_path: Path) -> None:
    lines = [
        ln for ln in README.splitlines() if "--make-gif" in ln and "video.asd" in ln
    ]
    assert lines
    for n, line in enumerate(lines):
        out = tmp_path / str(n)
        result = run_on_sample(line, afm_data, out)
        assert result.exit_code == 0, result.output
        # frames 22-31 hold a tip crash (up to -60...158 nm): drawn clipped, named
        assert "(22-23, 25-26, 29-31) have more than 5%" in result.output
        [gif] = out.glob("*.gif")
        with Image.open(gif) as im:
            for i, frame in enumerate(ImageSequence.Iterator(im)):
                if i >= 22:
                    break
                rgb = np.asarray(frame.convert("RGB")).reshape(-1, 3)
                _, counts = np.unique(rgb, axis=0, return_counts=True)
                assert counts.size >= 20, f"{line}: frame {i} has {counts.size}"
                assert counts.max() / counts.sum() < 0.5, f"{line}: frame {i} is flat"


@pytest.mark.filterwarnings("always::playnano.errors.ExportWarning")
def test_the_old_readme_example_warns_about_its_black_gif(
    afm_data: Path, tmp_path: Path
) -> None:
    old = "playnano process video.asd --make-gif --scale-bar-nm 50 --zmin 0 --zmax 5"
    result = run_on_sample(old, afm_data, tmp_path)
    assert result.exit_code == 0, result.output
    # raw heights are near -220 nm: every frame but 24 (near 0 nm) is far below 0
    assert (
        "playnano: warning: 31 of 32 frames (0-23, 25-31) have more than 5% of their "
        "pixels outside the colour range 0 to 5 nm" in result.output
    )


def test_readme_says_where_test_data_comes_from_and_that_tests_skip() -> None:
    """Right at the quick start, where a new user runs the tests."""
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "PLAYNANO_TEST_DATA" in quick_start
    assert "MANIFEST.tsv" in quick_start and "../shared/data/afm" in quick_start
    assert re.search(r"skipped with a reason", quick_start)
    # the command shown points the tests at a folder holding afm/, as conftest reads
    assert re.search(r"^PLAYNANO_TEST_DATA=\S+ python -m pytest", quick_start, re.M)


def test_readme_explains_filtered_names_next_to_the_python_snippet() -> None:
    before_snippet = README.split("```python", 1)[0].rstrip()
    paragraph = before_snippet.rsplit("\n\n", 1)[-1]
    assert "_filtered" in paragraph


def test_quickstart_installs_from_the_repository_not_the_index() -> None:
    text = (REPO / "docs" / "quickstart.rst").read_text(encoding="utf-8")
    commands = [
        ln.strip()[2:] for ln in text.splitlines() if ln.strip().startswith("$ ")
    ]
    installs = [c for c in commands if "pip install" in c]
    assert installs, "the quickstart shows no install command"
    for c in installs:
        assert not re.fullmatch(r"(python -m )?pip install playnano", c), c


# import names of the distributions the core declares
_IMPORT_NAMES = {"pyyaml": "yaml", "pillow": "PIL"}


def test_every_core_dependency_is_imported_by_the_core() -> None:
    meta = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    sources = "\n".join(
        p.read_text(encoding="utf-8") for p in (REPO / "src" / "playnano").rglob("*.py")
    )
    for dep in meta["project"]["dependencies"]:
        dist = re.split(r"[<>=!~\[; ]", dep, maxsplit=1)[0].lower()
        module = _IMPORT_NAMES.get(dist, dist)
        imported = rf"^\s*(import|from) {module}\b|import_module\([\"']{module}\b"
        assert re.search(imported, sources, re.M), (
            f"{dist} is declared but never imported"
        )


def _python_blocks(text: str, start: str, end: str) -> list[str]:
    return re.findall(rf"{start}\n(.*?){end}", text, flags=re.S)


def _api(code: str) -> set[str]:
    """The playnano names a snippet imports or calls as ``playnano.<name>``."""
    found = set(re.findall(r"from (playnano[\w.]*) import (\w+)", code))
    names = {f"{m}.{n}" for m, n in found}
    return names | {f"playnano.{n}" for n in re.findall(r"\bplaynano\.(\w+)\(", code)}


def test_readme_python_snippet_runs_on_the_sample(
    afm_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [code] = _python_blocks(README, "```python", "```")
    shutil.copy(afm_data / "asd" / "asd_sample_0.asd", tmp_path / "video.asd")
    monkeypatch.chdir(tmp_path)
    # as a user runs it: warnings are printed, not raised
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(code, "README.md", "exec"), {})
    # the sample's frames 22-31 are outliers: the GIF names the frames it clips
    # and those left nearly flat, and nothing else warns
    messages = [str(w.message) for w in caught]
    assert any("outside the colour range" in m for m in messages), messages
    assert all("outside the colour range" in m or "nearly flat" in m
               for m in messages), messages  # fmt: skip
    names = sorted(p.name for p in (tmp_path / "exports").iterdir())
    assert names == [
        "video_filtered.gif",
        "video_filtered.h5",
        "video_filtered.npz",
        "video_filtered.ome.tif",
    ]


def test_readme_and_quickstart_show_one_python_api() -> None:
    quickstart = (REPO / "docs" / "quickstart.rst").read_text(encoding="utf-8")
    [readme] = _python_blocks(README, "```python", "```")
    [start] = _python_blocks(quickstart, r"\.\. code-block:: python\n", r"\n\S")
    assert (
        _api(readme)
        == _api(start)
        == {
            "playnano.load",
            "playnano.export",
            "playnano.processing.run_pipeline",
        }
    )
