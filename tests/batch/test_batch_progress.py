"""The batch's progress bar as a user sees it: a real terminal (a pty), and a pipe."""

from __future__ import annotations

import errno
import itertools
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from playnano.batch.engine import dask_available
from playnano.batch.progress import frame_count
from playnano.io.export_data import save_h5_bundle, save_npz_bundle
from playnano.readers import load
from playnano.run import RunSettings, run_one
from playnano.synthetic import synthetic_hsafm

FRAMES = (7, 11, 13)
ARGS = ["-p", "remove_plane", "-e", "h5", "npz"]
#: "frames (ENGINE)  [###---]  12/32 ... 1/4 files, 1 failed"
LINE = re.compile(r"frames \(([^)]*)\)\s+\[[#-]*\]\s+(\d+)/(\d+).*?(\d+)/(\d+) files")


#: Bar positions reachable by crediting whole inputs only (the broken one weighs 1).
_WHOLE = {
    sum(c for c, keep in zip((*FRAMES, 1), bits, strict=True) if keep)
    for bits in itertools.product((0, 1), repeat=4)
}


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """Three videos of 7, 11 and 13 frames, and a file that is not an NPZ."""
    src = tmp_path / "in"
    src.mkdir()
    for i, n in enumerate(FRAMES):
        stack = synthetic_hsafm(n_frames=n, size_px=48, seed=i)
        save_npz_bundle(src / f"v{i}.npz", stack)
    (src / "zz_broken.npz").write_bytes(b"not a zip archive")
    return src


def _in_terminal(argv: list[str], timeout: float = 180) -> tuple[int, str]:
    """Run ``argv`` with a pseudo-terminal as stdin, stdout and stderr."""
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "160"}
    proc = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError as exc:  # EIO: the child closed the terminal
                if exc.errno != errno.EIO:
                    raise
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


def _bar_states(text: str) -> list[tuple[str, int, int, int, int]]:
    """Every state the bar was drawn in: engine, frames, total, files, inputs."""
    states = []
    for part in text.split("\r"):
        m = LINE.search(part)
        if m:
            engine, pos, total, done, n = m.groups()
            states.append((engine, int(pos), int(total), int(done), int(n)))
    return states


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_bar_counts_frames_and_files_in_a_terminal(
    inputs: Path, tmp_path: Path, workers: str
) -> None:
    out = tmp_path / "out"
    code, text = _in_terminal(
        [sys.executable, "-m", "playnano", "batch", str(inputs), *ARGS,
         "-o", str(out), "-w", workers]
    )  # fmt: skip
    assert code == 3, text  # one input failed
    states = _bar_states(text)
    assert states, text
    total = sum(FRAMES) + 1  # the broken file's header cannot say: one unit
    engine = "serial" if workers == "1" else "local:2"
    assert {s[0] for s in states} == {engine}
    assert {s[2] for s in states} == {total} and {s[4] for s in states} == {4}
    positions = [s[1] for s in states]
    assert positions == sorted(positions)  # never goes back
    assert states[-1][1:4] == (total, total, 4)
    assert "4/4 files, 1 failed" in text
    # within a file the bar moves as its stages finish (from the workers on
    # Dask): it shows frame counts that are no sum of whole inputs
    assert set(positions) - _WHOLE, positions
    # the table follows the bar, and the outputs are complete
    assert "3 ok, 0 skipped, 0 partial, 1 failed" in text
    assert sorted(p.name for p in out.glob("*.h5")) == [
        "v0_filtered.h5",
        "v1_filtered.h5",
        "v2_filtered.h5",
    ]


@pytest.mark.slow
def test_bar_follows_the_workers_of_an_existing_scheduler(
    inputs: Path, tmp_path: Path, dask_cluster: str
) -> None:
    code, text = _in_terminal(
        [sys.executable, "-m", "playnano", "batch", str(inputs), *ARGS,
         "-o", str(tmp_path / "out"), "--scheduler", dask_cluster]
    )  # fmt: skip
    assert code == 3, text
    states = _bar_states(text)
    assert {s[0] for s in states} == {dask_cluster}
    total = sum(FRAMES) + 1
    assert states[-1][1:] == (total, total, 4, 4) and "4/4 files, 1 failed" in text
    # the stage events of the remote workers reached the bar before whole files did
    assert {s[1] for s in states} - _WHOLE, states


