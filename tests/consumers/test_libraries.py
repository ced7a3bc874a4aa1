"""The other formats opened the way their users open them, without playnano.

NPZ and HDF5 bundles with plain ``np.load``/``h5py`` (what the bundle spec promises
MATLAB, R and scripts), OME-TIFF with tifffile and with bioio's OME-TIFF reader
(what Fiji-side Python users reach for), GIF and PNG frames with Pillow.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import tifffile
from PIL import Image

import playnano
from tests.consumers.conftest import need_module

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(exports: Path) -> playnano.AFMImageStack:
    """The processed frames, as playnano wrote them (read from the HDF5 bundle)."""
    return playnano.load(next(exports.glob("*.h5")))


def test_numpy_opens_the_npz_bundle(exports: Path, stack) -> None:
    [path] = exports.glob("*.npz")
    with np.load(path, allow_pickle=False) as z:
        assert z["data"].tobytes() == stack.data.tobytes()
        assert float(z["pixel_size_nm"]) == 0.5
        assert str(z["channel"]) == "TP"
        np.testing.assert_array_equal(z["timestamps"], np.arange(32.0))
        steps = json.loads(str(z["provenance_json"]))["processing"]["steps"]
        assert [s["name"] for s in steps] == ["remove_plane"]


def test_h5py_opens_the_hdf5_bundle(exports: Path, stack) -> None:
    [path] = exports.glob("*.h5")
    with h5py.File(path, "r") as f:
        assert f["data"].shape == (32, 200, 200)
        assert f["data"][()].tobytes() == stack.data.tobytes()
        assert f.attrs["pixel_size_nm"] == 0.5
        assert f["data"].attrs["units"] == "nm"
        assert json.loads(f["frame_metadata_json"][()])[3]["timestamp"] == 3.0


def test_tifffile_opens_the_ome_tiff(exports: Path, stack) -> None:
    [path] = exports.glob("*.ome.tif")
    with tifffile.TiffFile(path) as tif:
        assert tif.is_ome
        series = tif.series[0]
        assert series.axes == "TYX"
        assert series.asarray().tobytes() == stack.data.tobytes()
        ome = tif.ome_metadata
    assert 'PhysicalSizeX="0.0005"' in ome and 'PhysicalSizeXUnit="µm"' in ome


# bioio-ome-tiff 1.4 passes ome-types an argument it deprecated (not our file)
@pytest.mark.filterwarnings("ignore:As of version 0.4.0:DeprecationWarning")
def test_bioio_opens_the_ome_tiff(exports: Path, stack) -> None:
    need_module("bioio")
    need_module("bioio_ome_tiff")
    from bioio import BioImage
    from bioio_ome_tiff import Reader

    [path] = exports.glob("*.ome.tif")
    image = BioImage(path, reader=Reader)
    assert image.dims.T == 32 and (image.dims.Y, image.dims.X) == (200, 200)
    assert image.physical_pixel_sizes.X == pytest.approx(0.0005)  # µm
    frames = image.get_image_data("TYX", C=0, Z=0)
    assert frames.tobytes() == stack.data.tobytes()


def test_pillow_opens_the_gif_and_png_frames(exports: Path) -> None:
    [gif] = exports.glob("*.gif")
    with Image.open(gif) as im:
        assert im.n_frames == 32
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
        assert set(durations) == {1000}  # frames 1.0 s apart
    [folder] = exports.glob("*_frames")
    pngs = sorted(folder.glob("*.png"))
    assert len(pngs) == 32
    with Image.open(pngs[3]) as im:
        assert im.text["playnano:timestamp_s"] == "3.0"
