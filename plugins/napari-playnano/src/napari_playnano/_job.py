"""Long work in a thread that a Cancel button can interrupt anywhere.

Cancelling raises :class:`Cancelled` inside the worker thread at its next Python
instruction (``PyThreadState_SetAsyncExc``), the way Ctrl-C stops the CLI: an
exporter in the middle of a file unwinds through ``export_stack``'s staging folder,
which removes the partial output. The widget then removes what the cancelled run
had already finished, so a cancelled export leaves nothing.
"""

from __future__ import annotations

import ctypes
import threading
import warnings
from collections.abc import Callable
from typing import Any


class Cancelled(BaseException):
    """Raised in the worker thread when the user cancels (not an Exception, so no
    ``except Exception`` on the way turns it into an error)."""


class Job:
    """Runs ``work(job)`` in a daemon thread; poll :attr:`done` from the GUI thread.

    ``work`` reports progress with :meth:`report`; the GUI reads :attr:`progress`
    and :attr:`message`, and afterwards :attr:`warnings`: the first line of each
    warning raised while the work ran (the CLI prints them; a window shows them).
    """

    def __init__(self, work: Callable[[Job], Any], total: int) -> None:
        self._work = work
        self._lock = threading.Lock()
        self._running = False
        self._ident: int | None = None
        self.total = total
        self.progress = 0
        self.message = ""
        self.cancelled = False
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.warnings: list[str] = []
        self._thread = threading.Thread(target=self._target, daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def report(self, progress: int, message: str) -> None:
        """Record progress (called by ``work`` in the worker thread)."""
        self.progress, self.message = progress, message

    def cancel(self) -> None:
        """Interrupt the work as soon as possible (called from the GUI thread)."""
        with self._lock:
            self.cancelled = True
            if self._running and self._ident is not None:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(self._ident), ctypes.py_object(Cancelled)
                )

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread (tests)."""
        self._thread.join(timeout)

    def _target(self) -> None:
        try:
            self._run()
        except Cancelled:  # delivered late, after the work itself had ended
            self.cancelled = True
        finally:
            self.done = True

    def _run(self) -> None:
        try:
            try:
                with self._lock:
                    self._ident = threading.get_ident()
                    self._running = not self.cancelled
                if not self._running:
                    raise Cancelled
                # warnings module state is process-wide: the export's own side
                # thread (a GIF beside the bundles) is recorded too
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    self.result = self._work(self)
                seen = dict.fromkeys(
                    str(w.message).splitlines()[0] for w in caught if str(w.message)
                )
                self.warnings = list(seen)
            finally:
                with self._lock:
                    self._running = False
        except Cancelled:
            self.cancelled = True
        except BaseException as exc:
            self.error = exc
