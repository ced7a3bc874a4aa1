"""Per-frame filters: known surfaces recovered, masked fits, dtypes, non-finite pixels."""

from __future__ import annotations

import numpy as np
import pytest

from playnano.errors import ProcessingError
from playnano.processing import filters as f
from tests.processing.synthetic import H, W, grid, symmetric_bumps, tilted_plane

LEVELLING = [
    (f.remove_plane, f.remove_plane_masked, {}),
    (f.row_median_align, f.row_median_align_masked, {}),
    (f.polynomial_flatten, f.polynomial_flatten_masked, {"order": 3}),
    (f.zero_mean, f.zero_mean_masked, {}),
    (f.zero_median, f.zero_median_masked, {}),
]


def test_remove_plane_recovers_symmetric_bumps() -> None:
    bumps = symmetric_bumps()
    out = f.remove_plane(tilted_plane() + bumps)
    # the bumps' own plane is flat by symmetry; only their mean is removed
    np.testing.assert_allclose(out, bumps - bumps.mean(), atol=1e-9, rtol=0)


def test_remove_plane_masked_recovers_bumps_exactly() -> None:
    bumps = symmetric_bumps()
    out = f.remove_plane_masked(tilted_plane() + bumps, bumps > 0)
    np.testing.assert_allclose(out, bumps, atol=1e-9, rtol=0)


def test_masked_levelling_ignores_a_tall_feature() -> None:
    yy, xx = grid()
    feature = np.where((yy < 16) & (xx < 16), 50.0, 0.0)  # one corner: tilts a fit
    frame = tilted_plane() + feature
    mask = feature > 0
    unmasked = f.remove_plane(frame)
    masked = f.remove_plane_masked(frame, mask)
    background = ~mask
    assert np.ptp(unmasked[background]) > 1.0  # the feature pulled the plane over
    np.testing.assert_allclose(masked[background], 0.0, atol=1e-9)
    np.testing.assert_allclose(masked[mask], 50.0, atol=1e-9)


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
def test_polynomial_flatten_removes_a_surface_of_its_order(order: int) -> None:
    yy, xx = grid()
    x, y = xx / W, yy / H
    surface = sum((k + 1) * x ** (order - k) * y**k for k in range(order + 1)) + 2.0
    bumps = symmetric_bumps()
    out = f.polynomial_flatten_masked(surface + bumps, bumps > 0, order=order)
    np.testing.assert_allclose(out, bumps, atol=1e-8, rtol=0)
    np.testing.assert_allclose(f.polynomial_flatten(surface, order), 0.0, atol=1e-8)


def test_polynomial_flatten_of_lower_order_leaves_curvature() -> None:
    yy, _ = grid()
    bowl = ((yy - H / 2) / H) ** 2
    assert np.ptp(f.polynomial_flatten(bowl, order=1)) > 0.05
    np.testing.assert_allclose(f.polynomial_flatten(bowl, order=2), 0.0, atol=1e-10)


def test_row_median_align_removes_row_offsets() -> None:
    rng = np.random.default_rng(1)
    offsets = rng.normal(scale=3.0, size=(H, 1))
    frame = rng.normal(scale=0.1, size=(H, W)) + offsets
    out = f.row_median_align(frame)
    np.testing.assert_allclose(np.median(out, axis=1), 0.0, atol=1e-12)


def test_row_median_align_masked_uses_background_medians() -> None:
    frame = np.tile(np.arange(H, dtype=float)[:, None], (1, W))  # row i is height i
    frame[:, :40] += 10.0  # a feature covering most of each row
    mask = np.zeros_like(frame, dtype=bool)
    mask[:, :40] = True
    mask[0] = True  # a fully masked row is left as it is
    out = f.row_median_align_masked(frame, mask)
    np.testing.assert_allclose(out[1:, 40:], 0.0)
    np.testing.assert_allclose(out[1:, :40], 10.0)
    np.testing.assert_array_equal(out[0], frame[0])
    assert np.all(np.median(f.row_median_align(frame)[1:, 40:], axis=1) < 0)


