"""playnano.io.gif_export.export_gif: the seed's signature, naming and options."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from playnano.errors import ExportWarning, OptionError, OutputExistsError
from playnano.io.gif_export import export_gif
from playnano.testing import HEAVY_MODULES, make_sample_stack

BAR = 10  # the sample stack is 25.5 nm wide


def n_frames(path: Path) -> int:
    with Image.open(path) as im:
        return int(im.n_frames)


def test_import_is_light() -> None:
    code = (
        "import sys, playnano.io.gif_export\n"
        f"print([m for m in {HEAVY_MODULES!r} if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_make_gif_false_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert export_gif(make_sample_stack(), False, out) == []
    assert not out.exists()


def test_processed_stack_is_named_filtered(tmp_path: Path) -> None:
    stack = make_sample_stack()
    paths = export_gif(stack, True, tmp_path / "exports", "sample", BAR)
    assert paths == [tmp_path / "exports" / "sample_filtered.gif"]
    assert n_frames(paths[0]) == stack.n_frames
    assert stack.provenance["exports"][-1]["format"] == "gif"


def test_raw_export_is_not_filtered(tmp_path: Path) -> None:
    paths = export_gif(make_sample_stack(), True, tmp_path, "s", BAR, raw=True)
    assert paths == [tmp_path / "s.gif"]


def test_unprocessed_stack_default_name_comes_from_the_source_file(
    tmp_path: Path,
) -> None:
    stack = make_sample_stack(processed=False)  # file_path sample_video.asd
    assert export_gif(stack, True, tmp_path, scale_bar_nm=BAR) == [
        tmp_path / "sample_video.gif"
    ]


def test_seed_keyword_call(tmp_path: Path) -> None:
    """The call in the seed's user guide."""
    paths = export_gif(
        make_sample_stack(),
        make_gif=True,
        output_folder=tmp_path,
        output_name="sample",
        scale_bar_nm=BAR,
        zmin="auto",
        zmax="auto",
        draw_ts=True,
    )
    assert [p.name for p in paths] == ["sample_filtered.gif"]


def test_playnano_050_keywords(tmp_path: Path) -> None:
    """The names playnano 0.5.0's CLI and GUI pass: afm_stack, cmap_name, ..."""
    stack = make_sample_stack()
    [a] = export_gif(
        afm_stack=stack,
        make_gif=True,
        output_folder=tmp_path,
        output_name="a",
        scale_bar_nm=None,
        raw=False,
        zmin=None,
        zmax=None,
        draw_ts=False,
        cmap_name="viridis",
        fps=5.0,
        draw_scale=False,
    )
    [b] = export_gif(
        stack, True, tmp_path, "b", 0, draw_ts=False, cmap="viridis", fps=5.0
    )
    with Image.open(a) as ia, Image.open(b) as ib:
        assert ia.info["duration"] == 200
        np.testing.assert_array_equal(
            np.asarray(ia.convert("RGB")), np.asarray(ib.convert("RGB"))
        )


def test_font_scale_is_ignored_with_a_warning(tmp_path: Path) -> None:
    with pytest.warns(ExportWarning, match="font_scale"):
        export_gif(make_sample_stack(), True, tmp_path, "f", BAR, font_scale=2.0)


def test_stack_must_be_given_once(tmp_path: Path) -> None:
    stack = make_sample_stack()
    with pytest.raises(TypeError, match="once"):
        export_gif(stack, True, tmp_path, afm_stack=stack)
    with pytest.raises(TypeError, match="once"):
        export_gif(None, True, tmp_path)


def test_options_reach_the_exporter(tmp_path: Path) -> None:
    [path] = export_gif(make_sample_stack(), True, tmp_path, "x", BAR, fps=4)
    with Image.open(path) as im:
        assert im.info["duration"] == 250 and im.info["loop"] == 0


def test_bad_options_write_nothing(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="zmin"):
        export_gif(make_sample_stack(), True, tmp_path, "x", BAR, zmin=3, zmax=1)
    with pytest.raises(OptionError, match="colormap"):
        export_gif(make_sample_stack(), True, tmp_path, "x", BAR, cmap="nope")
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    stack = make_sample_stack()
    [path] = export_gif(stack, True, tmp_path, "x", BAR)
    with pytest.raises(OutputExistsError):
        export_gif(stack, True, tmp_path, "x", BAR)
    assert export_gif(stack, True, tmp_path, "x", BAR, overwrite=True) == [path]
