"""The JPK folder reader: the real three-frame folder against playnano 0.5.0."""

from __future__ import annotations

import numpy as np
import pytest

from playnano.errors import ChannelError, ReadError
from playnano.readers import available_channels, load, reader_for
from playnano.readers.jpk_folder import JpkFolderReader
from playnano.testing import ReaderConformance

FOLDER = "jpk_folder/streptavidin_hs/"


@pytest.fixture
def folder(afm_data):
    return afm_data / FOLDER


@pytest.fixture
def ref(reference):
    return reference[FOLDER]["playnano_height_trace"]


def test_folder_matches_playnano_050_upside_down(folder, ref, check_reference):
    stack = load(folder)
    assert stack.channel == "height_trace"
    # playnano 0.5.0 kept JPK's stored row order, which is the scan upside down
    # (JPK stores the bottom line first; Gwyddion, AFMReader and JPK's software
    # flip it, as 0.5.0 itself does for .h5-jpk). Flipped back, the values are
    # 0.5.0's: raw * multiplier + offset, then m -> nm; tolerance for summation order
    stack.data = stack.data[:, ::-1]
    check_reference(stack, ref, rtol=1e-12)
    assert np.round(stack.data.mean(axis=(1, 2)), 6).tolist() == ref["frame_means"]


def test_folder_frame_times(folder, ref):
    stack = load(folder)
    meta = stack.frame_metadata
    assert stack.get_frame_times() == ref["timestamps_s"] == [0.0, 2.59, 5.18]
    assert [m["frame_duration_s"] for m in meta] == ref["frame_duration_s"]
    assert [m["start_epoch_ms"] for m in meta] == ref["start_epoch_ms"]
    assert {m["line_rate"] for m in meta} == {ref["line_rate"]}
    assert {m["scan_direction"] for m in meta} == {ref["scan_direction"]}
    assert stack.provenance["source"]["acquisition"]["bidirectional"] is True


def test_rows_are_flipped_and_origin_recorded(folder):
    import tifffile

    first = sorted(folder.glob("*.jpk"))[0]
    with tifffile.TiffFile(first) as tif:
        info = tif.pages[0].tags
        assert info[32837].value == 0  # grid not reflected: bottom line stored first
        stored = tif.pages[1].asarray()  # the first channel: height_retrace
        x0, y0 = info[32832].value, info[32833].value
    frame = load(first, channel="height_retrace").data[0]
    # the top row shown is the last row stored (same scaling for every pixel)
    ratio = (frame[0] - frame[0].mean()) / (stored[-1] - stored[-1].mean())
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
    md = load(first).frame_metadata[0]
    assert md["x_offset_nm"] == pytest.approx(x0 * 1e9)
    assert md["y_offset_nm"] == pytest.approx(y0 * 1e9)


def test_folder_is_recognised_by_content(folder):
    assert reader_for(folder).name == "jpk-folder"
    assert JpkFolderReader().can_read(folder)


def test_single_frame_file_reads_as_one_frame(folder):
    video = load(folder)
    first = sorted(folder.glob("*.jpk"))[0]
    single = load(first)
    assert single.data.shape == (1, 512, 512)
    np.testing.assert_array_equal(single.data[0], video.data[0])
    assert single.provenance["source"]["file"] == first.name


def test_channels(folder, reference):
    assert available_channels(folder) == reference[FOLDER]["channels"]
    stack = load(folder, channel="MEASUREDHEIGHT_TRACE")
    assert stack.channel == "measuredHeight_trace"


def test_wrong_channel_lists_the_channels(folder):
    first = sorted(folder.glob("*.jpk"))[0]
    with pytest.raises(ChannelError) as err:
        load(folder, channel="amplitude_trace")
    assert str(err.value) == (
        f"{first}: no channel 'amplitude_trace'; it has "
        "height_retrace, measuredHeight_trace, height_trace"
    )


@pytest.mark.parametrize("n_bytes", [20_000, 600_000, 3_000_000])
def test_truncated_frame(folder, copy_truncated, n_bytes):
    src = sorted(folder.glob("*.jpk"))[0]
    cut = copy_truncated(src, n_bytes)
    with pytest.raises(ReadError) as err:
        load(cut)
    message = str(err.value)
    assert message.startswith(f"{cut}: ")
    assert f"{n_bytes} bytes" in message


def test_reflected_grid_keeps_stored_rows(tmp_path):
    image = np.arange(12, dtype=np.int32).reshape(3, 4)
    _write_jpk(tmp_path / "reflected.jpk", image, reflect=True)
    _write_jpk(tmp_path / "plain.jpk", image, reflect=False)
    np.testing.assert_array_equal(load(tmp_path / "reflected.jpk").data[0], image)
    np.testing.assert_array_equal(load(tmp_path / "plain.jpk").data[0], image[::-1])


def test_not_a_tiff(tmp_path):
    path = tmp_path / "frame.jpk"
    path.write_bytes(b"garbage!")
    with pytest.raises(ReadError) as err:
        load(path)
    assert str(err.value) == f"{path}: not a JPK file (no TIFF signature)"


def _write_jpk(path, image, reflect=None):
    """A minimal JPK-style TIFF: thumbnail with the scan grid, one height page."""
    import tifffile

    grid = [(32834, "d", 1, 8.5e-8, True), (32838, "I", 1, image.shape[1], True)]
    if reflect is not None:
        grid.append((32837, "I", 1, int(reflect), True))
    tifffile.imwrite(path, np.zeros((8, 8), np.uint8), extratags=grid)
    name = [(32848, "s", 0, "height", True), (32849, "I", 1, 0, True)]
    tifffile.imwrite(path, image, append=True, extratags=name)


def test_minimal_jpk_file_without_calibration(tmp_path):
    path = tmp_path / "tiny.jpk"
    image = np.arange(12, dtype=np.int32).reshape(3, 4)
    _write_jpk(path, image)
    stack = load(path)
    # no slots: raw values; no reflect tag: stored bottom line first, so flipped
    np.testing.assert_array_equal(stack.data[0], image[::-1])
    assert stack.pixel_size_nm == pytest.approx(85 / 4)
    assert stack.get_frame_times() == [None]  # no dates and no line rate
    assert stack.provenance["source"]["acquisition"]["frame_times_from"] == "unknown"


def test_frames_of_different_sizes(folder, tmp_path, copy_file):
    first = sorted(folder.glob("*.jpk"))[0]
    copy_file(first, folder="video")
    _write_jpk(tmp_path / "video" / "zz-last.jpk", np.zeros((4, 4), np.int32))
    with pytest.raises(ReadError) as err:
        load(tmp_path / "video")
    # the headers say so before any frame is read: not frames of one scan
    message = str(err.value)
    assert message.startswith(
        f"{tmp_path / 'video'}: not one video, its files are different scans "
        f"({first.name}: 512x512 px, "
    )
    assert "; zz-last.jpk: 4x4 px, " in message


class TestJpkFolderReaderConformance(ReaderConformance):
    """Every door of the JPK folder reader: the real folder and one of its frames,
    and a generated folder (hostile copies of that one, it is small)."""

    reader_name = "jpk-folder"

    @pytest.fixture
    def samples(self, folder, tmp_path):
        made = tmp_path / "video"
        made.mkdir()
        for i in range(3):
            image = np.arange(12, dtype=np.int32).reshape(3, 4) * (i + 1)
            _write_jpk(made / f"save-{i}.jpk", image)
        return [made, made / "save-0.jpk", folder, min(folder.glob("*.jpk"))]

    @pytest.fixture
    def hostile_samples(self, samples):
        return samples[:2]
