"""Open a door into a file in a forked child, under CPU, memory and wall-clock limits.

What :class:`~playnano.testing.ReaderConformance` and the fuzzer (``python -m
tests.fuzz``) run for every hostile file: the parent has imported playnano and its
readers' libraries once; each run forks, the child sets ``RLIMIT_AS`` and
``RLIMIT_CPU``, opens one door (:data:`DOORS`) with every warning recorded, writes
one JSON result to a pipe and leaves with ``os._exit``. The parent waits (killing
the child after a wall-clock limit), reads the child's peak RSS from ``wait4`` and
:func:`verdict` classifies the outcome. POSIX only (``os.fork``, ``resource``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Failure kinds, in the order reports list them.
KINDS = ("crash", "hang", "memory", "exception", "partial", "message", "warning")
CPU_SECONDS = 3
MEMORY_BYTES = 2 << 30  # address space a child may add to the forked parent
RSS_FLOOR = 256 << 20  # peak RSS growth always allowed
RSS_PER_INPUT_BYTE = 32  # ...plus this many bytes per byte of input


def _digest(frames: Any) -> list[str]:
    """A SHA-1 of each frame's bytes (comparing doors without keeping frames)."""
    import hashlib

    import numpy as np

    return [hashlib.sha1(np.ascontiguousarray(f).tobytes()).hexdigest() for f in frames]


def _load(path: Path) -> dict[str, Any]:
    from playnano.readers import load

    stack = load(path)
    return {"shape": list(stack.data.shape), "frames": _digest(stack.data)}


def _lazy(path: Path) -> dict[str, Any]:
    """Open lazily and read every frame of every array, in order, then backwards.

    ``frames`` are the data's frames read in order; ``disorder`` names the first
    frame that read differently out of order (None when none did).
    """
    from playnano.readers import load

    with load(path, lazy=True) as stack:
        arrays = [stack.data, *stack.processed.values(), *stack.masks.values()]
        frames: list[str] = []
        disorder = None
        for k, arr in enumerate(arrays):
            ordered = _digest(arr)
            frames = frames or ordered
            for i in reversed(range(len(arr))):
                if disorder is None and _digest([arr[i]])[0] != ordered[i]:
                    disorder = f"array {k} frame {i}"
        return {
            "shape": list(stack.data.shape),
            "lazy": stack.is_lazy,
            "frames": frames,
            "disorder": disorder,
        }


def _inspect(path: Path) -> dict[str, Any]:
    from playnano.info import inspect

    return {"shape": list(inspect(path).data.shape)}


def _channels(path: Path) -> dict[str, Any]:
    from playnano.readers import available_channels

    return {"channels": available_channels(path)}


def _check(path: Path) -> dict[str, Any]:
    from playnano.info import check

    return {"problems": len(check(path))}


#: The doors into a file, each as a function of its path (the core's entry points).
DOORS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "read": _load,
    "read_lazy": _lazy,
    "inspect": _inspect,
    "channels": _channels,
    "check": _check,
}


def preload() -> None:
    """Import what the readers use, so a forked child starts warm."""
    import importlib

    import playnano.info
    import playnano.readers
    from playnano.plugins.registry import readers

    for name in ("h5py", "tifffile", "playnano.formats"):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    for entry in readers().entries():
        entry.obj  # noqa: B018  (resolves the plugin object)
    playnano.readers.load  # noqa: B018
    playnano.info.inspect  # noqa: B018


def _chain(exc: BaseException) -> list[str]:
    names = []
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        names.append(type(cur).__name__)
        cur = cur.__cause__ or cur.__context__
    return names


def _statm(field_index: int) -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[field_index]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _declared(path: Path, doors: list[str]) -> list[str]:
    """``doors`` without ``read_lazy`` and ``check`` when the file's reader does not
    declare them (their defaults repeat ``read``, or refuse); every door when no
    reader takes the file (each door then says so)."""
    from playnano.plugins.reader import declared_doors
    from playnano.readers import reader_for

    try:
        has = set(declared_doors(reader_for(path).obj))
    except Exception:
        return doors
    return [d for d in doors if d not in ("read_lazy", "check") or d in has]


def _child(
    doors: list[str], path: Path, cpu_s: int, mem: int, stack_fd: int | None
) -> dict[str, Any]:
    """Open ``doors`` of ``path`` in this (forked) process, under limits."""
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

    from playnano.errors import PlaynanoError, PlaynanoWarning

    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu_now = int(used.ru_utime + used.ru_stime) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_now + cpu_s, cpu_now + cpu_s + 2))
    if mem:
        limit = _statm(0) + mem
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    out: dict[str, Any] = {"status": "ok", "doors": {}}
    messages: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for door in doors:
            try:
                out["doors"][door] = DOORS[door](path)
            except PlaynanoError as exc:
                messages.append(str(exc))
                if out["status"] == "ok":
                    out.update(status="error", type=type(exc).__name__)
                    out.update(message=str(exc), chain=_chain(exc), door=door)
            except BaseException as exc:  # (anything else is the finding)
                out.update(status="exception", type=type(exc).__name__, door=door)
                out["message"] = str(exc)[:2000]
                out["chain"] = _chain(exc)
                out["traceback"] = traceback.format_exc()[-3000:]
                break
    out["messages"] = messages
    out["warnings"] = [
        f"{w.category.__name__}: {str(w.message)[:300]}"
        for w in caught
        if not issubclass(w.category, PlaynanoWarning)
    ]
    return out


