"""Run one fuzz case in a forked child with CPU, address-space and wall-clock limits.

The parent has imported playnano and its readers' libraries once; each case forks,
the child sets ``RLIMIT_AS`` and ``RLIMIT_CPU``, calls :func:`playnano.load` with
every warning recorded, writes one JSON result to a pipe and leaves with
``os._exit``. The parent waits (killing the child after a wall-clock timeout), reads
the child's peak RSS from ``wait4`` and classifies the outcome with :func:`verdict`.
POSIX only (``os.fork``, ``resource``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Failure kinds, in the order the report lists them.
KINDS = ("crash", "hang", "memory", "exception", "message", "warning")
CPU_SECONDS = 3
MEMORY_BYTES = 2 << 30  # address space a case may add to the forked parent
RSS_FLOOR = 256 << 20  # peak RSS growth always allowed
RSS_PER_INPUT_BYTE = 32  # ...plus this many bytes per byte of input


def preload() -> None:
    """Import what the readers use, so a forked case starts warm."""
    import importlib

    import h5py  # noqa: F401
    import tifffile  # noqa: F401

    import playnano
    from playnano.plugins.registry import readers

    for name in ("playnano.io.loaders", "playnano.formats"):  # the bundle readers
        with contextlib.suppress(ImportError):
            importlib.import_module(name)

    for entry in readers().entries():
        entry.obj  # noqa: B018  (resolves the plugin object)
    playnano.load  # noqa: B018


def _vm_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _chain(exc: BaseException) -> list[str]:
    names = []
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        names.append(type(cur).__name__)
        cur = cur.__cause__ or cur.__context__
    return names


def _child(path: Path, cpu_s: int, mem: int, stack_fd: int | None) -> dict[str, Any]:
    import faulthandler
    import resource
    import warnings

    faulthandler.disable()  # pytest's handler writes to stderr; ours to the pipe
    if stack_fd is not None:  # where a crash, CPU limit or timeout left the code
        faulthandler.enable(file=stack_fd, all_threads=False)
        faulthandler.register(
            signal.SIGXCPU, file=stack_fd, all_threads=False, chain=True
        )
        faulthandler.register(signal.SIGUSR1, file=stack_fd, all_threads=False)

    from playnano import load
    from playnano.errors import PlaynanoError, PlaynanoWarning

    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu_now = int(used.ru_utime + used.ru_stime) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_now + cpu_s, cpu_now + cpu_s + 2))
    if mem:
        limit = _vm_bytes() + mem
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    out: dict[str, Any] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            stack = load(path)
            out = {"status": "ok", "shape": list(stack.data.shape)}
        except PlaynanoError as exc:
            out = {"status": "error", "type": type(exc).__name__, "message": str(exc)}
            out["chain"] = _chain(exc)
        except BaseException as exc:  # (anything else is the finding)
            out = {"status": "exception", "type": type(exc).__name__}
            out["message"] = str(exc)[:2000]
            out["chain"] = _chain(exc)
            out["traceback"] = traceback.format_exc()[-3000:]
    out["warnings"] = [
        f"{w.category.__name__}: {str(w.message)[:300]}"
        for w in caught
        if not issubclass(w.category, PlaynanoWarning)
    ]
    return out


@dataclass
class Outcome:
    """What happened to one case."""

    result: dict[str, Any] = field(default_factory=dict)
    signal: int | None = None
    timed_out: bool = False
    rss_growth: int = 0
    seconds: float = 0.0
    stack: str = ""  # the Python stack faulthandler dumped at a crash or a limit


def run_case(
    path: Path,
    *,
    cpu_s: int = CPU_SECONDS,
    wall_s: float | None = None,
    mem: int = MEMORY_BYTES,
) -> Outcome:
    """Load ``path`` in a forked child under limits and return what happened."""
    wall = wall_s if wall_s is not None else 4 * cpu_s + 10
    rss_before = _rss_bytes()
    read_fd, write_fd = os.pipe()
    stack_r, stack_w = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover  (the child)
        code = 0
        try:
            os.close(read_fd)
            os.close(stack_r)
            result = _child(path, cpu_s, mem, stack_w)
            data = json.dumps(result, default=str).encode()
            view = memoryview(data)
            while view:
                view = view[os.write(write_fd, view) :]
        except BaseException:
            code = 3
        finally:
            os._exit(code)
    os.close(write_fd)
    os.close(stack_w)
    os.set_blocking(read_fd, False)
    os.set_blocking(stack_r, False)
    chunks: list[bytes] = []
    outcome = Outcome()
    status = 0
    rusage = None
    delay = 0.002
    while True:
        try:
            while chunk := os.read(read_fd, 1 << 16):
                chunks.append(chunk)
        except BlockingIOError:
            pass
        done, status, rusage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() - start > wall:
            os.kill(pid, signal.SIGUSR1)  # dump the stack first
            time.sleep(0.5)
            os.kill(pid, signal.SIGKILL)
            _, status, rusage = os.wait4(pid, 0)
            outcome.timed_out = True
            break
        time.sleep(delay)
        delay = min(delay * 1.5, 0.05)
    try:
        while chunk := os.read(read_fd, 1 << 16):
            chunks.append(chunk)
    except BlockingIOError:
        pass
    os.close(read_fd)
    outcome.stack = _drain(stack_r)
    os.close(stack_r)
    outcome.seconds = time.monotonic() - start
    if os.WIFSIGNALED(status):
        outcome.signal = os.WTERMSIG(status)
    if rusage is not None:
        outcome.rss_growth = max(0, rusage.ru_maxrss * 1024 - rss_before)
    if chunks:
        try:
            outcome.result = json.loads(b"".join(chunks))
        except ValueError:
            outcome.result = {}
    return outcome


def _drain(fd: int) -> str:
    chunks = []
    try:
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    except BlockingIOError:
        pass
    return b"".join(chunks).decode("utf-8", "replace")


def where(stack: str) -> str:
    """``innermost function < innermost playnano function`` of a faulthandler dump."""
    import re

    frames = re.findall(r'File "([^"]+)", line \d+ in (\S+)', stack)
    if not frames:
        return "unknown"

    def short(frame: tuple[str, str]) -> str:
        return f"{Path(frame[0]).name}:{frame[1]}"

    ours = next((f for f in frames if "playnano" in f[0]), None)
    return short(frames[0]) + (
        f" < {short(ours)}" if ours and ours != frames[0] else ""
    )


def names_of(path: Path) -> list[str]:
    """Names a message about ``path`` may use: the path's, or a frame file's."""
    names = [path.name]
    if path.is_dir():
        names += [p.name for p in path.iterdir()]
    return names


def verdict(path: Path, outcome: Outcome, input_bytes: int) -> tuple[str, str] | None:
    """``(kind, detail)`` when the outcome is a failure, else ``None``.

    A pass is a stack, or a ``PlaynanoError`` whose message is one line naming the
    file (or, for a folder, the folder or one of its files), with no stray warnings
    and peak memory within ``RSS_FLOOR + RSS_PER_INPUT_BYTE * input_bytes``.
    """
    res = outcome.result
    if outcome.timed_out or outcome.signal == signal.SIGXCPU:
        return (
            "hang",
            f"no result after {outcome.seconds:.1f} s in {where(outcome.stack)}",
        )
    if outcome.signal is not None:
        name = signal.Signals(outcome.signal).name
        return "crash", f"killed by {name} in {where(outcome.stack)}"
    if not res:
        return "crash", "the case died without a result"
    if "MemoryError" in res.get("chain", []):
        context = f"{res['type']}: {res['message'][:200]}"
        return "memory", f"MemoryError under the address-space limit ({context})"
    budget = RSS_FLOOR + RSS_PER_INPUT_BYTE * input_bytes
    if outcome.rss_growth > budget:
        mb = outcome.rss_growth / 2**20
        return "memory", f"peak RSS grew {mb:.0f} MB for a {input_bytes}-byte input"
    if res["status"] == "exception":
        return "exception", f"{res['type']}: {res['message'][:300]}"
    if res["status"] == "error":
        msg = res["message"]
        if "\n" in msg.strip() or "\r" in msg:
            return "message", f"{res['type']} has {msg.count(chr(10)) + 1} lines"
        if not any(name in msg for name in names_of(path)):
            return "message", f"{res['type']} does not name the file: {msg[:200]}"
    if res.get("warnings"):
        return "warning", res["warnings"][0]
    return None


def signature(family: str, kind: str, outcome: Outcome, name: str) -> str:
    """A short key grouping failures that are probably the same bug (``name``: the
    case file's, left out)."""
    import re

    res = outcome.result
    text = f"{res.get('type', '')}: {res.get('message', '')}".replace(name, "F")
    text = re.sub(r"\S*/F\b", "F", text)  # a full path to the case
    if kind == "warning":
        text = res["warnings"][0]
    if kind == "memory" and not res.get("chain"):
        text = "peak RSS"
    if kind in ("crash", "hang"):
        text = where(outcome.stack)
    text = re.sub(r"\d+\.?\d*(e[-+]?\d+)?", "N", text)
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "S", text)
    return f"{family}|{kind}|{text[:120]}"
