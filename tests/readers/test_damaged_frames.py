"""A damaged frame in a frame folder is an error naming it, never a shorter stack.

``load(..., skip_damaged=True)`` (CLI ``--skip-damaged-frames``) leaves such frames
out on request: it warns, and the provenance lists each skipped file and why.
"""

from __future__ import annotations

import re
import shutil
import warnings

import numpy as np
import pytest
from click.testing import CliRunner

from playnano.cli.app import cli
from playnano.errors import OptionError, ReadError
from playnano.readers import ReadWarning, load

OLD = "spm/old_bruker.002"
JPK = "jpk_folder/streptavidin_hs"


@pytest.fixture
def nanoscope_video(afm_data, tmp_path):
    """scan.001-scan.003: three copies of a real v5 Nanoscope file."""
    folder = tmp_path / "video"
    folder.mkdir()
    for i in (1, 2, 3):
        shutil.copyfile(afm_data / OLD, folder / f"scan.00{i}")
    return folder


def _cut(path, n_bytes):
    data = path.read_bytes()[:n_bytes]
    path.write_bytes(data)


def _at(path):
    """A pattern for a message that starts by naming ``path`` as it was given."""
    return "^" + re.escape(str(path)) + ": "


@pytest.mark.parametrize("n_bytes", [0, 6, 5000, 100_000])
def test_truncated_nanoscope_frame_is_an_error_naming_it(nanoscope_video, n_bytes):
    _cut(nanoscope_video / "scan.002", n_bytes)
    with pytest.raises(ReadError, match=_at(nanoscope_video / "scan.002")) as err:
        load(nanoscope_video)
    assert "\n" not in str(err.value)


def test_cli_exits_non_zero_on_a_damaged_frame(nanoscope_video, tmp_path):
    _cut(nanoscope_video / "scan.002", 0)
    result = CliRunner().invoke(
        cli,
        ["process", str(nanoscope_video), "-e", "npz", "-o", str(tmp_path / "out")],
    )
    assert result.exit_code == 1, result.output
    assert "scan.002" in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("n_bytes", [0, 100_000])
def test_skip_damaged_leaves_the_frame_out_and_says_so(nanoscope_video, n_bytes):
    _cut(nanoscope_video / "scan.002", n_bytes)
    whole = load(nanoscope_video / "scan.001")
    with pytest.warns(
        ReadWarning, match=_at(nanoscope_video) + r"skipped 1 damaged frame: scan\.002"
    ):
        stack = load(nanoscope_video, skip_damaged=True)
    assert stack.data.shape == (2, 256, 256)
    np.testing.assert_array_equal(stack.data[1], whole.data[0])
    source = stack.provenance["source"]
    assert source["acquisition"]["frame_files"] == ["scan.001", "scan.003"]
    [skipped] = source["skipped_frames"]
    assert skipped["file"] == "scan.002" and skipped["index"] == 1
    assert skipped["error"].startswith(f"{nanoscope_video / 'scan.002'}: ")
    # frame times keep the gap: frame 2 of the folder is still at 2 frame periods
    times = stack.get_frame_times()
    assert times[1] == pytest.approx(2 * 256 / 1.50498)


def test_skip_damaged_with_every_frame_damaged(nanoscope_video):
    for f in nanoscope_video.iterdir():
        _cut(f, 5000)
    with pytest.raises(ReadError, match=_at(nanoscope_video) + "no readable frames"):
        load(nanoscope_video, skip_damaged=True)


def test_cli_skip_damaged_frames(nanoscope_video, tmp_path):
    _cut(nanoscope_video / "scan.003", 6)
    out = tmp_path / "out"
    with warnings.catch_warnings():  # shown by the CLI, not raised as in pytest
        warnings.simplefilter("default", ReadWarning)
        result = CliRunner().invoke(
            cli,
            [
                "process", str(nanoscope_video), "--skip-damaged-frames",
                "-e", "npz", "-o", str(out),
            ],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "skipped 1 damaged frame: scan.003" in result.output
    [written] = out.iterdir()
    bundle = load(written)
    assert bundle.data.shape == (2, 256, 256)


def test_skip_damaged_is_refused_by_single_file_readers(afm_data):
    with pytest.raises(OptionError, match="asd_sample_0.asd: .*cannot skip"):
        load(afm_data / "asd/asd_sample_0.asd", skip_damaged=True)


def test_unrelated_numbered_files_are_not_frames(nanoscope_video):
    (nanoscope_video / "notes.1").write_text("not a frame")
    (nanoscope_video / "README").write_text("not a frame")
    assert load(nanoscope_video).data.shape == (3, 256, 256)


# ------------------------------------------------------------- JPK folders
@pytest.fixture
def jpk_video(afm_data, tmp_path):
    folder = tmp_path / "jpk"
    shutil.copytree(afm_data / JPK, folder)
    return folder


def test_truncated_jpk_frame_is_an_error_naming_it(jpk_video):
    second = sorted(jpk_video.glob("*.jpk"))[1]
    _cut(second, 200_000)
    with pytest.raises(ReadError, match=_at(second)):
        load(jpk_video)


def test_skip_damaged_jpk_frame(jpk_video):
    files = sorted(jpk_video.glob("*.jpk"))
    _cut(files[1], 0)
    with pytest.warns(ReadWarning, match=rf"skipped 1 damaged frame: {files[1].name}"):
        stack = load(jpk_video, skip_damaged=True)
    assert stack.data.shape == (2, 512, 512)
    whole = load(files[2])
    np.testing.assert_array_equal(stack.data[1], whole.data[0])
    assert [s["file"] for s in stack.provenance["source"]["skipped_frames"]] == [
        files[1].name
    ]


def test_damaged_first_jpk_frame_still_names_the_folder_reader(jpk_video):
    files = sorted(jpk_video.glob("*.jpk"))
    _cut(files[0], 0)
    with pytest.raises(ReadError, match=_at(files[0])):
        load(jpk_video)
    with pytest.warns(ReadWarning, match=rf"skipped 1 damaged frame: {files[0].name}"):
        assert load(jpk_video, skip_damaged=True).data.shape == (2, 512, 512)


def test_damaged_first_nanoscope_frame(nanoscope_video):
    _cut(nanoscope_video / "scan.001", 0)
    with pytest.raises(ReadError, match=_at(nanoscope_video / "scan.001")):
        load(nanoscope_video)


def test_channels_of_a_folder_with_a_damaged_first_frame(nanoscope_video, jpk_video):
    from playnano.readers import available_channels

    _cut(nanoscope_video / "scan.001", 0)
    assert available_channels(nanoscope_video) == ["Height"]
    _cut(sorted(jpk_video.glob("*.jpk"))[0], 0)
    assert "height_trace" in available_channels(jpk_video)


def test_unexpected_failure_in_one_frame_names_that_frame(nanoscope_video):
    frame = nanoscope_video / "scan.002"
    frame.write_bytes(  # int(inf) fails inside the reader with an OverflowError
        frame.read_bytes().replace(b"\\Samps/line: 256", b"\\Samps/line: 1e999", 2)
    )
    with pytest.raises(ReadError, match=_at(frame) + ".*OverflowError") as err:
        load(nanoscope_video)
    assert isinstance(err.value.__cause__, OverflowError)
    with pytest.warns(ReadWarning, match="skipped 1 damaged frame: scan.002"):
        assert load(nanoscope_video, skip_damaged=True).n_frames == 2
