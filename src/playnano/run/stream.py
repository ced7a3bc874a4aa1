"""The streaming block path: each block read and processed once, for every format.

A lazy stack's layers (the input's frames, each step's result, each mask) are
:class:`~playnano.lazy.LazyFrames` computed a block at a time. A :class:`BlockStream`
makes their blocks in two stages, each in its own thread: the *read* stage reads
block ``b + 1`` of the input while the *steps* stage computes every layer of block
``b`` from it (the layers in the order they depend on each other, each from the
blocks just made). The blocks wait in a shared window that every format's writer
pulls from through the stack's LazyFrames (the exporter contract does not change:
``export(stack, path)`` walks ``stack.data`` and the layers as before). A block
leaves the window once every writer has asked for a later one, and the stages stop
while the window holds :attr:`BlockStream.depth` blocks the slowest writer has not
reached, so memory holds a few blocks whatever the stack's length.

A writer that walks a layer a second time (a format that stores layers one after
another and cannot interleave them) finds the early blocks gone and computes them
again from the input, as the block path without a stream does; the builtin formats
interleave their layers frame by frame, so none of them does.

Each stage's busy time is counted (:class:`StageTimes`): the bottleneck is the
stage busy for the whole run, the others wait for it.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from playnano.afm_stack import AFMImageStack
    from playnano.lazy import LazyFrames

__all__ = ["DEPTH", "BlockStream", "StageTimes", "layers_needed"]

#: Blocks the window may hold ahead of the slowest writer (the one it is on and
#: the next); the read stage reads one more ahead of the steps.
DEPTH = 2


@dataclass
class _Consumer:
    """One format's writer: the last block it asked for, and time spent waiting."""

    name: str
    cursor: int = 0
    active: bool = True
    waited_s: float = 0.0
    started: float = field(default_factory=time.perf_counter)
    ended: float | None = None


_CONSUMER: contextvars.ContextVar[_Consumer | None] = contextvars.ContextVar(
    "playnano_stream_consumer", default=None
)


@dataclass
class StageTimes:
    """Seconds each stage of a streamed run was busy, and the run's wall time."""

    wall_s: float
    busy_s: dict[str, float]

    def fractions(self) -> dict[str, float]:
        """Each stage's busy time as a fraction of the wall time."""
        wall = max(self.wall_s, 1e-9)
        return {k: min(1.0, v / wall) for k, v in self.busy_s.items()}

    def line(self) -> str:
        """``read 35%, steps 60%, h5 98%, tif 20%``: who is the bottleneck."""
        return ", ".join(f"{k} {v:.0%}" for k, v in self.fractions().items())


def _deps(frames: LazyFrames) -> list[LazyFrames]:
    """The LazyFrames a layer is computed from (none for frames read from a file)."""
    from playnano.lazy import is_lazy
    from playnano.processing.lazy_steps import MappedSource

    src = frames.source
    if not isinstance(src, MappedSource):
        return []
    return [a for a in (src.parent, src.mask, src.combine) if is_lazy(a)]


def layers_needed(stack: AFMImageStack, raw: bool) -> list[LazyFrames]:
    """The stack's LazyFrames an export needs, each after those it is computed from.

    A raw export needs only the unprocessed frames; otherwise every layer and mask.
    """
    from playnano.lazy import is_lazy

    wanted = [stack.export_source(raw=True)[0]] if raw else [*stack.lazy_frames()]
    order: list[LazyFrames] = []
    seen: set[int] = set()

    def visit(frames: LazyFrames) -> None:
        if id(frames) in seen:
            return
        seen.add(id(frames))
        for dep in _deps(frames):
            visit(dep)
        order.append(frames)

    for frames in wanted:
        if is_lazy(frames):
            visit(frames)
    return order


