"""Staged writes: outputs move into place whole, nested or as folders, never over a
user's file unless asked, and never through a symbolic link."""

from __future__ import annotations

from pathlib import Path

import pytest

from playnano.errors import ExportError, OutputExistsError
from playnano.io.atomic import TMP_PREFIX, commit_outputs, staging_dir


def test_staging_folder_is_hidden_and_removed(tmp_path: Path) -> None:
    dest = tmp_path / "new" / "out"  # created, parents too
    with staging_dir(dest) as staging:
        assert staging.parent == dest and staging.name.startswith(TMP_PREFIX)
        (staging / "half.bin").write_bytes(b"x")
    assert dest.is_dir() and list(dest.iterdir()) == []


def test_nested_outputs_land_in_new_subfolders(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    with staging_dir(dest) as staging:
        nested = staging / "frames" / "deep" / "f0.png"
        nested.parent.mkdir(parents=True)
        nested.write_bytes(b"frame")
        finals = commit_outputs([nested], staging, dest, overwrite=False)
    assert finals == [dest / "frames" / "deep" / "f0.png"]
    assert finals[0].read_bytes() == b"frame"


def test_a_file_outside_the_staging_folder_is_refused(tmp_path: Path) -> None:
    stray = tmp_path / "stray.bin"
    stray.write_bytes(b"x")
    with staging_dir(tmp_path / "out") as staging, pytest.raises(ExportError) as err:
        commit_outputs([stray], staging, tmp_path / "out", overwrite=False)
    assert str(err.value) == f"the exporter wrote {stray} outside its target folder"


def test_a_reported_but_missing_file_is_refused(tmp_path: Path) -> None:
    with staging_dir(tmp_path / "out") as staging, pytest.raises(ExportError) as err:
        commit_outputs([staging / "v.npz"], staging, tmp_path / "out", False)
    assert str(err.value) == "the exporter reported v.npz but did not write it"


def test_nothing_moves_when_one_output_exists(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "b.txt").write_text("user's")
    with staging_dir(dest) as staging:
        a, b = staging / "a.txt", staging / "b.txt"
        a.write_text("new")
        b.write_text("new")
        with pytest.raises(OutputExistsError, match="b.txt already exists"):
            commit_outputs([a, b], staging, dest, overwrite=False)
    assert sorted(p.name for p in dest.iterdir()) == ["b.txt"]
    assert (dest / "b.txt").read_text() == "user's"


def test_overwrite_replaces_a_folder_output_whole(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    old = dest / "v.ome.zarr"
    old.mkdir(parents=True)
    (old / "old_chunk").write_text("old")
    with staging_dir(dest) as staging:
        new = staging / "v.ome.zarr"
        new.mkdir()
        (new / "new_chunk").write_text("new")
        [final] = commit_outputs([new], staging, dest, overwrite=True)
    assert final == old
    assert sorted(p.name for p in final.iterdir()) == ["new_chunk"]


def test_overwrite_replaces_a_link_not_the_folder_it_points_to(tmp_path: Path) -> None:
    users = tmp_path / "users_folder"
    users.mkdir()
    (users / "notes.txt").write_text("keep me")
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "v.npz").symlink_to(users, target_is_directory=True)
    with staging_dir(dest) as staging:
        new = staging / "v.npz"
        new.write_bytes(b"bundle")
        [final] = commit_outputs([new], staging, dest, overwrite=True)
    assert not final.is_symlink() and final.read_bytes() == b"bundle"
    assert (users / "notes.txt").read_text() == "keep me"
