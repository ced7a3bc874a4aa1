"""Frames done, as frame loops finish them: the batch progress bar's finer steps.

Frame loops (the read, a step's per-frame map, each exporter's frame loop) call
:func:`frames_done` with the frames they just finished and what kind of work it
was (:data:`READ`, :data:`STEP`, :data:`WRITE`). With no sink installed that is
one global check: it costs nothing worth measuring in a hot loop.

A task installs a sink for its duration with :func:`ticking`. The sink is
process-wide, not a context variable, so the threads an export runs in (a GIF
beside a bundle, compression pools) reach it too. One task runs at a time per
process (serially, and on the single-threaded workers of ``playnano batch``'s
``LocalCluster``); when tasks overlap in one process (a worker with several
threads, ``--scheduler``), every overlapping task falls back to whole stages:
the sink is taken away until they have all finished, so no task is credited
with another's frames.

:class:`StageTicker` turns the ticks of one input into fractional stage progress
for a ``stages(done, total)`` callback (:data:`playnano.run.Stages`), throttled.
Nothing here changes what is read, computed or written.

"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from playnano.io.guard import check_cancelled

__all__ = ["READ", "STEP", "WRITE", "StageTicker", "frames_done", "ticking"]

READ, STEP, WRITE = "read", "step", "write"

Sink = Callable[[int, str], None]

_sink: Sink | None = None
_active = 0
_lock = threading.Lock()


def frames_done(n: int, kind: str = WRITE) -> None:
    """``n`` frames of work ``kind`` are done (in the calling thread).

    Also where a cancelled export stops (:func:`playnano.io.guard.check_cancelled`):
    every frame loop of the builtin writers calls this, so a format written
    beside others stops at its next frame when the run is interrupted.
    """
    sink = _sink
    if sink is not None:
        sink(n, kind)
    check_cancelled()


@contextmanager
def ticking(sink: Sink) -> Iterator[bool]:
    """Send every :func:`frames_done` in this process to ``sink`` during the block.

    Yields False (and installs nothing) when another task's sink is installed;
    that one is then taken away too, until both blocks have ended. The sink is
    removed however the block ends (errors, Ctrl-C).
    """
    global _sink, _active
    with _lock:
        _active += 1
        alone = _active == 1
        _sink = sink if alone else None
    try:
        yield alone
    finally:
        with _lock:
            _active -= 1
            _sink = None


class StageTicker:
    """One input's progress: its stages, and the frames done within the current one.

    Parameters
    ----------
    report : callable
        ``report(done, total)``: the fraction ``done / total`` of the input is
        finished. Stage events are passed on as they come (``(i, n_stages)``),
        ticks as ``(units, n_stages * frames)``; called with a lock held.
    n_stages : int
        The read, each step and each format.
    n_steps : int
        Steps (stages ``1 .. n_steps``; the formats follow).
    frames : int, optional
        Frames of the input (None: ticks are ignored until :attr:`frames` is set).
    interval : float
        Seconds between two reports of ticks; also at least 1 % of the input
        must have been gained.

    Notes
    -----
    In stage 0 (the read) :data:`READ` ticks count, in a step's stage
    :data:`STEP` ticks, while formats are written :data:`WRITE` ticks, each
    thread's toward the format it is writing (formats run side by side), until
    that thread reports its format finished. A stage is credited at most
    ``frames`` (a bundle writing several layers reaches its share with its first
    layer), ticks never credit the input in full, and reports never go back (a
    stage event that ticks of formats written side by side have passed is not
    sent; the last one always is).
    """

    def __init__(
        self,
        report: Callable[[int, int], None],
        n_stages: int,
        n_steps: int,
        frames: int | None = None,
        interval: float = 0.2,
    ) -> None:
        self.report = report
        self.n_stages = n_stages
        self.n_steps = n_steps
        self.frames = frames
        self.interval = interval
        self._lock = threading.Lock()
        self._done = 0  # stages finished
        self._count = 0  # frames ticked in the current read or step stage
        self._writing: dict[int, int] = {}  # thread -> frames of its current format
        self._sent = 0.0  # fraction last reported
        self._last = time.monotonic()

    def stage(self, done: int, total: int) -> None:
        """``done`` of ``total`` stages are finished (a :data:`playnano.run.Stages`)."""
        with self._lock:
            if done > self._done:
                self._done = done
                self._count = 0
            # a format finished in this thread: its frames are in ``done`` now
            self._writing.pop(threading.get_ident(), None)
            if total <= 0 or (done < total and done / total < self._sent):
                return  # side-by-side formats' ticks have reported more already
            self._sent = done / total
            self.report(done, total)

    __call__ = stage

    def tick(self, n: int, kind: str) -> None:
        """``n`` frames of ``kind`` are done (the sink :func:`ticking` installs)."""
        frames = self.frames
        if not frames or n <= 0:
            return
        with self._lock:
            done = self._done
            if done >= self.n_stages:
                return
            if done <= self.n_steps:
                if kind != (READ if done == 0 else STEP):
                    return
                self._count += n
                partial = min(self._count, frames)
            else:
                if kind != WRITE:
                    return
                me = threading.get_ident()
                self._writing[me] = self._writing.get(me, 0) + n
                partial = sum(min(c, frames) for c in self._writing.values())
            total = self.n_stages * frames
            units = min(done * frames + partial, total - 1)
            now = time.monotonic()
            if units / total - self._sent < 0.01 or now - self._last < self.interval:
                return
            self._sent, self._last = units / total, now
            self.report(units, total)
