"""Frame ticks to fractional stage progress: threads, limits, and no sink."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from playnano import progress_ticks
from playnano.io.export_data import save_npz_bundle
from playnano.progress_ticks import (
    READ,
    STEP,
    WRITE,
    StageTicker,
    frames_done,
    ticking,
)
from playnano.readers import load
from playnano.synthetic import synthetic_hsafm
from tests.conftest import export_all

FRAMES = 50


def _ticker(seen: list[tuple[int, int]], n_steps: int = 1, n_formats: int = 3):
    """A ticker that reports every gain of 1 % or more at once."""
    return StageTicker(
        lambda d, t: seen.append((d, t)),
        1 + n_steps + n_formats,
        n_steps,
        FRAMES,
        interval=0.0,
    )


def test_side_by_side_formats_never_overshoot_or_go_back() -> None:
    seen: list[tuple[int, int]] = []
    ticker = _ticker(seen)
    finished = [0]
    finish_lock = threading.Lock()
    start = threading.Barrier(3)

    def write(layers: int) -> None:
        start.wait()
        for _ in range(layers * FRAMES):  # a bundle writes several layers
            frames_done(1, WRITE)
            frames_done(1, READ)  # a lazy stack's reads: not this stage's work
        with finish_lock:  # as export_all reports a format, from its thread
            finished[0] += 1
            ticker.stage(2 + finished[0], 5)

    with ticking(ticker.tick) as installed:
        assert installed
        ticker.stage(1, 5)  # read
        for _ in range(FRAMES):
            frames_done(1, STEP)
        ticker.stage(2, 5)  # the step
        threads = [threading.Thread(target=write, args=(n,)) for n in (1, 2, 3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    fractions = [d / t for d, t in seen]
    assert fractions == sorted(fractions)  # never backwards
    assert seen[-1] == (5, 5)
    ticks = [(d, t) for d, t in seen if t == 5 * FRAMES]
    # the frames within the stages were reported, never the whole input
    assert ticks and all(d < t for d, t in ticks)
    assert any(d % FRAMES for d, _ in ticks)  # between stage boundaries
    assert sum(1 for d, t in seen if d == t) == 1  # only the last stage is "all"
    # while the three formats wrote, three stages were the most they could fill
    during = [d for d, t in ticks if d > 2 * FRAMES]
    assert during and max(during) < 5 * FRAMES


def test_ticks_count_only_in_their_own_stage() -> None:
    seen: list[tuple[int, int]] = []
    ticker = _ticker(seen, n_steps=1, n_formats=1)
    with ticking(ticker.tick):
        frames_done(FRAMES, WRITE)  # the read's stage: writes do not count
        frames_done(FRAMES, STEP)
        assert seen == []
        frames_done(FRAMES // 2, READ)
        assert seen == [(FRAMES // 2, 3 * FRAMES)]
        frames_done(10 * FRAMES, READ)  # at most the input's frames per stage
        assert seen[-1] == (FRAMES, 3 * FRAMES)
        ticker.stage(3, 3)
        frames_done(FRAMES, WRITE)  # finished: ticks change nothing
    assert seen[-1] == (3, 3)


def test_without_a_sink_nothing_is_called() -> None:
    seen: list[tuple[int, int]] = []
    ticker = _ticker(seen)
    frames_done(FRAMES, READ)  # before
    with pytest.raises(KeyboardInterrupt), ticking(ticker.tick):
        raise KeyboardInterrupt
    frames_done(FRAMES, READ)  # after Ctrl-C: removed
    assert seen == [] and progress_ticks._sink is None
    with ticking(ticker.tick):
        pass
    frames_done(FRAMES, READ)
    assert seen == []


def test_overlapping_tasks_fall_back_to_whole_stages() -> None:
    first: list[tuple[int, int]] = []
    second: list[tuple[int, int]] = []
    a, b = _ticker(first), _ticker(second)
    with ticking(a.tick) as alone:
        assert alone
        with ticking(b.tick) as alone_too:
            assert not alone_too
            frames_done(FRAMES, READ)
        frames_done(FRAMES, READ)  # until every overlapping task has ended
    assert first == [] and second == []
    with ticking(a.tick):
        frames_done(FRAMES, READ)
    assert first == [(FRAMES, 5 * FRAMES)]


def test_real_exports_tick_each_frame_of_each_format(tmp_path: Path) -> None:
    src = tmp_path / "v.npz"
    save_npz_bundle(src, synthetic_hsafm(n_frames=6, size_px=32))
    stack = load(src)
    ticks: list[tuple[int, str, int]] = []
    lock = threading.Lock()

    def sink(n: int, kind: str) -> None:
        with lock:
            ticks.append((n, kind, threading.get_ident()))

    formats = ("h5", "npz", "tif", "gif")
    with ticking(sink):
        results = export_all(stack, tmp_path / "out", "v", formats, threads=2)
    assert all(r.error is None for r in results), results
    writes = [t for t in ticks if t[1] == WRITE]
    # every format walks the frames (the GIF in a thread beside the bundles)
    assert sum(n for n, _, _ in writes) >= 6 * len(formats)
    assert len({who for _, _, who in writes}) == 2


def test_an_asd_read_ticks_its_frames_and_reads_the_same_values(
    afm_data: Path,
) -> None:
    """The most common instrument file moves the read stage as frames convert."""
    import numpy as np

    from playnano.readers.asd import AsdReader

    path = afm_data / "asd" / "asd_sample_0.asd"
    ticks: list[tuple[int, str]] = []
    with ticking(lambda n, kind: ticks.append((n, kind))):
        stack = load(path)
    assert {kind for _, kind in ticks} == {READ}
    assert sum(n for n, _ in ticks) == stack.n_frames
    assert len(ticks) > 1  # more than one piece, so the bar can move meanwhile
    # read frame by frame through the lazy path: the same values, bit for bit
    lazy = AsdReader().read_lazy(path)
    try:
        each = np.stack([lazy.data[i] for i in range(stack.n_frames)])
    finally:
        lazy.close()
    assert each.dtype == stack.data.dtype
    assert np.array_equal(each.view(np.uint8), stack.data.view(np.uint8))
