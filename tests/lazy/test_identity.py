"""The block path writes the very files the in-memory path writes, bit for bit."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from playnano.processing import apply
from playnano.processing.pipeline import run_pipeline
from playnano.readers import load
from tests.conftest import export_all
from tests.lazy.conftest import (
    assert_same_arrays,
    gwy_fields,
    h5_arrays,
    tif_frames,
    topostats_arrays,
)

STEP_LISTS = {
    "plane": "remove_plane",
    "masked": "remove_plane;mask_threshold:threshold=1;remove_plane",
    "masks_or_clear": (
        "mask_threshold:threshold=2.5;mask_threshold:threshold=3;"
        "polynomial_flatten:order=2;clear;gaussian_filter:sigma=1.5"
    ),
    "poly": "polynomial_flatten:order=3",
    "gauss": "gaussian_filter:sigma=1",
}
#: the bundle's NaN frames are written as their mean to .gwy files, with a warning
pytestmark = pytest.mark.filterwarnings("ignore:.*which Gwyddion cannot show")

#: every builtin format
FORMATS = ["h5", "npz", "tif", "gif", "png", "gwy", "topostats"]
#: frames per batch of a levelling filter in these tests (50 frames of 32x40)
BATCH = 4


@pytest.fixture(autouse=True)
def small_batches(monkeypatch) -> None:
    """Batches of 4 frames, so block sizes that split them are exercised."""
    monkeypatch.setattr(apply, "BATCH_BYTES", 8 * 32 * 40 * BATCH)


def steps_without_times(path: Path) -> list[dict]:
    with h5py.File(path) as f:
        prov = json.loads(f["provenance_json"][()])
    drop = {"timestamp", "duration_s", "time", "started", "finished"}
    return [
        {k: v for k, v in s.items() if k not in drop}
        for s in prov["processing"]["steps"]
    ]


def export_both(bundle: Path, tmp: Path, steps: str, block: int, **kw):
    mem = load(bundle)
    run_pipeline(mem, steps)
    export_all(mem, tmp / "mem", "x", FORMATS, **kw)
    lazy = load(bundle, lazy=True)
    assert lazy.is_lazy
    for frames in lazy.lazy_frames():
        frames.set_block(block)
    with lazy:
        run_pipeline(lazy, steps)
        assert lazy.is_lazy  # every layer computed on demand, none in memory
        assert all(not isinstance(v, np.ndarray) for v in lazy.processed.values())
        assert all(not isinstance(v, np.ndarray) for v in lazy.masks.values())
        export_all(lazy, tmp / "lazy", "x", FORMATS, **kw)
        assert list(mem.processed) == list(lazy.processed)
        assert list(mem.masks) == list(lazy.masks)
        for key, arr in [*mem.processed.items(), *mem.masks.items()]:
            other = lazy.masks[key] if key in mem.masks else lazy.processed[key]
            assert np.asarray(other).tobytes() == arr.tobytes(), key
        return mem, lazy


def assert_same_outputs(tmp: Path) -> None:
    a, b = tmp / "mem", tmp / "lazy"
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert len(names) == len(FORMATS)
    h5a, h5b = a / "x_filtered.h5", b / "x_filtered.h5"
    assert_same_arrays(h5_arrays(h5a), h5_arrays(h5b))
    with h5py.File(h5a) as fa, h5py.File(h5b) as fb:
        for group in ("processed", "masks"):
            assert list(fa[group]) == list(fb[group])
        # the current data is stored once, linked as the last layer, in both
        last = list(fa["processed"])[-1]
        assert (fa["data"] == fa[f"processed/{last}"]) == (
            fb["data"] == fb[f"processed/{last}"]
        )
    assert steps_without_times(h5a) == steps_without_times(h5b)
    with np.load(a / "x_filtered.npz") as za, np.load(b / "x_filtered.npz") as zb:
        assert za.files == zb.files
        for key in za.files:
            if za[key].ndim == 3:
                assert za[key].dtype == zb[key].dtype
                assert za[key].tobytes() == zb[key].tobytes(), key
    ta, tb = tif_frames(a / "x_filtered.ome.tif"), tif_frames(b / "x_filtered.ome.tif")
    assert ta.dtype == tb.dtype and ta.tobytes() == tb.tobytes()
    assert (a / "x_filtered.gif").read_bytes() == (b / "x_filtered.gif").read_bytes()
    pngs = sorted((a / "x_filtered_frames").iterdir())
    assert len(pngs) == 50
    for p in pngs:
        assert p.read_bytes() == (b / "x_filtered_frames" / p.name).read_bytes()
    ga, gb = gwy_fields(a / "x_filtered.gwy"), gwy_fields(b / "x_filtered.gwy")
    assert len(ga) >= 50 and ga == gb
    sa = topostats_arrays(a / "x_filtered_topostats")
    assert len(sa) >= 50 and sa == topostats_arrays(b / "x_filtered_topostats")


CASES = [
    ("plane", 1),
    ("plane", 7),
    ("plane", 50),
    ("masked", 1),
    ("masked", 7),
    ("masks_or_clear", 7),
    ("masks_or_clear", 64),
    ("poly", 3),
    ("gauss", 1),
    ("gauss", 64),
]


@pytest.mark.parametrize(("name", "block"), CASES)
def test_block_path_writes_the_in_memory_files(bundle, tmp_path, name, block):
    _, lazy = export_both(bundle, tmp_path, STEP_LISTS[name], block)
    batched = name in ("masks_or_clear", "poly")  # polynomial_flatten batches
    # blocks of a batched step are whole batches, so the batches line up
    assert lazy.data.block == (-(-block // BATCH) * BATCH if batched else block)
    assert_same_outputs(tmp_path)


def test_extreme_colour_ranges_and_tiff16_walk_the_blocks(bundle, tmp_path):
    """zmin=min / zmax=max and tiff16's scale need exact extremes (NaN frames too)."""
    for where in ("mem", "lazy"):
        stack = load(bundle, lazy=where == "lazy")
        if stack.is_lazy:
            stack.data.set_block(3)
        with stack:
            run_pipeline(stack, "gaussian_filter")
            export_all(
                stack,
                tmp_path / where,
                "x",
                ["gif", "png"],
                options={"gif": {"zmin": "min", "zmax": "max"}},
            )
            export_all(
                stack,
                tmp_path / where / "t16",
                "x",
                ["png"],
                options={"png": {"frame_format": "tiff16"}},
            )
    a, b = tmp_path / "mem", tmp_path / "lazy"
    assert (a / "x_filtered.gif").read_bytes() == (b / "x_filtered.gif").read_bytes()
    tifs = sorted((a / "t16" / "x_filtered_frames").iterdir())
    assert len(tifs) == 50
    for p in tifs:
        other = b / "t16" / "x_filtered_frames" / p.name
        assert p.read_bytes() == other.read_bytes()


def test_re_export_of_a_bundle_keeps_layers_and_masks(bundle, tmp_path):
    """A processed bundle read lazily re-exports its stored layers and masks as is."""
    steps = STEP_LISTS["masked"]
    src = load(bundle)
    run_pipeline(src, steps)
    export_all(src, tmp_path, "p", ["h5"])
    processed = tmp_path / "p_filtered.h5"
    mem = load(processed)
    export_all(mem, tmp_path / "mem", "x", FORMATS)
    with load(processed, lazy=True) as lazy:
        assert list(lazy.masks) == list(mem.masks)
        assert lazy.masks["step_2_mask_threshold"].dtype == np.bool_
        export_all(lazy, tmp_path / "lazy", "x", FORMATS)
    assert_same_outputs(tmp_path)
