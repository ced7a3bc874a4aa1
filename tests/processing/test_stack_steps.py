"""0.5.0's video steps: rolling alignment, crops, NaN replacement, temporal filters.

Expected values are worked out by hand from small stacks (no playnano 0.5.0 needed;
tests/compat/test_steps_050.py compares with 0.5.0 itself on real files).
"""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from playnano.cli import cli
from playnano.errors import OptionError, ProcessingError
from playnano.io.loaders import load_npz_bundle
from playnano.processing import load_processing_file, run_pipeline, validate_steps
from tests.processing.test_alignment import OFFSETS, drifting

NAN = np.nan


def details(stack, position: int = -1) -> dict:
    return stack.provenance["processing"]["steps"][position]["details"]


# ---------------------------------------------------------------- rolling alignment
@pytest.mark.parametrize("window", [1, 3, 5])
def test_rolling_frame_align_recovers_known_drift(make_stack, window: int) -> None:
    frames, _ = drifting()
    stack = make_stack(frames.copy())
    stack.masks["m"] = frames > np.median(frames)
    run_pipeline(stack, [("rolling_frame_align", {"window": window})])
    assert details(stack)["shifts_px"] == OFFSETS.tolist()
    # pad: canvas spans every placement; each frame sits where its content is
    span = OFFSETS.max(axis=0) - OFFSETS.min(axis=0)
    assert stack.image_shape == (48 + span[0], 48 + span[1])
    for i, (dy, dx) in enumerate(OFFSETS - OFFSETS.min(axis=0)):
        np.testing.assert_array_equal(
            stack.data[i, dy : dy + 48, dx : dx + 48], frames[i]
        )
        assert np.isnan(stack.data[i]).sum() == stack.data[i].size - 48 * 48
        np.testing.assert_array_equal(
            stack.masks["m"][i, dy : dy + 48, dx : dx + 48],
            frames[i] > np.median(frames),
        )
        assert stack.masks["m"][i].sum() == (frames[i] > np.median(frames)).sum()
    np.testing.assert_array_equal(stack.processed["raw"], frames)


def test_rolling_frame_align_crop_keeps_the_common_region(make_stack) -> None:
    frames, _ = drifting()
    stack = make_stack(frames)
    run_pipeline(stack, "rolling_frame_align:mode=crop")
    span = OFFSETS.max(axis=0) - OFFSETS.min(axis=0)
    assert stack.image_shape == (48 - span[0], 48 - span[1])
    assert np.isfinite(stack.data).all()
    # every frame now shows the same patch of the sample
    np.testing.assert_array_equal(
        stack.data[1:], np.broadcast_to(stack.data[0], stack.data[1:].shape)
    )


def test_rolling_frame_align_limits(make_stack) -> None:
    frames, _ = drifting()
    stack = make_stack(frames)
    run_pipeline(stack, "rolling_frame_align:max_shift=3")
    assert details(stack)["shifts_px"] == np.clip(OFFSETS, -3, 3).tolist()


def test_a_flat_frame_is_not_moved_and_is_reported(make_stack) -> None:
    frames, _ = drifting()
    frames[2] = 7.0
    stack = make_stack(frames)
    run_pipeline(stack, "rolling_frame_align:window=1")
    d = details(stack)
    assert d["unregistered_frames"] == [2]
    assert d["shifts_px"][2] == [0, 0]
    assert d["shifts_px"][1] == OFFSETS[1].tolist()


# ---------------------------------------------------------------- crops
def nan_border_stack(make_stack):
    """3 frames of 6x8: frame 1 has NaN row 0, frame 2 NaN column 7 and row 5."""
    data = np.arange(3 * 6 * 8, dtype=np.float64).reshape(3, 6, 8)
    data[1, 0, :] = NAN
    data[2, :, 7] = NAN
    data[2, 5, :] = NAN
    stack = make_stack(data)
    stack.masks["m"] = np.ones(data.shape, dtype=bool)
    return stack, data


