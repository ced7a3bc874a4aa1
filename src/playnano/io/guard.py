"""Keep Ctrl-C and a full disk from being lost inside writer libraries.

Two things go wrong in libraries that write from C code (h5py above all):

* a ``KeyboardInterrupt`` that arrives while Python runs a weakref callback or a
  ``__del__`` (h5py runs many) is printed as "Exception ignored" and dropped, so the
  export goes on. :func:`deliver_interrupts` catches such a dropped interrupt and
  delivers it again moments later, where it can propagate.
* after a failed write (``ENOSPC``, ``EFBIG``) HDF5 keeps flushing into the broken
  file and the process dies at exit. :func:`guarded_file` gives a writer a file
  object that remembers the first failed write, discards everything after it (so
  nothing more reaches the disk and the library can close cleanly) and stops the
  writer at once; the failure is raised as :class:`~playnano.errors.DiskFullError`.

A signal reaches only the main thread: an export running in a side thread is stopped
through :func:`cancellable`, whose event :func:`check_cancelled` (called once per
rendered frame) turns into a ``KeyboardInterrupt`` in that thread.
"""

from __future__ import annotations

import _thread
import errno
import io
import os
import signal
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

from playnano.errors import DiskFullError

#: errno values that mean "the disk (or a limit) is full": stop, do not retry.
FULL_ERRNOS = frozenset(
    e for e in (errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", None)) if e
)

_lock = threading.Lock()
_depth = 0
_previous_hook: Any = None
_previous_sigint: Any = None
#: An interrupt waits to be raised where it can propagate ("user" or "guard").
_waiting: str | None = None
_saved_profile: Any = None
#: The first disk-full error seen by a guarded file, until an export reports it.
_pending: list[tuple[Path, OSError]] = []


def _fire() -> None:
    with _lock:
        go = _waiting is not None and _depth > 0
    if go:
        _thread.interrupt_main()


def _request(reason: str, delay: float = 0.02) -> None:
    """Raise KeyboardInterrupt in the main thread soon, at a safe place."""
    global _waiting
    with _lock:
        if _waiting != "user":
            _waiting = reason
    t = threading.Timer(delay, _fire)
    t.daemon = True
    t.start()


def _unsafe(frame: FrameType | None) -> bool:
    """True inside code an exception must not leave (C callbacks, finalisers)."""
    while frame is not None:
        code = frame.f_code
        if code in _GUARD_CODES or code.co_filename == weakref.__file__:
            return True
        frame = frame.f_back
    return False


def _raise_when_safe(frame: FrameType, event: str, arg: Any) -> None:
    """Profile function: raise the waiting interrupt at the first safe event."""
    global _waiting
    if _unsafe(frame):
        return
    sys.setprofile(_saved_profile)
    with _lock:
        _waiting = None
    raise KeyboardInterrupt


def _arm(reason: str) -> None:
    """Raise KeyboardInterrupt in this thread as soon as it runs ordinary code."""
    global _waiting, _saved_profile
    with _lock:
        _waiting = _waiting or reason
    if sys.getprofile() is not _raise_when_safe:
        _saved_profile = sys.getprofile()
        sys.setprofile(_raise_when_safe)


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    global _waiting
    if _unsafe(frame):
        _arm("user")  # raising here would be dropped or corrupt the library
        return
    with _lock:
        _waiting = None
    raise KeyboardInterrupt


def _hook(unraisable: Any) -> None:
    exc_type = unraisable.exc_type
    if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
        if _previous_sigint is None:  # (our handler never lets this happen)
            _request(_waiting or "user")  # dropped: raise it again in a moment
        return
    if _previous_hook is not None:
        _previous_hook(unraisable)


@contextmanager
def deliver_interrupts() -> Iterator[None]:
    """While active, Ctrl-C is raised only where it can propagate.

    An interrupt that arrives inside a writer library's callback or a finaliser
    (where Python would print "Exception ignored" and drop it) is raised again a
    moment later in ordinary code. Installs a SIGINT handler when called in the
    main thread and Python's default handler is in place.
    """
    global _depth, _previous_hook, _previous_sigint, _waiting
    main = threading.current_thread() is threading.main_thread()
    with _lock:
        if _depth == 0:
            _previous_hook = sys.unraisablehook
            sys.unraisablehook = _hook
            _waiting = None
            if main and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                _previous_sigint = signal.signal(signal.SIGINT, _on_sigint)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            leftover = _waiting if _depth == 0 else None
            if _depth == 0:
                sys.unraisablehook = _previous_hook
                _previous_hook = None
                _waiting = None
                if sys.getprofile() is _raise_when_safe:  # armed, never fired
                    sys.setprofile(_saved_profile)
                # only the main thread may set handlers; when a side thread leaves
                # last, the handler stays until the main thread's next exit
                if _previous_sigint is not None and main:
                    signal.signal(signal.SIGINT, _previous_sigint)
                    _previous_sigint = None
        if leftover == "user" and sys.exc_info()[0] is None:
            raise KeyboardInterrupt  # pressed too late to stop the writer: stop now


_T = TypeVar("_T")
_cancel: ContextVar[threading.Event | None] = ContextVar(
    "playnano_export_cancel", default=None
)


def cancellable(event: threading.Event, fn: Callable[[], _T]) -> _T:
    """Run ``fn`` so that setting ``event`` stops it at its next frame.

    For work in a side thread, which Ctrl-C does not reach: the main thread sets
    ``event`` when it is interrupted, and :func:`check_cancelled` raises there.
    """
    token = _cancel.set(event)
    try:
        return fn()
    finally:
        _cancel.reset(token)


def check_cancelled() -> None:
    """Raise ``KeyboardInterrupt`` when the work running here was cancelled."""
    event = _cancel.get()
    if event is not None and event.is_set():
        raise KeyboardInterrupt


def describe_oserror(exc: OSError) -> str:
    """One line for an ``OSError``: its errno text, without library detail."""
    if exc.errno:
        return os.strerror(exc.errno)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def disk_full_error(path: Path, exc: OSError) -> DiskFullError:
    """The :class:`DiskFullError` for a failed write of ``path``."""
    return DiskFullError(
        f"{path}: {describe_oserror(exc)} while writing; nothing was kept",
        per_file=exc.errno == errno.EFBIG,
    )


def take_pending() -> DiskFullError | None:
    """The disk-full error a guarded file recorded and nobody has raised yet."""
    with _lock:
        if not _pending:
            return None
        path, exc = _pending[0]
        _pending.clear()
    return disk_full_error(path, exc)


class GuardedFile(io.RawIOBase):
    """A read/write binary file that stops writing for good after a full disk."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._f = open(self.path, "w+b", buffering=0)  # noqa: SIM115
        self.error: OSError | None = None

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()

    def readinto(self, buffer: Any) -> int:
        got = self._f.readinto(buffer)
        return 0 if got is None else got

    def _failed(self, exc: OSError) -> None:
        self.error = exc
        if exc.errno in FULL_ERRNOS:
            with _lock:
                _pending.append((self.path, exc))
            # raising from inside the C library would corrupt it; stop the writer
            # at its next line outside the library instead
            _arm("guard")

    def write(self, data: Any) -> int:
        size = memoryview(data).nbytes
        if self.error is None:
            try:
                written = self._f.write(data)
                return size if written is None else written
            except OSError as exc:
                self._failed(exc)
        self._f.seek(size, io.SEEK_CUR)  # discard: nothing more reaches the disk
        return size

    def truncate(self, size: int | None = None) -> int:
        if self.error is None:
            try:
                return self._f.truncate(size)
            except OSError as exc:
                self._failed(exc)
        return self.tell() if size is None else size

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self._f.close()
        super().close()


_GUARD_CODES = {
    f.__code__
    for f in vars(GuardedFile).values()
    if callable(f) and hasattr(f, "__code__")
}


def finish_before_interrupt(*functions: Any) -> None:
    """An interrupt the guard raises waits until these functions have returned.

    For a writer library's ``close`` written in Python: interrupted halfway (by
    the guard's own interrupt after a full disk, raised at the next Python line)
    it leaves the file open, and the library then flushes it at interpreter
    exit, which crashes (h5py's ``File.close`` between closing the objects and
    the file).
    """
    _GUARD_CODES.update(fn.__code__ for fn in functions)


@contextmanager
def guarded_file(path: Path) -> Iterator[GuardedFile]:
    """Open ``path`` for a writer library; a failed write ends in one clear error.

    Raises
    ------
    DiskFullError
        After the writer closed, if a write failed for lack of space (or a file
        size limit); an interrupt the guard itself caused becomes this error.
    OSError
        For any other failed write.
    """
    fh = GuardedFile(path)
    try:
        yield fh
    except BaseException:
        fh.close()
        # the writer stopped because of the full disk (the guard's own interrupt,
        # or a library error about the discarded writes): say that, once
        pending = take_pending() if fh.error is not None else None
        if pending is not None:
            raise pending from None
        raise
    fh.close()
    if fh.error is not None:
        pending = take_pending()
        if pending is not None:
            raise pending from fh.error
        raise fh.error
