"""The ``png`` (alias ``sequence``) exporter: a folder of annotated PNG frames."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageSequence

from playnano.afm_stack import AFMImageStack
from playnano.errors import OutputExistsError
from playnano.formats.png.exporter import NAN_VALUE, TOP_VALUE, read_tiff16_frame
from playnano.io.export_data import export_bundles, export_stack
from playnano.testing import ExporterConformance, FramesSeen, make_sample_stack


class TestSequence(ExporterConformance):
    format_name = "png"

    def inspect(self, path: Path) -> FramesSeen:
        # colours, not heights (tiff16 is checked below): the PNGs in name order,
        # timed by the timestamps stored in them
        rgb, times = [], []
        for png in sorted(path.iterdir()):
            with Image.open(png) as im:
                rgb.append(np.asarray(im.convert("RGB")))
                times.append(float(im.text["playnano:timestamp_s"]))
        steps = np.diff(times)
        durations = (*steps.tolist(), float(np.median(steps)))
        height, width = rgb[0].shape[:2]
        return FramesSeen(len(rgb), durations, (width, height), np.stack(rgb))

    def export_options(self) -> dict[str, Any]:
        return {"scale_bar_nm": 10}  # the sample stack is 25.5 nm wide


def make_stack(n: int = 3, shape: tuple[int, int] = (40, 64)) -> AFMImageStack:
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    data = np.stack([xx * 0.37 + yy * 0.5 + i for i in range(n)]).astype(np.float64)
    meta = [{"timestamp": 0.1 * i} for i in range(n)]
    return AFMImageStack(data, 2.0, "height_trace", Path("movie.asd"), meta)


def test_alias_and_folder_name(tmp_path: Path) -> None:
    stack = make_stack()
    [folder] = export_stack(stack, tmp_path / "movie", "sequence")
    assert folder == tmp_path / "movie_frames"
    assert folder.is_dir()
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["movie_0000.png", "movie_0001.png", "movie_0002.png"]


def test_padding_grows_with_the_frame_count(tmp_path: Path) -> None:
    from playnano.formats.png.exporter import frame_name

    assert frame_name("a", 7, 9999, ".png") == "a_0007.png"
    assert frame_name("a", 7, 10000, ".png") == "a_00007.png"
    assert frame_name("a", 12345, 123456, ".tif") == "a_012345.tif"


def test_png_frames_equal_the_gif_frames(tmp_path: Path) -> None:
    """Same renderer, colour table and options: pixel-identical to the GIF."""
    stack = make_stack()
    opts = {"cmap": "viridis", "scale_bar_nm": 20, "draw_ts": True}
    [gif] = export_stack(stack, tmp_path / "m", "gif", options=opts)
    [folder] = export_stack(stack, tmp_path / "m", "png", options=opts)
    with Image.open(gif) as im:
        gif_frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]
    pngs = sorted(folder.glob("*.png"))
    assert len(pngs) == len(gif_frames) == 3
    for png, expected in zip(pngs, gif_frames, strict=True):
        with Image.open(png) as im:
            assert im.mode == "P"
            rgb = np.asarray(im.convert("RGB"))
        np.testing.assert_array_equal(rgb, expected)
    # and not just equal because both ignore the option: afmhot differs
    [other] = export_stack(stack, tmp_path / "h", "png", options={"scale_bar_nm": 20})
    with Image.open(sorted(other.glob("*.png"))[0]) as im:
        assert not np.array_equal(np.asarray(im.convert("RGB")), gif_frames[0])


def test_processed_stack_gets_filtered_name(tmp_path: Path) -> None:
    stack = make_sample_stack()
    paths = export_bundles(
        stack, tmp_path, None, ["png"], options={"png": {"scale_bar_nm": 5}}
    )
    assert paths == [tmp_path / "sample_video_filtered_frames"]
    names = sorted(p.name for p in paths[0].iterdir())
    assert names == [f"sample_video_filtered_{i:04d}.png" for i in range(4)]


def test_never_merges_into_an_existing_folder(tmp_path: Path) -> None:
    stack = make_stack()
    folder = tmp_path / "movie_frames"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(OutputExistsError):
        export_stack(stack, tmp_path / "movie", "png")
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    export_stack(stack, tmp_path / "movie", "png", overwrite=True)
    assert sorted(p.name for p in folder.iterdir()) == [
        f"movie_{i:04d}.png" for i in range(3)
    ]
    # nothing staged is left next to it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["movie_frames"]


def test_tiff16_frames_hold_heights_in_nm(tmp_path: Path) -> None:
    stack = make_stack(n=2)
    stack.data[1, 3, 4] = np.nan
    [folder] = export_stack(
        stack, tmp_path / "m", "png", options={"frame_format": "tiff16"}
    )
    tifs = sorted(folder.iterdir())
    assert [p.name for p in tifs] == ["m_0000.tif", "m_0001.tif"]
    data = stack.data
    lo, hi = np.nanmin(data), np.nanmax(data)
    step = (hi - lo) / TOP_VALUE
    for path, frame in zip(tifs, data, strict=True):
        with tifffile.TiffFile(path) as tif:
            page = tif.pages.first
            values = page.asarray()
            assert values.dtype == np.uint16 and values.shape == frame.shape
            # not annotated, not enlarged: one pixel per height
            ij = tif.imagej_metadata
            assert ij["unit"] == "nm"
            assert ij["c0"] == pytest.approx(lo) and ij["c1"] == pytest.approx(step)
            xres = page.tags["XResolution"].value
            assert xres[0] / xres[1] == pytest.approx(1 / 2.0)
        back = read_tiff16_frame(path)
        finite = np.isfinite(frame)
        assert np.array_equal(np.isfinite(back), finite)
        assert np.max(np.abs(back[finite] - frame[finite])) <= step / 2 + 1e-12
    with tifffile.TiffFile(tifs[1]) as tif:
        assert tif.pages.first.asarray()[3, 4] == NAN_VALUE
    # the range ends land on 0 and 65534 exactly
    with tifffile.TiffFile(tifs[0]) as tif:
        assert tif.pages.first.asarray().min() == 0
    with tifffile.TiffFile(tifs[1]) as tif:
        values = tif.pages.first.asarray()
        assert values[values != NAN_VALUE].max() == TOP_VALUE


def test_tiff16_flat_stack_is_exact(tmp_path: Path) -> None:
    stack = make_stack(n=2)
    stack.data[:] = 4.25
    [folder] = export_stack(
        stack, tmp_path / "m", "png", options={"frame_format": "tiff16"}
    )
    for path in sorted(folder.iterdir()):
        np.testing.assert_array_equal(read_tiff16_frame(path), stack.data[0])
