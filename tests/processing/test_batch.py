"""Processing without needless copies (issue 9), with results equal to before.

The surface fits run on blocks of frames with one shared solve; the reference here
is a plain per-frame ``np.linalg.lstsq`` on the finite pixels, written in the test.
The raw snapshot is the data array itself until a step changes the data.
"""

from __future__ import annotations

import numpy as np
import pytest

from playnano.errors import ProcessingError
from playnano.plugins.step import FilterSpec
from playnano.processing import ResolvedStep, run_pipeline
from playnano.processing import apply as pl


def reference_surface(frame: np.ndarray, order: int) -> np.ndarray:
    """Per-frame least squares on finite pixels, coordinates scaled to [-1, 1]."""
    h, w = frame.shape
    yy, xx = np.meshgrid(np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing="ij")
    terms = [(t - j, j) for t in range(order + 1) for j in range(t + 1)]
    a = np.stack([(xx**i * yy**j).ravel() for i, j in terms], axis=1)
    z = frame.astype(np.float64).ravel()
    ok = np.isfinite(z)
    coeff = np.linalg.lstsq(a[ok], z[ok], rcond=None)[0]
    return (a @ coeff).reshape(h, w)


def reference_flatten(frame: np.ndarray, order: int) -> np.ndarray:
    return frame.astype(np.float64) - reference_surface(frame, order)


