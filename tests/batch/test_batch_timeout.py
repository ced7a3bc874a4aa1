"""``playnano batch --timeout``: an input that hangs its reader is stopped, recorded
as failed, and its worker replaced, serially and on Dask.

The hanging reader is a real plugin distribution (a ``*.dist-info`` with entry
points on ``sys.path``), found by discovery in this process, in the serial path's
child process and in Dask's worker processes alike.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from playnano.cli import cli
from playnano.io.export_data import save_npz_bundle
from playnano.readers import load
from playnano.synthetic import synthetic_hsafm

HANGING_READER = '''
from pathlib import Path
from playnano.plugins import ReaderBase, hookimpl

class HangingReader(ReaderBase):
    """Reads .hang files for ever, like a reader stuck in a damaged file."""

    name = "hang"
    aliases = ()
    suffixes = (".hang",)
    reads_folders = False
    description = "A reader that never returns."
    requires = ()
    install_hint = ""

    def can_read(self, path):
        return Path(path).suffix == ".hang"

    def read(self, path, channel=None):
        while True:  # busy, as a reader looping in a damaged file is
            pass

@hookimpl
def register_readers(register):
    register(HangingReader())
'''


@pytest.fixture
def hanging_inputs(install_plugin, tmp_path: Path) -> Path:
    """Two files that hang their reader and three good bundles, in one folder."""
    install_plugin(
        "hang-reader",
        {"hang_reader": HANGING_READER},
        {"playnano.readers": {"hang": "hang_reader"}},
    )
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a_stuck.hang", "d_stuck.hang"):
        # larger than the bundles: on Dask they start first and hold both workers
        (src / name).write_bytes(b"never ends" * 100_000)
    for i, name in enumerate(("b.npz", "c.npz", "e.npz")):
        save_npz_bundle(src / name, synthetic_hsafm(n_frames=4, size_px=32, seed=i))
    return src


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_hanging_input_times_out_and_the_batch_finishes(
    hanging_inputs: Path, tmp_path: Path, workers: str
) -> None:
    out = tmp_path / "out"
    start = time.monotonic()
    res = CliRunner().invoke(
        cli,
        ["batch", str(hanging_inputs), "-e", "npz", "-o", str(out), "-w", workers,
         "--timeout", "3"],
    )  # fmt: skip
    elapsed = time.monotonic() - start
    assert res.exit_code == 3, res.output
    report = json.loads((out / "batch-report.json").read_text())
    status = {Path(r["input"]).name: r for r in report["inputs"]}
    assert {k: r["status"] for k, r in status.items()} == {
        "a_stuck.hang": "failed",
        "b.npz": "ok",
        "c.npz": "ok",
        "d_stuck.hang": "failed",
        "e.npz": "ok",
    }
    for name in ("a_stuck.hang", "d_stuck.hang"):
        error = status[name]["error"]
        assert error.startswith(f"{hanging_inputs / name}: timed out after 3 s")
        assert error in res.output  # the table says it too
        assert status[name]["seconds"] >= 3
    # both hung inputs were stopped and their workers replaced: with two workers
    # (or one child process) the good inputs could run only after that
    for name in ("b.npz", "c.npz", "e.npz"):
        written = out / name
        assert load(written).n_frames == 4
    assert sorted(p.name for p in out.iterdir()) == [
        "b.npz",
        "batch-report.json",
        "c.npz",
        "e.npz",
        "ro-crate-metadata.json",
    ]
    assert elapsed < 90, elapsed
    assert (report["engine"] == "serial") == (workers == "1")


def test_timeout_zero_is_no_limit_and_negative_is_refused(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli, ["batch", str(tmp_path), "-e", "npz", "--timeout", "-1"]
    )
    assert res.exit_code == 2 and "--timeout" in res.output


CRASHING_READER = HANGING_READER.replace(
    "while True:  # busy, as a reader looping in a damaged file is\n            pass",
    "import os, signal\n        os.kill(os.getpid(), signal.SIGKILL)  # a crash in C",
).replace('".hang"', '".crash"')


def test_an_input_whose_process_dies_is_failed_and_the_rest_go_on(
    install_plugin, tmp_path: Path
) -> None:
    install_plugin(
        "crash-reader",
        {"crash_reader": CRASHING_READER},
        {"playnano.readers": {"hang": "crash_reader"}},
    )
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.crash").write_bytes(b"kills its reader")
    save_npz_bundle(src / "b.npz", synthetic_hsafm(n_frames=4, size_px=32))
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli, ["batch", str(src), "-e", "npz", "-o", str(out), "-w", "1"]
    )
    assert res.exit_code == 3, res.output
    report = json.loads((out / "batch-report.json").read_text())
    a, b = report["inputs"]
    assert a["status"] == "failed" and b["status"] == "ok"
    assert (
        a["error"] == f"{src / 'a.crash'}: the process reading it died (exit code -9)"
    )
