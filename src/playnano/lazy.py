"""Stacks larger than memory: frames read (and computed) a block at a time.

A reader that can read a file's frames on demand gives a :class:`FrameSource`;
:class:`LazyFrames` wraps it as a read-only, array-like ``(T, H, W)`` stack that
exporters walk frame by frame, so memory holds a block of frames, never the stack.

Only numpy is needed: the core stays light (Dask is an optional extra used by
``playnano batch`` to spread files over workers; see ``docs/batch.rst``).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeGuard, runtime_checkable

import numpy as np

#: Bytes of frames a block holds by default (a few blocks are alive at once).
BLOCK_BYTES = 32 * 2**20


@runtime_checkable
class FrameSource(Protocol):
    """Frames a reader can give on demand.

    Attributes
    ----------
    shape : tuple of int
        ``(T, H, W)``.
    dtype : numpy.dtype
        The dtype :meth:`read` returns.
    """

    shape: tuple[int, int, int]
    dtype: np.dtype
    # optional: ``read_unit``, frames stored together (a chunk spanning several
    # frames); a sample of one frame then reads, and keeps, the whole run

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames ``start`` to ``stop`` (exclusive) as a new ``(stop-start, H, W)`` array.

        Called with ``0 <= start < stop <= T``, possibly from several threads one
        at a time (:class:`LazyFrames` holds a lock). Raises
        :class:`~playnano.errors.ReadError` naming the file if the frames cannot
        be read.
        """
        ...

    def close(self) -> None:
        """Release the file; later reads may fail."""
        ...


class SharedBlocks(Protocol):
    """Blocks made once for several readers (:mod:`playnano.run.stream`)."""

    def get(self, frames: LazyFrames, index: int) -> np.ndarray | None:
        """Block ``index`` of ``frames`` when held, else None (the caller reads it)."""
        ...


_PEEK: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "playnano_lazy_peek", default=False
)


@contextmanager
def peeking() -> Iterator[None]:
    """Reads of :class:`LazyFrames` in this block read just the frames asked for.

    For a sample of scattered frames (the GIF's automatic colour range): a frame
    costs a frame (or, for a levelling filter, its batch), not its whole block, and
    the blocks cached for the exports walking the frames stay.
    """
    token = _PEEK.set(True)
    try:
        yield
    finally:
        _PEEK.reset(token)


def read_unit(source: object) -> int:
    """Frames ``source`` stores together (its optional ``read_unit``; 1 without)."""
    return max(1, int(getattr(source, "read_unit", 1)))


def is_lazy(arr: object) -> TypeGuard[LazyFrames]:
    """True for a :class:`LazyFrames` (frames read on demand)."""
    return isinstance(arr, LazyFrames)


