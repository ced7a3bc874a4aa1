"""Dask worker preload: a batch's worker processes leave Ctrl-C to the batch.

A terminal sends Ctrl-C (SIGINT) to every process of its foreground group, the
embedded cluster's worker processes included. The batch (the client) stops them
itself, cancelling the tasks and closing the cluster; a worker that took the
signal as well would die mid-task and print its own traceback and Dask's log lines
on the user's terminal. Workers started while the batch starts its cluster inherit
the ignored signal; this preload covers workers started later (a replaced worker).
"""

from __future__ import annotations

import signal
import threading
from typing import Any


def ignore_interrupts() -> None:
    """Ignore SIGINT in this process (only the main thread may change handlers)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def dask_setup(worker: Any) -> None:
    """Dask's preload hook: called in each worker process as it starts."""
    ignore_interrupts()
