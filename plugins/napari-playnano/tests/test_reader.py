"""The reader, through napari's own ``viewer.open(path, plugin="napari-playnano")``."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import tifffile
from napari_playnano._reader import napari_get_reader

import playnano

from .conftest import run_cli

# file or folder, shape, pixel size (nm) and frame interval (s) from MANIFEST.tsv
# (None: no interval, a single frame; "load": as playnano.load reports it)
FAMILIES = [
    ("asd/asd_sample_0.asd", (32, 200, 200), 0.5, 1.0),  # frame_time 1000 ms
    ("asd/202110200146.asd", (2, 250, 250), 0.636, "load"),
    ("h5-jpk/sample_0.h5-jpk", (4, 128, 128), 1.171875, "load"),
    ("jpk_folder/streptavidin_hs", (3, 512, 512), 0.166015625, 2.59),
    ("spm/old_bruker.002", (1, 256, 256), 58.59375, None),
]


def units(layer) -> tuple[str, ...]:
    return tuple(str(u) for u in layer.units)


@pytest.mark.parametrize(("rel", "shape", "px", "dt"), FAMILIES)
def test_every_file_family_opens_with_physical_axes(
    make_napari_viewer, afm: Path, rel, shape, px, dt
) -> None:
    viewer = make_napari_viewer()
    path = afm / rel
    [layer] = viewer.open(str(path), plugin="napari-playnano")
    expected = playnano.load(path)
    assert layer.data.shape == shape
    np.testing.assert_array_equal(layer.data, expected.data)
    assert tuple(layer.axis_labels) == ("t", "y", "x")
    assert layer.scale[1] == pytest.approx(px) and layer.scale[2] == pytest.approx(px)
    if dt is None:
        assert units(layer)[0] == "pixel" and layer.scale[0] == 1.0
    else:
        if dt == "load":
            dt = float(np.median(np.diff(expected.get_frame_times())))
        assert units(layer)[0] == "second"
        assert layer.scale[0] == pytest.approx(dt)
    assert units(layer)[1:] == ("nanometer", "nanometer")
    # the GIF's colour table and its automatic range: every ordinary frame's 1st to
    # 99th percentile (estimated on an even sample), outlier frames left out
    from playnano.render import auto_range, resolve_z_range

    assert layer.colormap.name == "playnano-afmhot"
    lo, hi = layer.contrast_limits
    assert (lo, hi) == resolve_z_range(expected.data, "auto", "auto")
    outliers = auto_range(expected.data).outliers
    if rel == "asd/asd_sample_0.asd":  # raw heights: 22-31 a tip crash, offset
        assert outliers == tuple(range(22, 32))
    for i, frame in enumerate(layer.data):
        finite = frame[np.isfinite(frame)]
        if i in outliers or not (lo < hi and np.ptp(finite) > 1.0):
            continue
        below, above = np.mean(finite < lo), np.mean(finite > hi)
        assert below <= 0.03 and above <= 0.03, (i, below, above)


def test_channel_other_than_height(afm: Path) -> None:
    from napari_playnano._reader import read_layers

    [(data, kwargs, kind)] = read_layers(str(afm / "asd/202110200146.asd"), "PH")
    assert kind == "image" and data.shape == (2, 250, 250)
    assert kwargs["metadata"]["playnano"]["stack"].channel == "PH"


@pytest.fixture(scope="module")
def bundles(afm: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundles")
    steps = "remove_plane;mask_mean_offset:factor=1;row_median_align"
    result = run_cli(
        "process", str(afm / "asd/asd_sample_0.asd"), "-p", steps,
        "-e", "npz", "h5", "tif", "-o", str(out), "-n", "b", "-q",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.parametrize("name", ["b_filtered.npz", "b_filtered.h5"])
def test_bundle_opens_with_hidden_layers_and_mask_labels(
    make_napari_viewer, bundles: Path, name: str
) -> None:
    viewer = make_napari_viewer()
    layers = viewer.open(str(bundles / name), plugin="napari-playnano")
    stack = playnano.load(bundles / name)
    kinds = [(ly._type_string, ly.visible) for ly in layers]
    assert kinds == [
        ("image", True),
        ("image", False),  # raw
        ("image", False),  # step_1_remove_plane
        ("image", False),  # step_3_row_median_align
        ("labels", False),  # step_2_mask_mean_offset
    ]
    assert [ly.name.rsplit(" ", 1)[-1] for ly in layers[1:4]] == list(stack.processed)
    np.testing.assert_array_equal(layers[0].data, stack.data)
    for layer, key in zip(layers[1:4], stack.processed, strict=True):
        np.testing.assert_array_equal(layer.data, stack.processed[key])
        assert tuple(layer.axis_labels) == ("t", "y", "x")
        assert layer.scale[0] == pytest.approx(1.0)
        assert layer.scale[2] == pytest.approx(0.5)
    [mask] = stack.masks.values()
    np.testing.assert_array_equal(layers[4].data.astype(bool), mask)
    assert tuple(layers[4].scale) == pytest.approx((1.0, 0.5, 0.5))


def test_playnano_ome_tiff_opens(make_napari_viewer, bundles: Path) -> None:
    viewer = make_napari_viewer()
    [layer] = viewer.open(str(bundles / "b_filtered.ome.tif"), plugin="napari-playnano")
    np.testing.assert_array_equal(
        layer.data, playnano.load(bundles / "b_filtered.ome.tif").data
    )
    assert tuple(layer.scale) == pytest.approx((1.0, 0.5, 0.5))


def test_generic_files_with_our_suffixes_are_left_to_other_readers(
    tmp_path: Path,
) -> None:
    arr = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    np.savez(tmp_path / "other.npz", images=arr)
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["data"] = arr  # even a "data" dataset: no playnano attributes
    tifffile.imwrite(tmp_path / "other.tif", arr, photometric="minisblack")
    (tmp_path / "notes.asd").write_text("not a video")
    for name in ("other.npz", "other.h5", "other.tif", "notes.asd"):
        assert napari_get_reader(str(tmp_path / name)) is None, name
    assert napari_get_reader(str(tmp_path / "missing.npz")) is None


def test_napari_falls_through_to_its_own_tiff_reader(
    make_napari_viewer, tmp_path: Path
) -> None:
    arr = np.arange(24, dtype=np.uint16).reshape(2, 3, 4)
    tifffile.imwrite(tmp_path / "other.tif", arr, photometric="minisblack")
    viewer = make_napari_viewer()
    [layer] = viewer.open(str(tmp_path / "other.tif"), plugin="napari")
    np.testing.assert_array_equal(layer.data, arr)
    assert "playnano" not in layer.metadata
