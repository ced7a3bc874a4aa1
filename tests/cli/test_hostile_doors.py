"""Every command that opens a file ends quickly and clearly on a hostile one.

The files of issue 19, built here with real libraries and byte edits, each opened
by ``playnano info``, ``info --json``, ``info --check`` and ``process -e npz`` with
and without ``--blocks`` in a child process, as a user runs them (no address-space
limit): each must end within 10 s and 500 MB of peak RSS, exit 1, and say in one
line which file is wrong and why, without a traceback. Before the guarded openings,
the looping OME-TIFF and the .h5-jpk files ran for ever (5-8 GB), and a huge SizeZ
took 3 GB.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.formats.hostile import h5, npz, tiff
from tests.formats.hostile.cli import RSS_MB, WALL_S, run_cli

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="POSIX wait4 and Linux RSS units"
)

CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    # name: (builder, words the cause must hold)
    "looping OME-TIFF": (tiff.tiff_cycle_ome, "IFD chain loops"),
    "looping ImageJ TIFF": (tiff.tiff_cycle_imagej, "IFD chain loops"),
    "OME-TIFF with SizeZ 100000000": (tiff.ome_size_z_huge, "SizeZ 100000000"),
    "OME-TIFF with SampleFormat 0xFFFFFFFF": (
        tiff.ome_bad_sample_format,
        "SampleFormat 4294967295",
    ),
    "TIFF whose description claims frames it does not store": (
        tiff.shaped_frames_inflated,
        "but IFD 1 lies at offset",
    ),
    "TIFF page without StripOffsets": (
        tiff.no_strip_offsets,
        "IFD 1 lists no StripOffsets or TileOffsets",
    ),
    "NPZ bomb": (npz.npz_frame_count_bomb, "2 entries"),
    ".h5-jpk huge unallocated channel": (
        h5.h5jpk_huge_unallocated,
        "stores 0 of them",
    ),
    ".h5-jpk huge unallocated contiguous channel": (
        lambda folder: h5.h5jpk_huge_unallocated(folder, chunked=False),
        "the file stores 0 bytes",
    ),
    "HDF5 virtual dataset onto itself": (h5.h5_vds_self, "virtual dataset"),
}

COMMANDS: dict[str, tuple[str, ...]] = {
    "info": ("info",),
    "info --json": ("info", "--json"),
    "info --check": ("info", "--check"),
    "process -e npz": ("process", "-e", "npz"),
    "process -e npz --blocks": ("process", "-e", "npz", "--blocks"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_command_ends_in_one_line_naming_the_file(
    tmp_path: Path, case: str
) -> None:
    build, cause = CASES[case]
    path = build(tmp_path)
    for name, command in COMMANDS.items():
        out = tmp_path / "out"
        args = [*command, path]
        if command[0] == "process":
            args += ["-o", out, "--overwrite"]
        run = run_cli(*args, cwd=tmp_path)
        assert not run.timed_out, f"{name}: {run}"
        assert run.seconds < WALL_S and run.peak_rss_mb < RSS_MB, f"{name}: {run}"
        assert run.returncode == 1, f"{name}: {run}"
        assert "Traceback" not in run.stderr + run.stdout, f"{name}: {run}"
        if name == "info --check":  # one line per problem, on stdout
            [line] = run.stdout.strip().splitlines()
            assert line.startswith(f"{path}: ") and cause in line, f"{name}: {run}"
        else:
            [line] = run.stderr.strip().splitlines()
            assert line.startswith(f"playnano: error: {path}: "), f"{name}: {run}"
            assert cause in line, f"{name}: {run}"
        assert not out.exists() or not any(out.iterdir()), f"{name} wrote {out}"
