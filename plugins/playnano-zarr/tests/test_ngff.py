"""The store as the OME-Zarr world sees it: validators, napari-ome-zarr, exact frame
times, the omero display window, resolution levels and the float32 display copy.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import zarr
from playnano.afm_stack import AFMImageStack
from playnano.io.export_data import export_stack
from playnano.plugins.registry import readers
from playnano.render import resolve_z_range
from playnano.testing import make_sample_stack

from playnano_zarr.shards import MIB

#: Chunks of 2 frames and shards of 6 for 12 x 17 float64 frames (several shards).
SMALL = {"chunk_mib": 3300 / MIB, "shard_mib": 10_000 / MIB}


def attrs(path: Path) -> dict:
    return json.loads((path / "zarr.json").read_text())["attributes"]


def read_zarr(path: Path) -> AFMImageStack:
    return readers().resolve("zarr").obj.read(path)


@pytest.fixture
def full_store(tmp_path: Path) -> Path:
    """Every optional part: several shards, 3 levels, labels, layers, display copy."""
    stack = make_sample_stack(11, (12, 17))
    opts = {**SMALL, "levels": 3, "display_copy": True}
    [path] = export_stack(stack, tmp_path / "video", "zarr", options=opts)
    return path


# ----------------------------------------------------------------- validators
def test_ome_zarr_models_validate_every_image(full_store: Path) -> None:
    from ome_zarr_models.v05 import Image, ImageLabel

    Image.from_zarr(zarr.open_group(full_store, mode="r"))
    Image.from_zarr(zarr.open_group(full_store / "display", mode="r"))
    Image.from_zarr(zarr.open_group(full_store / "processed" / "raw", mode="r"))
    label = full_store / "labels" / "step_2_mask_threshold"
    ImageLabel.from_zarr(zarr.open_group(label, mode="r"))


@pytest.mark.parametrize(
    "sub", ["", "display", "processed/raw", "labels/step_2_mask_threshold"]
)
def test_yaozarrs_validates_metadata_and_storage(full_store: Path, sub: str) -> None:
    """Metadata and storage (every dataset an array with matching dimension names,
    labels with as many levels as the image), warnings as errors."""
    import yaozarrs

    group = yaozarrs.validate_zarr_store(str(full_store / sub))
    assert group.ome_version() == "0.5"


# ------------------------------------------------------- viewers and readers
# napari's own models still use pydantic v1-style configuration, and its labels
# layer warns that napari-ome-zarr's colour table has no default colour
@pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20")
@pytest.mark.filterwarnings("ignore:color_dict did not provide a default color")
def test_napari_opens_it_with_axes_units_scale_and_window(full_store: Path) -> None:
    """napari (its viewer model, no window) through the napari-ome-zarr plugin."""
    import npe2
    from napari.components import ViewerModel

    npe2.PluginManager.instance().discover()
    image, label = ViewerModel().open(str(full_store), plugin="napari-ome-zarr")
    assert (type(image).__name__, type(label).__name__) == ("Image", "Labels")
    for layer in (image, label):
        assert layer.axis_labels == ("t", "y", "x")
        assert [str(u) for u in layer.units] == ["second", "nanometer", "nanometer"]
        assert list(layer.scale) == [0.25, 1.5, 1.5]
        assert layer.multiscale
        assert [lv.shape for lv in layer.data] == [
            (11, 12, 17),
            (11, 6, 9),
            (11, 3, 5),
        ]
    stack = make_sample_stack(11, (12, 17))
    assert list(image.contrast_limits) == list(resolve_z_range(stack.data))
    assert np.asarray(image.data[0]).tobytes() == stack.data.tobytes()
    mask = stack.masks["step_2_mask_threshold"]
    assert np.array_equal(np.asarray(label.data[0]), mask)


def test_ome_zarr_reader_sees_levels_and_their_scales(full_store: Path) -> None:
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Multiscales, Reader

    [image, *_] = list(Reader(parse_url(str(full_store)))())
    assert image.first(Multiscales) is not None
    assert [lv.shape for lv in image.data] == [(11, 12, 17), (11, 6, 9), (11, 3, 5)]
    scales = [t[0]["scale"] for t in image.metadata["coordinateTransformations"]]
    assert scales == [[0.25, 1.5, 1.5], [0.25, 3.0, 3.0], [0.25, 6.0, 6.0]]


# ------------------------------------------------------------------- times
def irregular_stack() -> AFMImageStack:
    """Frame times with a pause and float values that JSON must keep exactly."""
    stack = make_sample_stack(9, (12, 17))
    times = [0.1 * i + (7.3 if i >= 5 else 0.0) + i * 1e-9 / 3 for i in range(9)]
    for md, t in zip(stack.frame_metadata, times, strict=True):
        md["timestamp"] = t
    return stack


def test_irregular_times_survive_exactly(tmp_path: Path) -> None:
    stack = irregular_stack()
    times = stack.get_frame_times()
    [path] = export_stack(stack, tmp_path / "v", "zarr", options=SMALL)
    stored = zarr.open_array(path / "playnano" / "timestamps", mode="r")[...]
    assert stored.dtype == np.float64
    assert stored.tobytes() == np.array(times, np.float64).tobytes()
    assert read_zarr(path).get_frame_times() == times
    # NGFF 0.5 has one step per axis: irregular times are not a uniform scale, the
    # axis counts frames (no unit) and the times are in the array
    ome = attrs(path)["ome"]["multiscales"][0]
    assert ome["axes"][0] == {"name": "t", "type": "time"}
    assert ome["datasets"][0]["coordinateTransformations"][0]["scale"][0] == 1.0
    info = attrs(path)["playnano"]
    assert info["time"]["axis"] == "irregular"
    assert info["time"]["timestamps"] == "playnano/timestamps"
    assert info["frame_interval_s"] is None


def test_regular_times_are_a_scale_and_an_origin(tmp_path: Path) -> None:
    stack = make_sample_stack(6, (12, 17))
    for i, md in enumerate(stack.frame_metadata):
        md["timestamp"] = 12.5 + 0.2 * i  # float steps of 0.2 are not all equal
    [path] = export_stack(stack, tmp_path / "v", "zarr")
    [scale, shift] = attrs(path)["ome"]["multiscales"][0]["datasets"][0][
        "coordinateTransformations"
    ]
    assert scale["scale"][0] == pytest.approx(0.2, rel=1e-12)
    assert shift["translation"] == [12.5, 0.0, 0.0]
    back = readers().resolve("zarr").obj.read(path / "processed" / "raw")  # as NGFF
    assert back.get_frame_times() == pytest.approx(stack.get_frame_times())


def test_unknown_times_are_nan_in_the_array_and_none_back(tmp_path: Path) -> None:
    stack = make_sample_stack(processed=False, masks=False)
    stack.frame_metadata[2]["timestamp"] = None
    [path] = export_stack(stack, tmp_path / "v", "zarr")
    stored = zarr.open_array(path / "playnano" / "timestamps", mode="r")[...]
    assert math.isnan(stored[2]) and not np.isnan(stored[[0, 1, 3]]).any()
    assert read_zarr(path).get_frame_times() == [0.0, 0.25, None, 0.75]
    assert attrs(path)["playnano"]["time"]["axis"] == "unknown"
    assert "unit" not in attrs(path)["ome"]["multiscales"][0]["axes"][0]


def test_zarr_json_stays_small_for_20000_frames(tmp_path: Path) -> None:
    """Per-frame metadata lives in arrays: no zarr.json grows with the frames."""
    stack = make_sample_stack(20_000, (4, 4), np.float32, processed=False)
    [path] = export_stack(stack, tmp_path / "v", "zarr")
    sizes = {p: p.stat().st_size for p in path.rglob("zarr.json")}
    assert max(sizes.values()) < 100_000, sizes
    assert sizes[path / "zarr.json"] < 10_000
    doc = zarr.open_array(path / "playnano" / "frame_metadata", mode="r")[...]
    assert json.loads(bytes(doc)) == stack.frame_metadata  # 2 MB of JSON, compressed
    back = read_zarr(path)
    assert back.frame_metadata == stack.frame_metadata


# ---------------------------------------------------------------- omero
def omero(path: Path) -> dict:
    [channel] = attrs(path)["ome"]["omero"]["channels"]
    return channel


def test_omero_window_is_the_gifs_auto_range(tmp_path: Path) -> None:
    stack = make_sample_stack(11, (12, 17))
    stack.data[3, 2, 2] = 1e6  # an outlier the robust range leaves out
    stack.data[5, 0, :2] = [np.nan, -np.inf]  # not heights: not the extremes
    [path] = export_stack(stack, tmp_path / "v", "zarr")
    channel = omero(path)
    lo, hi = resolve_z_range(stack.data)
    assert (channel["window"]["start"], channel["window"]["end"]) == (lo, hi)
    finite = stack.data[np.isfinite(stack.data)]
    assert channel["window"]["max"] == 1e6  # min/max: the data's finite extremes
    assert channel["window"]["min"] == float(finite.min())
    assert channel["label"] == "height_trace"
    assert channel["lut"] == "afmhot" and channel["color"] == "FFFFFF"
    raw = json.loads((path / "processed" / "raw" / "zarr.json").read_text())
    [raw_channel] = raw["attributes"]["ome"]["omero"]["channels"]
    start, end = resolve_z_range(stack.processed["raw"])
    assert (raw_channel["window"]["start"], raw_channel["window"]["end"]) == (
        start,
        end,
    )


@pytest.mark.parametrize(("zmin", "zmax"), [(-0.5, 2.0), ("min", "max"), ("auto", 1.5)])
def test_omero_window_follows_zmin_zmax_and_names_the_colormap(
    tmp_path: Path, zmin, zmax
) -> None:
    stack = make_sample_stack(11, (12, 17))
    opts = {"zmin": zmin, "zmax": zmax, "cmap": "viridis"}
    [path] = export_stack(stack, tmp_path / "v", "zarr", options=opts)
    channel = omero(path)
    want = resolve_z_range(stack.data, zmin, zmax)
    assert (channel["window"]["start"], channel["window"]["end"]) == want
    assert channel["lut"] == "viridis"
    assert channel["color"] == "FDE725"  # viridis' bright end
    info = attrs(path)["playnano"]["display"]
    assert info["window"] == list(want) and info["colormap"] == "viridis"


def test_a_stack_without_heights_has_no_omero_block(tmp_path: Path) -> None:
    stack = make_sample_stack(processed=False, masks=False)
    stack.data[...] = np.nan
    [path] = export_stack(stack, tmp_path / "v", "zarr")
    assert "omero" not in attrs(path)["ome"]
    assert np.isnan(read_zarr(path).data).all()


# ---------------------------------------------------------------- levels
def mean_blocks(frames: np.ndarray) -> np.ndarray:
    """Mean of the finite values of each 2x2 block, the slow obvious way."""
    t, h, w = frames.shape
    out = np.empty((t, -(-h // 2), -(-w // 2)), frames.dtype)
    for i in range(t):
        for y in range(out.shape[1]):
            for x in range(out.shape[2]):
                block = frames[i, 2 * y : 2 * y + 2, 2 * x : 2 * x + 2].ravel()
                vals = [float(v) for v in block if math.isfinite(v)]
                out[i, y, x] = sum(vals) / len(vals) if vals else math.nan
    return out


def test_levels_are_means_of_2x2_blocks(full_store: Path) -> None:
    stack = make_sample_stack(11, (12, 17))
    want = stack.data
    for level in (1, 2):
        want = mean_blocks(want)
        got = zarr.open_array(full_store / str(level), mode="r")[...]
        np.testing.assert_allclose(got, want, rtol=1e-12)
    m = stack.masks["step_2_mask_threshold"].astype(float)
    label = full_store / "labels" / "step_2_mask_threshold"
    for level in (1, 2):
        m = mean_blocks(m)  # a majority: half or more of the block
        got = zarr.open_array(label / str(level), mode="r")[...]
        assert got.dtype == np.uint8
        assert np.array_equal(got, (m >= 0.5).astype(np.uint8))
        m = got.astype(float)
    ds = attrs(full_store)["ome"]["multiscales"][0]["datasets"]
    assert [d["coordinateTransformations"][1]["translation"] for d in ds[1:]] == [
        [0.0, 0.75, 0.75],
        [0.0, 2.25, 2.25],
    ]


def test_nan_pixels_and_integer_heights_in_levels(tmp_path: Path) -> None:
    stack = make_sample_stack(3, (5, 7), processed=False, masks=False)
    stack.data[0, :2, :2] = np.nan  # a whole block: NaN
    stack.data[1, 0, 0] = np.nan  # one pixel: the mean of the other three
    [path] = export_stack(stack, tmp_path / "f", "zarr", options={"levels": 2})
    np.testing.assert_allclose(
        zarr.open_array(path / "1", mode="r")[...], mean_blocks(stack.data)
    )
    ints = make_sample_stack(3, (5, 7), np.int16, processed=False, masks=False)
    ints.data[...] = np.arange(105, dtype=np.int16).reshape(3, 5, 7) * 3
    [path] = export_stack(ints, tmp_path / "i", "zarr", options={"levels": 2})
    got = zarr.open_array(path / "1", mode="r")[...]
    assert got.dtype == np.int16
    assert np.array_equal(got, np.rint(mean_blocks(ints.data.astype(float))))


# ------------------------------------------------------------ display copy
def test_display_copy_is_float32_with_its_own_levels(full_store: Path) -> None:
    stack = make_sample_stack(11, (12, 17))
    copy = zarr.open_group(full_store / "display", mode="r")
    assert copy["0"].dtype == np.float32
    assert np.array_equal(copy["0"][...], stack.data.astype(np.float32))
    level1 = zarr.open_array(full_store / "1", mode="r")[...]
    assert np.array_equal(copy["1"][...], level1.astype(np.float32))
    ome = copy.attrs["ome"]
    assert ome["omero"] == attrs(full_store)["ome"]["omero"]
    assert attrs(full_store)["playnano"]["display"]["float32_copy"] == "display"
    back = read_zarr(full_store)
    assert back.data.dtype == np.float64  # the data keeps its dtype
