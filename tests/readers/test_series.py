"""The scan-series rule: a folder of frame files is one video only when its headers
say its files are frames of one scan, one after another (real files, copied)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from playnano.cli import cli
from playnano.readers.jpk_folder import JpkFolderReader
from playnano.readers.series import frame_number
from playnano.readers.spm import SpmReader

OLD = "spm/old_bruker.002"
JPK = "jpk_folder/streptavidin_hs"


def _numbered(afm_data: Path, folder: Path, names: list[str]) -> Path:
    folder.mkdir()
    for name in names:
        shutil.copy(afm_data / OLD, folder / name)
    return folder


@pytest.mark.parametrize(
    ("names", "video", "why"),
    [
        (["scan.001", "scan.002", "scan.003"], True, "3 consecutively numbered frames"),
        (["img0007.spm", "img0008.spm"], True, "2 consecutively numbered frames"),
        (["scan.001", "scan.003"], False, "not one numbered series"),
        (["scan.001", "other.002"], False, "not one numbered series"),
        (["scan.001"], False, "a single frame file"),
    ],
)
def test_nanoscope_frames_follow_on_by_number(
    afm_data: Path, tmp_path: Path, names: list[str], video: bool, why: str
) -> None:
    verdict = SpmReader().series(_numbered(afm_data, tmp_path / "v", names))
    assert verdict.video is video and why in verdict.reason


def test_different_scans_are_named_with_what_differs(afm_data: Path) -> None:
    verdict = SpmReader().series(afm_data / "spm")
    assert not verdict.video
    assert verdict.reason == (
        "its files are different scans (bruker_data_header.001: 512x512 px, "
        "scan size 65 65 µm, Height; old_bruker.002: 256x256 px, scan size 15 15 µm, "
        "Height)"
    )


def test_jpk_frames_follow_on_by_their_acquisition_times(
    afm_data: Path, tmp_path: Path
) -> None:
    verdict = JpkFolderReader().series(afm_data / JPK)
    assert verdict.video and verdict.reason.startswith("3 frames of one scan")
    # the first frame again, saved under a later name: its time goes back
    folder = tmp_path / "v"
    shutil.copytree(afm_data / JPK, folder)
    first = sorted(folder.iterdir())[0]
    shutil.copy(first, folder / "save-2023.02.16-12.08.59.000.jpk")
    verdict = JpkFolderReader().series(folder)
    assert not verdict.video and "not consecutive frames" in verdict.reason


def test_frame_numbers_from_names() -> None:
    assert frame_number(Path("scan.001")) == ("scan", 1)
    assert frame_number(Path("img0007.spm")) == ("img", 7)
    assert frame_number(Path("image.spm")) is None


@pytest.mark.parametrize("command", ["process", "info"])
def test_process_and_info_on_a_folder_of_different_scans_say_why(
    afm_data: Path, tmp_path: Path, command: str
) -> None:
    args = [command, str(afm_data / "spm")]
    if command == "process":
        args += ["-e", "npz", "-o", str(tmp_path / "out")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith(
        f"playnano: error: {afm_data / 'spm'}: not one video, its files are different "
        "scans (bruker_data_header.001: 512x512 px"
    )
    assert line.endswith("(playnano batch takes each file as its own input)")
    assert not (tmp_path / "out").exists()
