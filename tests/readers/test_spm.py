"""The Nanoscope reader: real v5 files, a truncated file, synthetic v9 frames."""

from __future__ import annotations

import re

import numpy as np
import pytest

from playnano.errors import ChannelError, ReadError
from playnano.readers import available_channels, load, reader_for
from playnano.testing import ReaderConformance

OLD = "spm/old_bruker.002"
CUT = "spm/bruker_data_header.001"


def test_v5_file_matches_afmreader(afm_data, reference, check_reference):
    # playnano 0.5.0 fails on this file (it looks for 'Scan Rate'); AFMReader reads it
    stack = load(afm_data / OLD)
    assert (stack.channel, stack.data.shape) == ("Height", (1, 256, 256))
    # the same factors applied one at a time in pySPM's order; rtol for rounding only
    check_reference(stack, reference[OLD]["afmreader_Height"], rtol=1e-12)
    assert stack.provenance["source"]["sha256"] == reference[OLD]["sha256"]


def test_v5_lowercase_header_keys_give_the_metadata(afm_data):
    meta = load(afm_data / OLD).frame_metadata[0]
    assert meta["line_rate"] == 1.50498  # from 'Scan rate' (lowercase r)
    assert meta["frame_pixel_size_nm"] == 58.59375  # 'Scan size: 15 15 ~m' / 256
    assert meta["frame_duration_s"] == pytest.approx(256 / 1.50498)
    assert meta["timestamp"] == 0.0
    assert meta["scan_direction"] == "bottomUp"  # 'Frame direction: Up'
    assert meta["start_epoch_ms"] == 1564490078000  # 12:34:38 PM Tue Jul 30 2019


@pytest.mark.parametrize("name", ["old_bruker.002", "renamed.spm", "renamed.xyz"])
def test_found_by_suffix_or_content(afm_data, copy_file, name):
    path = copy_file(afm_data / OLD, name)
    assert reader_for(path).name == "spm"
    assert load(path).data.shape == (1, 256, 256)


def test_header_only_file_is_a_clear_error(afm_data):
    with pytest.raises(ReadError) as err:
        load(afm_data / CUT)
    assert str(err.value) == (
        f"{afm_data / CUT}: file ends after 10685 bytes; the header declares "
        "512x512 int16 data at offset 40960 (needs 565248 bytes)"
    )


def test_file_cut_inside_the_header(afm_data, copy_truncated):
    with pytest.raises(ReadError) as err:
        load(cut := copy_truncated(afm_data / OLD, 5000))
    assert str(err.value) == (
        f"{cut}: file ends after 5000 bytes, inside the text header "
        "(no '\\*File list end')"
    )


def test_padded_header_file_reads_and_needs_its_sensitivity(afm_data, tmp_path):
    padded = tmp_path / "padded.001"
    content = (afm_data / CUT).read_bytes().ljust(565248, b"\0")
    padded.write_bytes(content)
    assert load(padded).data.shape == (1, 512, 512)
    padded.write_bytes(content.replace(b"@Sens. LinZ: V", b"@Sens. LinX: V"))
    with pytest.raises(ReadError) as err:
        load(padded)
    assert str(err.value) == (
        f"{padded}: the Z scale refers to 'Sens. LinZ', which the header does not "
        "define"
    )


def test_wrong_channel(afm_data):
    assert available_channels(afm_data / OLD) == ["Height"]
    with pytest.raises(ChannelError) as err:
        load(afm_data / OLD, channel="ZSensor")
    assert str(err.value) == f"{afm_data / OLD}: no channel 'ZSensor'; it has Height"


def test_folder_of_v5_frames(afm_data, copy_file, tmp_path):
    for name in ("scan.001", "scan.002"):
        copy_file(afm_data / OLD, name, folder="video")
    stack = load(tmp_path / "video")
    assert stack.data.shape == (2, 256, 256)
    assert stack.get_frame_times() == pytest.approx([0.0, 256 / 1.50498])
    source = stack.provenance["source"]
    assert (source["reader"], source["file"]) == ("spm", "video")
    assert source["acquisition"]["frame_files"] == ["scan.001", "scan.002"]


