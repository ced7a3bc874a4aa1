"""The CSV reader: what playnano.load() does with CSV files."""

from __future__ import annotations

from pathlib import Path

import pytest

import playnano
from playnano.errors import ChannelError, ReadError
from playnano.testing import ReaderConformance, make_sample_stack


def test_reads_channel_calibration_and_times(tmp_path: Path) -> None:
    stack = make_sample_stack(n_frames=3, shape=(4, 5), processed=False, masks=False)
    [path] = playnano.export(stack, tmp_path / "video.csv")
    back = playnano.load(path, channel="HEIGHT_TRACE")
    assert back.channel == "height_trace"
    assert back.pixel_size_nm == 1.5
    assert back.get_frame_times() == [0.0, 0.25, 0.5]
    assert back.provenance["source"]["reader"] == "csv"


def test_wrong_channel_names_the_one_in_the_file(tmp_path: Path) -> None:
    [path] = playnano.export(make_sample_stack(), tmp_path / "video.csv")
    with pytest.raises(ChannelError, match="height_trace"):
        playnano.load(path, channel="phase")


@pytest.mark.parametrize(
    "text", ["a,b\n1,2\n", "# format: playnano-example csv 1\n# frames: 1\n"]
)
def test_foreign_or_truncated_csv_is_a_read_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "other.csv"
    path.write_text(text)
    with pytest.raises(ReadError, match="other.csv"):
        playnano.load(path)


class TestCsvReaderConformance(ReaderConformance):
    """Every door of the CSV reader (read; the others are ReaderBase's defaults)."""

    reader_name = "csv"

    @pytest.fixture
    def samples(self, tmp_path: Path) -> list[Path]:
        stack = make_sample_stack(
            n_frames=3, shape=(4, 5), processed=False, masks=False
        )
        return playnano.export(stack, tmp_path / "video.csv")
