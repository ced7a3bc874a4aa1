"""bioio-playnano against bioio's own reader checks and playnano.load, on real files.

Runs where bioio-playnano is installed, so bioio finds it through its entry point.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import numpy as np
import playnano
import pytest
from bioio import BioImage
from bioio_base import exceptions, test_utilities
from playnano.io.export_data import export_stack
from playnano.readers import available_channels
from playnano.testing import make_sample_stack

from bioio_playnano import Reader

REPO = Path(__file__).resolve().parents[3]
DATA = Path(os.environ.get("PLAYNANO_TEST_DATA", REPO.parent / "shared" / "data"))
#: Every real instrument family, by its place under $PLAYNANO_TEST_DATA/afm.
REAL = [
    "asd/asd_sample_0.asd",
    "asd/202110200146.asd",
    "h5-jpk/sample_0.h5-jpk",
    "jpk_folder/streptavidin_hs",
    "spm/old_bruker.002",
]


@pytest.fixture(scope="session")
def afm() -> Path:
    root = DATA / "afm"
    if not root.is_dir():
        reason = f"real AFM data not found at {root} (set PLAYNANO_TEST_DATA)"
        if os.environ.get("PLAYNANO_REQUIRE_DATA") == "1":  # CI: a failure
            pytest.fail(f"{reason}; PLAYNANO_REQUIRE_DATA=1 requires it", False)
        pytest.skip(reason)
    return root


@pytest.mark.parametrize("name", REAL)
def test_bioimage_equals_playnano_load(afm: Path, name: str) -> None:
    path = afm / name
    img = BioImage(path, reader=Reader)
    stack = playnano.load(path)
    np.testing.assert_array_equal(img.dask_data[:, 0, 0].compute(), stack.data)
    assert img.dims.order == "TCZYX"
    assert img.channel_names[0] == stack.channel
    assert set(img.channel_names) == set(available_channels(path))
    size_um = stack.pixel_size_nm / 1000.0
    assert img.physical_pixel_sizes == (None, size_um, size_um)
    times = stack.get_frame_times()
    if len(times) > 1 and None not in times:
        assert img.time_interval == timedelta(seconds=times[1] - times[0])


def test_bioio_picks_the_plugin_by_suffix(afm: Path) -> None:
    img = BioImage(afm / "asd/asd_sample_0.asd")  # found through bioio.readers
    assert isinstance(img.reader, Reader)


@pytest.mark.parametrize("name", ["asd/202110200146.asd", "h5-jpk/sample_0.h5-jpk"])
def test_bioio_reader_checks(afm: Path, name: str) -> None:
    """bioio's own suite: pickling, lazy == eager, shapes, no file left open."""
    path = afm / name
    stack = playnano.load(path)
    reader = Reader(path)
    n, ny, nx = stack.data.shape
    size_um = stack.pixel_size_nm / 1000.0
    test_utilities.run_image_file_checks(
        ImageContainer=Reader,
        image=path,
        set_scene="Image:0",
        expected_scenes=("Image:0",),
        expected_current_scene="Image:0",
        expected_shape=(n, len(reader.channel_names), 1, ny, nx),
        expected_dtype=stack.data.dtype,
        expected_dims_order="TCZYX",
        expected_channel_names=reader.channel_names,
        expected_physical_pixel_sizes=(None, size_um, size_um),
        expected_metadata_type=dict,
    )


@pytest.mark.parametrize("fmt", ["npz", "h5", "tif"])
def test_playnano_bundles(tmp_path: Path, fmt: str) -> None:
    stack = make_sample_stack()
    [path] = export_stack(stack, tmp_path / "v", fmt)
    img = BioImage(path)
    np.testing.assert_array_equal(img.data[:, 0, 0], stack.data)
    assert img.time_interval == timedelta(seconds=0.25)
    assert stack.pixel_size_nm / 1000.0 == img.physical_pixel_sizes.X


def test_other_programs_tiffs_and_npz_are_left_to_other_readers(tmp_path: Path) -> None:
    import tifffile

    tifffile.imwrite(
        tmp_path / "plain.tif",
        np.zeros((3, 4, 4), np.float32),
        photometric="minisblack",
    )
    np.savez(tmp_path / "plain.npz", data=np.zeros((2, 4, 4)))
    for name in ("plain.tif", "plain.npz"):
        with pytest.raises(exceptions.UnsupportedFileFormatError, match="playnano"):
            Reader(tmp_path / name)


def test_unreadable_file_is_unsupported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.asd"
    bad.write_bytes(b"not an asd file")
    with pytest.raises(exceptions.UnsupportedFileFormatError):
        Reader(bad)
