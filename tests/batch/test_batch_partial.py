"""An input that writes some formats and not others: status ``partial``, exit 3, redone.

The failure is a real one: a file-size limit (``RLIMIT_FSIZE``, what a quota does)
that the small GIF fits under and the big HDF5 bundle does not, so the HDF5 write
fails with ``EFBIG`` part way through while the GIF is written.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from playnano.io.export_data import save_npz_bundle
from playnano.readers import load
from playnano.synthetic import synthetic_hsafm

resource = pytest.importorskip("resource", reason="file-size limits are POSIX only")

LIMIT = 1_500_000  # bytes: big's GIF (~0.8 MB) fits, its HDF5 bundle (~2.5 MB) not


def _batch(*args: str, limit: int | None = None) -> subprocess.CompletedProcess:
    code = (
        "import resource, runpy, sys\n"
        f"limit = {limit!r}\n"
        "if limit:\n"
        "    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))\n"
        f"sys.argv = ['playnano', 'batch', *{list(args)!r}]\n"
        "runpy.run_module('playnano', run_name='__main__')\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    save_npz_bundle(src / "big.npz", synthetic_hsafm(n_frames=20, size_px=128, seed=2))
    save_npz_bundle(src / "small.npz", synthetic_hsafm(n_frames=4, size_px=48, seed=1))
    return src


def test_a_format_failing_at_export_time_gives_partial_exit_3_and_is_redone(
    inputs: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args = (str(inputs), "-e", "gif", "h5", "-o", str(out), "-w", "1")
    res = _batch(*args, limit=LIMIT)
    assert res.returncode == 3, res.stderr
    assert "Traceback" not in res.stderr
    rep = json.loads((out / "batch-report.json").read_text())
    recs = {Path(r["input"]).name: r for r in rep["inputs"]}
    big, small = recs["big.npz"], recs["small.npz"]
    assert small["status"] == "ok" and small["error"] is None
    assert big["status"] == "partial"
    assert big["outputs"] == [str(out / "big.gif")]
    # one line naming the format, the output and what went wrong
    assert big["error"].startswith(f"h5: {out / 'big.h5'}: ")
    assert "File too large" in big["error"] and "\n" not in big["error"]
    assert big["sha256"] is not None and big["seconds"] > 0
    assert rep["totals"]["partial"] == 1 and rep["totals"]["ok"] == 1
    assert rep["finished"] is not None
    # the table on stderr shows it; the GIF is whole, nothing of the bundle is left
    assert "partial" in res.stderr and big["error"] in res.stderr
    assert "1 ok, 0 skipped, 1 partial, 0 failed" in res.stderr
    with Image.open(out / "big.gif") as gif:
        assert gif.n_frames == 20
    assert not (out / "big.h5").exists()
    assert not list(out.glob(".playnano-partial-*"))
    assert sorted(p.name for p in out.iterdir()) == [
        "batch-report.json",
        "big.gif",
        "ro-crate-metadata.json",
        "small.gif",
        "small.h5",
    ]
    # the report is readable like any other output (not a private temporary file)
    assert (out / "batch-report.json").stat().st_mode & stat.S_IRGRP

    # a re-run redoes the partial input (its own GIF may be replaced) and skips the other
    gif_before = (out / "big.gif").stat().st_mtime_ns
    res = _batch(*args)
    assert res.returncode == 0, res.stderr
    recs = {Path(r["input"]).name: r for r in json.loads(
        (out / "batch-report.json").read_text())["inputs"]}  # fmt: skip
    assert recs["big.npz"]["status"] == "ok" and recs["big.npz"]["error"] is None
    assert recs["small.npz"]["status"] == "skipped"
    assert sorted(Path(p).name for p in recs["big.npz"]["outputs"]) == [
        "big.gif",
        "big.h5",
    ]
    assert load(out / "big.h5").n_frames == 20
    assert (out / "big.gif").stat().st_mtime_ns != gif_before


def test_only_partial_inputs_exit_3_not_1(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = _batch(
        str(inputs / "big.npz"), "-e", "gif", "h5", "-o", str(out), "-w", "1",
        limit=LIMIT,
    )  # fmt: skip
    assert res.returncode == 3, res.stderr  # the GIF was written: not "none did"
    (rec,) = json.loads((out / "batch-report.json").read_text())["inputs"]
    assert rec["status"] == "partial"
