"""Run one batch input in a child process that a time limit can stop.

A damaged file can hang its reader where Python cannot interrupt it (libhdf5 looping
in C under h5py's lock, say). In this process such an input would stall the batch
for ever; in a child process it is stopped at the time limit and recorded as failed
("timed out after N s"), and the next input gets a fresh child. A child that dies
(a crash in a C library, the kernel's out-of-memory killer) is recorded the same
way instead of taking the batch down.

On Linux the child is forked from this process, which has already imported
everything the run needs: measured at about 15 ms an input (see docs/batch.rst);
elsewhere it is spawned (a fresh interpreter, about a second). The child ignores
Ctrl-C: the batch stops it and cleans up, as it stops Dask's workers.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from playnano.run import RunSettings

#: Seconds between checks of a child's clock while it sends nothing.
_POLL_S = 0.5


def timed_out_message(input_path: str, timeout_s: float) -> str:
    """The one-line error of an input stopped at the time limit."""
    return (
        f"{input_path}: timed out after {timeout_s:g} s and was stopped "
        "(--timeout SECONDS to allow longer, 0 for no limit)"
    )


def failed_record(
    input_path: str, settings: RunSettings, error: str, seconds: float | None
) -> dict[str, Any]:
    """The report record of an input whose task gave no record of its own."""
    from playnano.provenance import sha256_of

    sha = None
    with contextlib.suppress(OSError):  # the report still tells which bytes
        sha = sha256_of(input_path)
    return {
        "input": input_path,
        "status": "failed",
        "outputs": [],
        "seconds": None if seconds is None else round(seconds, 3),
        "sha256": sha,
        "error": error,
        "warnings": [],
        "settings": settings.fingerprint(),
        "blocks": None,
    }


def _context() -> Any:
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)


def _serve(conn: Any) -> None:
    """The child's loop: run each job it is sent, send its progress and record."""
    from playnano.batch.worker_setup import ignore_interrupts
    from playnano.run import run_one

    ignore_interrupts()  # Ctrl-C is the batch's to handle: it stops this process

    def progress(done: int, total: int) -> None:
        conn.send(("progress", done, total))

    while True:
        try:
            job = conn.recv()
        except EOFError:  # the batch is done with this process
            return
        input_path, out_dir, settings, command, ticking = job
        record = run_one(
            input_path, out_dir, settings, command, progress if ticking else None
        )
        conn.send(("record", record))


class IsolatedRunner:
    """Runs inputs one at a time in a child process, replaced when it is stopped.

    The child lives from the first input until :meth:`close`, so its imports,
    thread pools and memory stay warm between inputs, as they would in this
    process; only an input that times out (or kills it) costs a new child.
    """

    def __init__(self) -> None:
        self._proc: Any = None
        self._conn: Any = None

    def _start(self) -> None:
        ctx = _context()
        here, there = ctx.Pipe()
        proc = ctx.Process(
            target=_serve, args=(there,), name="playnano batch worker", daemon=True
        )
        proc.start()
        there.close()  # the child's end: EOF here when the child is gone
        self._proc, self._conn = proc, here

    def close(self) -> None:
        """Stop the child (at once: it is idle, or what it runs is abandoned)."""
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            conn.close()
        if proc is not None:
            if proc.is_alive():
                proc.kill()  # a hang in C ignores anything gentler
            proc.join()

    def run(
        self,
        input_path: str,
        out_dir: str,
        settings: RunSettings,
        command: Mapping[str, Any] | None,
        timeout_s: float,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, Any]:
        """:func:`~playnano.run.run_one` in the child, stopped after ``timeout_s``.

        ``timeout_s`` of 0 (or less) sets no limit. Returns the child's record, or
        a ``failed`` record when the child timed out or died (the child is then
        replaced for the next input). Ctrl-C (or any exception here) stops the
        child before it propagates.
        """
        if self._proc is None:
            self._start()
        start = time.monotonic()
        limit = timeout_s if timeout_s > 0 else math.inf
        try:
            self._conn.send(
                (input_path, out_dir, settings, command, progress is not None)
            )
            while True:
                left = limit - (time.monotonic() - start)
                if left <= 0:
                    self.close()
                    error = timed_out_message(input_path, timeout_s)
                    break
                if not self._conn.poll(min(left, _POLL_S)):
                    continue
                try:
                    message = self._conn.recv()
                except EOFError:  # gone without a record: killed or crashed
                    self._proc.join()
                    code = self._proc.exitcode
                    self.close()
                    error = (
                        f"{input_path}: the process reading it died (exit code {code})"
                    )
                    break
                if message[0] == "record":
                    return dict(message[1])
                if progress is not None:
                    progress(message[1], message[2])
        except BaseException:
            self.close()
            raise
        return failed_record(input_path, settings, error, time.monotonic() - start)
