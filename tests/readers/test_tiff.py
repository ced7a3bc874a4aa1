"""The TIFF stack reader: pixel size from the tags, ImageJ frame interval, errors."""

from __future__ import annotations

import re

import numpy as np
import pytest
import tifffile

from playnano.errors import ChannelError, ReadError
from playnano.readers import available_channels, load, reader_for
from playnano.readers.tiff import PixelSizeWarning
from playnano.testing import ReaderConformance

TYX = {"axes": "TYX"}  # an ImageJ time series (a bare 3D array would be channels)
FRAMES = np.random.default_rng(0).random((4, 6, 5)).astype(np.float32)


@pytest.mark.parametrize(
    ("name", "kwargs", "pixel_nm"),
    [
        ("um.tif", {"imagej": True, "metadata": {"unit": "um", **TYX}}, 2.0),
        ("micron.tif", {"imagej": True, "metadata": {"unit": "micron", **TYX}}, 2.0),
        ("escaped.tif", {"imagej": True, "metadata": {"unit": "\\u00B5m", **TYX}}, 2.0),
        ("nm.tif", {"imagej": True, "metadata": {"unit": "nm", **TYX}}, 0.002),
        ("cm.tiff", {"resolutionunit": "CENTIMETER"}, 2e4),
        ("inch.tif", {"resolutionunit": "INCH"}, 5.08e4),
    ],
)
def test_pixel_size_from_resolution_tags(tmp_path, name, kwargs, pixel_nm):
    path = tmp_path / name
    tifffile.imwrite(
        path, FRAMES, photometric="minisblack", resolution=(500.0, 500.0), **kwargs
    )
    stack = load(path)
    assert stack.pixel_size_nm == pytest.approx(pixel_nm)
    assert stack.channel == "height"
    np.testing.assert_array_equal(stack.data, FRAMES)
    assert stack.data.dtype == np.float32  # stored dtype kept
    assert stack.provenance["source"]["reader"] == "tiff"


def test_imagej_frame_interval_gives_timestamps(tmp_path):
    path = tmp_path / "timed.tif"
    metadata = {"unit": "nm", "finterval": 0.5, "axes": "TYX"}
    tifffile.imwrite(path, FRAMES, imagej=True, resolution=(1, 1), metadata=metadata)
    stack = load(path)
    assert stack.get_frame_times() == [0.0, 0.5, 1.0, 1.5]
    assert stack.frame_metadata[0]["frame_duration_s"] == 0.5


def test_no_pixel_size_warns_and_assumes_1_nm(tmp_path):
    path = tmp_path / "bare.tif"
    tifffile.imwrite(path, FRAMES, photometric="minisblack")
    with pytest.warns(
        PixelSizeWarning, match=rf"^{re.escape(str(path))}: no pixel size"
    ):
        stack = load(path)
    assert stack.pixel_size_nm == 1.0
    assert stack.get_frame_times() == [None] * 4
    assert stack.provenance["source"]["acquisition"]["pixel_size_known"] is False


def test_single_page_is_one_frame(tmp_path):
    path = tmp_path / "one.tif"
    tifffile.imwrite(path, FRAMES[0], imagej=True, metadata={"unit": "nm"})
    assert load(path).data.shape == (1, 6, 5)


def test_channel_axis(tmp_path):
    path = tmp_path / "two.tif"
    data = np.stack([FRAMES, -FRAMES], axis=1)  # T C Y X
    tifffile.imwrite(path, data, imagej=True, metadata={"axes": "TCYX", "unit": "nm"})
    assert available_channels(path) == ["c0", "c1"]
    np.testing.assert_array_equal(load(path, channel="C1").data, -FRAMES)
    with pytest.raises(ChannelError) as err:
        load(path, channel="height")
    assert str(err.value) == f"{path}: no channel 'height'; it has c0, c1"


def test_rgb_is_refused(tmp_path):
    path = tmp_path / "photo.tif"
    tifffile.imwrite(path, np.zeros((6, 5, 3), np.uint8), photometric="rgb")
    with pytest.raises(ReadError) as err:
        load(path)
    assert str(err.value) == f"{path}: holds colour (RGB) samples, not height data"


@pytest.mark.parametrize("keep", [200, 1000])
def test_truncated_stack_is_an_error_not_fewer_frames(tmp_path, keep):
    path = tmp_path / "full.tif"
    tifffile.imwrite(path, FRAMES, imagej=True, metadata={"unit": "nm", **TYX})
    cut = tmp_path / "cut.tif"
    cut.write_bytes(path.read_bytes()[:keep])
    with pytest.raises(
        ReadError, match=rf"^{re.escape(str(cut))}: file (ends|is truncated).*{keep}"
    ):
        load(cut)


def test_ome_tif_goes_to_the_bundle_reader(tmp_path):
    path = tmp_path / "stack.ome.tif"
    tifffile.imwrite(path, FRAMES, photometric="minisblack")
    assert reader_for(path).name == "ome-tiff"
    plain = tmp_path / "stack.TIF"
    tifffile.imwrite(plain, FRAMES, photometric="minisblack")
    assert reader_for(plain).name == "tiff"  # suffixes match in any case


@pytest.mark.parametrize("compression", [None, "zlib"])
def test_bilevel_tiff_is_refused_for_its_pixel_type_not_as_truncated(
    tmp_path, compression
):
    # 1-bit pages store 8 pixels per byte: a valid file, not one storing too little
    path = tmp_path / "mask.tif"
    bits = np.random.default_rng(0).random((3, 64, 80)) > 0.5
    tifffile.imwrite(
        path,
        bits,
        compression=compression,
        resolution=(1e4, 1e4),
        resolutionunit="CENTIMETER",
    )
    with tifffile.TiffFile(path) as tif:
        assert tif.pages[0].bitspersample == 1
        assert tif.series[0].dataoffset is None  # the page-by-page checks run
    with pytest.raises(ReadError) as caught:
        load(path)
    assert str(caught.value) == f"{path}: data must hold real numbers; got dtype bool"


class TestTiffReaderConformance(ReaderConformance):
    """Every door of the TIFF reader: a plain stack and an ImageJ hyperstack."""

    reader_name = "tiff"

    @pytest.fixture
    def samples(self, tmp_path_factory):
        folder = tmp_path_factory.mktemp("tiff")
        data = np.arange(3 * 6 * 7, dtype=np.int16).reshape(3, 6, 7)
        plain, imagej = folder / "plain.tif", folder / "imagej.tif"
        tifffile.imwrite(
            plain, data, photometric="minisblack", resolution=(2.0, 2.0),
            resolutionunit=5,
        )  # fmt: skip
        tifffile.imwrite(
            imagej, data.astype(np.float32), imagej=True, resolution=(0.5, 0.5),
            metadata={"unit": "nm", "finterval": 0.25, "axes": "TYX"},
        )  # fmt: skip
        return [plain, imagej]
