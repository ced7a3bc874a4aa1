"""Sample stacks and comparisons for plugin tests (exporters and readers alike)."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from playnano.afm_stack import AFMImageStack

#: Modules the core promises not to import for ``--help`` and listings.
HEAVY_MODULES = ("h5py", "tifffile", "imageio", "matplotlib", "PIL")

#: The instrument file :func:`make_sample_stack` pretends to come from.
SAMPLE_SOURCE = {
    "file": "sample_video.asd",
    "sha256": "5" * 64,
    "reader": "asd",
    "channel": "height_trace",
}


@dataclass(frozen=True)
class FramesSeen:
    """What a viewer sees in an animation: for formats that hold colours, not heights.

    Parameters
    ----------
    n_frames : int
        Frames in the file.
    durations_s : tuple of float
        How long each frame is shown, in seconds (one per frame).
    size : tuple of int
        Frame ``(width, height)`` in pixels.
    rgb : numpy.ndarray
        The decoded frames, ``(n_frames, height, width, 3)`` uint8.
    """

    n_frames: int
    durations_s: tuple[float, ...]
    size: tuple[int, int]
    rgb: np.ndarray


def make_sample_stack(
    n_frames: int = 4,
    shape: tuple[int, int] = (12, 17),
    dtype: Any = np.float64,
    *,
    processed: bool = True,
    masks: bool = True,
    seed: int = 0,
) -> AFMImageStack:
    """A small, deterministic stack with timestamps, layers, masks and provenance.

    The frames are a tilted plane with a bump and noise, so nothing is constant and a
    format that drops precision, flips axes or reorders frames fails a comparison.
    """
    rng = np.random.default_rng(seed)
    t, (h, w) = n_frames, shape
    yy, xx = np.mgrid[0:h, 0:w]
    frames = []
    for i in range(t):
        bump = 3.0 * np.exp(-((xx - 4 - i) ** 2 + (yy - 5) ** 2) / 6.0)
        frames.append(0.02 * xx - 0.01 * yy + bump + rng.normal(0, 0.1, (h, w)))
    data = np.asarray(frames).astype(dtype)
    meta = [
        {
            "timestamp": 0.25 * i,
            "frame_pixel_size_nm": 1.5,
            "frame_duration_s": 0.25,
            "start_epoch_ms": 1_700_000_000_000 + 250 * i,
            "scan_direction": "up" if i % 2 else "down",
            "line_rate": 48.0,
        }
        for i in range(t)
    ]
    stack = AFMImageStack(data, 1.5, "height_trace", Path("sample_video.asd"), meta)
    if processed:
        stack.processed["raw"] = data.copy()
        flat = (data - data.mean(axis=(1, 2), keepdims=True)).astype(dtype)
        stack.processed["step_1_remove_plane"] = flat
        stack.data = flat
        stack.provenance["processing"]["steps"].append(
            {"index": 1, "name": "remove_plane", "params": {}, "version": "test"}
        )
    if masks:
        stack.masks["step_2_mask_threshold"] = stack.data > 1.0
    stack.provenance["source"] = dict(SAMPLE_SOURCE)
    return stack


class ArrayFrames:
    """A FrameSource over an array in memory (a stack made lazy for the stream)."""

    def __init__(self, arr: np.ndarray) -> None:
        self.arr, self.shape, self.dtype = arr, arr.shape, arr.dtype

    def read(self, start: int, stop: int) -> np.ndarray:
        return self.arr[start:stop].copy()

    def close(self) -> None:
        pass


def lazy_copy(stack: AFMImageStack, block: int = 3) -> AFMImageStack:
    """``stack`` with every array as lazy frames read ``block`` frames at a time.

    Exported, it takes the streaming block path: the executor reads its blocks
    once and every format pulls them from a shared window.
    """
    from playnano.lazy import LazyFrames

    made: dict[int, LazyFrames] = {}  # one LazyFrames per array: data is a layer

    def lazy(arr: np.ndarray) -> Any:  # AFMImageStack takes LazyFrames for arrays
        return made.setdefault(id(arr), LazyFrames(ArrayFrames(arr), block))

    out = copy.copy(stack)
    out.data = lazy(stack.data)
    out.processed = {k: lazy(v) for k, v in stack.processed.items()}
    out.masks = {k: lazy(v) for k, v in stack.masks.items()}
    out.provenance = copy.deepcopy(stack.provenance)
    return out


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not standard JSON")


def strict_json(text: str | bytes) -> Any:
    """Parse JSON as strict readers do: ``NaN`` and ``Infinity`` are refused."""
    return json.loads(text, parse_constant=_refuse_constant)


def original_source(back: AFMImageStack) -> dict[str, Any]:
    """The source record a bundle carried: ``load`` moves it to ``previous_source``."""
    source: dict[str, Any] = back.provenance.get("source") or {}
    return source.get("previous_source", source)


def assert_stacks_equal(
    actual: AFMImageStack,
    expected: AFMImageStack,
    *,
    layers: bool = True,
    masks: bool = True,
    frame_metadata: bool = True,
    exact: bool = True,
) -> None:
    """Assert two stacks hold the same data (bit for bit when ``exact``)."""
    compare = np.testing.assert_array_equal if exact else np.testing.assert_allclose
    assert actual.data.shape == expected.data.shape
    if exact:
        assert actual.data.dtype == expected.data.dtype
    compare(actual.data, expected.data)
    assert actual.pixel_size_nm == pytest.approx(expected.pixel_size_nm, rel=1e-7)
    assert actual.channel == expected.channel
    if layers:
        assert sorted(actual.processed) == sorted(expected.processed)
        for key, arr in expected.processed.items():
            assert actual.processed[key].dtype == arr.dtype
            compare(actual.processed[key], arr)
    if masks:
        assert sorted(actual.masks) == sorted(expected.masks)
        for key, m in expected.masks.items():
            np.testing.assert_array_equal(actual.masks[key], m)
    if frame_metadata:
        assert actual.frame_metadata == expected.frame_metadata


def assert_import_is_light(module: str) -> None:
    """Importing ``module`` in a fresh interpreter imports none of HEAVY_MODULES."""
    import subprocess
    import sys

    code = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        f"print([m for m in {HEAVY_MODULES!r} if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", f"{module} imports {out.stdout.strip()}"