def test_no_bar_in_a_pipe_or_when_quiet_or_verbose(
    inputs: Path, tmp_path: Path
) -> None:
    argv = [sys.executable, "-m", "playnano", "batch", str(inputs), *ARGS, "-w", "1"]
    piped = subprocess.run(
        [*argv, "-o", str(tmp_path / "piped")], capture_output=True, text=True
    )
    assert piped.returncode == 3, piped.stderr
    assert "frames (" not in piped.stderr and "\r" not in piped.stderr
    assert "1 failed" in piped.stderr  # the table is still there
    code, text = _in_terminal([*argv, "-o", str(tmp_path / "quiet"), "-q"])
    assert code == 3, text
    assert "frames (" not in text and not _bar_states(text)
    # -v: the log lines say what is written, and no bar is drawn among them
    code, text = _in_terminal([*argv, "-o", str(tmp_path / "verbose"), "-v"])
    assert code == 3, text
    assert "frames (" not in text and not _bar_states(text)
    assert f"playnano: wrote {tmp_path / 'verbose' / 'v1_filtered.h5'}" in text


#: One input long enough (a few seconds) for the bar to move within its stages.
LONG = 300
LONG_ARGS = ["-p", "remove_plane", "-e", "h5", "tif"]  # four stages: read, step, 2


