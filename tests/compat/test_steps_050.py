"""0.5.0 processing files with its video steps give 0.5.0's results on real files.

playnano 0.5.0 runs each YAML file below (parsed by 0.5.0 itself) in its own
environment through ``driver_050.py process``; we run the same file with
``load_processing_file`` and ``run_pipeline`` on the same float32 frames. Shifts,
shapes and NaN positions must be equal; heights equal to float32 round-off
(0.5.0's ``remove_plane`` returns float64, ours keeps float32).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import playnano
from playnano.afm_stack import AFMImageStack
from playnano.processing import load_processing_file, run_pipeline
from tests.compat.test_playnano_050 import old_python, run_driver  # noqa: F401

pytestmark = pytest.mark.slow

FILES = {
    # 22 good frames: frames 22-31 of this file are scanner garbage (flat frames)
    "asd": (
        "asd/asd_sample_0.asd",
        "  - name: drop_final_frames\n    n_frames_to_drop: 10\n",
    ),
    "h5jpk": ("h5-jpk/sample_0.h5-jpk", ""),
}

PIPELINES = {
    "rolling_pad_crop_square": """
  - name: remove_plane
  - name: rolling_frame_align
    window: 3
    max_jump: 20
  - name: crop_square
    pad: [2, 1]
  - name: replace_nan
    mode: median
""",
    "rolling_crop_defaults": """
  - name: remove_plane
  - name: rolling_frame_align
    mode: crop
    max_shift: 10
""",
    "intersection_and_nan_modes": """
  - name: remove_plane
  - name: rolling_frame_align
    window: 2
    pre_filter_sigma: 1.5
  - name: intersection_crop
    pad: [1, 0, 3, 2]
  - name: replace_nan
    mode: constant
    value: -1.5
""",
    "nan_mean": """
  - name: remove_plane
  - name: rolling_frame_align
    max_shift: 3
  - name: replace_nan
    mode: mean
""",
    "nan_global_mean": """
  - name: rolling_frame_align
    window: 1
  - name: replace_nan
    mode: global_mean
""",
}


@pytest.mark.parametrize("pipeline", list(PIPELINES))
@pytest.mark.parametrize("source", list(FILES))
def test_050_processing_files_give_050_results(
    old_python: str,  # noqa: F811
    afm_data: Path,
    tmp_path: Path,
    source: str,
    pipeline: str,
) -> None:
    name, prefix = FILES[source]
    stack = playnano.load(afm_data / name)
    data = stack.data.astype(np.float32)
    np.save(tmp_path / "data.npy", data)
    spec = {
        "pixel_size_nm": stack.pixel_size_nm,
        "channel": stack.channel,
        "frame_metadata": [{"timestamp": t} for t in stack.get_frame_times()],
    }
    (tmp_path / "stack.json").write_text(json.dumps(spec))
    steps_file = tmp_path / "steps.yaml"
    steps_file.write_text("filters:\n" + prefix + PIPELINES[pipeline].lstrip("\n"))
    run_driver(old_python, "process", tmp_path, steps_file, tmp_path / "old")
    theirs = np.load(tmp_path / "old" / "data.npy")
    old_steps = json.loads((tmp_path / "old" / "steps.json").read_text())

    ours = AFMImageStack(data, stack.pixel_size_nm, stack.channel, afm_data / name)
    run_pipeline(ours, load_processing_file(steps_file))

    records = ours.provenance["processing"]["steps"]
    assert [r["name"] for r in records] == [s["name"] for s in old_steps]
    [old_align] = [s for s in old_steps if s["name"] == "rolling_frame_align"]
    [new_align] = [r for r in records if r["name"] == "rolling_frame_align"]
    assert new_align["details"]["shifts_px"] == old_align["metadata"]["shifts"]
    assert any(s != [0, 0] for s in new_align["details"]["shifts_px"][1:])
    assert ours.data.shape == theirs.shape
    np.testing.assert_array_equal(np.isnan(ours.data), np.isnan(theirs))
    scale = float(np.nanmax(np.abs(theirs)))
    np.testing.assert_allclose(
        ours.data, theirs, rtol=0, atol=1e-5 * scale, equal_nan=True
    )
