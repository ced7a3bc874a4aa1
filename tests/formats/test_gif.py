"""The gif exporter: conformance plus real GIFs read back by Pillow."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageSequence

from playnano.afm_stack import AFMImageStack
from playnano.errors import ExportWarning, OptionError
from playnano.formats.gif import exporter as gif_mod
from playnano.io.export_data import export_stack
from playnano.render import BLACK_INDEX, NAN_INDEX, WHITE_INDEX, upscale_factor
from playnano.testing import ExporterConformance, FramesSeen, strict_json


class TestGif(ExporterConformance):
    format_name = "gif"

    def inspect(self, path: Path) -> FramesSeen:
        # colours, not heights: what Pillow (any GIF viewer) shows
        frames, durations, _ = read(path)
        height, width = frames[0].shape[:2]
        seconds = tuple(ms / 1000 for ms in durations)
        return FramesSeen(len(frames), seconds, (width, height), np.stack(frames))

    def export_options(self) -> dict[str, Any]:
        # the sample stack is 25.5 nm wide: the default 100 nm bar would not fit
        return {"scale_bar_nm": 10}


# --------------------------------------------------------------------- helpers
PX_NM = 2.0


def make_stack(
    frames: np.ndarray | list[np.ndarray],
    times: list[float | None] | None = None,
    px: float = PX_NM,
) -> AFMImageStack:
    data = np.asarray(frames, dtype=np.float64)
    n = len(data)
    times = [0.1 * i for i in range(n)] if times is None else times
    meta = [{"timestamp": t} for t in times]
    return AFMImageStack(data, px, "height_trace", Path("movie.asd"), meta)


def ramp_frames(n: int = 3, shape: tuple[int, int] = (40, 64)) -> np.ndarray:
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    return np.stack([xx + yy * 0.5 + i for i in range(n)]).astype(np.float64)


def write(stack: AFMImageStack, tmp_path: Path, name: str = "m", **opts: Any) -> Path:
    [path] = export_stack(stack, tmp_path / name, "gif", options=opts)
    return path


def read(path: Path) -> tuple[list[np.ndarray], list[int], dict[str, Any]]:
    """RGB frames, per-frame durations (ms) and the first frame's info."""
    with Image.open(path) as im:
        info = dict(im.info)
        frames, durations = [], []
        for frame in ImageSequence.Iterator(im):
            durations.append(frame.info["duration"])
            frames.append(np.asarray(frame.convert("RGB")))
    return frames, durations, info


