"""AFMReader 0.0.7, as TopoStats users call it, opens playnano's .gwy and .topostats.

``load_gwy`` finds channels by ``/N/data/title``, takes only the lateral unit "m"
and reads only some component types (an unknown one would derail its parser), so
this is the test that our files stay within what it reads.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import playnano
from tests.consumers.conftest import run_driver

pytestmark = pytest.mark.slow


def test_load_gwy_opens_every_frame_at_half_a_nanometre(
    exports: Path, afmreader_python: str, tmp_path: Path
) -> None:
    [path] = exports.glob("*.gwy")
    stack = playnano.load(path)
    for i in (0, 13, 31):
        out = tmp_path / f"gwy{i}.npz"
        title = f"TP frame {i} (t = {i}.000 s)"
        run_driver(
            afmreader_python,
            "driver_afmreader.py",
            "gwy",
            str(path),
            title,
            str(out),
            cwd=tmp_path,
        )
        got = np.load(out)
        assert float(got["pixel_to_nm"]) == 0.5
        np.testing.assert_allclose(got["image"], stack.data[i], rtol=1e-15, atol=0)
    titles = json.loads(out.with_suffix(".json").read_text())["titles"]
    assert len(titles) == 32


def test_load_topostats_opens_every_frame(
    exports: Path, afmreader_python: str, tmp_path: Path
) -> None:
    [folder] = exports.glob("*_topostats")
    stack = playnano.load(folder)
    raw = playnano.load(
        playnano.load(folder).provenance["source"]["previous_source"]["path"]
    )
    for i in (0, 31):
        out = tmp_path / f"ts{i}.npz"
        frame = folder / f"asd_sample_0_filtered_{i}.topostats"
        run_driver(
            afmreader_python,
            "driver_afmreader.py",
            "topostats",
            str(frame),
            str(out),
            cwd=tmp_path,
        )
        got = np.load(out)
        meta = json.loads(out.with_suffix(".json").read_text())
        assert float(got["pixel_to_nm"]) == 0.5
        assert got["image"].tobytes() == stack.data[i].tobytes()  # processed
        original = np.load(out.with_suffix(".original.npy"))
        assert original.tobytes() == raw.data[i].tobytes()  # as read from the .asd
        assert meta["topostats_version"] == "2"
        assert meta["img_path_type"] == "PosixPath"  # version > 0.2: a Path
        assert meta["filename"] == f"asd_sample_0_filtered_{i}"
        assert json.loads(meta["playnano"])["frame"] == i
