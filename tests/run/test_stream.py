"""The streaming block path: each block read and computed once, for every format at
once, in a bounded window; a failing read or step stops every format and leaves
nothing; a writer that walks the layers one after another still gets them right."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from playnano.afm_stack import AFMImageStack
from playnano.errors import ProcessingError
from playnano.lazy import LazyFrames
from playnano.plugins.step import FilterSpec
from playnano.processing import ResolvedStep, lazy_steps, run_pipeline
from playnano.processing.apply import map_frames
from playnano.run import stream as stream_mod
from playnano.run.stream import BlockStream, layers_needed
from tests.conftest import export_all
from tests.lazy.conftest import RampFrames

#: every builtin format, all pulling one stream
FORMATS = ["h5", "npz", "tif", "gif", "png", "gwy", "topostats"]
N, H, W, BLOCK = 40, 16, 20, 6


def lazy_stack(src: RampFrames, block: int = BLOCK) -> AFMImageStack:
    meta = [{"timestamp": 0.1 * i} for i in range(src.shape[0])]
    return AFMImageStack(LazyFrames(src, block), 2.0, "height_trace", None, meta)


@pytest.fixture
def computed(monkeypatch) -> list[tuple[str, int]]:
    """Every (step label, frames) a lazy step computes."""
    seen: list[tuple[str, int]] = []

    def counting(step, data, mask, label, offset=0):
        seen.append((label, len(data)))
        return map_frames(step, data, mask, label, offset)

    monkeypatch.setattr(lazy_steps, "map_frames", counting)
    return seen


def test_each_block_is_read_and_computed_once_for_every_format(
    tmp_path: Path, computed: list[tuple[str, int]]
) -> None:
    src = RampFrames(N, H, W)
    stack = lazy_stack(src)
    steps = "remove_plane;mask_threshold:threshold=1;gaussian_filter:sigma=1"
    with stack:
        run_pipeline(stack, steps)
        results = export_all(stack, tmp_path, "x", FORMATS)
    assert [r.error for r in results] == [None] * len(FORMATS)
    blocks = [(s, min(N, s + BLOCK)) for s in range(0, N, BLOCK)]
    # the blocks, once each and in order; besides them only the GIF's and the
    # PNGs' colour-range samples (single frames), not in a block already made
    read_blocks = [r for r in src.reads if r[1] - r[0] > 1]
    assert read_blocks == blocks
    assert all(r[1] - r[0] == 1 for r in src.reads if r not in blocks)
    # each step computed every block once, besides the samples' single frames
    sizes = [stop - start for start, stop in blocks]
    labels = sorted({lab for lab, _ in computed})
    assert len(labels) == 3
    for label in labels:
        made = [n for lab, n in computed if lab == label and n > 1]
        assert made == sizes, label
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [
            "x_filtered.h5",
            "x_filtered.npz",
            "x_filtered.ome.tif",
            "x_filtered.gif",
            "x_filtered_frames",
            "x_filtered.gwy",
            "x_filtered_topostats",
        ]
    )


def test_the_window_holds_a_few_blocks_whatever_the_length(
    tmp_path: Path, monkeypatch
) -> None:
    held: list[int] = []
    put = BlockStream._put

    def watching(self, index, frames, arr):
        put(self, index, frames, arr)
        held.append(len(self._window))

    monkeypatch.setattr(BlockStream, "_put", watching)
    stack = lazy_stack(RampFrames(120, H, W), block=4)  # 30 blocks
    with stack:
        run_pipeline(stack, "remove_plane;mask_threshold:threshold=1")
        export_all(stack, tmp_path, "x", ["h5", "npz", "tif"])
    assert len(held) == 30 * 3  # each block of each layer made once
    # the blocks the slowest writer is on and the next, and the one read ahead
    assert max(held) <= stream_mod.DEPTH + 1


def _fails_late(frame: np.ndarray) -> np.ndarray:
    if np.nanmean(frame) > 0.62:  # RampFrames rise 0.01 per frame: from ~26 on
        raise ValueError("the tip crashed")
    return frame.copy()


def test_a_step_failing_mid_stream_stops_every_format_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    spec = FilterSpec(
        name="fragile", description="Fails late.", kind="filter", func=_fails_late
    )
    step = ResolvedStep("fragile", spec, {}, "some-plugin", "step 1")
    out = tmp_path / "out"
    stack = lazy_stack(RampFrames(N, H, W))
    with stack:
        run_pipeline(stack, [step])  # block 0 is fine: the step runs lazily
        with pytest.raises(ProcessingError, match=r"fragile.*failed on frame 2\d"):
            export_all(stack, out, "x", ["h5", "npz", "tif", "gif"])
    assert not out.exists() or list(out.iterdir()) == []
    assert threading.active_count() < 10  # the stages and writers are gone


def test_a_writer_walking_layers_one_after_another_computes_them_again() -> None:
    """A plugin that writes a whole layer, then the next, gets every frame right."""
    src = RampFrames(N, H, W)
    stack = lazy_stack(src)
    mem = AFMImageStack(src.read(0, N), 2.0, "height_trace", None)
    run_pipeline(mem, "remove_plane;gaussian_filter:sigma=1")
    with stack:
        run_pipeline(stack, "remove_plane;gaussian_filter:sigma=1")
        stream = BlockStream(layers_needed(stack, raw=False))
        stream.start()
        try:
            with stream.consumer("layers-in-turn"):
                got = {k: np.asarray(v) for k, v in stack.processed.items()}
        finally:
            stream.stop()
    assert list(got) == list(mem.processed)
    for key, arr in mem.processed.items():
        assert got[key].tobytes() == arr.tobytes(), key


def test_stage_times_name_every_stage(tmp_path: Path) -> None:
    stack = lazy_stack(RampFrames(N, H, W))
    with stack:
        run_pipeline(stack, "remove_plane")
        stream = BlockStream(layers_needed(stack, raw=False))
        stream.start()
        with stream.consumer("h5"):
            for _ in stack.data:
                pass
        stream.stop()
    times = stream.times()
    assert list(times.busy_s) == ["read", "steps", "h5"]
    assert all(0 <= f <= 1 for f in times.fractions().values())
    assert times.line().startswith("read ")


LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv.pop(1)), resource.RLIM_INFINITY))
from playnano.cli.app import main
sys.argv[0] = "playnano"
main()
"""


