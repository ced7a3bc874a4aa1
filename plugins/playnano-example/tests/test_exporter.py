"""The CSV exporter passes playnano's conformance suite, plus its own checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import playnano
from playnano.afm_stack import AFMImageStack
from playnano.errors import OptionError
from playnano.testing import ExporterConformance, make_sample_stack


class TestCsvConformance(ExporterConformance):
    """Every test of playnano.testing.ExporterConformance, run on the csv format."""

    format_name = "csv"

    def read_back(self, path: Path) -> AFMImageStack:
        # Enables the round-trip tests: back through the plugin's own reader.
        return playnano.load(path)


@pytest.fixture
def stack() -> AFMImageStack:
    return make_sample_stack(n_frames=2, shape=(3, 4))


def test_layout_is_one_row_per_pixel(stack: AFMImageStack, tmp_path: Path) -> None:
    [path] = playnano.export(stack, tmp_path / "video", "csv")
    lines = path.read_text().splitlines()
    assert lines[0] == "# format: playnano-example csv 1"
    assert "# pixel_size_nm: 1.5" in lines
    header = lines.index("frame,timestamp_s,y,x,height_nm")
    rows = [r.split(",") for r in lines[header + 1 :]]
    assert len(rows) == 2 * 3 * 4
    assert rows[-1][:4] == ["1", "0.25", "2", "3"]
    assert float(rows[-1][4]) == stack.data[1, 2, 3]


def test_options(stack: AFMImageStack, tmp_path: Path) -> None:
    [path] = playnano.export(
        stack, tmp_path / "video.csv", precision=3, delimiter="semicolon"
    )
    last = path.read_text().splitlines()[-1].split(";")
    assert last[4] == f"{stack.data[1, 2, 3]:.3g}"
    back = playnano.load(path)
    np.testing.assert_allclose(back.data, stack.data, rtol=1e-2, atol=1e-2)
    with pytest.raises(OptionError, match="must be one of"):
        playnano.export(stack, tmp_path / "bad.csv", delimiter="pipe")


def test_alias_and_suffix_select_the_format(
    stack: AFMImageStack, tmp_path: Path
) -> None:
    [by_alias] = playnano.export(stack, tmp_path / "a", "CSV-long")
    [by_suffix] = playnano.export(stack, tmp_path / "b.csv")
    assert by_alias.name == "a.csv" and by_suffix.name == "b.csv"
