"""Provenance records are strict JSON and say what happened."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from playnano.provenance import (
    make_json_safe,
    record_export,
    record_source,
    record_step,
    sha256_of,
    to_json,
)
from playnano.testing import make_sample_stack


def test_make_json_safe_converts_numpy_paths_and_non_finite() -> None:
    obj = {
        "a": np.float32(1.5),
        "b": np.arange(3),
        "c": Path("/x/y"),
        "d": (1, float("nan")),
        5: {np.int64(2)},
    }
    assert make_json_safe(obj) == {
        "a": 1.5,
        "b": [0, 1, 2],
        "c": "/x/y",
        "d": [1, None],
        "5": [2],
    }
    json.loads(to_json({"x": float("inf")}))


def test_sha256_of_file_and_folder(tmp_path: Path) -> None:
    f = tmp_path / "a.bin"
    f.write_bytes(b"afm")
    assert sha256_of(f) == hashlib.sha256(b"afm").hexdigest()
    folder = tmp_path / "frames"
    folder.mkdir()
    (folder / "1.jpk").write_bytes(b"one")
    first = sha256_of(folder)
    (folder / "1.jpk").write_bytes(b"two")
    assert sha256_of(folder) != first


def folder_digest(files: dict[str, bytes]) -> str:
    """The documented folder digest, computed here from the description alone."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + str(len(files[name])).encode() + b"\0")
        h.update(files[name])
    return h.hexdigest()


def make_folder(root: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return root


FRAMES = {"f1.jpk": b"one", "f2.jpk": b"two", "sub/f3.jpk": b"three"}


def test_folder_digest_covers_names_sizes_and_contents(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "frames", FRAMES)
    assert sha256_of(folder) == folder_digest(FRAMES)
    assert sha256_of(folder) == sha256_of(folder)  # stable


@pytest.mark.parametrize(
    "changed",
    [
        {"f1.jpk": b"one", "f2.jpk": b"two", "sub/f4.jpk": b"three"},  # a rename
        {"f1.jpk": b"one", "f2.jpk": b"two", "f3.jpk": b"three"},  # moved up
        {"f2.jpk": b"one", "f1.jpk": b"two", "sub/f3.jpk": b"three"},  # swapped
        {"f1.jpk": b"one", "f2.jpk": b"two", "sub/f3.jpk": b"three", "x": b""},
        {"f1.jpk": b"on", "f2.jpk": b"etwo", "sub/f3.jpk": b"three"},  # boundary
    ],
)
def test_folder_digest_changes_with_any_name_or_boundary(
    tmp_path: Path, changed: dict[str, bytes]
) -> None:
    before = sha256_of(make_folder(tmp_path / "a", FRAMES))
    after = sha256_of(make_folder(tmp_path / "b", changed))
    assert after != before
    assert after == folder_digest(changed)


def test_renaming_a_frame_changes_the_recorded_source(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "frames", FRAMES)
    stack = make_sample_stack()
    record_source(stack, folder, reader="jpk-folder")
    before = stack.provenance["source"]["sha256"]
    (folder / "f2.jpk").rename(folder / "f9.jpk")
    record_source(stack, folder, reader="jpk-folder")
    assert stack.provenance["source"]["sha256"] != before


def test_records(tmp_path: Path) -> None:
    stack = make_sample_stack()
    src = tmp_path / "video.asd"
    src.write_bytes(b"data")
    record_source(stack, src, reader="asd", channel="TP")
    assert stack.provenance["source"]["file"] == "video.asd"
    assert stack.provenance["source"]["sha256"] == hashlib.sha256(b"data").hexdigest()
    rec = record_step(
        stack,
        index=2,
        name="gaussian_filter",
        params={"sigma": np.float64(2)},
        version="1",
        kind="filter",
        output_key="step_2_gaussian_filter",
    )
    assert rec["params"] == {"sigma": 2.0}
    assert stack.provenance["processing"]["keys_by_name"]["gaussian_filter"] == [
        "step_2_gaussian_filter"
    ]
    record_export(
        stack,
        format_name="npz",
        plugin="playnano",
        plugin_version="1",
        path=tmp_path / "o.npz",
        raw=True,
    )
    assert stack.provenance["exports"][-1]["file"] == "o.npz"
    json.loads(to_json(stack.provenance))
