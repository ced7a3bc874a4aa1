"""Run a ``playnano`` command in a child process under a wall clock, measuring its RSS.

:func:`run_cli` is how a user meets a hostile file: the real command line, in a
fresh interpreter, without the fuzzer's address-space limit. The child's peak
resident memory comes from ``wait4`` (its own, not the parent's), and a child still
running at the deadline is killed (its process group, so nothing is left behind).
POSIX only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

#: What a command may take on a hostile file (the issue's "done when").
WALL_S = 10.0
RSS_MB = 500


@dataclass
class Run:
    """What one command did: exit code, output, wall time and peak RSS."""

    args: tuple[str, ...]
    returncode: int | None  # None: killed at the deadline
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mb: float

    @property
    def timed_out(self) -> bool:
        """True when the child was still running at the deadline."""
        return self.returncode is None

    def __str__(self) -> str:
        return (
            f"playnano {' '.join(self.args)}: exit {self.returncode} in "
            f"{self.seconds:.1f} s, {self.peak_rss_mb:.0f} MB; "
            f"stdout {self.stdout[-300:]!r}; stderr {self.stderr[-600:]!r}"
        )


def run_cli(
    *args: str | Path, cwd: Path | None = None, deadline_s: float = 3 * WALL_S
) -> Run:
    """``python -m playnano ARGS`` in a child; killed after ``deadline_s`` seconds."""
    argv = tuple(str(a) for a in args)
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "playnano", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        start_new_session=True,
    )
    chunks: dict[str, list[bytes]] = {"out": [], "err": []}
    readers = [
        threading.Thread(target=_drain, args=(proc.stdout, chunks["out"]), daemon=True),
        threading.Thread(target=_drain, args=(proc.stderr, chunks["err"]), daemon=True),
    ]
    for t in readers:
        t.start()
    killed = False
    while True:
        # wait4, not Popen.wait: the child's own peak RSS comes with its status
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - start > deadline_s:
            os.killpg(proc.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(proc.pid, 0)
            killed = True
            break
        time.sleep(0.02)
    seconds = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait
    for t in readers:
        t.join(5)
    return Run(
        argv,
        None if killed else proc.returncode,
        b"".join(chunks["out"]).decode("utf-8", "replace"),
        b"".join(chunks["err"]).decode("utf-8", "replace"),
        seconds,
        usage.ru_maxrss / 1024,  # kB on Linux
    )


def _drain(stream: IO[bytes] | None, into: list[bytes]) -> None:
    if stream is None:
        return
    while chunk := stream.read(1 << 16):
        into.append(chunk)
    stream.close()