def iter_blocks(arr: Any, block: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(start, frames)`` blocks of ``arr``, a numpy array or :class:`LazyFrames`.

    A numpy array gives views; a LazyFrames its own blocks (``block`` ignored).
    """
    if isinstance(arr, LazyFrames):
        yield from arr.blocks()
        return
    for start in range(0, len(arr), max(1, block)):
        yield start, arr[start : start + block]


def block_frames(
    shape: tuple[int, ...], itemsize: int, nbytes: int = BLOCK_BYTES
) -> int:
    """Frames per block so that a block of ``itemsize`` values is about ``nbytes``."""
    per_frame = max(1, int(np.prod(shape[1:])) * itemsize)
    return max(1, nbytes // per_frame)


class LazyFrames:
    """A read-only ``(T, H, W)`` array-like whose frames are read on demand.

    Indexing with an int gives a frame, with a slice of step 1 a block, both as
    new numpy arrays; iterating yields frames, read a block at a time. The last
    block read is kept (and each thread's last block), so walking the frames in
    order reads each block once, also when two threads walk them.
    ``numpy.asarray`` reads the whole stack (use it only when it fits in memory).
    """

    def __init__(self, source: FrameSource, block: int | None = None) -> None:
        self.source = source
        self.shape: tuple[int, int, int] = tuple(source.shape)  # type: ignore[assignment]
        self.dtype = np.dtype(source.dtype)
        self.block = block or block_frames(self.shape, self.dtype.itemsize)
        self._lock = threading.Lock()
        # the last block read, and each thread's own last block: two exports
        # walking the layer in two threads (a GIF beside a bundle) each keep
        # theirs instead of evicting each other's on every frame
        self._cached: tuple[int, int, np.ndarray] | None = None
        self._peeked: tuple[int, int, np.ndarray] | None = None  # frame offset
        self._local = threading.local()
        self._generation = 0
        #: Blocks produced once for every reader of the stack (see :meth:`share`).
        self.shared: SharedBlocks | None = None

    # -- array-like attributes
    @property
    def ndim(self) -> int:
        """Number of axes of the source's shape (3 for frames; the stack checks)."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """Number of values."""
        return int(np.prod(self.shape))

    @property
    def nbytes(self) -> int:
        """Bytes the whole stack would take in memory."""
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"LazyFrames(shape={self.shape}, dtype={self.dtype}, block={self.block})"

    # -- reading
    def _block(self, index: int) -> np.ndarray:
        """Block ``index`` (frames ``index*block`` on), read once while it is last.

        Kept: the last block read, and the last block each thread asked for. While
        the frames are shared (:meth:`share`), a block still in the shared window comes
        from there.
        """
        self._peeked = None  # the samples are taken: walking the frames now
        shared = self.shared
        if shared is not None:
            arr = shared.get(self, index)
            if arr is not None:
                return arr
        key = (self._generation, index)
        mine = getattr(self._local, "cached", None)
        if mine is not None and mine[:2] == key:
            return mine[2]
        with self._lock:
            last = self._cached
            if last is not None and last[:2] == (self._generation, index):
                arr = last[2]
            else:
                start = index * self.block
                stop = min(self.shape[0], start + self.block)
                arr = self.source.read(start, stop)
                arr.flags.writeable = False
                self._cached = (self._generation, index, arr)
            self._local.cached = (self._generation, index, arr)
        return arr

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames ``start`` to ``stop`` (clipped to the stack) as one array.

        Within :func:`peeking`, only those frames are read, and the cached blocks
        are left as they are.
        """
        t = self.shape[0]
        start, stop = max(0, min(start, t)), max(0, min(stop, t))
        if stop <= start:
            return np.empty((0, *self.shape[1:]), self.dtype)
        if _PEEK.get():
            return self._peek(start, stop)
        first, last = start // self.block, (stop - 1) // self.block
        if first == last:
            b = self._block(first)
            off = first * self.block
            return b[start - off : stop - off]
        out = np.empty((stop - start, *self.shape[1:]), self.dtype)
        for index in range(first, last + 1):
            b = self._block(index)
            off = index * self.block
            lo, hi = max(start, off), min(stop, off + len(b))
            out[lo - start : hi - start] = b[lo - off : hi - off]
        return out

    def _peek(self, start: int, stop: int) -> np.ndarray:
        for cached in (
            getattr(self._local, "cached", None),
            self._cached,
            self._peeked,
        ):
            if cached is not None and cached[0] == self._generation:
                off = cached[1]
                if cached is not self._peeked:
                    off *= self.block
                if off <= start and stop <= off + len(cached[2]):
                    return cached[2][start - off : stop - off]
        # a file stored in runs of frames (chunks of several frames, which must
        # be inflated whole) is read a run at a time, kept for the next sample
        unit = read_unit(self.source)
        lo = start // unit * unit
        hi = min(self.shape[0], max(stop, -(-stop // unit) * unit))
        with self._lock:
            arr = self.source.read(lo, hi)
        arr.flags.writeable = False
        if unit > 1:
            self._peeked = (self._generation, lo, arr)
        return arr[start - lo : stop - lo]

    def compute(self, index: int) -> np.ndarray:
        """Block ``index`` read (or computed) from the source, read-only.

        The last block read is taken as it is (a step's first block is read when
        the step runs); nothing is cached.
        """
        start = index * self.block
        stop = min(self.shape[0], start + self.block)
        with self._lock:
            last = self._cached
            if last is not None and last[:2] == (self._generation, index):
                return last[2]
            arr = self.source.read(start, stop)
        arr.flags.writeable = False
        return arr

    def share(self, shared: SharedBlocks | None) -> None:
        """Take blocks from ``shared`` while it holds them (None: stop sharing)."""
        with self._lock:
            self.shared = shared

    def blocks(self) -> Iterator[tuple[int, np.ndarray]]:
        """``(start, frames)`` for every block in order."""
        for index in range(-(-self.shape[0] // self.block)):
            yield index * self.block, self._block(index)

    def __iter__(self) -> Iterator[np.ndarray]:
        for _, frames in self.blocks():
            yield from frames

    def __getitem__(self, key: Any) -> Any:
        t = self.shape[0]
        if isinstance(key, tuple) and key and not any(k is Ellipsis for k in key):
            head, rest = key[0], key[1:]
            if isinstance(head, (int, np.integer)):  # a frame, then numpy indexing
                return self[head][rest] if rest else self[head]
            if isinstance(head, slice) and head.step in (None, 1):
                return self[head][(slice(None), *rest)]
        if isinstance(key, (int, np.integer)):
            i = int(key) + t if key < 0 else int(key)
            if not 0 <= i < t:
                raise IndexError(f"frame {key} is out of range for {t} frames")
            return self.read(i, i + 1)[0]
        if isinstance(key, slice) and key.step in (None, 1):
            start, stop, _ = key.indices(t)
            return self.read(start, stop)
        return np.asarray(self)[key]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        arr = self.read(0, self.shape[0])
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def set_block(self, block: int) -> None:
        """Read ``block`` frames at a time from now on (drops the cached block)."""
        with self._lock:
            self.block = max(1, int(block))
            self._forget()

    def _forget(self) -> None:
        """Drop the cached blocks (every thread's: their generation is over)."""
        self._generation += 1
        self._cached = self._peeked = None
        self._local.cached = None

    def extremes(self, finite: bool = True) -> tuple[float, float]:
        """Lowest and highest value, walking the blocks (NaN, NaN when none).

        With ``finite`` only finite values count (as ``nanmin``/``nanmax`` of
        finite data); integer and boolean stacks have no other values.
        """
        lo, hi = np.inf, -np.inf
        for _, frames in self.blocks():
            if finite and frames.dtype.kind in "fc":
                frames = frames[np.isfinite(frames)]
            if frames.size:
                lo, hi = min(lo, frames.min().item()), max(hi, frames.max().item())
        return (lo, hi) if lo <= hi else (np.nan, np.nan)

    def close(self) -> None:
        """Close the source and drop the cached block."""
        with self._lock:
            self._forget()
        self.source.close()


# ---------------------------------------------------------------- choosing the path
def available_memory() -> int | None:
    """Bytes of memory available to a new allocation, or None when unknown.

    ``MemAvailable`` of ``/proc/meminfo`` (Linux); elsewhere the free physical
    pages (``os.sysconf``) where the system reports them.
    """
    import os

    available = _proc_bytes("/proc/meminfo", "MemAvailable:")
    if available is not None:
        return available
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def peak_rss() -> int | None:
    """This process's peak resident memory in bytes (``VmHWM``), or None off Linux.

    Unlike ``ru_maxrss`` it is the running program's own: a child started by fork
    and exec does not start from its parent's peak. Benchmarks and memory tests read
    it in child processes.
    """
    return _proc_bytes("/proc/self/status", "VmHWM:")


def _proc_bytes(path: str, key: str) -> int | None:
    """The ``key`` line of a Linux ``/proc`` file (a figure in kB), in bytes; None
    when there is no such file or line."""
    try:
        with open(path, encoding="ascii") as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def in_memory_bytes(
    shape: tuple[int, ...], itemsize: int, n_filters: int, n_masks: int
) -> int:
    """Bytes processing in memory holds: the data, one layer per filter, the masks.

    Layers are counted at the data's itemsize, or 8 (float64) when larger: the
    levelling filters give float64 for float64 or integer heights.
    """
    values = int(np.prod(shape))
    return values * (itemsize + n_filters * max(itemsize, 8) + n_masks)


def fits_in_memory(need: int, available: int | None, share: float = 0.5) -> bool:
    """True when ``need`` bytes take at most ``share`` of ``available`` (unknown: True)."""
    return available is None or need <= share * available