def first_indices(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        assert im.mode == "P"
        return np.asarray(im)


def longest_run(mask: np.ndarray) -> int:
    best = 0
    for row in mask:
        padded = np.concatenate([[0], row.astype(np.int8), [0]])
        edges = np.flatnonzero(np.diff(padded))
        if edges.size:
            best = max(best, int((edges[1::2] - edges[::2]).max()))
    return best


QUIET = {"scale_bar_nm": 0, "draw_ts": False}


# ----------------------------------------------------------------------- tests
def test_declares_gif_capabilities_and_options() -> None:
    exp = gif_mod.GifExporter()
    caps = exp.capabilities
    assert (
        caps.supports_raw,
        caps.supports_timestamps,
        caps.lossy,
        caps.streaming,
    ) == (
        True,
        True,
        True,
        True,
    )
    defaults = {o.name: o.default for o in exp.options}
    assert defaults == {
        "scale_bar_nm": "auto",
        "zmin": "auto",
        "zmax": "auto",
        "cmap": "afmhot",
        "fps": None,
        "draw_ts": True,
        "loop": 0,
    }
    assert exp.requires == ("PIL", "matplotlib")


def test_formats_info_lists_the_options() -> None:
    from playnano.cli import cli

    result = CliRunner().invoke(cli, ["formats", "info", "gif", "--json"])
    assert result.exit_code == 0, result.output
    names = [o["name"] for o in strict_json(result.output)["options"]]
    assert names == ["scale_bar_nm", "zmin", "zmax", "cmap", "fps", "draw_ts", "loop"]


@pytest.mark.parametrize("draw_ts", [False, True])
def test_identical_consecutive_frames_are_all_kept(
    tmp_path: Path, draw_ts: bool
) -> None:
    a, b = ramp_frames(2)
    frames = [a, a, a, b, b, a]
    if draw_ts:  # equal timestamps too, so even the text is identical
        stack = make_stack(frames, times=[0.0] * 6)
        expect_warning: Any = pytest.warns(ExportWarning, match="do not increase")
    else:
        stack = make_stack(frames)
        expect_warning = contextlib.nullcontext()
    with expect_warning:
        path = write(stack, tmp_path, scale_bar_nm=0, draw_ts=draw_ts)
    rgb, durations, _ = read(path)
    assert len(rgb) == len(durations) == 6
    np.testing.assert_array_equal(rgb[0], rgb[1])
    np.testing.assert_array_equal(rgb[0], rgb[2])
    assert not np.array_equal(rgb[2], rgb[3])


def test_durations_follow_the_timestamps(tmp_path: Path) -> None:
    stack = make_stack(ramp_frames(3), times=[0.0, 0.5, 1.5])
    _, durations, _ = read(write(stack, tmp_path, **QUIET))
    assert durations == [500, 1000, 750]  # the last frame gets the median interval


def test_fps_overrides_the_timestamps(tmp_path: Path) -> None:
    stack = make_stack(ramp_frames(3), times=[0.0, 0.5, 1.5])
    _, durations, _ = read(write(stack, tmp_path, fps=4, **QUIET))
    assert durations == [250, 250, 250]


def test_durations_keep_the_running_total(tmp_path: Path) -> None:
    stack = make_stack(ramp_frames(3), times=[0.0, 1 / 3, 2 / 3])
    _, durations, _ = read(write(stack, tmp_path, **QUIET))
    assert durations == [330, 340, 330]  # 0.33 s + 0.34 s = 0.67 s, as in the data


def test_frames_without_timestamps_play_at_10_fps_with_a_warning(
    tmp_path: Path,
) -> None:
    stack = make_stack(ramp_frames(3), times=[None, None, None])
    with pytest.warns(ExportWarning, match="no timestamp.*10 fps"):
        path = write(stack, tmp_path, **QUIET)
    _, durations, _ = read(path)
    assert durations == [100, 100, 100]


def test_delays_under_20_ms_are_written_and_warned_about(tmp_path: Path) -> None:
    stack = make_stack(ramp_frames(3))
    with pytest.warns(ExportWarning, match="20 ms"):
        path = write(stack, tmp_path, fps=100, **QUIET)
    assert read(path)[1] == [10, 10, 10]


@pytest.mark.parametrize(("loop", "expected"), [(0, 0), (3, 3), (None, None)])
def test_loop(tmp_path: Path, loop: int | None, expected: int | None) -> None:
    stack = make_stack(ramp_frames(2))
    _, _, info = read(write(stack, tmp_path, loop=loop, **QUIET))
    assert info.get("loop") == expected


def test_default_loops_forever(tmp_path: Path) -> None:
    _, _, info = read(write(make_stack(ramp_frames(2)), tmp_path, **QUIET))
    assert info["loop"] == 0


@pytest.mark.parametrize("cmap", ["afmhot", "viridis"])
def test_colours_are_the_colormaps_at_zmin_and_zmax(tmp_path: Path, cmap: str) -> None:
    frames = ramp_frames(2)  # auto range: frames[0][0, 0] is min, frames[1][-1, -1] max
    path = write(make_stack(frames), tmp_path, cmap=cmap, **QUIET)
    rgb, _, _ = read(path)
    colormap = matplotlib.colormaps[cmap]
    assert tuple(rgb[0][0, 0]) == tuple(colormap(0.0, bytes=True)[:3])
    assert tuple(rgb[1][-1, -1]) == tuple(colormap(1.0, bytes=True)[:3])


def test_fixed_z_range_clips_and_differs_from_auto(tmp_path: Path) -> None:
    frames = ramp_frames(1)
    stack = make_stack(frames)
    with pytest.warns(ExportWarning, match=r"1 of 1 frames \(0\) have more than 5%"):
        fixed = read(write(stack, tmp_path, "fixed", zmin=10.0, zmax=20.0, **QUIET))
    fixed = fixed[0][0]
    auto = read(write(stack, tmp_path, "auto", **QUIET))[0][0]
    cmap = matplotlib.colormaps["afmhot"]
    f = upscale_factor(frames.shape[1:])
    low = tuple(cmap(0.0, bytes=True)[:3])
    high = tuple(cmap(1.0, bytes=True)[:3])
    assert tuple(fixed[0, 0]) == low  # height 0 < zmin
    assert tuple(fixed[0, 20 * f]) == high  # height 20 == zmax
    assert tuple(fixed[-1, -1]) == high  # above zmax
    assert not np.array_equal(fixed, auto)


def test_nan_pixels_get_the_reserved_colour(tmp_path: Path) -> None:
    frames = ramp_frames(1)
    frames[0, 5, 7] = np.nan
    idx = first_indices(write(make_stack(frames), tmp_path, **QUIET))
    f = upscale_factor(frames.shape[1:])
    assert idx[5 * f, 7 * f] == NAN_INDEX
    assert np.count_nonzero(idx == NAN_INDEX) == f * f


@pytest.mark.parametrize("bar_nm", [20.0, 50.0, 37.5])
def test_scale_bar_length(tmp_path: Path, bar_nm: float) -> None:
    frames = ramp_frames(1)  # 64 px * 2 nm = 128 nm wide
    idx = first_indices(
        write(make_stack(frames), tmp_path, scale_bar_nm=bar_nm, draw_ts=False)
    )
    f = upscale_factor(frames.shape[1:])
    assert longest_run(idx == WHITE_INDEX) == round(bar_nm / PX_NM * f)
    assert np.any(idx == BLACK_INDEX)  # the box behind it


def test_scale_bar_zero_draws_nothing(tmp_path: Path) -> None:
    idx = first_indices(write(make_stack(ramp_frames(1)), tmp_path, **QUIET))
    assert not np.isin(idx, [WHITE_INDEX, BLACK_INDEX]).any()


def test_scale_bar_wider_than_the_frame_is_left_out_with_a_warning(
    tmp_path: Path,
) -> None:
    with pytest.warns(ExportWarning, match="does not fit"):
        frames = ramp_frames(1, shape=(40, 30))  # 60 nm wide, the bar is 100 nm
        path = write(make_stack(frames), tmp_path, draw_ts=False, scale_bar_nm=100)
    assert not (first_indices(path) == WHITE_INDEX).any()


def test_timestamp_text_is_drawn(tmp_path: Path) -> None:
    stack = make_stack(ramp_frames(2), times=[0.0, 0.25])
    with_ts = read(write(stack, tmp_path, "ts", scale_bar_nm=0))[0]
    without = read(write(stack, tmp_path, "plain", **QUIET))[0]
    corner = (slice(0, 40), slice(0, 80))
    for a, b in zip(with_ts, without, strict=True):
        assert not np.array_equal(a[corner], b[corner])
        np.testing.assert_array_equal(a[-100:, 100:], b[-100:, 100:])
    assert not np.array_equal(with_ts[0][corner], with_ts[1][corner])  # 0.00 / 0.25
    idx = first_indices(tmp_path / "ts.gif")
    assert (idx[corner] == WHITE_INDEX).any()


def test_small_frames_are_enlarged(tmp_path: Path) -> None:
    frames = ramp_frames(1, shape=(12, 17))
    with Image.open(write(make_stack(frames), tmp_path, **QUIET)) as im:
        assert im.size == (17 * 22, 12 * 22)


def test_raw_export_renders_the_raw_snapshot(tmp_path: Path) -> None:
    raw = ramp_frames(2)
    stack = make_stack(raw)
    stack.processed["raw"] = raw.copy()
    stack.processed["step_1_flip"] = raw[:, :, ::-1].copy()
    stack.data = stack.processed["step_1_flip"]
    got_raw = read(write(stack, tmp_path, "r", **QUIET))[0]
    [path] = export_stack(stack, tmp_path / "raw", "gif", raw=True, options=QUIET)
    got = read(path)[0]
    np.testing.assert_array_equal(got[0], got_raw[0][:, ::-1])


@pytest.mark.parametrize(
    ("opts", "match"),
    [
        ({"cmap": "afmhott"}, "unknown colormap 'afmhott'; did you mean 'afmhot'"),
        ({"zmin": 5.0, "zmax": 5.0}, "zmin .* must be below zmax"),
        ({"zmin": 10.0, "zmax": 1.0}, "must be below"),
        ({"zmin": 1e6}, r"zmin \(1e\+06\) must be below zmax \(.* auto\)"),
        ({"scale_bar_nm": -1}, "scale_bar_nm"),
        ({"fps": 0}, "fps"),
        ({"zmax": "high"}, "zmax"),
        ({"loop": -1}, "loop"),
    ],
)
def test_bad_options_are_refused_before_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opts: dict[str, Any], match: str
) -> None:
    def never(*args: Any, **kwargs: Any) -> int:
        raise AssertionError("write_gif reached with bad options")

    monkeypatch.setattr(gif_mod, "write_gif", never)
    with pytest.raises(OptionError, match=match):
        write(make_stack(ramp_frames(1)), tmp_path, **opts)
    assert list(tmp_path.iterdir()) == []


def test_export_streams_frames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Frames reach the writer from a generator, one at a time, never as a list."""
    seen: list[Any] = []
    real = gif_mod.write_gif

    def spy(fh: Any, frames: Any, *args: Any, **kwargs: Any) -> int:
        seen.append(frames)
        return real(fh, frames, *args, **kwargs)

    monkeypatch.setattr(gif_mod, "write_gif", spy)
    write(make_stack(ramp_frames(3)), tmp_path, **QUIET)
    assert isinstance(seen[0], Iterator)
