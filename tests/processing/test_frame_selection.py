"""Frame selection keeps frame metadata, masks and the raw snapshot in step."""

from __future__ import annotations

import numpy as np
import pytest

from playnano.errors import ProcessingError
from playnano.processing import frame_selection as s


def _stack_with_mask(make_stack):
    data = np.arange(5 * 4 * 4, dtype=float).reshape(5, 4, 4)
    stack = make_stack(data)
    stack.masks["m"] = data > 40
    return stack, data


@pytest.mark.parametrize(
    ("op", "kwargs", "kept"),
    [
        (s.drop_frames, {"indices_to_drop": [3, 1, 1]}, [0, 2, 4]),
        (s.select_frames, {"keep_indices": [4, 0]}, [0, 4]),
        (s.drop_frame_range, {"start": 1, "end": 4}, [0, 4]),
        (s.drop_final_frames, {"n_frames_to_drop": 2}, [0, 1, 2]),
        (s.drop_final_frames, {}, [0, 1, 2, 3]),
    ],
)
def test_frame_edits_keep_the_stack_in_sync(make_stack, op, kwargs, kept) -> None:
    stack, data = _stack_with_mask(make_stack)
    before = [dict(m) for m in stack.frame_metadata]
    details = op(stack, **kwargs)
    np.testing.assert_array_equal(stack.data, data[kept])
    np.testing.assert_array_equal(stack.masks["m"], data[kept] > 40)
    assert [m["timestamp"] for m in stack.frame_metadata] == [0.5 * i for i in kept]
    assert stack.state_backups["frame_metadata_before_edit"] == before
    np.testing.assert_array_equal(stack.processed["raw"], data)
    assert details["n_frames"] == len(kept)
    raw, meta = stack.export_source(raw=True)
    assert raw.shape[0] == 5 and len(meta) == 5


def test_second_edit_keeps_the_raw_metadata_backup(make_stack) -> None:
    stack, _ = _stack_with_mask(make_stack)
    before = [dict(m) for m in stack.frame_metadata]
    s.drop_frames(stack, [0])
    s.drop_frames(stack, [0])
    assert stack.n_frames == 3
    assert stack.state_backups["frame_metadata_before_edit"] == before


@pytest.mark.parametrize(
    ("op", "kwargs", "match"),
    [
        (s.drop_frames, {"indices_to_drop": [5]}, "outside 0..4"),
        (s.drop_frames, {"indices_to_drop": [-1]}, "outside"),
        (s.drop_frames, {"indices_to_drop": [0, 1, 2, 3, 4]}, "all 5 frames"),
        (s.select_frames, {"keep_indices": []}, "empty"),
        (s.drop_frame_range, {"start": 3, "end": 3}, "start < end"),
        (s.drop_frame_range, {"start": 0, "end": 6}, "start < end"),
        (s.drop_final_frames, {"n_frames_to_drop": 5}, "can drop 0..4"),
    ],
)
def test_frame_edit_errors_leave_the_stack_alone(make_stack, op, kwargs, match) -> None:
    stack, data = _stack_with_mask(make_stack)
    with pytest.raises(ProcessingError, match=match):
        op(stack, **kwargs)
    np.testing.assert_array_equal(stack.data, data)
    assert stack.state_backups == {} and "raw" not in stack.processed


def test_dropping_nothing_changes_nothing(make_stack) -> None:
    stack, data = _stack_with_mask(make_stack)
    assert s.drop_frames(stack, [])["dropped_frames"] == []
    assert stack.data is data
