"""playnano-video against the conformance suite, and its videos read back by ffmpeg.

Runs in an environment where playnano-video is installed, so discovery is real: the
exporter is found through its entry point, and every video is written by the real
ffmpeg that imageio-ffmpeg ships and read back by imageio's FFMPEG plugin.
"""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest
from click.testing import CliRunner
from playnano.afm_stack import AFMImageStack
from playnano.cli import cli
from playnano.errors import ExportError, ExportWarning, OptionError
from playnano.io.export_data import export_stack
from playnano.plugins.registry import exporters
from playnano.render import N_LEVELS, colormap_palette, upscale_factor
from playnano.run.formats import plan_formats
from playnano.testing import ExporterConformance, FramesSeen, make_sample_stack

import playnano_video
from playnano_video.encoder import check_mp4, even_size, ffmpeg_reason, rate_arg

#: Largest difference (0-255) allowed between a colour and its decoded video pixel.
COLOUR_TOL = 8


class TestMp4(ExporterConformance):
    format_name = "mp4"

    def inspect(self, path: Path) -> FramesSeen:
        # colours of heights, not heights: what ffmpeg decodes
        rgb, meta = read_frames(path)
        n, secs = imageio_ffmpeg.count_frames_and_secs(str(path))
        assert n == len(rgb) and secs == pytest.approx(n / meta["fps"], abs=0.01)
        return FramesSeen(n, (1 / meta["fps"],) * n, meta["size"], rgb)

    def export_options(self) -> dict[str, Any]:
        # the sample stack is 25.5 nm wide: the default 100 nm bar would not fit
        return {"scale_bar_nm": 10}


# --------------------------------------------------------------------- helpers
PX_NM = 2.0


def make_stack(
    frames: np.ndarray, times: list[float | None] | None = None, px: float = PX_NM
) -> AFMImageStack:
    data = np.asarray(frames, dtype=np.float64)
    times = [0.5 * i for i in range(len(data))] if times is None else times
    meta = [{"timestamp": t} for t in times]
    return AFMImageStack(data, px, "height_trace", Path("movie.asd"), meta)


def ramp_stack(
    n: int = 12, shape: tuple[int, int] = (64, 80), **kw: Any
) -> AFMImageStack:
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    return make_stack(np.stack([xx + 0.5 * yy + i for i in range(n)]), **kw)


def write(stack: AFMImageStack, tmp_path: Path, name: str = "m", **opts: Any) -> Path:
    opts.setdefault("scale_bar_nm", 0)
    [path] = export_stack(stack, tmp_path / name, "mp4", options=opts)
    return path


def read_frames(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """All frames as (n, height, width, 3) RGB, and ffmpeg's stream metadata."""
    meta = iio.immeta(path, plugin="FFMPEG")
    w, h = meta["size"]
    # decoded by imageio-ffmpeg's ffmpeg as imageio's reader does (rgb24), but run
    # here: that reader leaves its pipes open when ffmpeg ends first (a
    # ResourceWarning, an error under -W error)
    out = subprocess.run(
        [
            *(imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path)),
            *("-f", "rawvideo", "-pix_fmt", "rgb24", "-"),
        ],
        capture_output=True,
        check=True,
    )
    return np.frombuffer(out.stdout, np.uint8).reshape(-1, h, w, 3), meta


# ----------------------------------------------------------------- discovery
def test_discovered_through_its_entry_point() -> None:
    entry = exporters().resolve("MP4")
    assert entry.plugin.dist == "playnano-video" and not entry.plugin.builtin
    assert entry.plugin.version == playnano_video.__version__
    assert entry.obj.suffix == ".mp4"
    assert entry.status() == "ok"


def test_format_is_inferred_from_the_suffix(tmp_path: Path) -> None:
    [path] = export_stack(
        ramp_stack(3), tmp_path / "v.mp4", options={"scale_bar_nm": 0}
    )
    assert path.name == "v.mp4" and path.stat().st_size > 0


