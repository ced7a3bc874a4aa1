"""The generated demo video looks like HS-AFM data before flattening."""

from __future__ import annotations

import numpy as np

from playnano.synthetic import synthetic_hsafm


def test_shape_metadata_and_determinism() -> None:
    a = synthetic_hsafm(n_frames=6, size_px=64, seed=3)
    b = synthetic_hsafm(n_frames=6, size_px=64, seed=3)
    np.testing.assert_array_equal(a.data, b.data)
    assert a.data.shape == (6, 64, 64) and a.data.dtype == np.float64
    assert a.get_frame_times() == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    assert not np.array_equal(
        a.data, synthetic_hsafm(n_frames=6, size_px=64, seed=4).data
    )


def test_tilt_particles_and_line_noise_are_there() -> None:
    stack = synthetic_hsafm(n_frames=4, size_px=96)
    frame = stack.data[0]
    yy, xx = np.mgrid[0:96, 0:96]
    design = np.c_[xx.ravel(), yy.ravel(), np.ones(xx.size)]
    coef, *_ = np.linalg.lstsq(design, frame.ravel(), rcond=None)
    assert abs(coef[0]) > 0.01  # a tilted background
    residual = frame - (design @ coef).reshape(frame.shape)
    assert residual.max() > 1.5  # particles a few nm high stand out
    row_offsets = np.median(residual, axis=1)
    assert row_offsets.std() > 0.1  # scan-line offsets
    assert not np.array_equal(stack.data[0], stack.data[1])
