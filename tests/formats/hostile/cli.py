"""Run a ``playnano`` command in a child process under a wall clock, measuring its RSS.

:func:`run_cli` is how a user meets a hostile file: the real command line, in a
fresh interpreter, without the fuzzer's address-space limit. The child reports its
own peak resident memory (``VmHWM``, :func:`playnano.lazy.peak_rss`) as it exits:
``wait4``'s figure would count the pages of the test process it was forked from,
which Linux keeps in the child's maximum across ``exec``. A child still running at
the deadline is killed (its process group, so nothing is left behind). Linux only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

#: What a command may take on a hostile file (the issue's "done when").
WALL_S = 10.0
RSS_MB = 500


#: ``python -c`` code: run the CLI with ARGS, write this process's peak RSS (bytes)
#: to the file named first when it exits.
_WRAPPER = (
    "import atexit, runpy, sys\n"
    "from playnano.lazy import peak_rss\n"
    "out = sys.argv.pop(1)\n"
    "atexit.register(lambda: open(out, 'w').write(str(peak_rss())))\n"
    "sys.argv[0] = 'playnano'\n"
    "runpy.run_module('playnano', run_name='__main__', alter_sys=True)\n"
)


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
    fd, report_name = tempfile.mkstemp(prefix="playnano-rss-")
    os.close(fd)
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRAPPER, report_name, *argv],
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
    try:
        proc.wait(timeout=deadline_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        killed = True
    seconds = time.monotonic() - start
    for t in readers:
        t.join(5)
    peak = Path(report_name).read_text().strip()
    os.unlink(report_name)
    return Run(
        argv,
        None if killed else proc.returncode,
        b"".join(chunks["out"]).decode("utf-8", "replace"),
        b"".join(chunks["err"]).decode("utf-8", "replace"),
        seconds,
        int(peak) / 2**20 if peak else float("nan"),
    )


def _drain(stream: IO[bytes] | None, into: list[bytes]) -> None:
    if stream is None:
        return
    while chunk := stream.read(1 << 16):
        into.append(chunk)
    stream.close()
