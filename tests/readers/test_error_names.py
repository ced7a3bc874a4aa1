"""Every reader family names a damaged file the same way: its path as given, then ": ".

The rule (docs/cli.rst, readers/common.py): one line that starts with the path the
caller passed (relative stays relative), or for a frame of a folder the folder's
path joined with the frame's name. ``playnano process`` then echoes what the user
typed, and in ``playnano batch`` two inputs sharing a name stay apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import tifffile
from click.testing import CliRunner

import playnano
from playnano.cli import cli
from playnano.errors import ReadError
from playnano.readers import load
from playnano.synthetic import synthetic_hsafm
from tests.readers.test_asd import _levels, build_asd
from tests.readers.test_h5jpk import _write_scan
from tests.readers.test_jpk_folder import _write_jpk


def _cut(path: Path, keep: float = 0.5) -> Path:
    """Keep the first part of ``path`` (a fraction, or a byte count)."""
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * keep) if keep < 1 else int(keep)])
    return path


def _asd(d: Path) -> Path:
    path = d / "video.asd"
    path.write_bytes(build_asd(1, {"TP": _levels(1)}))
    return _cut(path, 100)


def _h5jpk(d: Path) -> Path:
    path = d / "video.h5-jpk"
    _write_scan(path)
    return _cut(path)


def _jpk(d: Path) -> Path:
    path = d / "video.jpk"
    _write_jpk(path, np.arange(12, dtype=np.int32).reshape(3, 4))
    return _cut(path)


def _jpk_folder(d: Path) -> tuple[Path, Path]:
    folder = d / "video"
    folder.mkdir()
    for name in ("a.jpk", "b.jpk"):
        _write_jpk(folder / name, np.arange(12, dtype=np.int32).reshape(3, 4))
    return folder, _cut(folder / "b.jpk")


_SPM_HEAD = b"\\*File list\r\n\\Version: 0x05120005\r\n"


def _spm(d: Path) -> Path:
    path = d / "video.spm"
    path.write_bytes(_SPM_HEAD)  # no '\*File list end': cut inside the header
    return path


def _spm_folder(d: Path) -> tuple[Path, Path]:
    folder = d / "video"
    folder.mkdir()
    for name in ("a.spm", "b.spm"):
        (folder / name).write_bytes(_SPM_HEAD)
    return folder, folder / "a.spm"


def _tiff(d: Path) -> Path:
    path = d / "video.tif"
    frames = np.arange(4 * 6 * 5, dtype=np.float32).reshape(4, 6, 5)
    tifffile.imwrite(path, frames, imagej=True, metadata={"unit": "nm"})
    return _cut(path, 300)


def _bundle(fmt: str, suffix: str) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        stack = synthetic_hsafm(n_frames=3, size_px=16, n_particles=1)
        [path] = playnano.export(stack, d / f"video.{suffix}", fmt)
        return _cut(path)

    return build


#: family -> builder of a damaged input in a folder: the input, or for a frame
#: folder (input, the frame the message must name).
FAMILIES: dict[str, Callable[[Path], Path | tuple[Path, Path]]] = {
    "asd": _asd,
    "h5-jpk": _h5jpk,
    "jpk": _jpk,
    "jpk-folder": _jpk_folder,
    "spm": _spm,
    "spm-folder": _spm_folder,
    "tiff": _tiff,
    "npz": _bundle("npz", "npz"),
    "h5": _bundle("h5", "h5"),
    "ome-tiff": _bundle("tif", "ome.tif"),
}


def _build(family: str, where: Path) -> tuple[Path, Path]:
    where.mkdir(parents=True)
    built = FAMILIES[family](where)
    return built if isinstance(built, tuple) else (built, built)


def _message(path: Path) -> str:
    with pytest.raises(ReadError) as err:
        load(path)
    message = str(err.value)
    assert "\n" not in message and "\r" not in message
    return message


@pytest.mark.parametrize("family", list(FAMILIES))
def test_the_error_starts_with_the_path_as_given(family, tmp_path, monkeypatch):
    given, named = _build(family, tmp_path / "day1" / "run")
    assert _message(given).startswith(f"{named}: ")
    monkeypatch.chdir(tmp_path)  # a relative path stays relative
    rel_given, rel_named = given.relative_to(tmp_path), named.relative_to(tmp_path)
    message = _message(rel_given)
    assert message.startswith(f"{rel_named}: "), message
    assert str(tmp_path) not in message


@pytest.mark.parametrize("family", list(FAMILIES))
def test_two_inputs_with_one_name_are_told_apart(family, tmp_path):
    first, _ = _build(family, tmp_path / "a")
    second, _ = _build(family, tmp_path / "b")
    assert first.name == second.name
    one, two = _message(first), _message(second)
    assert one.startswith(str(first)) and two.startswith(str(second))
    assert one.replace(str(first), "") == two.replace(str(second), "")


def test_process_echoes_the_path_the_user_typed(tmp_path, monkeypatch):
    _build("asd", tmp_path / "day1")
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["process", "day1/video.asd", "-e", "npz"])
    assert res.exit_code == 1, res.output
    assert res.output.strip().splitlines() == [
        "playnano: error: day1/video.asd: file ends after 100 bytes or its .asd v1 "
        "header is corrupt (no valid image geometry)"
    ]


def test_batch_report_tells_two_same_named_inputs_apart(tmp_path):
    src = tmp_path / "src"
    _build("asd", src / "a")
    _build("asd", src / "b")
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli, ["batch", str(src), "-r", "-e", "npz", "--workers", "1", "-o", str(out)]
    )
    assert res.exit_code == 1, res.output
    report = json.loads((out / "batch-report.json").read_text())
    errors = {r["input"]: r["error"] for r in report["inputs"]}
    assert len(errors) == 2
    for given, error in errors.items():
        assert Path(given).name == "video.asd"
        assert error.startswith(f"{given}: file ends after 100 bytes"), error
