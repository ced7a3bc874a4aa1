"""playnano 0.5.0's animation flags end to end on a real .asd file.

``playnano process asd_sample_0.asd -p remove_plane --make-gif --make-video mp4,webm
--make-sequence --fps 10 --cmap viridis --draw-ts -o out`` writes a GIF, two videos
and a PNG folder, all at 10 fps and in viridis, each read back with every frame.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import imageio.v3 as iio
import imageio_ffmpeg
import matplotlib
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageSequence
from playnano.cli import cli
from playnano.readers import load

REPO = Path(__file__).resolve().parents[3]
DATA = Path(os.environ.get("PLAYNANO_TEST_DATA", REPO.parent / "shared" / "data"))
ASD = DATA / "afm" / "asd" / "asd_sample_0.asd"

# the sample is 100 nm wide: the default 100 nm scale bar is left out, with a
# warning; its last ten frames (a tip crash) are drawn clipped, with a warning
pytestmark = [
    pytest.mark.filterwarnings("ignore:a 100 nm scale bar:UserWarning"),
    pytest.mark.filterwarnings("ignore:.*the colour range:UserWarning"),
]


@pytest.fixture
def asd() -> Path:
    if not ASD.is_file():
        pytest.skip(f"real AFM data not found at {ASD} (set PLAYNANO_TEST_DATA)")
    return ASD


def palette_of(cmap: str) -> np.ndarray:
    """The 253 colours of ``cmap`` as matplotlib draws them (not playnano's code)."""
    return matplotlib.colormaps[cmap].resampled(253)(np.arange(253), bytes=True)[:, :3]


def decode(path: Path) -> np.ndarray:
    """Every frame of a video as RGB, decoded by ffmpeg."""
    w, h = iio.immeta(path, plugin="FFMPEG")["size"]
    out = subprocess.run(
        [
            *(imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path)),
            *("-f", "rawvideo", "-pix_fmt", "rgb24", "-"),
        ],
        capture_output=True,
        check=True,
    )
    return np.frombuffer(out.stdout, np.uint8).reshape(-1, h, w, 3)


def test_the_issue_13_command_line(asd: Path, tmp_path: Path) -> None:
    n = load(asd).data.shape[0]
    out = tmp_path / "out"
    args = [
        *("process", str(asd), "-p", "remove_plane", "--make-gif"),
        *("--make-video", "mp4,webm", "--make-sequence", "--fps", "10"),
        *("--cmap", "viridis", "--draw-ts", "-o", str(out)),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    base = "asd_sample_0_filtered"
    assert sorted(p.name for p in out.iterdir()) == [
        f"{base}.gif",
        f"{base}.mp4",
        f"{base}.webm",
        f"{base}_frames",
    ]
    viridis = palette_of("viridis")

    # GIF: every frame, 100 ms each, viridis colour table
    with Image.open(out / f"{base}.gif") as im:
        table = np.asarray(im.getpalette()[: 253 * 3], np.uint8).reshape(-1, 3)
        np.testing.assert_array_equal(table, viridis)
        durations = [f.info["duration"] for f in ImageSequence.Iterator(im)]
    assert durations == [100] * n

    # PNG folder: one palette PNG per frame, viridis, same pixels as the GIF
    pngs = sorted((out / f"{base}_frames").iterdir())
    assert [p.name for p in pngs] == [f"{base}_{i:04d}.png" for i in range(n)]
    with Image.open(pngs[0]) as im:
        table = np.asarray(im.getpalette()[: 253 * 3], np.uint8).reshape(-1, 3)
        np.testing.assert_array_equal(table, viridis)
        first_rgb = np.asarray(im.convert("RGB")).astype(int)

    # videos: 10 fps, every frame, the same (viridis) picture up to compression
    for suffix in ("mp4", "webm"):
        path = out / f"{base}.{suffix}"
        assert iio.immeta(path, plugin="FFMPEG")["fps"] == pytest.approx(10.0)
        video = decode(path)
        assert len(video) == n
        h, w = first_rgb.shape[:2]
        diff = np.abs(video[0, :h, :w].astype(int) - first_rgb)
        assert diff.mean() < 6, f"{suffix} does not look like the viridis frame"


def test_default_colours_are_not_viridis(asd: Path, tmp_path: Path) -> None:
    """The comparison above can fail: without --cmap the table is afmhot."""
    result = CliRunner().invoke(
        cli, ["process", str(asd), "--make-sequence", "-o", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    [png, *_] = sorted((tmp_path / "asd_sample_0_frames").iterdir())
    with Image.open(png) as im:
        table = np.asarray(im.getpalette()[: 253 * 3], np.uint8).reshape(-1, 3)
    np.testing.assert_array_equal(table, palette_of("afmhot"))


def test_bare_make_video_before_the_input_means_mp4(asd: Path, tmp_path: Path) -> None:
    """0.5.0's ``--make-video`` takes an optional list; a path after it is the input."""
    result = CliRunner().invoke(
        cli, ["process", "--make-video", str(asd), "-o", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["asd_sample_0.mp4"]


def test_unknown_container_is_an_error_before_reading(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["process", "--synthetic", "--make-video", "mp4,flv", "-o", str(tmp_path)],
    )
    assert result.exit_code != 0
    assert "flv" in result.output
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []


def test_default_range_shows_the_quiet_frames_and_names_the_clipped(
    asd: Path, tmp_path: Path
) -> None:
    """Frames 0-21 span about ±1 nm and 22-31 up to ±60 nm: the default range shows
    the first 22 in many colours (not flat orange) and names the others."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("always")  # printed by the command, as a user sees
        result = CliRunner().invoke(
            cli,
            ["process", str(asd), "-p", "remove_plane", "--make-video", "mp4",
             "-o", str(tmp_path)],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    warned = [ln for ln in result.output.splitlines() if "warning:" in ln]
    assert any("(22-23, 25-26, 29-31) have more than 5%" in ln for ln in warned)
    video = decode(tmp_path / "asd_sample_0_filtered.mp4")
    afmhot = palette_of("afmhot").astype(np.int32)
    for i, frame in enumerate(video[:22]):
        h, w, _ = frame.shape  # the middle, away from the timestamp and scale bar
        middle = frame[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4].reshape(-1, 3)
        # each decoded pixel as its nearest colour level: compression noise aside
        dist = ((middle[:, None, :].astype(np.int32) - afmhot[None]) ** 2).sum(-1)
        levels = np.unique(dist.argmin(axis=1))
        assert levels.size >= 20, f"frame {i} shows {levels.size} colour levels"
