"""Walk an HDF5 file's metadata in another process, which a time limit can stop.

libhdf5 parses a file's metadata in C, under h5py's lock: one flipped bit in an
object header can make it loop for ever or crash, where no Python check runs and no
signal reaches. So before any door opens an HDF5 file, :func:`probe` has another
process walk everything a reader could touch in that file's metadata (every object
reached by hard links, every attribute, each dataset's type, shape, layout, storage
and chunk index) under an address-space limit, and waits at most
:data:`PROBE_SECONDS`. A walk that does not finish, crashes or runs out of memory
is a one-line :class:`~playnano.errors.ReadError`; a walk that finishes means the
same walk here cannot hang (libhdf5 reads the same bytes the same way), so the file
is then opened in this process.

The walker is a forked child where that is safe and cheapest (Linux, a process with
one thread: the command line, a batch's serial worker); elsewhere (threads running,
macOS, Windows) a helper process, ``python -m playnano.readers.guarded.hdf5_probe``,
started on first use and reused; a hung helper is killed and the next probe starts
another. A verdict is remembered while the file's size and modification time stay
the same, so the doors of one command walk a file once. Cost per file: a few
milliseconds forked, plus the helper's start once (about 0.2 s); measured by
``benchmarks/bench_hdf5_probe.py``. Where neither can run (a frozen application
without a Python interpreter), the walk runs in this process, without a time limit.
"""

from __future__ import annotations

import atexit
import contextlib
import faulthandler
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from playnano.errors import ReadError

#: Seconds the metadata walk of one file may take.
PROBE_SECONDS = 5.0
#: Address space the helper may add to what it holds after importing h5py.
HELPER_MEMORY_BYTES = 1 << 30
#: Objects walked at most (an honest file has thousands, not millions).
MAX_OBJECTS = 200_000
#: Verdicts remembered, by (device, inode, size, mtime).
_VERDICTS_MAX = 4096


def walk(path: str) -> dict[str, Any]:
    """Touch every part of ``path``'s metadata a reader could; return a verdict.

    Runs in the walker. Every object reached by hard links is opened; every
    attribute is opened (its header message parsed) and read when its values are
    variable-length (they live in the global heap, where one flipped bit made
    libhdf5 loop for ever); every dataset's layout, storage and chunk index is
    walked, and its values read when they are variable-length. An error libhdf5
    reports is passed over (a reader meets the same error and says it in its own
    words); only running out of memory, or an object count no honest file has,
    is a refusal: ``{"refuse": why}``; else ``{"ok": True}``.
    """
    import h5py

    count = 0

    def attributes(obj: Any) -> None:
        def each(name: bytes, *_: Any) -> None:
            try:
                attr = h5py.h5a.open(obj.id, name)
                attr.get_storage_size()
                if attr.dtype.hasobject:  # variable-length: read from the heap
                    obj.attrs[name.decode("utf-8", "surrogateescape")]
            except MemoryError:
                raise
            except Exception:  # one bad attribute must not hide the next ones
                pass

        h5py.h5a.iterate(obj.id, each)

    def dataset(ds: Any) -> None:
        plist = ds.id.get_create_plist()
        layout = plist.get_layout()
        plist.get_external_count()
        if layout == h5py.h5d.VIRTUAL:
            return  # readers refuse these before touching their storage
        ds.id.get_storage_size()
        if layout == h5py.h5d.CONTIGUOUS:
            ds.id.get_offset()
        elif layout == h5py.h5d.CHUNKED:
            ds.id.get_num_chunks()  # walks the chunk index
        if ds.dtype.hasobject:  # variable-length values: in the heap
            ds[()]

    def visit(_name: str, obj: Any) -> None:
        nonlocal count
        count += 1
        if count > MAX_OBJECTS:
            raise _TooMany
        try:
            attributes(obj)
            if isinstance(obj, h5py.Dataset):
                dataset(obj)
            elif isinstance(obj, h5py.Group):
                for key in obj:  # the links, soft and external ones too
                    obj.get(key, getlink=True)
        except MemoryError:
            raise
        except Exception:  # the reader meets it too, and says so
            pass

    try:
        with h5py.File(path, "r") as f:
            visit("/", f)
            f.visititems(visit)
    except MemoryError:
        return {"refuse": "its HDF5 metadata needs more memory than the walk allows"}
    except _TooMany:
        return {"refuse": f"it holds more than {MAX_OBJECTS} HDF5 objects"}
    except Exception:  # HDF5 cannot open it: the reader says so
        pass
    return {"ok": True}


class _TooMany(Exception):
    pass


def serve() -> None:
    """The helper's loop: a JSON path per line in, a JSON verdict per line out."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    _limit_memory()
    import h5py  # noqa: F401  (warm before the first request)

    out = sys.stdout
    for line in sys.stdin:
        try:
            verdict = walk(json.loads(line))
        except Exception:  # not the walk's to judge: the reader says what is wrong
            verdict = {"ok": True}
        out.write(json.dumps(verdict) + "\n")
        out.flush()


def _limit_memory() -> None:
    """Cap the helper's address space (Linux): a walk that needs more fails."""
    try:
        import resource

        with open("/proc/self/statm") as fh:
            mapped = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (ImportError, OSError, ValueError):  # not Linux: no limit
        return
    limit = mapped + HELPER_MEMORY_BYTES
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


