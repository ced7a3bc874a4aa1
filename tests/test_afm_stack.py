"""AFMImageStack holds what it is given and refuses what it cannot hold."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from playnano.afm_stack import FRAME_METADATA_KEYS, AFMImageStack
from playnano.errors import StackError
from playnano.testing import make_sample_stack


def _data(t: int = 3, dtype=np.float64) -> np.ndarray:
    return np.arange(t * 4 * 5, dtype=dtype).reshape(t, 4, 5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int16, np.uint16])
def test_dtype_is_kept(dtype) -> None:
    data = _data(dtype=dtype)
    stack = AFMImageStack(data, 0.5, "TP", "x.asd")
    assert stack.data.dtype == dtype
    assert stack.data is data  # no copy
    assert stack.n_frames == 3
    assert stack.image_shape == (4, 5)


def test_metadata_defaults_to_none_per_frame() -> None:
    stack = AFMImageStack(_data(), 1.0, "height", None)
    assert len(stack.frame_metadata) == 3
    for md in stack.frame_metadata:
        assert set(md) == set(FRAME_METADATA_KEYS)
        assert all(v is None for v in md.values())
    assert stack.get_frame_times() == [None, None, None]
    assert stack.file_path is None


def test_metadata_is_normalised_and_json_safe() -> None:
    meta = [
        {
            "timestamp": np.float32(0.5 * i),
            "start_epoch_ms": np.int64(10 + i),
            "extra": "kept",
        }
        for i in range(3)
    ]
    stack = AFMImageStack(_data(), 1.0, "height", "f.h5-jpk", meta)
    assert stack.get_frame_times() == [0.0, 0.5, 1.0]
    assert [md["start_epoch_ms"] for md in stack.frame_metadata] == [10, 11, 12]
    assert stack.frame_metadata[0]["extra"] == "kept"
    assert stack.frame_metadata[0]["line_rate"] is None
    json.dumps(stack.frame_metadata, allow_nan=False)
    assert meta[0]["timestamp"] == np.float32(0.0)  # caller's dicts untouched


@pytest.mark.parametrize(
    ("data", "pixel", "meta", "message"),
    [
        (np.zeros((4, 5)), 1.0, None, "3D"),
        (np.zeros((1, 2, 3, 4)), 1.0, None, "3D"),
        (np.zeros((0, 4, 5)), 1.0, None, "empty"),
        (np.array([[["a"]]]), 1.0, None, "real numbers"),
        (np.zeros((2, 4, 5), complex), 1.0, None, "real numbers"),
        (np.zeros((2, 4, 5)), 0.0, None, "positive"),
        (np.zeros((2, 4, 5)), -1.0, None, "positive"),
        (np.zeros((2, 4, 5)), float("nan"), None, "positive"),
        (np.zeros((2, 4, 5)), True, None, "positive"),
        (np.zeros((2, 4, 5)), "1", None, "positive"),
        (np.zeros((2, 4, 5)), 1.0, [{}], "1 entries; the data has 2"),
        (np.zeros((2, 4, 5)), 1.0, [{}, {}, {}], "3 entries"),
        (np.zeros((2, 4, 5)), 1.0, [{}, "x"], "must be a dict"),
        (np.zeros((2, 4, 5)), 1.0, [{"timestamp": "soon"}, {}], "number or None"),
        (np.zeros((2, 4, 5)), 1.0, [{"frame_pixel_size_nm": -2}, {}], "positive"),
    ],
)
def test_bad_input_is_refused(data, pixel, meta, message) -> None:
    with pytest.raises(StackError, match=message):
        AFMImageStack(data, pixel, "height", None, meta)


def test_masks_must_match_the_data() -> None:
    stack = AFMImageStack(_data(), 1.0, "height", None)
    stack.masks["ok"] = np.zeros((3, 4, 5), bool)
    with pytest.raises(StackError, match=r"mask 'short' has shape \(2, 4, 5\)"):
        stack.masks["short"] = np.zeros((2, 4, 5), bool)
    with pytest.raises(StackError, match="must be boolean"):
        stack.masks["ints"] = np.zeros((3, 4, 5), int)
    with pytest.raises(StackError, match="mask"):
        stack.masks = {"bad": np.zeros((3, 4, 6), bool)}
    with pytest.raises(StackError, match="mask"):
        stack.masks.update(bad=np.zeros((3, 4), bool))
    assert list(stack.masks) == ["ok"]


def test_processed_layers_must_be_3d() -> None:
    stack = AFMImageStack(_data(), 1.0, "height", None)
    with pytest.raises(StackError, match="processed layer 'flat'"):
        stack.processed["flat"] = np.zeros((4, 5))
    stack.processed = {"raw": _data()}
    assert not stack.is_processed()
    stack.processed["step_1_remove_plane"] = _data()
    assert stack.is_processed()


def test_export_source_uses_the_raw_snapshot_and_its_metadata() -> None:
    stack = make_sample_stack(n_frames=4)
    assert stack.export_source(raw=False)[0] is stack.data
    stack.state_backups["frame_metadata_before_edit"] = copy.deepcopy(
        stack.frame_metadata
    )
    stack.data = stack.data[1:]
    stack.frame_metadata = stack.frame_metadata[1:]
    data, meta = stack.export_source(raw=True)
    assert data is stack.processed["raw"]
    assert [m["timestamp"] for m in meta] == [0.0, 0.25, 0.5, 0.75]


def test_copy_is_deep() -> None:
    stack = make_sample_stack()
    twin = stack.copy()
    twin.data[0, 0, 0] += 1
    twin.processed["raw"][0, 0, 0] += 1
    twin.provenance["exports"].append({})
    assert stack.data[0, 0, 0] != twin.data[0, 0, 0]
    assert stack.processed["raw"][0, 0, 0] != twin.processed["raw"][0, 0, 0]
    assert stack.provenance["exports"] == []


def test_provenance_starts_with_the_environment() -> None:
    stack = AFMImageStack(_data(), 1.0, "height", None)
    env = stack.provenance["environment"]
    assert env["numpy"] == np.__version__
    assert stack.provenance["processing"] == {"steps": [], "keys_by_name": {}}
    assert stack.provenance["exports"] == []
