"""TopoStats 2.4.2 loads playnano's .topostats files and processes a folder of them.

Its loader (``LoadScans``) is what every TopoStats command starts with; the
processing run is ``topostats process`` over the export folder: filters, grains and
grain statistics on every frame, ending with its statistics files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import playnano
from tests.consumers.conftest import run_driver

pytestmark = pytest.mark.slow


def test_topostats_loader_opens_our_frames(
    exports: Path, topostats_python: str, tmp_path: Path
) -> None:
    [folder] = exports.glob("*_topostats")
    files = [str(folder / f"asd_sample_0_filtered_{i}.topostats") for i in (0, 5, 31)]
    run_driver(
        topostats_python,
        "driver_topostats.py",
        "load",
        str(tmp_path),
        *files,
        cwd=tmp_path,
    )
    loaded = json.loads((tmp_path / "loaded.json").read_text())
    source = playnano.load(folder).provenance["source"]["previous_source"]["path"]
    raw = playnano.load(source)
    assert sorted(loaded) == sorted(Path(f).name for f in files)
    for i in (0, 5, 31):
        name = f"asd_sample_0_filtered_{i}.topostats"
        assert loaded[name]["pixel_to_nm_scaling"] == 0.5
        image = np.load(tmp_path / f"{name}.npy")  # what TopoStats will flatten
        assert image.tobytes() == raw.data[i].tobytes()


def test_topostats_processes_a_folder_of_our_frames(
    exports: Path, topostats_python: str, tmp_path: Path
) -> None:
    [folder] = exports.glob("*_topostats")
    out = run_driver(
        topostats_python,
        "driver_topostats.py",
        "process",
        str(folder),
        str(tmp_path),
        cwd=tmp_path,
    )
    result = json.loads(out.strip().splitlines()[-1])
    assert result["topostats_files"] == sorted(
        f"asd_sample_0_filtered_{i}.topostats" for i in range(32)
    )
    rows = result["image_statistics"]
    assert rows, "TopoStats found grains in none of the frames"
    for row in rows:  # the frames' real size reached TopoStats
        assert float(row["image_size_x_m"]) == pytest.approx(100e-9)
        assert int(row["image_size_x_px"]) == 200