def test_intersection_crop_to_the_finite_region(make_stack) -> None:
    stack, data = nan_border_stack(make_stack)
    run_pipeline(stack, "intersection_crop")
    np.testing.assert_array_equal(stack.data, data[:, 1:5, 0:7])
    assert stack.masks["m"].shape == (3, 4, 7) and stack.masks["m"].all()
    assert details(stack)["intersection_bounds"] == [1, 5, 0, 7]


def test_intersection_crop_pad_reaches_beyond_the_data(make_stack) -> None:
    stack, data = nan_border_stack(make_stack)
    # top 1, bottom 2, left 0, right 2: rows 0..7 (6 and 7 beyond), cols 0..9
    run_pipeline(stack, "intersection_crop:pad=[1,2,0,2]")
    assert stack.image_shape == (7, 9)
    np.testing.assert_array_equal(stack.data[0, :6, :8], data[0])
    assert np.isnan(stack.data[:, 6, :]).all() and np.isnan(stack.data[:, :, 8]).all()
    assert stack.masks["m"][:, :6, :8].all() and not stack.masks["m"][:, 6].any()
    assert details(stack)["applied_pad"] == [0, 1, 0, 1]


def test_crop_square_is_centred_in_the_finite_region(make_stack) -> None:
    stack, data = nan_border_stack(make_stack)
    run_pipeline(stack, "crop_square")  # region 4x7 -> square 4, offset (0, 1)
    np.testing.assert_array_equal(stack.data, data[:, 1:5, 1:5])
    assert details(stack)["offset"] == [0, 1]
    stack, data = nan_border_stack(make_stack)
    run_pipeline(stack, "crop_square:pad=1")
    assert stack.image_shape == (6, 6)
    np.testing.assert_array_equal(stack.data[0], data[0, 0:6, 0:6])


@pytest.mark.parametrize("step", ["intersection_crop", "crop_square:pad=2"])
def test_crops_leave_a_stack_without_common_pixels_alone(make_stack, step) -> None:
    data = np.ones((2, 3, 4))
    data[0, :, :2] = NAN
    data[1, :, 2:] = NAN
    stack = make_stack(data.copy())
    run_pipeline(stack, step)
    np.testing.assert_array_equal(stack.data, data)
    assert "no pixel is finite in every frame" in details(stack)["note"]


# ---------------------------------------------------------------- NaN
@pytest.mark.parametrize(
    ("step", "fill"),
    [
        ("replace_nan", [0.0, 0.0]),
        ("replace_nan:mode=mean", [8 / 3, 12.0]),
        ("replace_nan:mode=median", [2.0, 12.0]),
        ("replace_nan:mode=global_mean", [6.4, 6.4]),
        ("replace_nan:mode=constant,value=-2", [-2.0, -2.0]),
    ],
)
def test_replace_nan(make_stack, step: str, fill: list[float]) -> None:
    data = np.array([[[1.0, 2.0], [NAN, 5.0]], [[NAN, NAN], [11.0, 13.0]]])
    stack = make_stack(data.copy())
    run_pipeline(stack, step)
    expected = data.copy()
    expected[0, 1, 0] = fill[0]
    expected[1, 0, :] = fill[1]
    np.testing.assert_allclose(stack.data, expected, rtol=1e-15)
    assert details(stack)["nans_filled"] == 3


def test_replace_nan_leaves_infinities(make_stack) -> None:
    stack = make_stack(np.array([[[np.inf, NAN]]]))
    run_pipeline(stack, "replace_nan")
    np.testing.assert_array_equal(stack.data, [[[np.inf, 0.0]]])


def test_replace_nan_checks_its_options() -> None:
    with pytest.raises(OptionError, match="mode=constant needs a value"):
        validate_steps("replace_nan:mode=constant")
    with pytest.raises(OptionError, match="must be one of zero, mean"):
        validate_steps("replace_nan:mode=nearest")


