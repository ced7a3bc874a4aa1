"""Gwyddion 2.62 (Debian's package) opens playnano's .gwy, and playnano opens its.

``--check`` and ``--identify`` say what Gwyddion makes of a file; a file that
``--convert-to-gwy`` writes is what Gwyddion loaded from its input, so reading that
copy shows what Gwyddion sees: every frame, its title, size, values and mask. For
the JPK folder and the Nanoscope file, frame 0 of our .gwy must equal what Gwyddion
reads from the instrument file itself.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gwyfile
import numpy as np
import pytest

import playnano
from tests.consumers.conftest import JPK_FOLDER, NANOSCOPE, run_gwyddion

pytestmark = pytest.mark.slow


def _fields(path: Path) -> dict[str, object]:
    obj = gwyfile.load(str(path))
    return {title: obj[f"/{n}/data"] for n, title in gwyfile.util.find_datafields(obj)}


def _our_gwy(src: Path, out: Path, *args: str) -> Path:
    """``playnano process SRC ARGS -e gwy -o OUT``; the .gwy written."""
    cmd = [sys.executable, "-m", "playnano", "process", str(src), *args]
    subprocess.run([*cmd, "-e", "gwy", "-o", str(out)], check=True, capture_output=True)
    [path] = out.glob("*.gwy")
    return path


def _convert(gwyddion: str, src: Path, out: Path) -> Path:
    run = run_gwyddion(gwyddion, f"--convert-to-gwy={out}", str(src), cwd=out.parent)
    assert run.returncode == 0 and out.is_file(), run.stderr
    return out


def test_gwyddion_accepts_our_file_silently(exports: Path, gwyddion: str) -> None:
    [path] = exports.glob("*.gwy")
    check = run_gwyddion(gwyddion, "--check", str(path), cwd=exports)
    assert (check.returncode, check.stdout, check.stderr) == (0, "", "")
    ident = run_gwyddion(gwyddion, "--identify", str(path), cwd=exports)
    assert (
        ident.stdout.strip() == f"{path}: Gwyddion native format (.gwy) [gwyfile, 100]"
    )


def test_gwyddion_loads_every_frame_as_written(
    exports: Path, gwyddion: str, tmp_path: Path
) -> None:
    [path] = exports.glob("*.gwy")
    seen = _fields(_convert(gwyddion, path, tmp_path / "seen.gwy"))
    stack = playnano.load(path)
    assert stack.n_frames == 32
    assert sorted(seen) == sorted(f"TP frame {i} (t = {i}.000 s)" for i in range(32))
    for i in range(32):
        field = seen[f"TP frame {i} (t = {i}.000 s)"]
        assert field["si_unit_z"]["unitstr"] == "m"
        assert field["xreal"] == field["yreal"] == pytest.approx(100e-9, rel=1e-15)
        np.testing.assert_allclose(field.data * 1e9, stack.data[i], rtol=1e-15, atol=0)


def test_gwyddion_shows_our_masks_on_their_frames(
    afm_data: Path, gwyddion: str, tmp_path: Path
) -> None:
    path = _our_gwy(
        afm_data / "asd/asd_sample_0.asd",
        tmp_path / "masked",
        "-p",
        "remove_plane;mask_threshold:threshold=1",
    )
    stack = playnano.load(path)
    [mask] = stack.masks.values()
    assert mask.any()
    copy = gwyfile.load(str(_convert(gwyddion, path, tmp_path / "seen.gwy")))
    for i in (0, 17, 31):
        np.testing.assert_array_equal(copy[f"/{i}/mask"].data > 0.5, mask[i])


def _first_field(gwy: Path, title: str) -> object:
    obj = gwyfile.load(str(gwy))
    numbers = [n for n, t in sorted(gwyfile.util.find_datafields(obj)) if t == title]
    return obj[f"/{numbers[0]}/data"]


@pytest.mark.parametrize(
    ("source", "native", "ours_channel", "gwyddion_title"),
    [
        (JPK_FOLDER, "save-2023.02.16-12.08.46.436.jpk", "height_trace", "Height"),
        (
            JPK_FOLDER,
            "save-2023.02.16-12.08.46.436.jpk",
            "height_retrace",
            "Height (retrace)",
        ),
        (NANOSCOPE, None, "Height", "Height"),
    ],
)
def test_frame_0_is_what_gwyddion_reads_from_the_instrument_file(
    afm_data: Path,
    gwyddion: str,
    tmp_path: Path,
    source: str,
    native: str | None,
    ours_channel: str,
    gwyddion_title: str,
) -> None:
    src = afm_data / source
    ours_path = _our_gwy(src, tmp_path / "ours", "--channel", ours_channel)
    ours = _first_field(
        ours_path, playnano.load(ours_path).channel + " frame 0 (t = 0.000 s)"
    )
    theirs = _first_field(
        _convert(gwyddion, src / native if native else src, tmp_path / "native.gwy"),
        gwyddion_title,
    )
    assert ours.data.shape == theirs.data.shape
    span = float(theirs.data.max() - theirs.data.min())
    assert np.abs(ours.data - theirs.data).max() <= 1e-6 * span  # same orientation
    for key in ("xreal", "yreal"):
        assert ours[key] == pytest.approx(theirs[key], rel=1e-9)
    for key in ("xoff", "yoff"):
        assert ours.get(key, 0.0) == pytest.approx(theirs.get(key, 0.0), abs=1e-15)
    assert ours["si_unit_xy"]["unitstr"] == theirs["si_unit_xy"]["unitstr"] == "m"
    assert ours["si_unit_z"]["unitstr"] == theirs["si_unit_z"]["unitstr"] == "m"


def test_playnano_reads_what_gwyddion_writes(
    afm_data: Path, gwyddion: str, tmp_path: Path
) -> None:
    native = afm_data / NANOSCOPE
    written = _convert(gwyddion, native, tmp_path / "gwyddion.gwy")
    theirs = playnano.load(written)
    ours = playnano.load(native)
    assert theirs.channel == "Height"
    assert theirs.pixel_size_nm == pytest.approx(ours.pixel_size_nm, rel=1e-12)
    np.testing.assert_allclose(theirs.data, ours.data, rtol=1e-12)
    # a JPK frame file merged by Gwyddion: three channels, "Height" read by title
    jpk = sorted((afm_data / JPK_FOLDER).glob("*.jpk"))[0]
    merged = playnano.load(
        _convert(gwyddion, jpk, tmp_path / "jpk.gwy"), channel="Height"
    )
    np.testing.assert_allclose(merged.data[0], playnano.load(jpk).data[0], rtol=1e-12)