@dataclass
class Outcome:
    """What happened to one run."""

    result: dict[str, Any] = field(default_factory=dict)
    signal: int | None = None
    timed_out: bool = False
    rss_growth: int = 0
    seconds: float = 0.0
    stack: str = ""  # the Python stack faulthandler dumped at a crash or a limit


def run_doors(
    path: Path,
    doors: list[str] | tuple[str, ...] = ("read",),
    *,
    cpu_s: int = CPU_SECONDS,
    wall_s: float | None = None,
    mem: int = MEMORY_BYTES,
    only_declared: bool = False,
) -> Outcome:
    """Open ``doors`` of ``path`` one after the other in a forked child, under limits.

    ``only_declared`` leaves out ``read_lazy`` and ``check`` when the file's reader
    does not declare them (their defaults repeat ``read`` or report ``inspect``).
    """
    if only_declared:
        doors = _declared(path, list(doors))
    wall = wall_s if wall_s is not None else 4 * cpu_s + 10
    rss_before = _statm(1)
    read_fd, write_fd = os.pipe()
    stack_r, stack_w = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover  (the child)
        code = 0
        try:
            os.close(read_fd)
            os.close(stack_r)
            result = _child(list(doors), path, cpu_s, mem, stack_w)
            view = memoryview(json.dumps(result, default=str).encode())
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
    status, rusage, delay = 0, None, 0.002
    while True:
        chunks += _drain(read_fd)
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
    chunks += _drain(read_fd)
    os.close(read_fd)
    outcome.stack = b"".join(_drain(stack_r)).decode("utf-8", "replace")
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


def _drain(fd: int) -> list[bytes]:
    chunks = []
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    return chunks


def where(stack: str) -> str:
    """``innermost function < innermost playnano function`` of a faulthandler dump."""
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


def input_bytes(path: Path) -> int:
    """The bytes a file holds, or a folder's files together."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def doors_disagree(doors: dict[str, Any], failed: str | None) -> str | None:
    """How the doors opened tell different stories about one file, or None.

    ``read`` and ``read_lazy`` must give the same frames (in order and out of
    order) or both refuse the file; ``inspect`` must give the shape ``read`` gives.
    """
    read, lazy, info = (doors.get(k) for k in ("read", "read_lazy", "inspect"))
    if lazy is not None and lazy.get("disorder"):
        return f"read_lazy gives {lazy['disorder']} differently out of order"
    if read is not None and lazy is not None and read["frames"] != lazy["frames"]:
        return f"read_lazy gives other frames than read ({lazy['shape']})"
    if lazy is not None and read is None and failed == "read":
        return "read refuses the file but read_lazy reads every frame of it"
    if read is not None and info is not None and read["shape"] != info["shape"]:
        return f"inspect says {info['shape']}; read gives {read['shape']}"
    return None


def verdict(path: Path, outcome: Outcome, size: int) -> tuple[str, str] | None:
    """``(kind, detail)`` when the outcome is a failure, else ``None``.

    A pass is a result, or a ``PlaynanoError`` whose message is one line naming the
    file (or, for a folder, the folder or one of its files), at every door opened;
    with no stray warnings and peak memory within ``RSS_FLOOR +
    RSS_PER_INPUT_BYTE * size``.
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
        return "crash", "the child died without a result"
    door = f" at {res['door']}" if res.get("door") else ""
    if "MemoryError" in res.get("chain", []):
        context = f"{res['type']}: {res['message'][:200]}"
        return "memory", f"MemoryError under the address-space limit{door} ({context})"
    budget = RSS_FLOOR + RSS_PER_INPUT_BYTE * size
    if outcome.rss_growth > budget:
        mb = outcome.rss_growth / 2**20
        return "memory", f"peak RSS grew {mb:.0f} MB for a {size}-byte input"
    if res["status"] == "exception":
        return "exception", f"{res['type']}{door}: {res['message'][:300]}"
    disagree = doors_disagree(res.get("doors", {}), res.get("door"))
    if disagree:
        return "partial", disagree
    for msg in res.get("messages", []):
        if "\n" in msg.strip() or "\r" in msg:
            return "message", f"{res['type']}{door} has {msg.count(chr(10)) + 1} lines"
        if not any(name in msg for name in names_of(path)):
            return "message", f"a message does not name the file: {msg[:200]}"
    if res.get("warnings"):
        return "warning", res["warnings"][0]
    return None
