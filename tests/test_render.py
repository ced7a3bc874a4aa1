"""playnano.render: colour table, height mapping, timing and annotated frames."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import matplotlib
import numpy as np
import pytest

from playnano.errors import ExportWarning, OptionError
from playnano.render import (
    BLACK_INDEX,
    DEFAULT_NAN_RGB,
    N_LEVELS,
    NAN_INDEX,
    WHITE_INDEX,
    auto_range,
    colormap_palette,
    frame_durations_s,
    heights_to_indices,
    prepare_render,
    render_frames,
    resolve_z_range,
    timestamp_label,
    upscale_factor,
)
from playnano.testing import HEAVY_MODULES, make_sample_stack


def test_import_is_light() -> None:
    code = (
        "import sys, playnano.render\n"
        f"print([m for m in {HEAVY_MODULES!r} if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------- palette
@pytest.mark.parametrize("name", ["afmhot", "viridis", "gray"])
def test_palette_is_the_colormap_plus_reserved_entries(name: str) -> None:
    pal = colormap_palette(name)
    cmap = matplotlib.colormaps[name]
    assert pal.shape == (256, 3) and pal.dtype == np.uint8
    expected = cmap.resampled(N_LEVELS)(np.arange(N_LEVELS), bytes=True)[:, :3]
    np.testing.assert_array_equal(pal[:N_LEVELS], expected)
    assert tuple(pal[0]) == tuple(cmap(0.0, bytes=True)[:3])
    assert tuple(pal[N_LEVELS - 1]) == tuple(cmap(1.0, bytes=True)[:3])
    assert tuple(pal[NAN_INDEX]) == DEFAULT_NAN_RGB
    assert tuple(pal[WHITE_INDEX]) == (255, 255, 255)
    assert tuple(pal[BLACK_INDEX]) == (0, 0, 0)


def test_unknown_colormap_suggests_a_close_name() -> None:
    with pytest.raises(OptionError, match="unknown colormap 'viridiss'.*'viridis'"):
        colormap_palette("viridiss")


# ------------------------------------------------------------------- z range
def test_min_and_max_are_the_exact_finite_extremes_of_the_stack() -> None:
    data = np.array([[[1.0, np.nan]], [[-2.0, 7.0]]])
    assert resolve_z_range(data, "min", "max") == (-2.0, 7.0)
    assert resolve_z_range(data, 0.0, "max") == (0.0, 7.0)
    assert resolve_z_range(data, "min", 3) == (-2.0, 3.0)
    with pytest.raises(OptionError, match="zmin must be a height in nm, auto or min"):
        resolve_z_range(data, "max", "max")


def test_min_and_max_ignore_infinities() -> None:
    data = np.array([[[1.0, np.inf]], [[-np.inf, 4.0]]])
    assert resolve_z_range(data, "min", "max") == (1.0, 4.0)


def test_auto_range_spans_every_frame_but_the_outlier_frames() -> None:
    rng = np.random.default_rng(1)
    data = rng.normal(0.0, 1.0, (5, 40, 40))
    data[1] += 0.5  # ordinary frames differ a little: each is shown whole
    data[2] *= 100.0  # an outlier frame
    data[0, 0, :3] = [np.nan, np.inf, -np.inf]
    ordinary = [f[np.isfinite(f)] for f in data[[0, 1, 3, 4]]]
    lo = min(np.percentile(f, 1) for f in ordinary)
    hi = max(np.percentile(f, 99) for f in ordinary)
    assert resolve_z_range(data) == pytest.approx((lo, hi))
    assert resolve_z_range(data, None, None) == pytest.approx((lo, hi))
    assert resolve_z_range(data, 0.0, "auto") == pytest.approx((0.0, hi))
    assert resolve_z_range(data, "auto", 3) == pytest.approx((lo, 3.0))
    found = auto_range(data)
    assert found.outliers == (2,) and found.sampled == 5
    # the pooled 1st/99th percentiles (the rule before) let the outlier set them
    pooled = np.percentile(data[np.isfinite(data)], [1, 99])
    assert pooled[1] - pooled[0] > 5 * (hi - lo)


def test_auto_range_keeps_a_minority_of_wild_frames_from_flattening_the_rest() -> None:
    """As on a real video whose last frames are a tip crash (±60 nm, others ±1)."""
    rng = np.random.default_rng(2)
    data = rng.normal(0.0, 0.3, (32, 50, 50))
    data[22:] = rng.normal(0.0, 30.0, (10, 50, 50))
    lo, hi = resolve_z_range(data)
    assert -1.5 < lo < -0.5 and 0.5 < hi < 1.5
    assert auto_range(data).outliers == tuple(range(22, 32))
    # a drift or a growing feature is no outlier: every frame keeps its own range
    drift = rng.normal(0.0, 0.3, (32, 50, 50)) + np.linspace(0, 20, 32)[:, None, None]
    lo, hi = resolve_z_range(drift)
    assert lo < 0 and hi > 20 and auto_range(drift).outliers == ()


def test_auto_range_on_a_long_stack_looks_at_a_sample() -> None:
    data = np.zeros((400, 64, 64))
    data[:, :, :32] = 1.0
    data[7] = 1e6  # a frame the sample of 64 evenly spaced frames skips
    assert resolve_z_range(data) == (0.0, 1.0)


def test_flat_stack_gets_a_range_around_its_value() -> None:
    assert resolve_z_range(np.full((2, 3, 3), 5.0)) == (4.5, 5.5)


def test_zmin_not_below_zmax_is_refused() -> None:
    data = np.zeros((1, 2, 2))
    with pytest.raises(OptionError, match=r"zmin \(3\) must be below zmax \(3\)"):
        resolve_z_range(data, 3.0, 3.0)
    with pytest.raises(OptionError, match=r"zmax \(0 auto\)"):
        resolve_z_range(data, 1.0, "auto")


def test_all_nan_stack_needs_explicit_range() -> None:
    data = np.full((2, 2, 2), np.nan)
    with pytest.raises(OptionError, match="no finite heights"):
        resolve_z_range(data)
    assert resolve_z_range(data, 0.0, 1.0) == (0.0, 1.0)


# ------------------------------------------------------------- index mapping
def test_heights_map_to_levels_with_clipping_and_nan() -> None:
    frame = np.array([[0.0, 10.0, 5.0, -3.0, 12.0, np.nan, np.inf, -np.inf]])
    idx = heights_to_indices(frame, 0.0, 10.0)
    assert idx.dtype == np.uint8
    top = N_LEVELS - 1
    assert idx.tolist() == [[0, top, N_LEVELS // 2, 0, top, NAN_INDEX, top, 0]]


@pytest.mark.parametrize("dtype", [np.float32, np.int16, np.uint8])
def test_any_numeric_dtype_maps(dtype: type) -> None:
    frame = np.array([[0, 50, 100]], dtype=dtype)
    assert heights_to_indices(frame, 0.0, 100.0).tolist() == [[0, 126, N_LEVELS - 1]]


def test_mapping_matches_matplotlib_with_the_resampled_colormap() -> None:
    rng = np.random.default_rng(1)
    frame = rng.normal(size=(30, 30))
    lo, hi = -1.0, 1.5
    ours = colormap_palette("afmhot")[heights_to_indices(frame, lo, hi)]
    cmap = matplotlib.colormaps["afmhot"].resampled(N_LEVELS)
    norm = matplotlib.colors.Normalize(lo, hi, clip=True)
    theirs = cmap(norm(frame), bytes=True)[..., :3]
    np.testing.assert_array_equal(ours, theirs)


def test_upscale_factor() -> None:
    assert upscale_factor((12, 17)) == 22
    assert upscale_factor((256, 300)) == 1
    assert upscale_factor((100, 1000)) == 3
    assert upscale_factor((8, 3000)) == 1  # the long side would exceed 4096


# -------------------------------------------------------------------- timing
def test_durations_from_timestamps_last_gets_the_median() -> None:
    assert frame_durations_s([0.0, 0.5, 1.5, 2.0]) == [0.5, 1.0, 0.5, 0.5]


def test_fps_overrides_timestamps() -> None:
    assert frame_durations_s([0.0, 0.5], fps=4) == [0.25, 0.25]
    with pytest.raises(OptionError, match="fps"):
        frame_durations_s([0.0], fps=0)


@pytest.mark.parametrize(
    ("times", "match"),
    [
        ([0.0, None, 1.0], "some frames have no timestamp"),
        ([0.0, 0.0, 1.0], "do not increase"),
        ([1.0, 0.5], "do not increase"),
    ],
)
def test_unusable_timestamps_fall_back_to_10_fps(
    times: list[float | None], match: str
) -> None:
    with pytest.warns(ExportWarning, match=f"{match}.*10 fps"):
        assert frame_durations_s(times) == [0.1] * len(times)


def test_single_frame_with_a_timestamp_needs_no_warning() -> None:
    assert frame_durations_s([3.0]) == [0.1]


def test_timestamp_label() -> None:
    assert timestamp_label(1.5, 3) == "1.50 s"
    assert timestamp_label(None, 3) == "frame 3"
    assert timestamp_label(0.0125, 0, 3) == "0.013 s"


# ------------------------------------------------------------------- frames
def test_render_frames_from_an_array_indices_and_rgb() -> None:
    data = np.stack([np.linspace(0, 1, 64 * 64).reshape(64, 64)] * 3)
    frames = render_frames(data, scale_bar_nm=0, draw_ts=False)
    assert isinstance(frames, Iterator)
    out = list(frames)
    assert len(out) == 3
    assert out[0].shape == (256, 256) and out[0].dtype == np.uint8
    assert out[0][0, 0] == 0 and out[0][-1, -1] == N_LEVELS - 1
    rgb = list(render_frames(data, scale_bar_nm=0, draw_ts=False, rgb=True))
    assert rgb[0].shape == (256, 256, 3) and rgb[0].dtype == np.uint8
    np.testing.assert_array_equal(rgb[0], colormap_palette()[out[0]])


def test_settings_are_checked_before_the_first_frame() -> None:
    data = np.zeros((2, 8, 8))
    with pytest.raises(OptionError, match="unknown colormap"):
        render_frames(data, cmap="nope", scale_bar_nm=0)
    with pytest.raises(OptionError, match="needs pixel_size_nm"):
        render_frames(data)
    with pytest.raises(OptionError, match="scale_bar_nm"):
        render_frames(data, pixel_size_nm=1.0, scale_bar_nm=-5)
    with pytest.raises(OptionError, match="one pixel size and one timestamp"):
        render_frames(data, scale_bar_nm=0, timestamps=[0.0])


def test_array_with_pixel_size_gets_a_scale_bar() -> None:
    data = np.zeros((1, 64, 64))
    [frame] = render_frames(data, pixel_size_nm=1.0, scale_bar_nm=20, draw_ts=False)
    assert frame.shape == (256, 256)
    assert np.count_nonzero(frame == WHITE_INDEX) > 20 * 4  # bar, 4x enlarged


def test_stack_source_uses_its_metadata_and_raw_snapshot() -> None:
    stack = make_sample_stack()
    r = prepare_render(stack, scale_bar_nm=10, zmin="min", zmax="max")
    assert r.times == stack.get_frame_times()
    assert r.upscale == 22 and r.size == (17 * 22, 12 * 22)
    assert (r.zmin, r.zmax) == (float(stack.data.min()), float(stack.data.max()))
    raw = prepare_render(stack, raw=True, scale_bar_nm=10, zmax="max")
    assert raw.data is stack.processed["raw"]  # no copy
    assert raw.zmax == float(stack.processed["raw"].max())


def test_rendering_holds_one_frame_at_a_time() -> None:
    import tracemalloc

    data = np.random.default_rng(0).normal(size=(60, 128, 128))  # 7.9 MB
    frames = render_frames(data, pixel_size_nm=1.0, scale_bar_nm=20)
    tracemalloc.start()
    try:
        for _ in frames:
            pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < data.nbytes / 8  # a few frame-sized buffers, never the stack


def test_a_single_frame_gets_no_timestamp() -> None:
    """A still image has no time to show: "0.00 s" on it said nothing."""
    data = np.zeros((2, 64, 64))
    data[:, :, 32:] = 1.0
    one = next(render_frames(data[:1], scale_bar_nm=0, timestamps=[0.0]))
    two = next(render_frames(data, scale_bar_nm=0, timestamps=[0.0, 1.0]))
    assert not np.any(one == WHITE_INDEX)
    assert np.any(two == WHITE_INDEX)  # the text of "0.00 s"
