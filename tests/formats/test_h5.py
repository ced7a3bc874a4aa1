"""HDF5 exporter: conformance, and the file as plain h5py sees it."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from playnano.errors import ExportError
from playnano.io.export_data import export_stack, save_h5_bundle
from playnano.io.loaders import load_h5_bundle
from playnano.plugins.registry import exporters
from playnano.testing import (
    ExporterConformance,
    ReaderConformance,
    make_sample_stack,
    strict_json,
)
from tests.formats.samples import bundle_samples


class TestH5(ExporterConformance):
    format_name = "h5"

    def read_back(self, path: Path):
        return load_h5_bundle(path)


def test_hdf5_is_an_alias() -> None:
    assert exporters().resolve("HDF5").name == "h5"


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16])
def test_layout_chunks_filters_and_dtypes(tmp_path: Path, dtype: type) -> None:
    stack = make_sample_stack(dtype=dtype)
    [path] = save_h5_bundle(tmp_path / "s.h5", stack)
    h, w = stack.image_shape
    with h5py.File(path, "r") as f:
        frames = [f["data"], *f["processed"].values(), *f["masks"].values()]
        for ds in frames:
            assert ds.chunks == (1, h, w)
            assert ds.compression == "gzip"
            assert ds.shuffle
        assert f["data"].dtype == dtype
        np.testing.assert_array_equal(f["data"][()], stack.data)
        assert list(f["processed"]) == list(stack.processed)  # processing order
        assert f["masks/step_2_mask_threshold"].dtype == np.bool_
        assert f["timestamps"].dtype == np.float64
        np.testing.assert_array_equal(f["timestamps"][()], stack.get_frame_times())
        raw_json = f["frame_metadata_json"][()]
        assert isinstance(raw_json, bytes)  # what playnano 0.5.0 .decode()s
        assert strict_json(raw_json.decode("utf-8")) == stack.frame_metadata
        prov = strict_json(f["provenance_json"][()].decode("utf-8"))
        assert prov["processing"]["steps"][0]["name"] == "remove_plane"
        assert "state_backups_json" not in f
        assert f.attrs["pixel_size_nm"] == 1.5
        assert isinstance(f.attrs["channel"], str)
        assert f.attrs["channel"] == "height_trace"
        assert f.attrs["playnano_format_version"] == 1
        assert f["data"].attrs["units"] == "nm"  # a height channel
        assert f["timestamps"].attrs["units"] == "s"
        assert {f["processed"][k].attrs["units"] for k in f["processed"]} == {"nm"}
        assert "units" not in f["masks/step_2_mask_threshold"].attrs


def test_raw_export_has_no_layer_groups(tmp_path: Path) -> None:
    stack = make_sample_stack()
    [path] = save_h5_bundle(tmp_path / "s.h5", stack, raw=True)
    with h5py.File(path, "r") as f:
        assert "processed" not in f and "masks" not in f
        np.testing.assert_array_equal(f["data"][()], stack.processed["raw"])


def test_uncompressed_when_asked(tmp_path: Path) -> None:

    stack = make_sample_stack()
    [path] = export_stack(stack, tmp_path / "s", "h5", options={"compress_level": 0})
    with h5py.File(path, "r") as f:
        assert f["data"].compression is None
        assert f["data"].chunks == (1, *stack.image_shape)


def test_layer_name_with_slash_is_refused(tmp_path: Path) -> None:
    stack = make_sample_stack()
    stack.processed["a/b"] = stack.data
    with pytest.raises(ExportError, match="HDF5 dataset name"):
        save_h5_bundle(tmp_path / "s.h5", stack)
    assert list(tmp_path.iterdir()) == []


def test_layer_that_is_the_data_is_stored_once(tmp_path: Path) -> None:
    stack = make_sample_stack()
    assert stack.data is stack.processed["step_1_remove_plane"]
    [path] = save_h5_bundle(tmp_path / "s.h5", stack)
    with h5py.File(path, "r") as f:
        assert f["processed/step_1_remove_plane"] == f["data"]  # one object
        assert f["processed/raw"] != f["data"]
    back = load_h5_bundle(path)
    np.testing.assert_array_equal(back.processed["step_1_remove_plane"], stack.data)
    stack.processed["step_1_remove_plane"] = stack.data.copy()  # equal, not shared
    [copied] = save_h5_bundle(tmp_path / "c.h5", stack)
    with h5py.File(copied, "r") as f:
        assert f["processed/step_1_remove_plane"] != f["data"]


class TestH5ReaderConformance(ReaderConformance):
    """Every door of the h5-bundle reader, on bundles playnano writes."""

    reader_name = "h5-bundle"

    @pytest.fixture
    def samples(self, tmp_path: Path) -> list[Path]:
        return bundle_samples(tmp_path, "h5")