def test_a_file_size_limit_fails_each_format_over_it_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    """Streamed, the formats are written at once; a file size limit (``EFBIG``) is
    per file, so each format over it fails by itself, in one line, and the others
    go on; nothing of a failed format is kept."""
    import subprocess
    import sys

    from tests.lazy.conftest import write_bundle

    bundle = write_bundle(tmp_path / "in.h5", 200, 64, 64, level=0)  # 6.5 MB
    out = tmp_path / "out"
    script = tmp_path / "limited.py"
    script.write_text(LIMITED)
    done = subprocess.run(
        [sys.executable, str(script), str(2_000_000), "process", str(bundle),
         "-p", "remove_plane", "-e", "h5", "npz", "tif", "-o", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    for fmt, suffix in (("h5", ".h5"), ("npz", ".npz"), ("tif", ".ome.tif")):
        (line,) = [ln for ln in lines if ln.startswith(f"playnano: error: {fmt}: ")]
        # numpy's tofile (the TIFF's pages) reports a short write without errno
        assert line in (
            f"playnano: error: {fmt}: {out / ('in_filtered' + suffix)}: {why}; "
            "nothing was kept"
            for why in (
                "File too large while writing",
                "the write stopped short (a file size limit)",
            )
        ), lines
    assert lines[-1] == "playnano: 3 of 3 formats failed (0 written)"
    assert not out.exists() or list(out.iterdir()) == []


def test_a_format_filling_the_disk_stops_the_others_and_leaves_nothing(
    tmp_path: Path, tiny_tmpfs: Path
) -> None:
    """A full disk (``ENOSPC``, a real 2 MB tmpfs) is not per file: the first
    format to fill it stops the others, which say so, and nothing is kept."""
    import subprocess
    import sys

    from tests.lazy.conftest import write_bundle

    # 1.1 MB of frames: passes the up-front estimate (half of it per lossless
    # format), but the three outputs written at once do not fit on the 2 MB disk
    bundle = write_bundle(tmp_path / "in.h5", 70, 64, 64, level=0)
    out = tiny_tmpfs / "out"
    done = subprocess.run(
        [sys.executable, "-m", "playnano", "process", str(bundle),
         "-p", "remove_plane", "-e", "h5", "npz", "tif", "-o", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    full = [  # numpy's tofile (the TIFF's pages) reports a short write, no errno
        ln
        for ln in lines
        if "No space left on device while writing" in ln
        or "the write stopped short (the disk is full)" in ln
    ]
    assert full, lines
    filled = {ln.split(":")[2].strip() for ln in full}  # "playnano: error: <fmt>: "
    others = [ln for ln in lines if "not written: the disk is full" in ln]
    assert len(full) + len(others) == 3, lines
    assert all(ln[ln.rindex("(see ") + 5 : -1] in filled for ln in others), lines
    assert not out.exists() or list(out.iterdir()) == []
    assert list(tiny_tmpfs.iterdir()) in ([], [out])