def tilted_stack(n: int = 9, h: int = 20, w: int = 24, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    frames = [
        5 + 0.3 * i + (0.2 + 0.01 * i) * xx - 0.1 * yy + 0.002 * xx * yy
        + rng.normal(0, 0.05, (h, w))
        for i in range(n)
    ]  # fmt: skip
    return np.stack(frames)


@pytest.fixture(params=[10**9, 8 * 20 * 24 * 2], ids=["one_block", "blocks_of_2"])
def batch_bytes(request, monkeypatch) -> int:
    monkeypatch.setattr(pl, "BATCH_BYTES", request.param)
    return request.param


@pytest.mark.parametrize("order", [1, 2, 5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16])
def test_stack_fits_equal_per_frame_least_squares(
    make_stack, batch_bytes, order: int, dtype
) -> None:
    data = (tilted_stack() * (100 if dtype == np.int16 else 1)).astype(dtype)
    if dtype != np.int16:
        data[3, 2:5, 7] = np.nan  # a frame with NaN is fitted on its finite pixels
        data[6, 0, 0] = np.inf
    stack = make_stack(data)
    step = "remove_plane" if order == 1 else f"polynomial_flatten:order={order}"
    run_pipeline(stack, step)
    expected = np.stack([reference_flatten(f, order) for f in data])
    out_dtype = np.float64 if dtype == np.int16 else dtype
    assert stack.data.dtype == out_dtype
    tol = 1e-5 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(stack.data, expected.astype(out_dtype), atol=tol, rtol=0)
    if dtype != np.int16:
        assert np.isnan(stack.data[3, 2:5, 7]).all() and np.isinf(stack.data[6, 0, 0])


def test_a_mask_makes_the_fit_per_frame_again(make_stack) -> None:
    data = tilted_stack()
    data[:, 5:9, 5:9] += 40.0  # a feature the background fit must ignore
    stack = make_stack(data)
    run_pipeline(stack, "mask_threshold:threshold=30;remove_plane")
    background = np.ones(data.shape[1:], bool)
    background[5:9, 5:9] = False
    for got, frame in zip(stack.data, data, strict=True):
        background_only = np.where(background, frame, np.nan)
        expected = frame - reference_surface(background_only, 1)
        np.testing.assert_allclose(got, expected, atol=1e-9, rtol=0)


def test_a_frame_that_cannot_be_fitted_is_named(make_stack) -> None:
    data = tilted_stack()
    data[4] = np.nan
    data[4, 0, :2] = 1.0
    with pytest.raises(ProcessingError, match=r"failed on frame 4: .*2 finite pixels"):
        run_pipeline(make_stack(data), "remove_plane")


# ---------------------------------------------------------------- raw snapshot
def test_the_raw_snapshot_is_not_a_copy(make_stack) -> None:
    data = tilted_stack()
    stack = make_stack(data)
    run_pipeline(stack, "remove_plane;gaussian_filter")
    raw = stack.processed["raw"]
    assert raw.base is data and np.shares_memory(raw, data)
    assert not np.shares_memory(stack.data, data)
    for layer in stack.processed.values():  # a stored layer cannot be edited ...
        with pytest.raises(ValueError, match="read-only"):
            layer[0, 0, 0] = 0
    np.testing.assert_array_equal(raw, tilted_stack())  # ... so the snapshot holds
    data[0, 0, 0] = 1.0  # the caller's own array stays theirs to edit


def test_data_is_the_last_layer_itself(make_stack) -> None:
    stack = make_stack(tilted_stack())
    run_pipeline(stack, "remove_plane;mask_threshold:threshold=0.5")
    assert stack.data is stack.processed["step_1_remove_plane"]
    assert not stack.masks["step_2_mask_threshold"].flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        stack.data[:] = 0
    edited = stack.data.copy()  # the way to edit: a copy of one's own
    edited[:] = 0
    assert stack.processed["step_1_remove_plane"].any()


def test_a_mask_only_run_holds_one_array(make_stack) -> None:
    data = tilted_stack()
    stack = make_stack(data)
    run_pipeline(stack, "mask_threshold:threshold=5")
    assert stack.data is stack.processed["raw"]
    assert np.shares_memory(stack.data, data) and not stack.data.flags.writeable
    np.testing.assert_array_equal(stack.data, tilted_stack())


def _plugin(kind: str, func) -> ResolvedStep:
    spec = FilterSpec(
        name="inplace", description="Edits its input.", kind=kind, func=func
    )
    return ResolvedStep("inplace", spec, {}, "some-plugin", "step 1")


def _edit_frame(frame):
    frame += 1000.0
    return frame


def _edit_stack(stack):
    stack.data += 1000.0


@pytest.mark.parametrize(
    ("kind", "func"), [("filter", _edit_frame), ("stack", _edit_stack)]
)
def test_a_plugin_editing_in_place_cannot_touch_the_snapshot(
    make_stack, kind, func
) -> None:
    data = tilted_stack()
    stack = make_stack(data)
    run_pipeline(stack, [_plugin(kind, func)])
    np.testing.assert_array_equal(stack.processed["raw"], tilted_stack())
    np.testing.assert_array_equal(stack.data, tilted_stack() + 1000.0)


@pytest.mark.parametrize(
    "steps",
    [
        "remove_plane;mask_threshold:threshold=6",
        "polynomial_flatten:order=2;gaussian_filter:sigma=1",
        "mask_mean_offset;remove_plane;row_median_align;clear;zero_median",
    ],
)
def test_every_thread_count_gives_the_same_bits(
    make_stack, monkeypatch: pytest.MonkeyPatch, steps: str
) -> None:
    """Blocks and frames run on a thread pool; each is computed as alone."""
    from playnano.io import codec

    monkeypatch.setattr(pl, "BATCH_BYTES", 3 * 8 * 20 * 24)  # 3-frame blocks
    data = tilted_stack(n=23)
    data[7, 2:5, 3] = np.nan  # one frame fitted on its own
    runs = []
    for n in (1, 2, 5):
        stack = make_stack(data.copy())
        with codec.using_threads(n):
            run_pipeline(stack, steps)
        runs.append(stack)
    for other in runs[1:]:
        for key, layer in runs[0].processed.items():
            assert layer.tobytes() == other.processed[key].tobytes(), key
        for key, mask in runs[0].masks.items():
            assert np.array_equal(mask, other.masks[key]), key
        assert runs[0].data.tobytes() == other.data.tobytes()
