"""``playnano process --threads N``: same files for any N, a clear error for N < 1."""

from __future__ import annotations

import zipfile
from pathlib import Path

import h5py
from click.testing import CliRunner

from playnano.cli import cli


def run(*args: str | Path):
    return CliRunner().invoke(cli, ["process", *map(str, args)])


def test_thread_count_changes_no_stored_array(tmp_path: Path) -> None:
    outs = {}
    for n in ("1", "2"):
        outs[n] = tmp_path / n
        res = run(
            "--synthetic", "-p", "remove_plane;mask_threshold:threshold=1",
            "--export", "npz", "h5", "--threads", n, "-o", outs[n],
        )  # fmt: skip
        assert res.exit_code == 0, res.output
    with (
        zipfile.ZipFile(outs["1"] / "synthetic_hsafm_filtered.npz") as a,
        zipfile.ZipFile(outs["2"] / "synthetic_hsafm_filtered.npz") as b,
    ):
        # provenance records the command line (and times), so it differs
        arrays = [i.filename for i in a.infolist() if "json" not in i.filename]
        assert "data.npy" in arrays
        for name in arrays:
            ia, ib = a.getinfo(name), b.getinfo(name)
            assert (ia.CRC, ia.compress_size) == (ib.CRC, ib.compress_size), name
    with (
        h5py.File(outs["1"] / "synthetic_hsafm_filtered.h5") as a,
        h5py.File(outs["2"] / "synthetic_hsafm_filtered.h5") as b,
    ):
        n = a["data"].shape[0]
        for key in ("data", "masks/step_2_mask_threshold"):
            assert [a[key].id.read_direct_chunk((i, 0, 0)) for i in range(n)] == [
                b[key].id.read_direct_chunk((i, 0, 0)) for i in range(n)
            ]


def test_zero_threads_is_a_usage_error(tmp_path: Path) -> None:
    res = run("--synthetic", "--export", "npz", "--threads", "0", "-o", tmp_path)
    assert res.exit_code == 2
    assert "--threads" in res.output and "0" in res.output
    assert not list(tmp_path.iterdir())