@pytest.fixture(scope="module")
def long_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 300-frame 256x256 HDF5 bundle, alone in its folder."""
    src = tmp_path_factory.mktemp("long") / "in"
    src.mkdir()
    save_h5_bundle(src / "long.h5", synthetic_hsafm(n_frames=LONG, size_px=256))
    return src


def _stage_positions(units: dict[int, int], n_stages: int) -> set[int]:
    """Bar positions reachable by crediting whole stages of each input only."""
    per_input = [
        {u * i // n_stages for i in range(n_stages + 1)} for u in units.values()
    ]
    return {sum(c) for c in itertools.product(*per_input)}


def _arrays(folder: Path) -> dict[str, object]:
    """Every array in the HDF5 and OME-TIFF outputs under ``folder``."""
    import h5py
    import tifffile

    found: dict[str, object] = {}
    for p in sorted(folder.glob("*.h5")):
        with h5py.File(p, "r") as f:
            f.visititems(
                lambda name, obj, p=p: (
                    found.__setitem__(f"{p.name}/{name}", obj[()])
                    if isinstance(obj, h5py.Dataset) and obj.ndim == 3
                    else None
                )
            )
    for p in sorted(folder.glob("*.tif")):
        found[p.name] = tifffile.imread(p)
    return found


@pytest.mark.slow
def test_bar_moves_with_the_frames_of_one_long_input(
    long_input: Path, tmp_path: Path
) -> None:
    import numpy as np

    out = tmp_path / "out"
    code, text = _in_terminal(
        [sys.executable, "-m", "playnano", "batch", str(long_input), *LONG_ARGS,
         "-o", str(out), "-w", "1"]
    )  # fmt: skip
    assert code == 0, text
    states = _bar_states(text)
    positions = [s[1] for s in states]
    assert {s[2] for s in states} == {LONG}, states
    assert positions == sorted(positions), positions  # never goes back
    assert states[-1][1:] == (LONG, LONG, 1, 1)
    # within its stages (read, step, each format) the bar moves as frames are
    # done: it shows counts between the stage boundaries 0, 75, 150, 225, 300
    between = set(positions) - _stage_positions({0: LONG}, 4)
    assert len(between) >= 2, positions
    # the bar changes nothing in the files: the same arrays, bit for bit, with -q
    quiet = tmp_path / "quiet"
    subprocess.run(
        [sys.executable, "-m", "playnano", "batch", str(long_input), *LONG_ARGS,
         "-o", str(quiet), "-w", "1", "-q"], check=True, capture_output=True
    )  # fmt: skip
    shown, hidden = _arrays(out), _arrays(quiet)
    assert sorted(shown) == sorted(hidden) and len(shown) >= 3, sorted(shown)
    for key, arr in shown.items():
        other = hidden[key]
        assert arr.dtype == other.dtype and arr.shape == other.shape, key  # type: ignore[attr-defined]
        assert np.array_equal(
            np.asarray(arr).view(np.uint8), np.asarray(other).view(np.uint8)
        ), key


@pytest.mark.slow
@pytest.mark.skipif(not dask_available(), reason="dask is not installed")
def test_bar_moves_with_the_frames_done_on_dask_workers(
    long_input: Path, tmp_path: Path
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "long.h5").symlink_to(long_input / "long.h5")
    save_h5_bundle(src / "short.h5", synthetic_hsafm(n_frames=4, size_px=32))
    code, text = _in_terminal(
        [sys.executable, "-m", "playnano", "batch", str(src), *LONG_ARGS,
         "-o", str(tmp_path / "out"), "-w", "2"]
    )  # fmt: skip
    assert code == 0, text
    states = _bar_states(text)
    assert {s[0] for s in states} == {"local:2"}, states
    positions = [s[1] for s in states]
    assert positions == sorted(positions), positions
    assert states[-1][1:] == (LONG + 4, LONG + 4, 2, 2)
    # the workers' frame ticks reached the bar between whole stages
    between = set(positions) - _stage_positions({0: LONG, 1: 4}, 4)
    assert len(between) >= 2, positions


def test_frame_count_reads_headers_only(afm_data: Path, tmp_path: Path) -> None:
    asd = afm_data / "asd" / "asd_sample_0.asd"
    assert frame_count(asd) == load(asd).n_frames
    cut = tmp_path / "cut.asd"
    cut.write_bytes(asd.read_bytes()[:100_000])
    assert frame_count(cut) is None  # fails later, in its own task
    assert frame_count(tmp_path / "missing.npz") is None


def test_run_one_reports_its_stages_in_order(tmp_path: Path) -> None:
    src = tmp_path / "v.npz"
    save_npz_bundle(src, synthetic_hsafm(n_frames=4, size_px=32))
    seen: list[tuple[int, int]] = []
    settings = RunSettings(formats=("h5", "npz"), steps=(("remove_plane", {}),))
    rec = run_one(
        str(src),
        str(tmp_path / "out"),
        settings,
        None,
        lambda d, t: seen.append((d, t)),
    )
    assert rec["status"] == "ok", rec
    # the read, one step, two formats: four stages, reported as each finishes
    # (between them, fractions of the input, when its frame loops take long)
    assert seen[-1] == (4, 4)
    assert (1, 4) in seen and (2, 4) in seen and (3, 4) in seen
    assert [d / t for d, t in seen] == sorted(d / t for d, t in seen)


def test_warnings_wait_for_the_bar_line_to_end(afm_data: Path, tmp_path: Path) -> None:
    frames = tmp_path / "in" / "scans"
    frames.mkdir(parents=True)
    # two frames of one Nanoscope series, the second damaged (its image cut short)
    data = (afm_data / "spm" / "old_bruker.002").read_bytes()
    (frames / "scan.001").write_bytes(data)
    (frames / "scan.002").write_bytes(data[:50_000])
    code, text = _in_terminal(
        [sys.executable, "-m", "playnano", "batch", str(tmp_path / "in"), "-r",
         "--skip-damaged-frames", *ARGS, "-o", str(tmp_path / "out"), "-w", "1"]
    )  # fmt: skip
    assert code == 0, text
    assert _bar_states(text)[-1][1:] == (1, 1, 1, 1)  # a folder: its header cannot say
    lines = text.replace("\r\n", "\n").split("\n")
    warning = [ln for ln in lines if f"warning: {frames}" in ln]
    assert warning and all(ln.startswith("playnano: warning:") for ln in warning)
    assert "scan.002" in warning[0]
