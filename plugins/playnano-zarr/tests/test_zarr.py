"""playnano-zarr against the conformance suite, ome-zarr's own reader and the core API.

Runs in an environment where playnano-zarr is installed, so discovery is real: the
exporter and reader are found through their entry points.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import zarr
from ome_zarr.io import parse_url
from ome_zarr.reader import Label, Multiscales, Reader
from playnano.afm_stack import AFMImageStack
from playnano.errors import ChannelError, ReadError
from playnano.io.export_data import export_bundles, export_stack
from playnano.plugins.registry import exporters, readers
from playnano.testing import (
    ArrayFrames,
    ExporterConformance,
    assert_stacks_equal,
    make_sample_stack,
)

import playnano_zarr
from playnano_zarr.reader import ZarrReader


def read_zarr(path: Path, channel: str | None = None) -> AFMImageStack:
    """Read through the reader the registry discovered (not a direct import)."""
    return readers().resolve("zarr").obj.read(path, channel=channel)


class TestZarr(ExporterConformance):
    format_name = "zarr"

    def read_back(self, path: Path) -> AFMImageStack:
        return read_zarr(path)


# ---------------------------------------------------------------- discovery
def test_discovered_through_entry_points() -> None:
    exp, rdr = exporters().resolve("ome-zarr"), readers().resolve("zarr")
    assert exp.plugin.dist == "playnano-zarr" and not exp.plugin.builtin
    assert exp.plugin.version == playnano_zarr.__version__
    assert rdr.plugin.dist == "playnano-zarr"
    assert rdr.obj.reads_folders is True


def test_format_is_inferred_from_the_suffix(tmp_path: Path) -> None:
    [path] = export_stack(make_sample_stack(), tmp_path / "v.ome.zarr")
    assert path.name == "v.ome.zarr" and path.is_dir()


def test_plugin_modules_do_not_import_zarr() -> None:
    code = (
        "import sys, playnano_zarr.exporter, playnano_zarr.reader\n"
        "print([m for m in ('zarr', 'numcodecs', 'ome_zarr', 'dask') "
        "if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------- the store as NGFF sees it
@pytest.fixture
def store(tmp_path: Path) -> Path:
    [path] = export_stack(make_sample_stack(), tmp_path / "video", "zarr")
    return path


def test_ome_zarr_reader_sees_axes_shape_and_scale(store: Path) -> None:
    stack = make_sample_stack()
    nodes = list(Reader(parse_url(str(store)))())
    image = nodes[0]
    assert image.first(Multiscales) is not None
    assert image.metadata["axes"] == [
        {"name": "t", "type": "time", "unit": "second"},
        {"name": "y", "type": "space", "unit": "nanometer"},
        {"name": "x", "type": "space", "unit": "nanometer"},
    ]
    assert image.metadata["coordinateTransformations"] == [
        [{"type": "scale", "scale": [0.25, 1.5, 1.5]}]
    ]
    [level] = image.data
    assert level.shape == stack.data.shape
    assert level.dtype == stack.data.dtype
    assert level.chunksize == (4, *stack.image_shape)  # all 4 frames in one chunk
    np.testing.assert_array_equal(np.asarray(level), stack.data)
    labels = [n for n in nodes if n.first(Label) is not None]
    assert [n.metadata["name"] for n in labels] == ["step_2_mask_threshold"]
    [mask] = labels[0].data
    assert mask.dtype == np.uint8
    np.testing.assert_array_equal(
        np.asarray(mask), stack.masks["step_2_mask_threshold"]
    )


def test_metadata_validates_against_ngff_05_models(store: Path) -> None:
    from ome_zarr_models.v05 import Image, ImageLabel

    Image.from_zarr(zarr.open_group(store, mode="r"))
    ImageLabel.from_zarr(
        zarr.open_group(store / "labels" / "step_2_mask_threshold", mode="r")
    )
    # the last step's layer is the root image itself, stored once
    Image.from_zarr(zarr.open_group(store / "processed" / "raw", mode="r"))


def test_processed_layers_open_as_images_of_their_own(store: Path) -> None:
    stack = make_sample_stack()
    [node] = list(Reader(parse_url(str(store / "processed" / "raw")))())
    assert node.metadata["name"] == "raw"
    np.testing.assert_array_equal(np.asarray(node.data[0]), stack.processed["raw"])


def test_root_attributes_hold_playnano_metadata(store: Path) -> None:
    attrs = json.loads((store / "zarr.json").read_text())["attributes"]
    assert attrs["ome"]["version"] == "0.5"
    info = attrs["playnano"]
    assert info["format_version"] == 2
    assert info["pixel_size_nm"] == 1.5 and info["channel"] == "height_trace"
    assert info["frame_interval_s"] == 0.25 and info["n_frames"] == 4
    assert info["masks"] == {"step_2_mask_threshold": "labels/step_2_mask_threshold"}
    # the per-frame metadata and the provenance are JSON arrays beside the image
    assert info["provenance"] == "playnano/provenance"
    prov = json.loads(bytes(zarr.open_array(store / info["provenance"])[...]))
    assert prov["processing"]["steps"][0]["name"] == "remove_plane"
    meta = json.loads(bytes(zarr.open_array(store / info["frame_metadata"])[...]))
    assert meta == make_sample_stack().frame_metadata


# --------------------------------------------------------------- round trips
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int16, np.uint16])
def test_round_trip_is_exact(tmp_path: Path, dtype: type) -> None:
    stack = make_sample_stack(dtype=dtype)
    stack.data[0, 0, 0] = -0.0 if np.issubdtype(dtype, np.floating) else 0
    stack.state_backups["frame_metadata_before_edit"] = stack.frame_metadata
    opts = {"compression": "none"}  # playnano parses "none" as None: no compression
    [path] = export_stack(stack, tmp_path / "v", "zarr", options=opts)
    back = read_zarr(path)
    assert_stacks_equal(back, stack)
    assert np.signbit(back.data).tobytes() == np.signbit(stack.data).tobytes()
    assert back.provenance == json.loads(json.dumps(back.provenance))
    assert back.provenance["processing"] == stack.provenance["processing"]
    assert back.state_backups == stack.state_backups
    assert back.file_path == path


def test_raw_export_holds_the_snapshot_only(tmp_path: Path) -> None:
    stack = make_sample_stack()
    [path] = export_stack(stack, tmp_path / "v", "zarr", raw=True)
    back = read_zarr(path)
    np.testing.assert_array_equal(back.data, stack.processed["raw"])
    assert back.processed == {} and back.masks == {}
    assert not (path / "labels").exists() and not (path / "processed").exists()


def test_unknown_frame_interval_counts_frames(tmp_path: Path) -> None:
    stack = make_sample_stack(processed=False, masks=False)
    for md in stack.frame_metadata:
        md["timestamp"] = None
    [path] = export_stack(stack, tmp_path / "v", "zarr")
    attrs = zarr.open_group(path, mode="r").attrs.asdict()
    image = attrs["ome"]["multiscales"][0]
    scale = image["datasets"][0]["coordinateTransformations"]
    assert scale == [{"type": "scale", "scale": [1.0, 1.5, 1.5]}]
    assert image["axes"][0] == {"name": "t", "type": "time"}  # frames, not seconds
    assert attrs["playnano"]["time"]["axis"] == "unknown"
    assert attrs["playnano"]["frame_interval_s"] is None
    assert read_zarr(path).get_frame_times() == [None] * 4


def test_odd_layer_names_survive(tmp_path: Path) -> None:
    stack = make_sample_stack()
    stack.processed["a/b c"] = stack.data.copy()
    stack.masks["__hidden"] = stack.data > 0
    [path] = export_stack(stack, tmp_path / "v", "zarr")
    assert_stacks_equal(read_zarr(path), stack)


def test_export_bundles_names_the_store(tmp_path: Path) -> None:
    stack = make_sample_stack()
    paths = export_bundles(stack, tmp_path, None, formats=["zarr"])
    assert [p.name for p in paths] == ["sample_video_filtered.ome.zarr"]
    assert stack.provenance["exports"][-1]["plugin"] == "playnano-zarr"
    assert_stacks_equal(read_zarr(paths[0]), stack, frame_metadata=True)


# ------------------------------------------------------------------- reader
def test_can_read(store: Path, tmp_path: Path) -> None:
    rdr = ZarrReader()
    assert rdr.can_read(store)
    (tmp_path / "plain").mkdir()
    assert not rdr.can_read(tmp_path / "plain")
    assert not rdr.can_read(store / "zarr.json")
    plain = zarr.create_group(tmp_path / "plain.zarr", zarr_format=3)
    plain.create_array("a", shape=(2,), dtype="u1")
    assert not rdr.can_read(tmp_path / "plain.zarr")


def test_reader_errors_name_the_store(store: Path, tmp_path: Path) -> None:
    with pytest.raises(ChannelError, match=r"video.ome.zarr: no channel 'phase'"):
        read_zarr(store, channel="phase")
    assert read_zarr(store, channel="HEIGHT_TRACE").channel == "height_trace"
    (store / "0" / "c" / "0" / "0" / "0").unlink()  # the only shard of 4 frames
    with pytest.raises(ReadError, match=r"video.ome.zarr: '0' has 1 of 1 frame chunks"):
        read_zarr(store)
    with pytest.raises(ReadError, match="not a Zarr group folder"):
        read_zarr(tmp_path)


def test_reads_a_foreign_ngff_image(tmp_path: Path) -> None:
    """An NGFF 0.4 (Zarr 2) t, c, y, x image in micrometres, as other tools write."""
    data = np.arange(3 * 2 * 5 * 6, dtype=np.uint16).reshape(3, 2, 5, 6)
    root = zarr.create_group(tmp_path / "other.zarr", zarr_format=2)
    root.create_array("0", data=data, chunks=(1, 1, 5, 6))
    root.attrs.update(
        {
            "multiscales": [
                {
                    "version": "0.4",
                    "name": "cells",
                    "axes": [
                        {"name": "t", "type": "time", "unit": "millisecond"},
                        {"name": "c", "type": "channel"},
                        {"name": "y", "type": "space", "unit": "micrometer"},
                        {"name": "x", "type": "space", "unit": "micrometer"},
                    ],
                    "datasets": [
                        {
                            "path": "0",
                            "coordinateTransformations": [
                                {"type": "scale", "scale": [40.0, 1.0, 0.002, 0.002]}
                            ],
                        }
                    ],
                }
            ],
            "omero": {"channels": [{"label": "height"}, {"label": "phase"}]},
        }
    )
    rdr = ZarrReader()
    assert rdr.can_read(tmp_path / "other.zarr")
    with pytest.raises(ChannelError, match="2 channels"):
        rdr.read(tmp_path / "other.zarr")
    stack = rdr.read(tmp_path / "other.zarr", channel="phase")
    np.testing.assert_array_equal(stack.data, data[:, 1])
    assert stack.channel == "phase"
    assert stack.pixel_size_nm == pytest.approx(2.0)
    assert stack.get_frame_times() == pytest.approx([0.0, 0.04, 0.08])
    assert stack.provenance["source"]["reader"] == "zarr"


# ---------------------------------------------------------------- lazy stacks
def test_a_lazy_stack_is_written_block_by_block_as_in_memory(tmp_path: Path) -> None:
    from playnano.lazy import LazyFrames

    mem = make_sample_stack()
    mem.processed["level"] = mem.data * 2.0
    mem.masks["high"] = mem.data > np.median(mem.data)
    lazy = AFMImageStack(
        LazyFrames(ArrayFrames(mem.data), block=2),
        mem.pixel_size_nm,
        mem.channel,
        None,
        mem.frame_metadata,
    )
    for key, arr in mem.processed.items():
        lazy.processed[key] = LazyFrames(ArrayFrames(arr), block=3)
    for key, arr in mem.masks.items():
        lazy.masks[key] = LazyFrames(ArrayFrames(arr), block=3)
    lazy.provenance = mem.provenance
    [a] = export_stack(mem, tmp_path / "mem.ome.zarr")
    [b] = export_stack(lazy, tmp_path / "lazy.ome.zarr")
    assert_stacks_equal(read_zarr(b), read_zarr(a))


def test_reads_format_1_stores(tmp_path: Path) -> None:
    """Stores of playnano-zarr 0.1 (one chunk per frame, frame metadata and
    provenance in the root attributes) still read back whole."""
    stack = make_sample_stack()
    path = tmp_path / "old.ome.zarr"
    root = zarr.create_group(path, zarr_format=3)
    root.create_array("0", data=stack.data, chunks=(1, *stack.image_shape))
    raw = root.create_group("processed").create_group("raw")
    raw.create_array("0", data=stack.processed["raw"], chunks=(1, 12, 17))
    mask = root.create_group("labels").create_group("m")
    mask.create_array("0", data=stack.masks["step_2_mask_threshold"].view(np.uint8))
    root.attrs["playnano"] = {
        "format_version": 1,
        "channel": stack.channel,
        "pixel_size_nm": stack.pixel_size_nm,
        "processed": {"raw": "processed/raw", "step_1_remove_plane": "processed/raw"},
        "masks": {"step_2_mask_threshold": "labels/m"},
        "frame_metadata": stack.frame_metadata,
        "provenance": stack.provenance,
        "state_backups": {},
    }
    back = read_zarr(path)
    np.testing.assert_array_equal(back.data, stack.data)
    assert back.frame_metadata == stack.frame_metadata
    assert back.provenance["processing"] == stack.provenance["processing"]
    np.testing.assert_array_equal(back.processed["raw"], stack.processed["raw"])
    assert back.masks["step_2_mask_threshold"].dtype == np.bool_
    np.testing.assert_array_equal(
        back.masks["step_2_mask_threshold"], stack.masks["step_2_mask_threshold"]
    )


def test_a_side_document_too_large_for_the_video_is_refused(tmp_path: Path) -> None:
    """The JSON arrays' declared size is checked before they are read."""
    [path] = export_stack(make_sample_stack(), tmp_path / "v", "zarr")
    meta = path / "playnano" / "frame_metadata" / "zarr.json"
    doc = json.loads(meta.read_text())
    doc["shape"] = [2**40]
    meta.write_text(json.dumps(doc))
    with pytest.raises(ReadError, match="frame_metadata' is not a JSON document"):
        read_zarr(path)
