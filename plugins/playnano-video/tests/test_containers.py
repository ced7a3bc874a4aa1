"""Every video container the plugin registers: mp4, webm, mov, mkv, avi.

Each is written through playnano's export core and read back by imageio's FFMPEG
plugin (frame rate, codec) and decoded by ffmpeg (frame count, colours).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest
from click.testing import CliRunner
from playnano.afm_stack import AFMImageStack
from playnano.cli import cli
from playnano.errors import ExportError, MissingDependencyError
from playnano.io.export_data import export_stack
from playnano.plugins.registry import exporters
from playnano.testing import ExporterConformance, FramesSeen

from playnano_video.encoder import CONTAINERS, Container, unavailable_reason
from playnano_video.exporter import VideoExporter, _crf

#: container -> (codec name ffmpeg reports, quality option name)
EXPECTED = {
    "mp4": ("h264", "crf"),
    "webm": ("vp9", "crf"),
    "mov": ("h264", "crf"),
    "mkv": ("h264", "crf"),
    "avi": ("mpeg4", "qscale"),
}


class _VideoConformance(ExporterConformance):
    def inspect(self, path: Path) -> FramesSeen:
        # colours of heights, not heights: what ffmpeg decodes, at imageio's rate
        meta = iio.immeta(path, plugin="FFMPEG")
        rgb = decode(path)
        n, secs = imageio_ffmpeg.count_frames_and_secs(str(path))
        assert n == len(rgb) and secs == pytest.approx(n / meta["fps"], abs=0.01)
        return FramesSeen(n, (1 / meta["fps"],) * n, meta["size"], rgb)

    def export_options(self) -> dict[str, Any]:
        return {"scale_bar_nm": 10}  # the sample stack is 25.5 nm wide


class TestWebm(_VideoConformance):
    format_name = "webm"


class TestMov(_VideoConformance):
    format_name = "mov"


class TestMkv(_VideoConformance):
    format_name = "mkv"


class TestAvi(_VideoConformance):
    format_name = "avi"


def ramp_stack(n: int = 7, shape: tuple[int, int] = (48, 66)) -> AFMImageStack:
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    data = np.stack([xx + 0.5 * yy + i for i in range(n)]).astype(np.float64)
    meta = [{"timestamp": 0.5 * i} for i in range(n)]
    return AFMImageStack(data, 2.0, "height_trace", Path("movie.asd"), meta)


def decode(path: Path) -> np.ndarray:
    """Every frame ffmpeg decodes from ``path`` as RGB (not the header's count)."""
    meta = iio.immeta(path, plugin="FFMPEG")
    w, h = meta["size"]
    out = subprocess.run(
        [
            *(imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path)),
            *("-f", "rawvideo", "-pix_fmt", "rgb24", "-"),
        ],
        capture_output=True,
        check=True,
    )
    return np.frombuffer(out.stdout, np.uint8).reshape(-1, h, w, 3)


def test_every_container_is_a_registered_format() -> None:
    names = {e.name for e in exporters().entries() if e.plugin.dist == "playnano-video"}
    assert names == set(EXPECTED)
    for name, (_, quality) in EXPECTED.items():
        entry = exporters().resolve(name)
        assert entry.obj.suffix == f".{name}"
        assert entry.status() == "ok"
        # the animation options every animated format shares, and its own quality
        declared = [o.name for o in entry.obj.options]
        assert declared[:6] == [
            "scale_bar_nm",
            "zmin",
            "zmax",
            "cmap",
            "fps",
            "draw_ts",
        ]
        assert declared[6:] == [quality]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_container_reads_back_with_frame_count_rate_and_codec(
    name: str, tmp_path: Path
) -> None:
    stack = ramp_stack()
    [path] = export_stack(
        stack, tmp_path / "m", name, options={"fps": 4, "scale_bar_nm": 0}
    )
    assert path == tmp_path / f"m.{name}"
    meta = iio.immeta(path, plugin="FFMPEG")
    assert meta["fps"] == pytest.approx(4.0)
    assert meta["codec"] == EXPECTED[name][0]
    assert len(decode(path)) == 7


def test_a_container_ffmpeg_lacks_is_listed_with_its_reason_and_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    lacking = Container("nosuch", "mp4", "libnosuchcodec", ("-crf", "{q}"))
    why = unavailable_reason(lacking, exe)
    assert why == "the bundled ffmpeg has no libnosuchcodec encoder"
    assert unavailable_reason(Container("x", "nosuchmuxer", "libx264", ()), exe) == (
        "the bundled ffmpeg cannot write nosuchmuxer files"
    )
    assert unavailable_reason(CONTAINERS["webm"], exe) is None
    # a registered exporter whose container the real ffmpeg lacks
    monkeypatch.setitem(CONTAINERS, "mkv", lacking)
    entry = exporters().resolve("mkv", check_dependencies=False)
    assert entry.status() == f"unavailable: {why}"
    out = CliRunner().invoke(cli, ["formats", "list"])
    assert out.exit_code == 0
    [row] = [line for line in out.output.splitlines() if line.startswith("mkv")]
    assert "libnosuchcodec" in row
    with pytest.raises(MissingDependencyError, match="libnosuchcodec"):
        export_stack(ramp_stack(), tmp_path / "m", "mkv")
    # called directly, the exporter refuses too and leaves no file
    exp = VideoExporter("mkv", "x", _crf("H.264", 18, 51, "x"))
    with pytest.raises(ExportError, match="libnosuchcodec"):
        exp.export(ramp_stack(), tmp_path / "direct.mkv")
    assert list(tmp_path.iterdir()) == []