def test_replace_nan_mean_of_an_all_nan_frame_is_an_error(make_stack) -> None:
    stack = make_stack(np.array([[[1.0, NAN]], [[NAN, NAN]]]))
    with pytest.raises(ProcessingError, match=r"frames \[1\] have no pixel"):
        run_pipeline(stack, "replace_nan:mode=mean")


# ---------------------------------------------------------------- temporal
LEVELS = np.array([0.0, 1.0, 2.0, 10.0, 4.0])


def test_temporal_filters_by_hand(make_stack) -> None:
    data = LEVELS[:, None, None] * np.ones((5, 2, 3))
    stack = make_stack(data.copy())
    run_pipeline(stack, "temporal_mean_filter")
    means = [0.5, 1.0, 13 / 3, 16 / 3, 7.0]  # windows cut short at the ends
    np.testing.assert_allclose(stack.data[:, 0, 0], means)
    stack = make_stack(data.copy())
    run_pipeline(stack, "temporal_median_filter:window=5")
    np.testing.assert_allclose(stack.data[:, 1, 2], [1.0, 1.5, 2.0, 3.0, 4.0])
    stack = make_stack(data.astype(np.float32))
    run_pipeline(stack, "temporal_median_filter")
    assert stack.data.dtype == np.float32
    np.testing.assert_array_equal(stack.data[:, 0, 0], [0.5, 1.0, 2.0, 4.0, 7.0])


def test_temporal_filters_leave_nan_out(make_stack) -> None:
    data = LEVELS[:, None, None] * np.ones((5, 1, 2))
    data[1, 0, 0] = NAN
    data[:, 0, 1] = NAN
    stack = make_stack(data)
    run_pipeline(stack, "temporal_mean_filter")
    np.testing.assert_allclose(stack.data[:, 0, 0], [0.0, 1.0, 6.0, 16 / 3, 7.0])
    assert np.isnan(stack.data[:, 0, 1]).all()


def test_temporal_window_must_be_odd() -> None:
    with pytest.raises(OptionError, match="'window' must be odd"):
        validate_steps("temporal_mean_filter:window=4")


# ---------------------------------------------------------------- 0.5.0 files
YAML_050 = """\
filters:
  - name: remove_plane
  - name: align_frames
    reference_frame: 0
    method: fft_cross_correlation
    mode: pad
    debug: false
    max_shift: 4
  - name: rolling_frame_align
    window: 5
    mode: pad
    debug: false
    max_shift: null
    pre_filter_sigma: null
    max_jump: null
  - name: intersection_crop
    pad: 0
  - name: crop_square
    pad: [1, 1]
  - name: replace_nan
    mode: constant
    value: 0.0
  - name: temporal_median_filter
    window: 3
  - name: temporal_mean_filter
"""


def test_a_050_processing_file_runs_from_the_cli(tmp_path) -> None:
    steps = tmp_path / "lab.yaml"
    steps.write_text(YAML_050)
    names = [s.name for s in load_processing_file(steps)]
    assert names[1:4] == ["align_frames", "rolling_frame_align", "intersection_crop"]
    result = CliRunner().invoke(
        cli,
        ["process", "--synthetic", "--processing-file", str(steps), "-e", "npz",
         "-o", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [out] = tmp_path.glob("*.npz")
    stack = load_npz_bundle(out)
    recorded = [s["name"] for s in stack.provenance["processing"]["steps"]]
    assert recorded == [s.name for s in load_processing_file(steps)]
    assert np.isfinite(stack.data).all()


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("intersection_crop:pad=[1,2,3]", "pad takes 1, 2"),
        ("crop_square:pad=-1", ">= 0"),
        ("rolling_frame_align:window=0", ">= 1"),
        ("rolling_frame_align:mode=wrap", "must be one of pad, crop"),
    ],
)
def test_bad_options_are_refused_before_running(step: str, message: str) -> None:
    with pytest.raises(OptionError, match=message):
        validate_steps(step)
