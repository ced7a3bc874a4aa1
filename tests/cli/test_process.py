"""``playnano process`` end to end: real files in, real files out, clear errors."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import tifffile
from click.testing import CliRunner
from PIL import Image

from playnano.cli import cli
from playnano.cli.process import EXIT_PARTIAL
from playnano.io.loaders import load_h5_bundle, load_npz_bundle
from playnano.testing import strict_json
from tests.conftest import exporter_module

# one real file (or folder) of each family, with the frame count it holds
FAMILIES = {
    "asd": ("asd/asd_sample_0.asd", 32),
    "asd-2ch": ("asd/202110200146.asd", 2),
    "h5-jpk": ("h5-jpk/sample_0.h5-jpk", 4),
    "jpk-folder": ("jpk_folder/streptavidin_hs", 3),
    "nanoscope": ("spm/old_bruker.002", 1),
}


def run(*args: str | Path):
    return CliRunner().invoke(cli, ["process", *map(str, args)])


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.filterwarnings("always::playnano.errors.ExportWarning")
def test_each_real_family_through_every_builtin_format(
    afm_data, tmp_path, family
) -> None:
    rel, n_frames = FAMILIES[family]
    src = afm_data / rel
    result = run(
        src,
        "-p",
        "remove_plane",
        "--export",
        "tif",
        "npz",
        "hdf5",
        "--make-gif",
        "--scale-bar-nm",
        "20",
        "-o",
        tmp_path,
        "-n",
        "video",
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "video_filtered.gif",
        "video_filtered.h5",
        "video_filtered.npz",
        "video_filtered.ome.tif",
    ]
    lines = result.output.splitlines()
    assert [ln for ln in lines if not ln.startswith("playnano: warning:")] == [
        f"wrote {tmp_path / n}"
        for n in (
            "video_filtered.ome.tif",
            "video_filtered.npz",
            "video_filtered.h5",
            "video_filtered.gif",
        )
    ]
    # the real videos' outlier frames are named by the GIF's colour range, once
    warned = [ln for ln in lines if ln.startswith("playnano: warning:")]
    assert all("of the colour range" in ln or "outside the colour range" in ln
               for ln in warned), warned  # fmt: skip
    assert len(warned) == len(set(warned))
    stack = load_npz_bundle(tmp_path / "video_filtered.npz")
    assert stack.n_frames == n_frames
    assert set(stack.processed) == {"raw", "step_1_remove_plane"}
    np.testing.assert_array_equal(stack.data, stack.processed["step_1_remove_plane"])
    # provenance: the input file by name and SHA-256, the steps, the exports made
    # before the run (streamed, every format is written at once: none lists another)
    source = stack.provenance["source"]
    expected_sha = (
        hashlib.sha256(src.read_bytes()).hexdigest() if src.is_file() else None
    )
    assert source["file"] == src.name
    if expected_sha:
        assert source["sha256"] == expected_sha
    assert [s["name"] for s in stack.provenance["processing"]["steps"]] == [
        "remove_plane"
    ]
    assert stack.provenance["exports"] == []
    with h5py.File(tmp_path / "video_filtered.h5") as f:
        assert f["data"].shape[0] == n_frames
        prov = strict_json(f["provenance_json"][()].decode())
        assert prov["exports"] == []
    with tifffile.TiffFile(tmp_path / "video_filtered.ome.tif") as tif:
        assert len(tif.pages) == n_frames
        assert tif.series[0].shape[-2:] == stack.image_shape
        assert np.prod(tif.series[0].shape[:-2], dtype=int) == n_frames
    with Image.open(tmp_path / "video_filtered.gif") as gif:
        assert gif.n_frames == n_frames


def test_raw_exports_the_unprocessed_snapshot(afm_data, tmp_path) -> None:
    src = afm_data / "h5-jpk" / "sample_0.h5-jpk"
    assert (
        run(src, "-p", "remove_plane", "-e", "h5", "--raw", "-o", tmp_path).exit_code
        == 0
    )
    assert run(src, "-e", "h5", "-o", tmp_path / "plain").exit_code == 0
    raw = load_h5_bundle(tmp_path / "sample_0.h5")
    plain = load_h5_bundle(tmp_path / "plain" / "sample_0.h5")
    np.testing.assert_array_equal(raw.data, plain.data)
    assert raw.get_frame_times() == pytest.approx([0, 3.275, 6.55, 9.825])


def test_processing_file_and_channel(afm_data, tmp_path) -> None:
    steps = tmp_path / "steps.yaml"
    steps.write_text(
        "filters:\n  - name: remove_plane\n  - name: gaussian_filter\n    sigma: 1.5e0\n"
    )
    result = run(
        afm_data / "asd" / "202110200146.asd",
        "--channel",
        "PH",
        "--processing-file",
        steps,
        "-e",
        "npz",
        "-o",
        tmp_path,
    )
    assert result.exit_code == 0, result.output
    stack = load_npz_bundle(tmp_path / "202110200146_filtered.npz")
    assert stack.channel == "PH"
    assert stack.provenance["processing"]["steps"][1]["params"]["sigma"] == 1.5


def test_synthetic_default_through_every_installed_format(tmp_path) -> None:
    result = run("--synthetic", "-p", "remove_plane", "--export", "all", "-o", tmp_path)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "synthetic_hsafm_filtered.gif",
        "synthetic_hsafm_filtered.gwy",
        "synthetic_hsafm_filtered.h5",
        "synthetic_hsafm_filtered.npz",
        "synthetic_hsafm_filtered.ome.tif",
        "synthetic_hsafm_filtered_frames",  # png
        "synthetic_hsafm_filtered_topostats",
    ]


@pytest.mark.filterwarnings("always::playnano.errors.ExportWarning")
def test_gif_flags_and_format_options_reach_the_exporter(tmp_path) -> None:
    result = run(
        "--synthetic",
        "--make-gif",
        "--zmin",
        "-2",
        "--zmax",
        "auto",
        "--scale-bar-nm",
        "0",
        "--option",
        "gif.fps=4",
        "-o",
        tmp_path,
    )
    assert result.exit_code == 0, result.output
    assert "outside the colour range -2 to" in result.output  # zmin -2 clips
    with Image.open(tmp_path / "synthetic_hsafm.gif") as gif:
        assert gif.info["duration"] == 250


# five bands of constant height, each in the middle of one colour level of 0..10 nm
LEVELS = (0, 63, 126, 189, 252)


def bands_file(tmp_path: Path) -> Path:
    from playnano.afm_stack import AFMImageStack
    from playnano.io.export_data import save_npz_bundle
    from playnano.render import N_LEVELS

    heights = [(k + 0.5) * 10 / N_LEVELS for k in LEVELS]
    row = np.repeat(np.asarray(heights), 20)
    data = np.repeat(np.broadcast_to(row, (40, row.size))[None], 2, axis=0)
    meta = [{"timestamp": 0.5 * i} for i in range(2)]
    stack = AFMImageStack(data.copy(), 2.0, "height_trace", Path("b.asd"), meta)
    [path] = save_npz_bundle(tmp_path / "bands.npz", stack)
    return path


@pytest.mark.parametrize("cmap", ["afmhot", "viridis"])
def test_zmin_and_zmax_set_the_gif_colours(tmp_path, cmap) -> None:
    from playnano.render import colormap_palette

    src = bands_file(tmp_path)
    out = tmp_path / "out"
    result = run(
        *(src, "--make-gif", "--zmin", "0", "--zmax", "10", "--scale-bar-nm", "0"),
        *("--option", "gif.draw_ts=false", "--option", f"gif.cmap={cmap}"),
        *("-o", out),
    )
    assert result.exit_code == 0, result.output
    with Image.open(out / "bands.gif") as gif:
        rgb = np.asarray(gif.convert("RGB")).astype(int)
    k = rgb.shape[1] // 100  # the 100 px wide frame, enlarged k times
    palette = colormap_palette(cmap).astype(int)
    for band, level in enumerate(LEVELS):
        got = rgb[5 * k : 35 * k, (20 * band + 3) * k : (20 * band + 17) * k]
        want = palette[level]
        assert (got == want).all(axis=-1).all(), (band, level, got[0, 0], want)


def test_third_party_format_is_accepted(install_plugin, tmp_path) -> None:
    install_plugin(
        "acme-formats",
        {"acme_mod": exporter_module("acme", suffix=".acme")},
        {"playnano.exporters": {"acme": "acme_mod"}},
    )
    result = run(
        "--synthetic",
        "--export",
        "acme,npz",
        "--option",
        "acme.level=7",
        "-o",
        tmp_path,
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "synthetic_hsafm.acme").read_text() == "fake:7"


# ---- every error path: one line, the right exit code, nothing written -------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{asd}", "-e", "nzp"], "unknown format 'nzp'; did you mean npz?"),
        (
            ["{asd}", "-e", "npz", "-p", "remove_plane;gaussian_filter:sigm=2"],
            "unknown option 'sigm' (did you mean 'sigma'?)",
        ),
        (["{asd}", "-e", "npz", "-p", "gaussian_filter:sigma=-1"], "sigma"),
        (["{asd}", "-e", "npz", "-p", "remove_plan"], "did you mean remove_plane"),
        (["{asd}", "-e", "gif", "--zmin", "low"], "option 'zmin': expected a number"),
        (["{asd}", "-e", "npz", "--option", "npz.nope=1"], "unknown option 'nope'"),
        (["{asd}", "-e", "npz", "--channel", "XX"], "no channel 'XX'; it has TP"),
        (
            ["{data}/spm/bruker_data_header.001", "-e", "npz"],
            "bruker_data_header.001: file ends after 10685 bytes",
        ),
        (["{data}/no_such.asd", "-e", "npz"], "no_such.asd: no such file or folder"),
        (
            ["{data}/README.md", "-e", "npz"],
            "README.md: no reader for this file; supported suffixes: .asd,",
        ),
    ],
)
def test_errors_are_one_line_and_write_nothing(
    afm_data, tmp_path, args, message
) -> None:
    argv = [
        a.format(asd=afm_data / "asd" / "asd_sample_0.asd", data=afm_data) for a in args
    ]
    result = run(*argv, "-o", tmp_path / "out")
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("playnano: error: ")
    assert message in lines[0]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_usage_errors_exit_2() -> None:
    assert run("--export", "npz").exit_code == 2  # no input
    assert run("--synthetic").exit_code == 2  # nothing to export
    assert (
        run("--synthetic", "-e", "npz", "-p", "x", "--processing-file", "f").exit_code
        == 2
    )


def test_existing_output_is_kept_and_refused_before_work(tmp_path) -> None:
    out = tmp_path / "synthetic_hsafm_filtered.npz"
    out.write_bytes(b"user data")
    result = run("--synthetic", "-p", "remove_plane", "-e", "npz", "-o", tmp_path)
    assert result.exit_code == 1
    assert "already exists; pass --overwrite to replace it" in result.output
    assert "overwrite=True" not in result.output
    assert out.read_bytes() == b"user data"
    assert (
        run(
            "--synthetic",
            "-p",
            "remove_plane",
            "-e",
            "npz",
            "-o",
            tmp_path,
            "--overwrite",
        ).exit_code
        == 0
    )
    assert load_npz_bundle(out).n_frames == 40


def test_one_failing_format_does_not_stop_the_others(install_plugin, tmp_path) -> None:
    failing = exporter_module("brittle", suffix=".brittle").replace(
        "Path(path).write_text", "raise OSError('device full'); Path(path).write_text"
    )
    install_plugin(
        "brittle-fmt",
        {"brittle_mod": failing},
        {"playnano.exporters": {"brittle": "brittle_mod"}},
    )
    out = tmp_path / "out"
    result = run("--synthetic", "-e", "brittle", "npz", "-o", out)
    assert result.exit_code == EXIT_PARTIAL
    # an OSError while writing: one line naming the output path
    line = f"playnano: error: brittle: {out / 'synthetic_hsafm.brittle'}: device full"
    assert line in result.output
    assert sorted(p.name for p in out.iterdir()) == ["synthetic_hsafm.npz"]


def test_quiet_prints_nothing(tmp_path) -> None:
    result = run("--synthetic", "-e", "npz", "-q", "-o", tmp_path)
    assert result.exit_code == 0 and result.output == ""


@pytest.mark.parametrize("family", ["asd", "h5-jpk", "jpk-folder", "nanoscope"])
def test_real_subprocess(afm_data, tmp_path, family) -> None:
    src = afm_data / FAMILIES[family][0]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "playnano",
            "process",
            str(src),
            "--export",
            "npz",
            "h5",
            "-p",
            "remove_plane",
            "-o",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert len(proc.stdout.splitlines()) == 2
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "playnano",
            "process",
            str(src),
            "--export",
            "npz",
            "-p",
            "remove_plane:order=2",
            "-o",
            str(tmp_path / "x"),
        ],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


# ---- checked before reading or processing (issue 8) ------------------------------
def test_existing_outputs_of_an_unprocessed_run_fail_at_once(
    tmp_path, monkeypatch
) -> None:
    assert run("--synthetic", "-e", "npz", "h5", "-o", tmp_path).exit_code == 0

    def no_reading(*a, **k):
        raise AssertionError("the input was read before the check")

    monkeypatch.setattr("playnano.synthetic.synthetic_hsafm", no_reading)
    result = run("--synthetic", "-e", "npz", "h5", "-o", tmp_path)
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"playnano: error: {tmp_path / 'synthetic_hsafm.npz'} already exists; "
        "pass --overwrite to replace it"
    )


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (
            ["-e", "gif", "--zmin", "5", "--zmax", "1"],
            "format 'gif': zmin (5) must be below zmax (1)",
            1,
        ),
        (
            ["-e", "npz", "--zmin", "0"],
            "--zmin 0 was given, but no format requested (npz) draws an image; "
            "add --make-gif or leave it out",
            1,
        ),
        (
            ["-e", "npz", "--scale-bar-nm", "50"],
            "--scale-bar-nm 50 was given, but no format requested (npz)",
            1,
        ),
        (
            ["-e", "npz", "--option", "gif.fps=4"],
            "options were given for gif, which is not among the formats requested",
            1,
        ),
        (
            ["-e", "npz", "--channel", "PH"],
            "--channel cannot be used with --synthetic (see '",
            2,
        ),
        (
            ["-e", "npz", "-n", "n" * 300],
            "file names can have at most 255",
            1,
        ),
        (["-e", "npz", "--bogus"], "No such option '--bogus'", 2),
    ],
)
def test_refused_before_any_work(tmp_path, monkeypatch, args, message, code) -> None:
    def no_reading(*a, **k):
        raise AssertionError("the input was read before the check")

    monkeypatch.setattr("playnano.synthetic.synthetic_hsafm", no_reading)
    result = run("--synthetic", *args, "-o", tmp_path / "out")
    assert result.exit_code == code, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("playnano: error: "), lines
    assert message in lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["file", "parent-file"])
def test_unusable_output_folder_is_refused_before_reading(
    tmp_path, monkeypatch, kind
) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    folder = f if kind == "file" else f / "sub"

    def no_reading(*a, **k):
        raise AssertionError("the input was read before the check")

    monkeypatch.setattr("playnano.synthetic.synthetic_hsafm", no_reading)
    result = run("--synthetic", "-p", "remove_plane", "-e", "npz", "-o", folder)
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"playnano: error: {f}: "
        + ("the output folder" if kind == "file" else "a parent folder")
        + " is a file, not a folder"
    )


@pytest.mark.parametrize("command", ["process", "batch", "info", "formats", "steps"])
def test_help_examples_read_as_typed(command: str) -> None:
    """An example's continued line stays a line (no backslash-newline folded into a
    run of spaces inside the command)."""
    result = CliRunner().invoke(cli, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    examples = [
        ln.strip()
        for ln in result.output.splitlines()
        if ln.strip().startswith("playnano ")
    ]
    for line in examples:
        assert "  " not in line, line