def test_a_folder_of_different_scans_is_not_one_video(afm_data):
    """spm/ holds a 256x256 image and a (truncated) 512x512 one: their headers say
    they are not frames of one scan, so the folder is refused, naming both."""
    at = re.escape(str(afm_data / "spm"))
    with pytest.raises(
        ReadError,
        match=rf"^{at}: not one video, its files are different scans "
        r"\(bruker_data_header\.001: 512x512 px, .*; old_bruker\.002: 256x256 px",
    ):
        load(afm_data / "spm")


def test_a_damaged_frame_of_a_series_is_named(afm_data, tmp_path):
    folder = tmp_path / "video"
    folder.mkdir()
    data = (afm_data / OLD).read_bytes()
    (folder / "scan.001").write_bytes(data)
    (folder / "scan.002").write_bytes(data[:50_000])  # header whole, image cut
    at = re.escape(str(folder / "scan.002"))
    with pytest.raises(ReadError, match=rf"^{at}: file ends after 50000 bytes"):
        load(folder)


# ---------------------------------------------------------- synthetic v9 frames
def nanoscope_v9(raw: np.ndarray, relative_time_s: float) -> bytes:
    """A minimal version-9 file: 4-byte data, capitalised keys, a frame time."""
    lines, samples = raw.shape
    header = "\r\n".join(
        [
            "\\*File list",
            "\\Version: 0x09200202",
            "\\Date: 01:02:03 PM Wed Jan 01 2025",
            "\\Data length: 4096",
            "\\*Ciao scan list",
            "\\Scan Rate: 10",
            f"\\Relative frame time: {relative_time_s} s",
            "\\@Sens. Zsens: V 2.0 ~m/V",
            "\\*Ciao image list",
            "\\Data offset: 4096",
            f"\\Data length: {raw.size * 4}",
            "\\Bytes/pixel: 4",
            f"\\Samps/line: {samples}",
            f"\\Number of lines: {lines}",
            "\\Scan Size: 100 100 nm",
            "\\Line Direction: Trace",
            "\\Frame direction: Down",
            '\\@2:Image Data: S [ZSensor] "Height Sensor"',
            "\\@2:Z scale: V [Sens. Zsens] (0.0001 V/LSB) 8.0 V",
            "\\*File list end",
            "",
        ]
    ).encode("latin-1")
    return header.ljust(4096, b"\0") + raw.astype("<i4").tobytes()


def test_synthetic_v9_folder(tmp_path):
    rng = np.random.default_rng(0)
    raws = [rng.integers(-(2**31), 2**31 - 1, (3, 4)) for _ in range(2)]
    folder = tmp_path / "v9"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a frame")
    for i, (raw, t) in enumerate(zip(raws, (2.5, 4.0), strict=True)):
        (folder / f"frame_{i}.spm").write_bytes(nanoscope_v9(raw, t))

    stack = load(folder, channel="height sensor")
    assert stack.channel == "Height Sensor"
    expected = [np.flipud(r) * (8.0 / 256**4) * 2.0 * 1000.0 for r in raws]
    np.testing.assert_allclose(stack.data, np.stack(expected), rtol=1e-12)
    assert stack.pixel_size_nm == 25.0
    assert stack.get_frame_times() == [0.0, 1.5]  # 'Relative frame time'
    meta = stack.frame_metadata[0]
    assert (meta["line_rate"], meta["frame_duration_s"]) == (10.0, 0.3)
    assert meta["scan_direction"] == "topDown"
    assert meta["start_epoch_ms"] == 1735736523000


class TestSpmReaderConformance(ReaderConformance):
    """Every door of the Nanoscope reader: the real file, a folder of three copies
    of it (``.001``-``.003``), and a generated version-9 folder."""

    reader_name = "spm"

    @pytest.fixture
    def samples(self, afm_data, tmp_path):
        v9 = tmp_path / "v9"
        v9.mkdir()
        rng = np.random.default_rng(0)
        for i, t in enumerate((2.5, 4.0)):
            raw = rng.integers(-(2**31), 2**31 - 1, (3, 4))
            (v9 / f"frame_{i}.spm").write_bytes(nanoscope_v9(raw, t))
        real = afm_data / "spm" / "old_bruker.002"
        video = tmp_path / "nanoscope"
        video.mkdir()
        for i in (1, 2, 3):
            (video / f"scan.00{i}").write_bytes(real.read_bytes())
        return [real, v9, video]