def test_plugin_module_imports_no_video_library() -> None:
    code = (
        "import sys, playnano_video.exporter\n"
        "print([m for m in ('imageio', 'imageio_ffmpeg', 'matplotlib', 'PIL', "
        "'playnano_video.encoder') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_options_are_the_gifs() -> None:
    gif = {o.name: o for o in exporters().resolve("gif").obj.options}
    mp4 = {o.name: o for o in exporters().resolve("mp4").obj.options}
    shared = {"scale_bar_nm", "zmin", "zmax", "cmap", "fps", "draw_ts"}
    assert shared <= set(mp4)
    for name in shared:
        assert mp4[name].describe() == gif[name].describe()


def test_command_line_colour_scale_options_reach_it() -> None:
    [(entry, opts)] = plan_formats(
        ["mp4"], shared_options={"scale_bar_nm": "50", "zmin": "-1.5", "zmax": "auto"}
    )
    assert entry.name == "mp4"
    assert (opts["scale_bar_nm"], opts["zmin"], opts["zmax"]) == (50.0, -1.5, "auto")


# ------------------------------------------------------- frames, rate, duration
def test_frame_count_rate_and_duration_follow_the_timestamps(tmp_path: Path) -> None:
    path = write(ramp_stack(12), tmp_path)  # 0.5 s apart -> 2 fps -> 6 s
    assert imageio_ffmpeg.count_frames_and_secs(str(path)) == (12, 6.0)
    meta = iio.immeta(path, plugin="FFMPEG")
    assert meta["fps"] == pytest.approx(2.0)
    assert meta["duration"] == pytest.approx(6.0)
    assert meta["codec"] == "h264"
    assert meta["pix_fmt"].startswith("yuv420p")
    frames, _ = read_frames(path)
    assert len(frames) == 12


def test_rate_is_the_median_interval(tmp_path: Path) -> None:
    times = [0.0, 0.25, 0.5, 0.75, 1.5, 1.75]  # one long gap; median 0.25 s
    path = write(ramp_stack(6, times=times), tmp_path)
    assert iio.immeta(path, plugin="FFMPEG")["fps"] == pytest.approx(4.0)


def test_fps_option_overrides_the_timestamps(tmp_path: Path) -> None:
    path = write(ramp_stack(12), tmp_path, fps=25)
    assert iio.immeta(path, plugin="FFMPEG")["fps"] == pytest.approx(25.0)
    assert imageio_ffmpeg.count_frames_and_secs(str(path)) == (12, 0.48)


def test_slow_videos_keep_their_rate(tmp_path: Path) -> None:
    # one frame a minute: the rate is a fraction ffmpeg must take exactly
    path = write(ramp_stack(3, times=[0.0, 60.0, 120.0]), tmp_path)
    assert imageio_ffmpeg.count_frames_and_secs(str(path)) == (3, 180.0)


def test_missing_timestamps_warn_and_play_at_10_fps(tmp_path: Path) -> None:
    stack = ramp_stack(5, times=[None] * 5)
    with pytest.warns(ExportWarning, match="playing at 10 fps"):
        path = write(stack, tmp_path)
    assert iio.immeta(path, plugin="FFMPEG")["fps"] == pytest.approx(10.0)
    assert imageio_ffmpeg.count_frames_and_secs(str(path))[0] == 5


def test_bad_fps_is_refused_before_writing(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="fps"):
        write(ramp_stack(3), tmp_path, fps=0)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("fps", "arg"), [(2.0, "2"), (30000 / 1001, "30000/1001"), (1 / 3600, "1/3600")]
)
def test_rate_argument_is_an_exact_fraction(fps: float, arg: str) -> None:
    assert rate_arg(fps) == arg


# ----------------------------------------------------------------- size, colours
def test_odd_sizes_are_padded_not_cropped(tmp_path: Path) -> None:
    # 87 x 86 px is enlarged 3x to 258 x 261: the video is 258 x 262
    shape = (87, 86)
    f = upscale_factor(shape)
    h, w = shape[0] * f, shape[1] * f
    assert (w, h) == (258, 261)
    assert even_size((w, h)) == (258, 262)
    data = np.full((2, *shape), 10.0)  # the top of the colour scale
    path = write(make_stack(data), tmp_path, zmin=0, zmax=10, draw_ts=False)
    frames, meta = read_frames(path)
    assert meta["size"] == (258, 262)
    assert frames.shape == (2, 262, 258, 3)
    top = colormap_palette("afmhot")[N_LEVELS - 1].astype(int)
    # every rendered row is there, down to the last one ...
    for row in (0, 130, h - 2):
        assert np.abs(frames[0, row, 4:-4].astype(int) - top).max() <= COLOUR_TOL
    # ... and the added row is black (its luma; chroma is shared with the row above)
    assert frames[0, h].mean(axis=-1).max() < frames[0, h - 2].mean(axis=-1).min() / 2


@pytest.mark.parametrize("cmap", ["afmhot", "viridis"])
def test_colours_follow_the_colormap_at_known_heights(
    tmp_path: Path, cmap: str
) -> None:
    heights = [0.0, 2.5, 5.0, 7.5, 9.99]
    # five bands of constant height, 64 px wide each (no enlargement: 256 px tall)
    band = np.repeat(np.asarray(heights), 64)[None, :]
    data = np.repeat(np.broadcast_to(band, (256, 320))[None], 3, axis=0)
    path = write(make_stack(data), tmp_path, cmap=cmap, zmin=0, zmax=10, draw_ts=False)
    frames, _ = read_frames(path)
    palette = colormap_palette(cmap).astype(int)
    for k, z in enumerate(heights):
        want = palette[int(z / 10 * N_LEVELS)]
        got = frames[:, 100:150, 64 * k + 8 : 64 * (k + 1) - 8].reshape(-1, 3)
        assert np.abs(got.astype(int) - want).max() <= COLOUR_TOL, (z, want)


