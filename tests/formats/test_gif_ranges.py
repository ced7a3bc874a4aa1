"""GIFs that show the sample: colour range, clipping warning, scale bar, tiny frames.

Every GIF is written by the real exporter and read back with Pillow.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageSequence

from playnano.afm_stack import AFMImageStack
from playnano.cli import cli
from playnano.errors import ExportWarning
from playnano.io.export_data import export_stack
from playnano.render import WHITE_INDEX, auto_scale_bar_nm, upscale_factor

QUIET = {"scale_bar_nm": 0, "draw_ts": False}


def stack_of(data: np.ndarray, px: float = 2.0) -> AFMImageStack:
    data = np.asarray(data, dtype=np.float64)
    meta = [{"timestamp": 0.1 * i} for i in range(len(data))]
    return AFMImageStack(data, px, "height_trace", Path("movie.asd"), meta)


def rgb_frames(path: Path) -> list[np.ndarray]:
    with Image.open(path) as im:
        return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]


def colour_of(cmap: str, height: float, zmin: float, zmax: float) -> tuple:
    """The colour matplotlib gives ``height`` with ``cmap`` cut into 253 levels."""
    level = min(252, max(0, int(np.floor((height - zmin) / (zmax - zmin) * 253))))
    return tuple(matplotlib.colormaps[cmap].resampled(253)(level, bytes=True)[:3])


@pytest.mark.parametrize("shape", [(1, 1), (1, 3), (2, 2), (3, 1)])
def test_tiny_frames_are_written(tmp_path: Path, shape: tuple[int, int]) -> None:
    data = np.arange(2 * shape[0] * shape[1], dtype=float).reshape(2, *shape)
    [path] = export_stack(
        stack_of(data), tmp_path / "t.gif", options={"zmin": "min", "zmax": "max"}
    )
    frames = rgb_frames(path)
    f = upscale_factor(shape)
    assert len(frames) == 2
    assert frames[0].shape == (shape[0] * f, shape[1] * f, 3)


def png_frames(folder: Path) -> list[np.ndarray]:
    frames = []
    for path in sorted(folder.iterdir()):
        with Image.open(path) as im:
            frames.append(np.asarray(im.convert("RGB")))
    return frames


@pytest.mark.parametrize("fmt", ["gif", "png"])
def test_auto_range_shows_the_quiet_frames_of_a_real_video(
    afm_data: Path, tmp_path: Path, fmt: str
) -> None:
    from playnano.processing import parse_steps, run_pipeline, validate_steps
    from playnano.readers import load

    stack = load(afm_data / "asd" / "asd_sample_0.asd")
    run_pipeline(stack, validate_steps(parse_steps("remove_plane")))
    # frames 0-21 span about ±1 nm, frames 22-31 up to -60...158 nm (27-28 flat)
    with pytest.warns(ExportWarning) as caught:
        [path] = export_stack(stack, tmp_path / "s", fmt)  # annotations drawn
    frames = rgb_frames(path) if fmt == "gif" else png_frames(path)
    assert len(frames) == 32
    for i, frame in enumerate(frames[:22]):
        h, w, _ = frame.shape  # the middle, away from the timestamp and scale bar
        middle = frame[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4].reshape(-1, 3)
        _, counts = np.unique(middle, axis=0, return_counts=True)
        assert counts.size >= 20, f"frame {i} has {counts.size} colours"
        assert counts.max() / counts.sum() < 0.1, f"frame {i} is mostly one colour"
    messages = [str(w.message) for w in caught]
    clipped = [m for m in messages if "outside the colour range" in m]
    assert len(clipped) == 1 and "of 32 frames (22-23, 25-26, 29-31)" in clipped[0]
    sliver = [m for m in messages if "use less than 10%" in m]
    assert len(sliver) == 1 and "1 of 32 frames (27)" in sliver[0]


@pytest.mark.parametrize("cmap", ["afmhot", "viridis"])
def test_explicit_zmin_zmax_colours_cli(tmp_path: Path, cmap: str) -> None:
    """--zmin 10 --zmax 20 maps 10 to the low end, 20 to the high end, 14 between."""
    data = np.zeros((1, 8, 8))
    data[0, 0, 0], data[0, 0, 1], data[0, 0, 2], data[0, 0, 3] = 10, 14, 20, 5
    data[0, 1:], data[0, 0, 4:] = 14.0, 14.0  # 2 of 64 px outside: no warning
    bundle = tmp_path / "in.npz"
    export_stack(stack_of(data), bundle)
    result = CliRunner().invoke(
        cli,
        [
            *("process", str(bundle), "--make-gif", "--zmin", "10", "--zmax", "20"),
            *("--scale-bar-nm", "0", "--option", f"gif.cmap={cmap}"),
            *("--option", "gif.draw_ts=false", "-o", str(tmp_path / "out")),
        ],
    )
    assert result.exit_code == 0, result.output
    [frame] = rgb_frames(tmp_path / "out" / "in.gif")
    f = upscale_factor((8, 8))
    got = [tuple(frame[0, j * f]) for j in range(4)]
    want = [colour_of(cmap, h, 10, 20) for h in (10, 14, 20, 5)]
    assert got == want
    assert got[0] == tuple(matplotlib.colormaps[cmap](0.0, bytes=True)[:3])
    assert got[2] == tuple(matplotlib.colormaps[cmap](1.0, bytes=True)[:3])


def test_min_and_max_are_exact_and_auto_is_robust(tmp_path: Path) -> None:
    data = np.tile(np.linspace(0, 1, 100), (3, 100, 1))
    data[2, 0, 0] = 1000.0  # one outlier pixel
    opts = {**QUIET, "zmin": "min", "zmax": "max"}
    with pytest.warns(ExportWarning, match=r"3 of 3 frames \(0-2\) use less than"):
        [exact] = export_stack(stack_of(data), tmp_path / "e.gif", options=opts)
    [auto] = export_stack(stack_of(data), tmp_path / "a.gif", options=QUIET)
    f = upscale_factor((100, 100))
    e, a = rgb_frames(exact)[0], rgb_frames(auto)[0]
    # with max the outlier takes the top colour and the ramp shows in 1/1000 of
    # the range; with auto the ramp spans the colormap
    assert tuple(e[0, 99 * f]) == colour_of("afmhot", 1.0, 0.0, 1000.0)
    assert tuple(a[0, 99 * f]) == tuple(
        matplotlib.colormaps["afmhot"](1.0, bytes=True)[:3]
    )
    assert len(np.unique(a.reshape(-1, 3), axis=0)) >= 90  # of 100 heights
    assert len(np.unique(e.reshape(-1, 3), axis=0)) < 5


def test_mostly_clipped_frames_are_warned_about(tmp_path: Path) -> None:
    data = np.full((4, 10, 10), 50.0)
    data[0] = 2.0  # inside 0...5
    with pytest.warns(ExportWarning) as caught:
        export_stack(
            stack_of(data), tmp_path / "c.gif", options={**QUIET, "zmin": 0, "zmax": 5}
        )
    messages = [str(w.message) for w in caught]
    assert messages == [
        "3 of 4 frames (1-3) have more than 5% of their pixels outside the colour "
        "range 0 to 5 nm, drawn as its end colours: widen zmin/zmax (--zmin/--zmax), "
        "use min/max, or leave them auto"
    ]


def test_frames_using_a_sliver_of_the_range_are_warned_about(tmp_path: Path) -> None:
    ramp = np.tile(np.linspace(0.0, 10.0, 20), (4, 20, 1))
    ramp[1] = ramp[1] * 0.02  # 0...0.2 nm: two levels of 0...10
    ramp[2] = 3.0  # flat: no range would show more, so not named
    with pytest.warns(ExportWarning) as caught:
        export_stack(stack_of(ramp), tmp_path / "s.gif", options=QUIET)
    lo = min(np.percentile(f, 1) for f in ramp)  # every frame is an ordinary one
    hi = max(np.percentile(f, 99) for f in ramp)
    assert [str(w.message) for w in caught] == [
        f"1 of 4 frames (1) use less than 10% of the colour range {lo:.3g} to "
        f"{hi:.3g} nm and show as a few colours: they are nearly flat next to the "
        "other frames; set zmin/zmax (--zmin/--zmax) near their heights to see "
        "their detail"
    ]


@pytest.mark.parametrize(
    ("width_nm", "bar_nm"),
    [
        (128.0, 20.0),  # 100 nm is more than half: a fifth is 25.6 -> 20
        (60.0, 10.0),  # narrower than 100 nm
        (1000.0, 100.0),  # 100 nm is a tenth: the seed's default
        (200.0, 100.0),  # ... and a half
        (15_000.0, 2000.0),  # 15 um: not a 2-px stub
        (40_000.0, 10_000.0),  # a fifth is 8000 -> 10 um
    ],
)
def test_auto_scale_bar_length(width_nm: float, bar_nm: float) -> None:
    assert auto_scale_bar_nm(width_nm) == bar_nm


def longest_white_run(idx: np.ndarray) -> int:
    best = 0
    for row in idx == WHITE_INDEX:
        padded = np.concatenate([[0], row.astype(np.int8), [0]])
        edges = np.flatnonzero(np.diff(padded))
        if edges.size:
            best = max(best, int((edges[1::2] - edges[::2]).max()))
    return best


@pytest.mark.parametrize(
    ("px_nm", "bar_option", "bar_nm"),
    [
        (1.0, "auto", 20.0),  # 128 nm wide
        (100.0, "auto", 2000.0),  # 12.8 um wide
        (5.0, "auto", 100.0),  # 640 nm wide: the 100 nm default
        (1.0, 50.0, 50.0),  # explicit: as given
    ],
)
def test_scale_bar_drawn_length(
    tmp_path: Path, px_nm: float, bar_option: object, bar_nm: float
) -> None:
    data = np.tile(np.linspace(0, 1, 128), (1, 128, 1))
    opts = {"draw_ts": False, "scale_bar_nm": bar_option}
    [path] = export_stack(stack_of(data, px_nm), tmp_path / "b.gif", options=opts)
    with Image.open(path) as im:
        idx = np.asarray(im)
    f = upscale_factor((128, 128))
    assert longest_white_run(idx) == round(bar_nm / px_nm * f)


def test_scale_bar_zero_is_off(tmp_path: Path) -> None:
    data = np.tile(np.linspace(0, 1, 128), (1, 128, 1))
    opts = {"draw_ts": False, "scale_bar_nm": 0}
    [path] = export_stack(stack_of(data), tmp_path / "z.gif", options=opts)
    with Image.open(path) as im:
        assert not (np.asarray(im) == WHITE_INDEX).any()
