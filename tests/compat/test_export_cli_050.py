"""playnano 0.5.0's export command lines run unchanged on ours and name the same files.

Each command line below is one playnano 0.5.0 documents: its README's ``process``
example and the forms its ``process --help`` gives each export flag (``--export``
"Comma-separated formats", ``--make-video`` "optionally specify comma-separated
formats (default: mp4). Supported: mp4, avi", its video module's mp4/avi/mov/mkv,
``--make-sequence``, ``--fps``, ``--cmap``, ``--draw-ts``, ``--zmin``/``--zmax``,
``--scale-bar-nm``, ``--output-folder``/``--output-name``). The input is a real .asd
file (the README's ``sample_0.h5-jpk`` is not shipped in 0.5.0's package).

Both versions run the same line on the same file in fresh folders: ours must exit 0
and write the same set of file names as 0.5.0, except for these documented
differences (docs: "Coming from playnano 0.5.0"):

- 0.5.0 needs ``--channel TP`` for this .asd file (it looks for ``height_trace``
  and fails); ours finds the height channel, so the line runs on ours unchanged and
  0.5.0 gets ``--channel TP`` appended.
- the PNG folder is ``<base>_frames`` (0.5.0: ``<base>``); the frame names inside
  are the same.

``PLAYNANO_050_PYTHON`` names a python with playnano 0.5.0 (``nox -s compat``);
without it, or without the playnano-video plugin installed here, these tests skip,
unless ``PLAYNANO_REQUIRE_COMPAT=1`` makes that a failure.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ASD_NAME = "asd_sample_0.asd"
#: 0.5.0 cannot find this file's height channel by itself.
CHANNEL_050 = ["--channel", "TP"]

#: 0.5.0's documented export command lines; IN is the input file.
COMMANDS = [
    # README
    'IN --processing "remove_plane;gaussian_filter:sigma=1.0" --export tif,npz '
    "--make-gif --draw-ts --output-folder ./results",
    # process --help, one flag at a time
    "IN --export tif,npz,h5",
    "IN --export npz --output-name renamed",
    "IN --make-gif",
    "IN --make-sequence",
    "IN --make-video",
    "IN --make-video mp4,avi",
    "IN --make-video mp4,avi,mov,mkv --fps 10",
    "IN --processing remove_plane --make-gif --make-sequence --fps 2.5 "
    "--cmap afm_brown --draw-ts --zmin auto --zmax auto --scale-bar-nm 50",
    "IN --processing remove_plane --make-gif --zmin -1 --zmax 3 --cmap viridis",
    # process --help's processing example; it names "threshold_mask", a step 0.5.0
    # does not have (its own run stops), so with the step's real name
    'IN --processing "remove_plane; gaussian_filter:sigma=2.0; '
    'mask_threshold:threshold=2" --export h5 --make-video',
]


def _require(reason: str) -> None:
    if os.environ.get("PLAYNANO_REQUIRE_COMPAT") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def old_python() -> str:
    python = os.environ.get("PLAYNANO_050_PYTHON")
    if not python:
        _require("PLAYNANO_050_PYTHON is not set (a python with playnano==0.5.0)")
    assert python is not None
    return python


@pytest.fixture(scope="module")
def video_plugin() -> None:
    if importlib.util.find_spec("playnano_video") is None:
        _require("the playnano-video plugin is not installed (nox -s compat does)")


@pytest.fixture(scope="module")
def asd(afm_data: Path) -> Path:
    path = afm_data / "asd" / ASD_NAME
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


def file_names(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


def expected_from_050(names: set[str]) -> set[str]:
    """0.5.0's names with the documented difference applied: a folder holding only
    ``<folder>_NNNN.png`` frames (0.5.0's image sequence) gets ``_frames``."""
    folders = {n.rpartition("/")[0] for n in names if "/" in n}
    sequences = set()
    for folder in folders:
        stem = folder.rpartition("/")[2]
        inside = [n for n in names if n.rpartition("/")[0] == folder]
        if inside and all(
            re.fullmatch(rf"{re.escape(folder)}/{re.escape(stem)}_\d{{4,}}\.png", n)
            for n in inside
        ):
            sequences.add(folder)
    out = set()
    for name in names:
        for folder in sequences:
            if name == folder or name.startswith(folder + "/"):
                name = folder + "_frames" + name[len(folder) :]
        out.add(name)
    return out


def run_in(folder: Path, argv: list[str]) -> subprocess.CompletedProcess[str]:
    folder.mkdir(parents=True)
    return subprocess.run(argv, cwd=folder, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("line", COMMANDS)
def test_050_command_line_runs_unchanged(
    line: str, old_python: str, video_plugin: None, asd: Path, tmp_path: Path
) -> None:
    args = [str(asd) if a == "IN" else a for a in shlex.split(line)]
    # 0.5.0 writes to ./output unless told; run both where nothing else is
    old = run_in(
        tmp_path / "old",
        [
            *(old_python, "-c"),
            "import sys; from playnano.cli.entrypoint import main; "
            "sys.argv = ['playnano', *sys.argv[1:]]; main()",
            "process",
            *args,
            *CHANNEL_050,
        ],
    )
    assert old.returncode == 0, old.stderr[-2000:]
    new = run_in(tmp_path / "new", [sys.executable, "-m", "playnano", "process", *args])
    assert new.returncode == 0, new.stderr[-2000:]
    old_names = file_names(tmp_path / "old")
    assert old_names, f"0.5.0 wrote nothing for {line!r}"
    assert file_names(tmp_path / "new") == expected_from_050(old_names)