def test_timestamps_and_scale_bar_are_drawn(tmp_path: Path) -> None:
    data = np.zeros((2, 256, 256))  # one height: the colormap's middle colour
    plain = write(make_stack(data), tmp_path, "plain", draw_ts=False)
    drawn = write(make_stack(data), tmp_path, "drawn", scale_bar_nm=100, draw_ts=True)
    bare, _ = read_frames(plain)
    marked, _ = read_frames(drawn)
    white = (marked.min(axis=-1) > 200).sum(axis=(1, 2))
    assert (bare.min(axis=-1) > 200).sum() == 0
    corner = marked[0, :40, :100].min(axis=-1) > 200  # "0.00 s" top left
    assert corner.sum() > 20
    # the 100 nm bar at 2 nm/px is 50 px; it is drawn in the bottom-left corner
    bottom = marked[0, -60:, :128].min(axis=-1) > 200
    assert bottom.sum(axis=1).max() >= 45
    assert white.min() > 0


def test_raw_option_renders_the_unprocessed_snapshot(tmp_path: Path) -> None:
    stack = make_sample_stack(shape=(64, 64))
    opts = {"scale_bar_nm": 0, "draw_ts": False, "zmin": -2, "zmax": 4}
    [proc] = export_stack(stack, tmp_path / "p", "mp4", options=opts)
    [raw] = export_stack(stack, tmp_path / "r", "mp4", raw=True, options=opts)
    a, _ = read_frames(proc)
    b, _ = read_frames(raw)
    assert np.abs(a.astype(int) - b.astype(int)).mean() > 5


# ------------------------------------------------------------ memory, failure
def test_frames_are_streamed_not_held(tmp_path: Path) -> None:
    stack = ramp_stack(60, shape=(256, 256))  # 60 RGB frames would be 11.8 MB
    one_rgb = 256 * 256 * 3
    tracemalloc.start()
    try:
        write(stack, tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * one_rgb  # a few frames of working buffers, not the video


def test_a_frame_size_ffmpeg_rejects_is_an_error_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    # 17000 x 2 px: libx264 refuses to open the encoder
    stack = make_stack(np.zeros((2, 1, 17000)), times=[0.0, 0.5])
    with pytest.raises(ExportError, match=r"libx264: invalid width x height") as info:
        write(stack, tmp_path, draw_ts=False)
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_the_exporter_itself_removes_what_ffmpeg_left(tmp_path: Path) -> None:
    # called directly (no staging folder): ffmpeg leaves an empty file; it must go
    exporter = exporters().resolve("mp4").obj
    stack = make_stack(np.zeros((2, 1, 17000)), times=[0.0, 0.5])
    with pytest.raises(ExportError, match=r"ffmpeg could not write v\.mp4"):
        exporter.export(stack, tmp_path / "v.mp4", scale_bar_nm=0, draw_ts=False)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_not_replaced_by_the_exporter(tmp_path: Path) -> None:
    exporter = exporters().resolve("mp4").obj
    target = tmp_path / "v.mp4"
    target.write_bytes(b"a user's file")
    with pytest.raises(ExportError, match="already exists"):
        exporter.export(ramp_stack(2), target, scale_bar_nm=0)
    assert target.read_bytes() == b"a user's file"


@pytest.fixture
def video(tmp_path: Path) -> Path:
    return write(ramp_stack(12), tmp_path)


def test_check_refuses_an_empty_file(video: Path) -> None:
    video.write_bytes(b"")
    with pytest.raises(ExportError, match="the file is empty"):
        check_mp4(video, 12, imageio_ffmpeg.get_ffmpeg_exe())
    assert not video.exists()


def test_check_refuses_a_truncated_file(video: Path) -> None:
    video.write_bytes(video.read_bytes()[:200])
    with pytest.raises(ExportError, match=r"the file does not read back \("):
        check_mp4(video, 12, imageio_ffmpeg.get_ffmpeg_exe())
    assert not video.exists()


def test_check_refuses_missing_frames(video: Path) -> None:
    with pytest.raises(ExportError, match="holds 12 frames, 13 were sent"):
        check_mp4(video, 13, imageio_ffmpeg.get_ffmpeg_exe())
    assert not video.exists()


@pytest.mark.parametrize(
    ("log", "reason"),
    [
        (
            "[libx264 @ 0x55fe0e017880] invalid width x height (17000x2)\n"
            "[vost#0:0/libx264 @ 0x55fe0e016d40] Task finished with error code: -22\n",
            "libx264: invalid width x height (17000x2)",
        ),
        (
            "\n[vost#0:0/libx264 @ 0x1] [enc:libx264 @ 0x2] Error while opening\n",
            "libx264: Error while opening",
        ),
        ("Unknown encoder 'libx264'\n", "Unknown encoder 'libx264'"),
        ("", "no message"),
    ],
)
def test_ffmpeg_reason_is_one_plain_line(log: str, reason: str) -> None:
    assert ffmpeg_reason(log) == reason


# ----------------------------------------------------------------------- CLI
def test_cli_process_writes_a_playable_video(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "process",
            "--synthetic",
            "-p",
            "remove_plane",
            "--export",
            "mp4",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    [path] = out.iterdir()
    assert path.name == "synthetic_hsafm_filtered.mp4"
    assert imageio_ffmpeg.count_frames_and_secs(str(path)) == (40, 20.0)
    assert iio.immeta(path, plugin="FFMPEG")["size"] == (256, 256)
