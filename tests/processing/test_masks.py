"""Mask generators: True marks features; NaN is never marked."""

from __future__ import annotations

import numpy as np
import pytest

from playnano.processing import masks as m
from tests.processing.synthetic import H, W, grid, symmetric_bumps

GENERATORS = [
    (m.mask_threshold, {"threshold": 1.0}),
    (m.mask_below_threshold, {"threshold": 1.0}),
    (m.mask_mean_offset, {"factor": 1.0}),
    (m.mask_morphological, {"threshold": 1.0, "structure_size": 3}),
    (m.mask_adaptive, {"block_size": 7, "offset": 0.5}),
]


@pytest.mark.parametrize(("gen", "params"), GENERATORS)
def test_boolean_of_frame_shape_and_nan_never_marked(gen, params) -> None:
    frame = symmetric_bumps()
    frame[0:3, 0:3] = np.nan
    out = gen(frame, **params)
    assert out.dtype == np.bool_ and out.shape == frame.shape
    assert not out[0:3, 0:3].any()


def test_thresholds() -> None:
    frame = np.array([[0.0, 1.0, 2.0], [3.0, -1.0, np.nan]])
    np.testing.assert_array_equal(
        m.mask_threshold(frame, threshold=1.0),
        [[False, False, True], [True, False, False]],
    )
    np.testing.assert_array_equal(
        m.mask_below_threshold(frame, threshold=1.0),
        [[True, False, False], [False, True, False]],
    )
    assert m.mask_threshold(frame).sum() == 3  # default threshold 0.0


def test_mask_mean_offset_marks_outliers() -> None:
    rng = np.random.default_rng(0)
    frame = rng.normal(scale=0.1, size=(H, W))
    frame[20:24, 30:34] = 10.0
    out = m.mask_mean_offset(frame, factor=2.0)
    assert out[20:24, 30:34].all()
    assert out.sum() == 16
    assert not m.mask_mean_offset(np.full((4, 4), np.nan)).any()


def test_mask_morphological_closes_gaps_and_keeps_border_features() -> None:
    frame = np.zeros((20, 20))
    frame[5:10, 5:15] = 3.0
    frame[7, 9] = 0.0  # a one-pixel hole
    frame[:, 0:2] = -3.0  # |height| counts; touches the border
    out = m.mask_morphological(frame, threshold=1.0, structure_size=3)
    assert out[7, 9]
    assert out[:, 0:2].all()
    assert not out[15:, 5:].any()
    np.testing.assert_array_equal(
        m.mask_morphological(frame, threshold=1.0, structure_size=1),
        np.abs(frame) > 1.0,
    )


def test_mask_adaptive_follows_a_sloped_background() -> None:
    _, xx = grid()
    frame = 0.5 * xx + symmetric_bumps(height=5.0)  # the slope exceeds the bump height
    out = m.mask_adaptive(frame, block_size=15, offset=1.0)
    bumps = symmetric_bumps() > 0
    assert out[bumps].mean() > 0.9
    assert out[~bumps].mean() < 0.05


def test_clear_is_a_marker() -> None:
    assert m.clear() is None