class BlockStream:
    """Blocks of a lazy stack's layers, made once in two stages, pulled by writers.

    Parameters
    ----------
    layers : list of LazyFrames
        From :func:`layers_needed`: every layer after those it depends on; they
        share one block size.
    depth : int
        Blocks the window holds ahead of the slowest writer.
    """

    def __init__(self, layers: list[LazyFrames], depth: int = DEPTH) -> None:
        if not layers:
            raise ValueError("a stream needs at least one lazy layer")
        self.layers = layers
        self.roots = [f for f in layers if not _deps(f)]
        self.derived = [f for f in layers if _deps(f)]
        # computed layers have their input's block (whole batches of a levelling
        # step); layers read from a file (a bundle's masks) take it too
        self.block = next((f.block for f in layers if _deps(f)), layers[0].block)
        for f in layers:
            if f.block != self.block:
                f.set_block(self.block)
        self.n_blocks = -(-layers[0].shape[0] // self.block)
        self.depth = max(1, depth)
        self._ids = {id(f) for f in layers}
        self._window: dict[int, dict[int, np.ndarray]] = {}
        self._cond = threading.Condition()
        self._read = 0  # blocks whose input frames are read
        self._made = 0  # blocks whose every layer is made
        self._low = 0  # lowest block kept
        self._consumers: list[_Consumer] = []
        self._stopped = False
        self._halt = threading.Event()
        self.error: BaseException | None = None
        self._threads: list[threading.Thread] = []
        self._busy = {"read": 0.0, "steps": 0.0}
        self._t0 = time.perf_counter()

    # ---------------------------------------------------------------- the window
    def get(self, frames: LazyFrames, index: int) -> np.ndarray | None:
        """Block ``index`` of ``frames`` from the window (waiting for it to be made).

        None when the block has left the window (the caller computes it), when
        ``frames`` is not one of the stream's layers, or when the caller is not one
        of the writers (it never waits for the stream, which may wait for it).
        A writer whose stream failed is stopped (``KeyboardInterrupt``: the
        executor raises the stream's error).
        """
        from playnano.io.guard import check_cancelled

        if id(frames) not in self._ids:
            return None
        me = _CONSUMER.get()
        arr = None
        waited = 0.0
        with self._cond:
            if me is not None and me.active and index > me.cursor:
                me.cursor = index
                self._advance()
            while index >= self._low:
                if me is not None and (self.error is not None or self._stopped):
                    raise KeyboardInterrupt  # the run is stopping: so does the writer
                arr = self._window.get(index, {}).get(id(frames))
                if arr is not None or me is None or not me.active:
                    break
                check_cancelled()
                t0 = time.perf_counter()
                self._cond.wait(0.1)
                waited += time.perf_counter() - t0
            if me is not None:
                me.waited_s += waited
        return arr

    def _advance(self) -> None:
        """Drop the blocks every active writer has left behind (lock held)."""
        active = [c.cursor for c in self._consumers if c.active]
        low = min(active) if active else self._low
        if low > self._low:
            for index in range(self._low, low):
                self._window.pop(index, None)
            self._low = low
            self._cond.notify_all()

    @contextmanager
    def consumer(self, name: str) -> Iterator[None]:
        """Run the block as one writer of the stream (a format's export)."""
        me = _Consumer(name)
        with self._cond:
            me.cursor = self._low
            self._consumers.append(me)
        token = _CONSUMER.set(me)
        try:
            yield
        finally:
            _CONSUMER.reset(token)
            with self._cond:
                me.active = False
                me.ended = time.perf_counter()
                self._advance()
                self._cond.notify_all()

    # ---------------------------------------------------------------- the stages
    def _wait_room(self, index: int, ahead: int) -> bool:
        """Wait until block ``index`` may be made; False when the stream stops."""
        with self._cond:
            while not self._stopped and index >= self._low + self.depth + ahead:
                self._cond.wait(0.1)
            return not self._stopped

    def _put(self, index: int, frames: LazyFrames, arr: np.ndarray) -> None:
        with self._cond:
            if index >= self._low:
                self._window.setdefault(index, {})[id(frames)] = arr
            self._cond.notify_all()

    def _reader(self) -> None:
        for index in range(self.n_blocks):
            if not self._wait_room(index, 1):
                return
            if index < self._low:  # every writer is past it
                continue
            t0 = time.perf_counter()
            for frames in self.roots:
                self._put(index, frames, frames.compute(index))
            self._busy["read"] += time.perf_counter() - t0
            with self._cond:
                self._read = index + 1
                self._cond.notify_all()

    def _steps(self) -> None:
        for index in range(self.n_blocks):
            with self._cond:
                while not self._stopped and self._read <= index:
                    self._cond.wait(0.1)
                if self._stopped:
                    return
                if index < self._low:
                    continue
            t0 = time.perf_counter()
            for frames in self.derived:
                self._put(index, frames, frames.compute(index))
            self._busy["steps"] += time.perf_counter() - t0
            with self._cond:
                self._made = index + 1
                self._cond.notify_all()

    def _run(self, stage: Any, context: contextvars.Context) -> None:
        from playnano.io.guard import cancellable

        try:
            # a stopped stream stops a read or step between frames
            context.run(cancellable, self._halt, stage)
        except BaseException as exc:  # a read or step failed: every writer stops
            with self._cond:
                if self.error is None and not self._halt.is_set():
                    self.error = exc
                self._stopped = True
                self._cond.notify_all()

    def start(self) -> None:
        """Share the layers' blocks and start the read and steps stages."""
        for frames in self.layers:
            frames.share(self)
        self._t0 = time.perf_counter()
        for name, stage in (("read", self._reader), ("steps", self._steps)):
            # each stage keeps the caller's settings (threads, deflate engine)
            t = threading.Thread(
                target=self._run,
                args=(stage, contextvars.copy_context()),
                name=f"playnano-{name}",
                daemon=True,
            )
            self._threads.append(t)
            t.start()

    def halt(self) -> None:
        """Tell the stages and the writers to stop (without waiting for them)."""
        self._halt.set()
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def stop(self) -> None:
        """Stop the stages, drop the window and stop sharing (idempotent)."""
        self.halt()
        for t in self._threads:
            t.join()
        self._threads.clear()
        with self._cond:
            self._window.clear()
        for frames in self.layers:
            frames.share(None)

    def times(self) -> StageTimes:
        """The stages' busy seconds: read, steps, then each writer (its time not
        spent waiting for blocks)."""
        now = time.perf_counter()
        busy = dict(self._busy)
        for c in self._consumers:
            end = c.ended if c.ended is not None else now
            busy[c.name] = max(0.0, end - c.started - c.waited_s)
        return StageTimes(now - self._t0, busy)
