"""Drift correction: shifts estimated and applied, masks moved with their frames."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from playnano.errors import ProcessingError
from playnano.processing import alignment as s
from tests.processing.synthetic import texture

OFFSETS = np.array([[0, 0], [2, -3], [5, 1], [-4, 6], [7, -7]])


def drifting(offsets: np.ndarray = OFFSETS, size: int = 48, margin: int = 10):
    """Frames cut from one texture at known offsets: frame i = T[n + offsets[i]]."""
    field = texture((size + 2 * margin, size + 2 * margin))
    frames = [
        field[margin + dy : margin + dy + size, margin + dx : margin + dx + size]
        for dy, dx in offsets
    ]
    return np.stack(frames), field


@pytest.mark.parametrize("method", s.ALIGN_METHODS)
def test_estimate_shifts_recovers_integer_drift(method: str) -> None:
    frames, _ = drifting()
    shifts = s.estimate_shifts(frames, 0, method=method)
    np.testing.assert_array_equal(shifts, OFFSETS - OFFSETS[0])


def test_estimate_shifts_against_another_reference() -> None:
    frames, _ = drifting()
    shifts = s.estimate_shifts(frames, reference_frame=2)
    np.testing.assert_array_equal(shifts, OFFSETS - OFFSETS[2])


def test_estimate_shifts_subpixel() -> None:
    field = texture((96, 96), seed=4, sigma=3.0)
    true = np.array([[0.0, 0.0], [0.4, -1.3], [2.25, 0.7]])
    frames = np.stack(
        [ndimage.shift(field, -t, order=3, mode="nearest")[24:72, 24:72] for t in true]
    )
    shifts = s.estimate_shifts(frames, 0, subpixel=True)
    np.testing.assert_allclose(shifts, true, atol=0.1)
    np.testing.assert_array_equal(s.estimate_shifts(frames, 0), np.rint(shifts))


def test_nan_padding_is_left_out_of_the_correlation() -> None:
    frames, _ = drifting()
    padded, _ = s.apply_shifts(frames, s.estimate_shifts(frames), "pad")
    np.testing.assert_array_equal(s.estimate_shifts(padded), 0.0)


def test_max_shift_limits_the_search() -> None:
    frames, _ = drifting()
    shifts = s.estimate_shifts(frames, 0, max_shift=3)
    assert np.abs(shifts).max() <= 3
    assert tuple(shifts[1]) == (2, -3)


def test_max_jump_replaces_a_jump_by_extrapolation() -> None:
    offsets = np.array([[0, 0], [1, 0], [2, 0], [9, 0]])
    frames, _ = drifting(offsets)
    shifts = s.estimate_shifts(frames, 0, max_jump=2)
    np.testing.assert_array_equal(shifts[:, 0], [0, 1, 2, 3])


def test_apply_shifts_pad_crop_and_square() -> None:
    frames, _ = drifting()
    shifts = s.estimate_shifts(frames, 0)
    padded, geo = s.apply_shifts(frames, shifts, "pad")
    span = OFFSETS.max(axis=0) - OFFSETS.min(axis=0)
    assert padded.shape == (5, 48 + span[0], 48 + span[1])
    assert geo["aligned_shape"] == [48 + span[0], 48 + span[1]]
    assert np.isnan(padded).any()
    # where frames overlap they agree: each shows the same part of the texture
    both = np.isfinite(padded[0]) & np.isfinite(padded[3])
    np.testing.assert_allclose(padded[0][both], padded[3][both])
    cropped, _ = s.apply_shifts(frames, shifts, "crop")
    assert cropped.shape == (5, 48 - span[0], 48 - span[1])
    assert np.isfinite(cropped).all()
    np.testing.assert_allclose(cropped, np.broadcast_to(cropped[0], cropped.shape))
    square, _ = s.apply_shifts(frames, shifts, "crop_square")
    side = 48 - span.max()
    assert square.shape == (5, side, side)


@pytest.mark.parametrize(
    ("mode", "dtype", "expected"),
    [
        ("pad", np.int16, np.float64),
        ("pad", np.float32, np.float32),
        ("crop", np.int16, np.int16),
        ("crop_square", np.float64, np.float64),
    ],
)
def test_apply_shifts_dtype(mode, dtype, expected) -> None:
    frames, _ = drifting()
    out, _ = s.apply_shifts(
        (frames * 100).astype(dtype), s.estimate_shifts(frames), mode
    )
    assert out.dtype == expected


def test_apply_shifts_refuses_drift_larger_than_the_frame() -> None:
    frames = np.zeros((2, 8, 8))
    with pytest.raises(ProcessingError, match="mode=pad"):
        s.apply_shifts(frames, np.array([[0, 0], [9, 0]]), "crop")


def test_align_frames_moves_masks_and_keeps_raw(make_stack) -> None:
    frames, _ = drifting()
    stack = make_stack(frames)
    stack.masks["features"] = frames > 5
    details = s.align_frames(stack, mode="crop")
    np.testing.assert_array_equal(details["shifts_px"], OFFSETS - OFFSETS[0])
    assert details["original_shape"] == [48, 48]
    assert stack.masks["features"].shape == stack.data.shape
    np.testing.assert_array_equal(stack.masks["features"], stack.data > 5)
    np.testing.assert_array_equal(stack.processed["raw"], frames)
    assert len(stack.frame_metadata) == 5


def test_align_frames_rejects_a_bad_reference(make_stack) -> None:
    stack = make_stack(np.zeros((3, 8, 8)))
    with pytest.raises(ProcessingError, match="reference_frame"):
        s.align_frames(stack, reference_frame=3)
