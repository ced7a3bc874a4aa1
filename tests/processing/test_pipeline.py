"""The pipeline: strict validation before running, storage, masks, provenance, undo."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from playnano.errors import OptionError, ProcessingError
from playnano.plugins.step import FilterSpec
from playnano.processing import (
    ProcessingPipeline,
    ResolvedStep,
    run_pipeline,
    validate_steps,
)
from playnano.processing.parsing import Step, parse_steps
from tests.processing.synthetic import grid, symmetric_bumps, tilted_plane


@pytest.fixture
def stack(make_stack):
    rng = np.random.default_rng(0)
    frames = np.stack([tilted_plane() + symmetric_bumps() for _ in range(3)])
    return make_stack(frames + rng.normal(scale=0.01, size=frames.shape))


@pytest.mark.parametrize(
    ("step", "error", "match"),
    [
        (
            "remove_plan",
            ProcessingError,
            "step 2: unknown filter 'remove_plan'; did you mean remove_plane",
        ),
        (
            "gaussian_filter:sigm=2",
            OptionError,
            r"unknown option 'sigm' \(did you mean 'sigma'\?\)",
        ),
        ("gaussian_filter:sigma=abc", OptionError, "option 'sigma': expected a number"),
        ("gaussian_filter:sigma=0", OptionError, "must be > 0"),
        ("gaussian_filter:sigma=None", OptionError, "a value is required"),
        ("polynomial_flatten:order=6", OptionError, "must be <= 5"),
        ("polynomial_flatten:order=2.5", OptionError, "expected an integer"),
        ("polynomial_flatten:order=true", OptionError, "expected an integer"),
        ("median_filter:size=4", OptionError, "must be odd"),
        ("drop_frames", OptionError, "missing required option indices_to_drop"),
        ("drop_frames:indices_to_drop=[1,x]", OptionError, "expected an integer"),
        ("drop_frame_range:start=3,end=2", OptionError, r"start \(3\) must be less"),
        (
            "align_frames:mode=wrap",
            OptionError,
            "must be one of pad, crop, crop_square",
        ),
        ("clear:now=true", OptionError, "unknown option 'now'"),
        ("gaussian_filter:sigma", ProcessingError, "write gaussian_filter:sigma=value"),
        ("nobody:remove_plane", ProcessingError, "unknown filter"),
    ],
)
def test_invalid_steps_fail_before_anything_runs(stack, step, error, match) -> None:
    data = stack.data
    steps = parse_steps(f"remove_plane; {step}")
    with pytest.raises(error, match=match):
        run_pipeline(stack, steps)
    assert stack.data is data
    assert not stack.processed and not stack.masks
    assert stack.provenance["processing"]["steps"] == []


def test_validate_accepts_names_tuples_steps_and_resolved() -> None:
    resolved = validate_steps(
        ["zero_mean", ("gaussian_filter", {"sigma": "1e-1"}), Step("align", {})]
    )
    assert [r.name for r in resolved] == [
        "zero_mean",
        "gaussian_filter",
        "align_frames",
    ]
    assert resolved[1].params == {"sigma": 0.1}
    assert resolved[2].params["mode"] == "pad"  # defaults filled in
    assert validate_steps(resolved) == resolved
    with pytest.raises(ProcessingError, match="expected a Step"):
        validate_steps([42])  # type: ignore[list-item]


def test_run_stores_layers_raw_and_provenance(stack) -> None:
    original = stack.data.copy()
    calls: list[tuple[int, int, str]] = []
    run_pipeline(
        stack,
        parse_steps("remove_plane; gaussian_filter:sigma=2; zero_median"),
        progress=lambda *a: calls.append(a),
    )
    assert calls == [
        (1, 3, "remove_plane"),
        (2, 3, "gaussian_filter"),
        (3, 3, "zero_median"),
    ]
    assert list(stack.processed) == [
        "raw",
        "step_1_remove_plane",
        "step_2_gaussian_filter",
        "step_3_zero_median",
    ]
    np.testing.assert_array_equal(stack.processed["raw"], original)
    np.testing.assert_array_equal(stack.data, stack.processed["step_3_zero_median"])
    assert stack.data is stack.processed["step_3_zero_median"]  # one array, read-only
    steps = stack.provenance["processing"]["steps"]
    assert [s["index"] for s in steps] == [1, 2, 3]
    gauss = steps[1]
    assert gauss["name"] == "gaussian_filter" and gauss["kind"] == "filter"
    assert gauss["params"] == {"sigma": 2.0}
    assert gauss["version"] == "1.0.0" and gauss["plugin"] == "playnano"
    assert gauss["output_key"] == "step_2_gaussian_filter"
    assert gauss["duration_s"] >= 0
    dt.datetime.fromisoformat(gauss["timestamp"])
    assert stack.provenance["processing"]["keys_by_name"]["zero_median"] == [
        "step_3_zero_median"
    ]


def test_defaults_are_recorded(stack) -> None:
    run_pipeline(stack, ["polynomial_flatten"])
    assert stack.provenance["processing"]["steps"][0]["params"] == {"order": 2}


def test_mask_makes_levelling_fit_the_background(make_stack) -> None:
    yy, xx = grid()
    feature = np.where((yy < 16) & (xx < 16), 50.0, 0.0)
    frames = np.stack([tilted_plane() + feature] * 2)
    masked, plain = make_stack(frames), make_stack(frames.copy())
    run_pipeline(masked, parse_steps("mask_threshold:threshold=40; remove_plane"))
    run_pipeline(plain, parse_steps("remove_plane"))
    background = feature == 0
    np.testing.assert_allclose(masked.data[:, background], 0.0, atol=1e-9)
    assert np.ptp(plain.data[:, background]) > 1.0
    np.testing.assert_array_equal(masked.masks["step_1_mask_threshold"][0], feature > 0)
    rec = masked.provenance["processing"]["steps"][1]
    assert rec["mask_key"] == "step_1_mask_threshold"


def test_masks_combine_until_cleared(stack) -> None:
    run_pipeline(
        stack,
        parse_steps(
            "remove_plane; mask_threshold:threshold=3; mask_below_threshold:threshold=-0.32;"
            "zero_mean; clear; zero_median; mask_threshold:threshold=10"
        ),
    )
    high = stack.masks["step_2_mask_threshold"]
    union = stack.masks["step_3_mask_below_threshold"]
    levelled = stack.processed["step_1_remove_plane"]
    np.testing.assert_array_equal(union, high | (levelled < -0.32))
    assert union.sum() > high.sum()
    steps = stack.provenance["processing"]["steps"]
    assert steps[2]["combined_with"] == "step_2_mask_threshold"
    assert steps[3]["mask_key"] == "step_3_mask_below_threshold"
    assert steps[4]["kind"] == "clear" and steps[4]["output_key"] is None
    assert steps[4]["cleared_mask"] == "step_3_mask_below_threshold"
    assert "mask_key" not in steps[5]
    assert "combined_with" not in steps[6]


def test_stack_steps_keep_masks_metadata_and_raw(stack) -> None:
    before = [dict(m) for m in stack.frame_metadata]
    run_pipeline(
        stack,
        parse_steps(
            "mask_threshold:threshold=20; drop_frames:indices_to_drop=[1];"
            "align_frames:mode=crop; remove_plane"
        ),
    )
    assert stack.n_frames == 2
    assert stack.masks["step_1_mask_threshold"].shape == stack.data.shape
    assert [m["timestamp"] for m in stack.frame_metadata] == [0.0, 1.0]
    assert stack.state_backups["frame_metadata_before_edit"] == before
    raw, meta = stack.export_source(raw=True)
    assert raw.shape[0] == 3 and len(meta) == 3
    steps = stack.provenance["processing"]["steps"]
    assert steps[1]["details"]["dropped_frames"] == [1]
    assert steps[2]["details"]["shifts_px"] == [[0.0, 0.0], [0.0, 0.0]]
    assert steps[3]["mask_key"] == "step_1_mask_threshold"  # still active
    assert "step_2_drop_frames" in stack.processed


def test_a_failing_step_restores_the_stack(stack) -> None:
    data, meta = stack.data, [dict(m) for m in stack.frame_metadata]
    steps = parse_steps("remove_plane; mask_threshold; drop_frames:indices_to_drop=[9]")
    with pytest.raises(ProcessingError, match=r"outside 0\.\.2"):
        run_pipeline(stack, steps)
    assert stack.data is data and stack.frame_metadata == meta
    assert not stack.processed and not stack.masks and not stack.state_backups
    assert stack.provenance["processing"] == {"steps": [], "keys_by_name": {}}


def _custom(kind: str, func) -> ResolvedStep:
    spec = FilterSpec(name="custom", description="A test step.", kind=kind, func=func)
    return ResolvedStep("custom", spec, {}, "tests", "step 1")


def _fails_on_second_frame(frame):
    if frame[0, 0] > 0:
        raise ValueError("boom")
    return frame


@pytest.mark.parametrize(
    ("kind", "func", "match"),
    [
        ("filter", _fails_on_second_frame, "failed on frame 1: ValueError: boom"),
        ("filter", lambda frame: frame[:2], r"returned shape \(2, 4\) for frame 0"),
        ("filter", lambda frame: frame > 0, "expected real numbers"),
        ("mask", lambda frame: frame, "a mask must be boolean"),
        ("stack", lambda stack: 1 / 0, r"step 1 \(custom\) failed: ZeroDivisionError"),
    ],
)
def test_misbehaving_plugins_are_reported(make_stack, kind, func, match) -> None:
    stack = make_stack(np.arange(2 * 4 * 4, dtype=float).reshape(2, 4, 4))
    with pytest.raises(ProcessingError, match=match):
        run_pipeline(stack, [_custom(kind, func)])
    assert not stack.processed


def test_step_numbers_continue_across_runs(stack) -> None:
    run_pipeline(stack, ["remove_plane"])
    raw = stack.processed["raw"]
    run_pipeline(stack, ["zero_mean", "mask_threshold"])
    assert stack.processed["raw"] is raw
    assert list(stack.processed)[1:] == ["step_1_remove_plane", "step_2_zero_mean"]
    assert list(stack.masks) == ["step_3_mask_threshold"]
    assert [s["index"] for s in stack.provenance["processing"]["steps"]] == [1, 2, 3]


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [(np.float64, np.float64), (np.float32, np.float32), (np.int16, np.float64)],
)
def test_dtype_through_the_pipeline(make_stack, dtype, expected) -> None:
    stack = make_stack((np.stack([tilted_plane()] * 2) * 10).astype(dtype))
    run_pipeline(stack, ["remove_plane", "median_filter"])
    assert stack.data.dtype == expected
    assert stack.processed["raw"].dtype == dtype


def test_processing_pipeline_api(stack) -> None:
    pipeline = (
        ProcessingPipeline(stack)
        .add_filter("remove_plane")
        .add_mask("mask_threshold", threshold=2.0)
        .add_filter("zero_median")
        .clear_mask()
        .add_filter("gaussian_filter", sigma=1.0)
    )
    assert [s.name for s in pipeline.steps] == [
        "remove_plane",
        "mask_threshold",
        "zero_median",
        "clear",
        "gaussian_filter",
    ]
    assert len(pipeline.validate()) == 5
    out = pipeline.run()
    assert out is stack.data
    assert "step_5_gaussian_filter" in stack.processed
    with pytest.raises(OptionError, match="did you mean 'sigma'"):
        ProcessingPipeline(stack).add_filter("gaussian_filter", sigmaa=1).run()


def test_a_step_string_is_accepted_directly() -> None:
    from playnano.testing import make_sample_stack

    stack = make_sample_stack(processed=False, masks=False)
    run_pipeline(stack, "remove_plane;gaussian_filter:sigma=1.5")
    steps = stack.provenance["processing"]["steps"]
    assert [s["name"] for s in steps] == ["remove_plane", "gaussian_filter"]
    assert steps[1]["params"]["sigma"] == 1.5
    assert sorted(stack.processed) == [
        "raw",
        "step_1_remove_plane",
        "step_2_gaussian_filter",
    ]