@pytest.mark.parametrize(
    ("plain", "masked", "stat"),
    [
        (f.zero_mean, f.zero_mean_masked, np.mean),
        (f.zero_median, f.zero_median_masked, np.median),
    ],
)
def test_zero_offsets(plain, masked, stat) -> None:
    rng = np.random.default_rng(2)
    frame = rng.normal(loc=4.0, size=(H, W))
    frame[:10] += 100.0
    mask = np.zeros_like(frame, dtype=bool)
    mask[:10] = True
    assert abs(stat(plain(frame))) < 1e-12
    out = masked(frame, mask)
    assert abs(stat(out[~mask])) < 1e-12
    np.testing.assert_allclose(out - frame, -stat(frame[~mask]))


@pytest.mark.parametrize(("plain", "masked", "params"), LEVELLING)
@pytest.mark.parametrize(
    ("dtype", "expected"),
    [(np.float64, np.float64), (np.float32, np.float32), (np.int16, np.float64)],
)
def test_levelling_dtype(plain, masked, params, dtype, expected) -> None:
    frame = (tilted_plane() * 10).astype(dtype)
    mask = symmetric_bumps() > 0
    assert plain(frame, **params).dtype == expected
    assert masked(frame, mask, **params).dtype == expected
    assert frame.dtype == dtype  # input untouched


@pytest.mark.parametrize(("plain", "masked", "params"), LEVELLING)
def test_levelling_skips_non_finite_pixels(plain, masked, params) -> None:
    frame = tilted_plane()
    frame[5:8, 10:20] = np.nan
    out = plain(frame, **params)
    assert np.isnan(out[5:8, 10:20]).all()
    assert np.isfinite(np.delete(out.ravel(), np.flatnonzero(np.isnan(frame)))).all()
    out_m = masked(frame, np.zeros(frame.shape, bool), **params)
    np.testing.assert_allclose(out_m, out, equal_nan=True)


def test_remove_plane_with_nan_still_fits_the_rest() -> None:
    frame = tilted_plane()
    frame[:, :3] = np.nan
    out = f.remove_plane(frame)
    np.testing.assert_allclose(out[:, 3:], 0.0, atol=1e-9)


@pytest.mark.parametrize(("plain", "masked", "params"), LEVELLING[:1] + LEVELLING[2:])
def test_full_mask_is_an_error(plain, masked, params) -> None:
    frame = tilted_plane()
    with pytest.raises(ProcessingError, match="background"):
        masked(frame, np.ones(frame.shape, bool), **params)


def test_mask_shape_mismatch_and_3d_input_are_errors() -> None:
    with pytest.raises(ProcessingError, match="mask shape"):
        f.remove_plane_masked(np.zeros((4, 4)), np.zeros((4, 5), bool))
    with pytest.raises(ProcessingError, match="2D frame"):
        f.zero_mean(np.zeros((2, 4, 4)))


def test_gaussian_filter_smooths_and_keeps_constants() -> None:
    rng = np.random.default_rng(3)
    noise = rng.normal(size=(H, W))
    assert f.gaussian_filter(noise, 2.0).std() < noise.std() / 3
    np.testing.assert_allclose(f.gaussian_filter(np.full((H, W), 3.0), 1.5), 3.0)
    assert f.gaussian_filter(noise.astype(np.float32), 1.0).dtype == np.float32
    assert f.gaussian_filter(np.ones((4, 4), np.int16), 1.0).dtype == np.float64


def test_gaussian_filter_keeps_nan_out_of_neighbours() -> None:
    frame = np.full((H, W), 2.0)
    frame[10:12, 10:12] = np.nan
    out = f.gaussian_filter(frame, 2.0)
    assert np.isnan(out[10:12, 10:12]).all()
    finite = np.isfinite(frame)
    np.testing.assert_allclose(out[finite], 2.0)


def test_median_filter_removes_spikes_and_keeps_dtype() -> None:
    frame = np.zeros((16, 16), dtype=np.int32)
    frame[5, 7] = 1000
    out = f.median_filter(frame, size=3)
    assert out.dtype == np.int32
    assert out.max() == 0


def test_vertical_flip() -> None:
    frame = np.arange(12).reshape(3, 4)
    out = f.vertical_flip(frame)
    np.testing.assert_array_equal(out, frame[::-1])
    out[0, 0] = -1
    assert frame[2, 0] == 8  # a copy, not a view
