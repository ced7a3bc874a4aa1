"""playnano 0.5.0's animation flags on ``process`` (without the video plugin).

The video plugin's own tests run the full command line with ``--make-video``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.colors import ListedColormap
from PIL import Image, ImageSequence

from playnano.cli import cli
from playnano.cli.animation_flags import normalize_make_video

ANIMATED_PLUGIN = """
import json
from pathlib import Path
from playnano.plugins import Capabilities, hookimpl
from playnano.render_options import ANIMATION_OPTIONS

class Anim:
    name = "anim"
    aliases = ()
    suffix = ".anim"
    description = "A third-party animated format that records its options."
    capabilities = Capabilities()
    options = ANIMATION_OPTIONS
    requires = ()
    install_hint = ""

    def export(self, stack, path, *, raw=False, **options):
        Path(path).write_text(json.dumps(options))
        return [Path(path)]

@hookimpl
def register_exporters(register):
    register(Anim())
"""


def run(*args: object) -> object:
    return CliRunner().invoke(cli, ["process", *map(str, args)])


def first_png(folder: Path) -> Image.Image:
    return Image.open(sorted(folder.iterdir())[0])


def test_make_video_without_the_plugin_says_what_to_install(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("--synthetic", "--make-gif", "--make-video", "-o", out)
    assert result.exit_code != 0
    # the plugin's folder in this repository (it is not on the package index)
    [hint] = re.findall(r"pip install (\S+)$", result.output.strip())
    folder = Path(hint)
    assert folder.name == "playnano-video" and folder.parent.name == "plugins"
    assert 'name = "playnano-video"' in (folder / "pyproject.toml").read_text()
    assert "Traceback" not in result.output
    assert not out.exists()  # refused before anything was read or written


def test_make_sequence_writes_the_frames_folder(tmp_path: Path) -> None:
    result = run("--synthetic", "-p", "remove_plane", "--make-sequence", "-o", tmp_path)
    assert result.exit_code == 0, result.output
    [folder] = tmp_path.iterdir()
    assert folder.name == "synthetic_hsafm_filtered_frames"
    names = sorted(p.name for p in folder.iterdir())
    assert names[0] == "synthetic_hsafm_filtered_0000.png"
    assert len(names) > 1


def test_fps_cmap_and_draw_ts_reach_the_gif(tmp_path: Path) -> None:
    result = run(
        *("--synthetic", "--make-gif", "--fps", "4", "--cmap", "afm_brown"),
        *("--no-draw-ts", "-o", tmp_path / "a"),
    )
    assert result.exit_code == 0, result.output
    with Image.open(tmp_path / "a" / "synthetic_hsafm.gif") as im:
        table = np.asarray(im.getpalette()[: 253 * 3], np.uint8).reshape(-1, 3)
        durations = {f.info["duration"] for f in ImageSequence.Iterator(im)}
    assert durations == {250}
    # afm_brown as playnano 0.5.0 ships it, resampled as matplotlib draws it
    csv = Path(__file__).parents[2] / "src/playnano/colormaps_data/afm_brown.csv"
    rgb = np.loadtxt(csv, delimiter=",", comments="#")
    expected = ListedColormap(rgb).resampled(253)(np.arange(253), bytes=True)[:, :3]
    np.testing.assert_array_equal(table, expected)


def test_draw_ts_changes_the_frames(tmp_path: Path) -> None:
    for flag in ("--draw-ts", "--no-draw-ts"):
        result = run("--synthetic", "--make-sequence", flag, "-o", tmp_path / flag)
        assert result.exit_code == 0, result.output
    with (
        first_png(tmp_path / "--draw-ts" / "synthetic_hsafm_frames") as on,
        first_png(tmp_path / "--no-draw-ts" / "synthetic_hsafm_frames") as off,
    ):
        a, b = np.asarray(on), np.asarray(off)
    assert a.shape == b.shape and not np.array_equal(a, b)
    # the difference is the label in the top-left corner only
    rows, cols = np.nonzero(a != b)
    assert rows.max() < a.shape[0] // 3 and cols.max() < a.shape[1] // 2


def test_unknown_cmap_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("--synthetic", "--make-gif", "--cmap", "virdis", "-o", out)
    assert result.exit_code != 0
    assert "unknown colormap 'virdis'; did you mean 'viridis'?" in result.output
    assert not out.exists()


def test_bad_fps_is_a_usage_error(tmp_path: Path) -> None:
    result = run("--synthetic", "--make-gif", "--fps", "0", "-o", tmp_path)
    assert result.exit_code == 2
    assert "--fps" in result.output


def test_flags_reach_a_third_party_animated_format(
    install_plugin, tmp_path: Path
) -> None:
    install_plugin(
        "acme-anim",
        {"acme_anim": ANIMATED_PLUGIN},
        {"playnano.exporters": {"anim": "acme_anim"}},
    )
    result = run(
        *("--synthetic", "--export", "anim", "--fps", "7.5", "--cmap", "magma"),
        *("--no-draw-ts", "-o", tmp_path),
    )
    assert result.exit_code == 0, result.output
    opts = json.loads((tmp_path / "synthetic_hsafm.anim").read_text())
    assert opts["fps"] == 7.5
    assert opts["cmap"] == "magma"
    assert opts["draw_ts"] is False


def test_flags_no_requested_format_uses_are_refused(tmp_path: Path) -> None:
    for flags in (["--fps", "3.0"], ["--cmap", "magma"], ["--no-draw-ts"]):
        result = run("--synthetic", "-e", "npz", *flags, "-o", tmp_path)
        assert result.exit_code != 0
        assert f"error: {' '.join(flags)} was given" in result.output
        assert "no format requested" in result.output
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--make-video"], ["--make-video=mp4"]),
        (["--make-video", "mp4,avi"], ["--make-video=mp4,avi"]),
        (["--make-video", "--fps", "3"], ["--make-video=mp4", "--fps", "3"]),
        (["x.asd", "--make-video", "webm"], ["x.asd", "--make-video=webm"]),
        (["--make-video", "-o", "o"], ["--make-video=mp4", "-o", "o"]),
        (["--make-video", "dir/v.asd"], ["--make-video=mp4", "dir/v.asd"]),
    ],
)
def test_make_video_value_is_optional(args: list[str], expected: list[str]) -> None:
    assert normalize_make_video(args) == expected


def test_make_video_does_not_swallow_an_existing_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("webm").mkdir()  # an input folder named like a container
    assert normalize_make_video(["--make-video", "webm"]) == [
        "--make-video=mp4",
        "webm",
    ]