class _Helper:
    """One helper process and the thread reading its answers."""

    def __init__(self) -> None:
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "playnano.readers.guarded.hdf5_probe"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.owner = os.getpid()
        self.answers: queue.Queue[bytes] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.answers.put(line)
        self.answers.put(b"")  # the helper ended

    def ask(self, path: Path, seconds: float) -> dict[str, Any] | None:
        """The verdict on ``path``; None when the helper did not answer in time."""
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(str(path)) + "\n").encode())
        self.proc.stdin.flush()
        try:
            line = self.answers.get(timeout=seconds)
        except queue.Empty:
            return None
        if not line:
            return {"crashed": self.proc.wait()}
        answer: dict[str, Any] = json.loads(line)
        return answer

    def stop(self, *, kill: bool = True) -> None:
        """End the helper (killed: it may be stuck in C), reap it, close its pipes."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if kill:
            self.proc.kill()
        with contextlib.suppress(OSError):
            self.proc.stdin.close()  # a helper at rest ends when its input does
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(5)
        self.proc.stdout.close()


def _stop_at_exit() -> None:
    global _helper
    if _helper is not None and _helper.owner == os.getpid():
        _helper.stop(kill=False)
    _helper = None


atexit.register(_stop_at_exit)


_lock = threading.Lock()
_helper: _Helper | None = None
_verdicts: OrderedDict[tuple[int, int, int, int], str | None] = OrderedDict()


def _key(path: Path) -> tuple[int, int, int, int]:
    st = path.stat()
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def probe(path: Path, seconds: float | None = None) -> None:
    """Walk ``path``'s HDF5 metadata in the helper; a ReadError if that goes wrong.

    The verdict is remembered while the file's size and modification time stay
    the same, so the doors of one command (sizing a stack, then reading it) walk
    a file once, and a file refused once is refused at once.

    Raises
    ------
    ReadError
        The walk took more than ``seconds`` (default :data:`PROBE_SECONDS`),
        crashed the helper, or needed more than the helper's memory.
    """
    limit = PROBE_SECONDS if seconds is None else seconds
    key = _key(path)
    with _lock:
        if key not in _verdicts:
            _verdicts[key] = _refusal(path, _ask(path, limit), limit)
            while len(_verdicts) > _VERDICTS_MAX:
                _verdicts.popitem(last=False)
        _verdicts.move_to_end(key)
        refusal = _verdicts[key]
    if refusal is not None:
        raise ReadError(f"{path}: {refusal}")


def _refusal(path: Path, answer: dict[str, Any] | None, limit: float) -> str | None:
    """Why the file is refused (after its path), or None when the walk went well."""
    if answer is None:
        return (
            f"reading its HDF5 metadata did not finish within {limit:g} s; "
            "the file is damaged"
        )
    if "crashed" in answer:
        code = answer["crashed"]
        how = f"signal {-code}" if code < 0 else f"exit {code}"
        return (
            f"the HDF5 library crashed reading its metadata ({how}); "
            "the file is damaged"
        )
    if not answer.get("ok"):
        return f"refused: {answer.get('refuse', 'its HDF5 metadata walk failed')}"
    return None


def _can_fork() -> bool:
    """True where a forked child is the cheapest safe walker: Linux, one thread.

    A process with other threads (a GUI, a thread pool, a Dask worker) uses the
    helper instead: a thread holding a lock at the fork would leave the child
    stuck. macOS is left out: its system libraries are not safe to use after a
    fork.
    """
    return (
        hasattr(os, "fork")
        and sys.platform.startswith("linux")
        and threading.active_count() == 1
    )


def _fork_walk(path: Path, limit: float) -> dict[str, Any] | None:
    """The walk in a forked child: its verdict, or None after ``limit`` seconds."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover  (the child; its coverage is not collected)
        try:
            os.close(read_fd)
            faulthandler.disable()  # a crash is reported in one line, not dumped
            _limit_memory()
            view = memoryview(json.dumps(walk(str(path))).encode())
            while view:
                view = view[os.write(write_fd, view) :]
        finally:
            os._exit(0)
    os.close(write_fd)
    os.set_blocking(read_fd, False)
    chunks: list[bytes] = []
    deadline = time.monotonic() + limit
    delay = 0.001
    try:
        while True:
            with contextlib.suppress(BlockingIOError):
                while chunk := os.read(read_fd, 1 << 16):
                    chunks.append(chunk)
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return None
            time.sleep(delay)
            delay = min(2 * delay, 0.02)
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(read_fd, 1 << 16):
                chunks.append(chunk)
    finally:
        os.close(read_fd)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU:
        return None  # out of the CPU time this process was given: it did not finish
    if os.WIFSIGNALED(status) or not chunks:
        return {"crashed": os.waitstatus_to_exitcode(status)}
    answer: dict[str, Any] = json.loads(b"".join(chunks))
    return answer


def _ask(path: Path, limit: float) -> dict[str, Any] | None:
    """One probe (the lock held): a forked walker's verdict or the helper's."""
    global _helper
    if _can_fork():
        return _fork_walk(path, limit)
    if _helper is not None and _helper.owner != os.getpid():
        _helper = None  # a forked child: the parent's helper and pipes are not ours
    for attempt in range(2):
        if _helper is None:
            try:
                _helper = _Helper()
            except OSError:  # no interpreter to start: walk here, unbounded
                return walk(str(path))
        try:
            answer = _helper.ask(path, limit)
        except (BrokenPipeError, OSError):  # the helper died since the last probe
            _helper.stop()
            _helper = None
            if attempt:
                raise
            continue
        if answer is None or "crashed" in answer:
            _helper.stop()
            _helper = None
        return answer
    return None


if __name__ == "__main__":
    serve()
