"""The HDF5 metadata walk in another process: what a time limit can stop.

The file that makes libhdf5 loop for ever (a flipped bit in a global heap, found by
the fuzzer) is rebuilt from the real ``.h5-jpk`` file and its recipe; the walk of it
is stopped at the limit, in a forked walker (one thread) and in the helper process
(threads running), and the verdict is remembered.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np
import pytest

from playnano.errors import ReadError
from playnano.readers.guarded import hdf5_probe
from tests.fuzz import corpus
from tests.readers.test_h5jpk import _write_scan

LOOPS = corpus.CORPUS / "h5-jpk-1978084d2c.h5-jpk"

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork"), reason="the forked walker is POSIX (the helper is not)"
)


@pytest.fixture(autouse=True)
def forget() -> Iterator[None]:
    """No verdict and no helper (whose reader thread would count) across tests."""
    hdf5_probe._verdicts.clear()
    yield
    hdf5_probe._verdicts.clear()
    hdf5_probe._stop_at_exit()


@contextmanager
def another_thread() -> Iterator[None]:
    """A second thread alive: the probe must use the helper, not a fork."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@pytest.fixture
def looping(afm_data: Path, tmp_path: Path) -> Path:
    case = corpus.materialise(LOOPS, tmp_path)
    assert case is not None
    return case


def test_an_honest_file_passes_once_and_is_remembered(tmp_path: Path, monkeypatch):
    path = tmp_path / "scan.h5-jpk"
    _write_scan(path, times=True)
    assert hdf5_probe.walk(str(path)) == {"ok": True}
    asked = []
    real = hdf5_probe._ask
    monkeypatch.setattr(hdf5_probe, "_ask", lambda p, s: asked.append(p) or real(p, s))
    hdf5_probe.probe(path)
    hdf5_probe.probe(path)
    assert asked == [path]  # walked once
    path.write_bytes(path.read_bytes())  # a new modification time: walked again
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    hdf5_probe.probe(path)
    assert asked == [path, path]


@pytest.mark.parametrize("threads", [False, True], ids=["forked", "helper"])
def test_a_walk_that_loops_is_stopped_at_the_limit(
    looping: Path, threads: bool, monkeypatch
):
    if not threads:  # as on the command line (a test session may hold threads)
        monkeypatch.setattr(hdf5_probe, "_can_fork", lambda: True)
    before = _children()  # earlier tests may have left the helper running
    start = time.monotonic()
    with another_thread() if threads else _nothing():
        assert hdf5_probe._can_fork() is not threads
        with pytest.raises(ReadError) as err:
            hdf5_probe.probe(looping, seconds=1.0)
    assert time.monotonic() - start < 8  # the limit, and a helper's start
    assert str(err.value) == (
        f"{looping}: reading its HDF5 metadata did not finish within 1 s; "
        "the file is damaged"
    )
    again = time.monotonic()
    with pytest.raises(ReadError, match="did not finish within 1 s"):
        hdf5_probe.probe(looping, seconds=1.0)  # remembered: refused at once
    assert time.monotonic() - again < 0.5
    if not threads:  # the stuck walker was killed and reaped: no new child is left
        assert _children() <= before


def _children() -> set[int]:
    """This process's children, zombies included (Linux's /proc ``children``)."""
    tasks = Path(f"/proc/{os.getpid()}/task")
    return {
        int(c) for t in tasks.iterdir() for c in (t / "children").read_text().split()
    }


def test_a_forked_walk_of_an_honest_file_takes_milliseconds(tmp_path: Path):
    """The walker is polled every few milliseconds, not every second."""
    path = tmp_path / "scan.h5-jpk"
    _write_scan(path)
    start = time.monotonic()
    assert hdf5_probe._fork_walk(path, 5.0) == {"ok": True}
    assert time.monotonic() - start < 0.5


def test_the_helper_is_replaced_after_a_hang(looping: Path, tmp_path: Path):
    good = tmp_path / "scan.h5-jpk"
    _write_scan(good)
    with another_thread():
        with pytest.raises(ReadError):
            hdf5_probe.probe(looping, seconds=1.0)
        assert hdf5_probe._helper is None  # killed: it was stuck in C
        hdf5_probe.probe(good)
        helper = hdf5_probe._helper
        assert helper is not None and helper.proc.poll() is None


def test_a_walker_that_crashes_is_a_read_error(tmp_path: Path, monkeypatch):
    path = tmp_path / "scan.h5-jpk"
    _write_scan(path)
    monkeypatch.setattr(  # as libhdf5 does on some damaged files
        hdf5_probe, "walk", lambda p: os.kill(os.getpid(), signal.SIGSEGV)
    )
    monkeypatch.setattr(hdf5_probe, "_can_fork", lambda: True)
    with pytest.raises(ReadError) as err:
        hdf5_probe.probe(path)
    assert str(err.value) == (
        f"{path}: the HDF5 library crashed reading its metadata (signal 11); "
        "the file is damaged"
    )


def test_the_readers_open_through_the_probe(looping: Path):
    """Every door of the .h5-jpk reader meets the limit (the strict xfail before)."""
    from playnano.info import inspect
    from playnano.readers import available_channels, load

    hdf5_probe.PROBE_SECONDS, limit = 1.0, hdf5_probe.PROBE_SECONDS
    try:
        for door in (load, inspect, available_channels):
            with pytest.raises(ReadError, match="did not finish within 1 s"):
                door(looping)
    finally:
        hdf5_probe.PROBE_SECONDS = limit


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def test_the_walk_reads_variable_length_values_and_passes_over_errors(tmp_path):
    """Values in the global heap are read (where the fuzzer's file loops);
    links to nowhere or to other files, and a name that is not UTF-8, do not
    stop the walk: a reader reports them in its own words."""
    path = tmp_path / "odd.h5"
    with h5py.File(path, "w") as f:
        f.attrs["note"] = "variable-length text"
        f.attrs.create(b"\xffname", "text under a name that is not UTF-8")
        f["texts"] = np.array(["a", "bb"], dtype=h5py.string_dtype())
        f.create_dataset("flat", data=np.zeros(4))  # contiguous
        f.create_dataset("chunked", data=np.zeros(4), chunks=(2,))
        f["nowhere"] = h5py.SoftLink("/no/such")
        f["elsewhere"] = h5py.ExternalLink("missing.h5", "/x")
        layout = h5py.VirtualLayout(shape=(4,), dtype="f8")
        layout[:] = h5py.VirtualSource(".", "flat", shape=(4,))
        f.create_virtual_dataset("virtual", layout)
    assert hdf5_probe.walk(str(path)) == {"ok": True}
    assert hdf5_probe.walk(str(tmp_path / "missing.h5")) == {"ok": True}


def test_more_objects_than_any_honest_file_are_refused(tmp_path, monkeypatch):
    path = tmp_path / "many.h5"
    with h5py.File(path, "w") as f:  # the root and two groups: 3 objects
        f.create_group("a")
        f.create_group("b")
    monkeypatch.setattr(hdf5_probe, "MAX_OBJECTS", 3)
    assert hdf5_probe.walk(str(path)) == {"ok": True}
    monkeypatch.setattr(hdf5_probe, "MAX_OBJECTS", 2)
    verdict = hdf5_probe.walk(str(path))
    assert verdict == {"refuse": "it holds more than 2 HDF5 objects"}
    monkeypatch.setattr(hdf5_probe, "_can_fork", lambda: True)  # the limit above
    with pytest.raises(ReadError) as err:  # in a forked walker, as a door meets it
        hdf5_probe.probe(path)
    assert str(err.value) == f"{path}: refused: it holds more than 2 HDF5 objects"


def test_the_helper_loop_answers_one_line_per_path(tmp_path, monkeypatch):
    """The helper's loop, run here: a JSON path per line in, a verdict per line
    out, SIGINT left to the parent."""
    good = tmp_path / "scan.h5-jpk"
    _write_scan(good)
    requests = "".join(json.dumps(str(p)) + "\n" for p in (good, tmp_path / "no.h5"))
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdin", io.StringIO(requests))
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(hdf5_probe, "_limit_memory", lambda: None)  # not here
    handler = signal.getsignal(signal.SIGINT)
    try:
        hdf5_probe.serve()
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, handler)
    assert out.getvalue() == '{"ok": true}\n{"ok": true}\n'


@pytest.mark.parametrize(
    ("answer", "limit", "why"),
    [
        (None, 1.5, "reading its HDF5 metadata did not finish within 1.5 s; the file "
         "is damaged"),
        (None, 5.0, "reading its HDF5 metadata did not finish within 5 s; the file "
         "is damaged"),
        ({"crashed": -11}, 5.0, "the HDF5 library crashed reading its metadata "
         "(signal 11); the file is damaged"),
        ({"crashed": 3}, 5.0, "the HDF5 library crashed reading its metadata "
         "(exit 3); the file is damaged"),
        ({"crashed": 0}, 5.0, "the HDF5 library crashed reading its metadata "
         "(exit 0); the file is damaged"),
        ({"refuse": "it holds more than 2 HDF5 objects"}, 5.0,
         "refused: it holds more than 2 HDF5 objects"),
        ({}, 5.0, "refused: its HDF5 metadata walk failed"),
        ({"ok": False}, 5.0, "refused: its HDF5 metadata walk failed"),
        ({"ok": True}, 5.0, None),
    ],
)  # fmt: skip
def test_each_verdict_in_words(answer, limit, why) -> None:
    assert hdf5_probe._refusal(Path("f.h5"), answer, limit) == why


def test_the_remembered_verdicts_are_bounded(tmp_path, monkeypatch) -> None:
    """The least recently asked file is forgotten first, and walked again."""
    paths = []
    for name in "abc":
        path = tmp_path / f"{name}.h5-jpk"
        _write_scan(path)
        paths.append(path)
    a, b, c = paths
    asked = []
    real = hdf5_probe._ask
    monkeypatch.setattr(hdf5_probe, "_ask", lambda p, s: asked.append(p) or real(p, s))
    monkeypatch.setattr(hdf5_probe, "_VERDICTS_MAX", 2)
    for path in (a, b, a, c):  # c pushes out b, asked longer ago than a
        hdf5_probe.probe(path)
    assert asked == [a, b, c]
    assert len(hdf5_probe._verdicts) == 2
    hdf5_probe.probe(a)
    hdf5_probe.probe(b)
    assert asked == [a, b, c, b]


def test_the_helper_loop_passes_on_refusals_and_unreadable_requests(
    tmp_path, monkeypatch
):
    """A refusal reaches the parent as the walk gave it; a request line that is
    not JSON is not the walk's to judge."""
    many = tmp_path / "many.h5"
    with h5py.File(many, "w") as f:
        f.create_group("a")
        f.create_group("b")
    monkeypatch.setattr(hdf5_probe, "MAX_OBJECTS", 2)
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(str(many)) + "\n{\n"))
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(hdf5_probe, "_limit_memory", lambda: None)  # not here
    handler = signal.getsignal(signal.SIGINT)
    try:
        hdf5_probe.serve()
    finally:
        signal.signal(signal.SIGINT, handler)
    assert out.getvalue() == (
        '{"refuse": "it holds more than 2 HDF5 objects"}\n{"ok": true}\n'
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc (Linux)")
def test_the_walker_may_add_one_gib_to_what_it_holds():
    """In a forked child (the limit cannot be lifted again): the address-space
    limit is the child's mapped size when it is set, plus HELPER_MEMORY_BYTES."""
    import resource

    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover  (the child)
        try:
            os.close(read_fd)
            with open("/proc/self/statm") as fh:
                before = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            hdf5_probe._limit_memory()
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            os.write(write_fd, json.dumps([before, soft, hard]).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as fh:
        before, soft, hard = json.loads(fh.read())
    os.waitpid(pid, 0)
    assert soft == hard
    added = soft - before
    assert (
        hdf5_probe.HELPER_MEMORY_BYTES
        <= added
        < hdf5_probe.HELPER_MEMORY_BYTES + (64 << 20)
    )


def _python(code: str, timeout: float = 60) -> str:
    """Run ``code`` in a fresh interpreter (one thread, as the command line)."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux")
def test_a_command_line_process_walks_in_a_forked_child():
    code = "from playnano.readers.guarded import hdf5_probe as p; print(p._can_fork())"
    assert _python(code) == "True\n"


def test_the_helper_is_stopped_at_rest_when_its_process_ends(tmp_path, monkeypatch):
    """At exit the helper's input is closed and it ends on its own (exit 0, not
    killed); it runs with one BLAS/OpenMP thread whatever the parent has."""
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    path = tmp_path / "scan.h5-jpk"
    _write_scan(path)
    with another_thread():
        hdf5_probe.probe(path)
    helper = hdf5_probe._helper
    assert helper is not None and helper.owner == os.getpid()
    if sys.platform.startswith("linux"):
        environ = Path(f"/proc/{helper.proc.pid}/environ").read_bytes().split(b"\0")
        assert b"OPENBLAS_NUM_THREADS=1" in environ
        assert b"OMP_NUM_THREADS=1" in environ
    hdf5_probe._stop_at_exit()
    assert hdf5_probe._helper is None
    assert helper.proc.returncode == 0


def test_a_process_that_used_the_helper_exits_at_once(tmp_path):
    """The helper's reader thread must not keep the interpreter from exiting."""
    path = tmp_path / "scan.h5-jpk"
    _write_scan(path)
    code = (
        "import threading\n"
        "from pathlib import Path\n"
        "from playnano.readers.guarded import hdf5_probe\n"
        "stop = threading.Event()\n"
        "t = threading.Thread(target=stop.wait); t.start()\n"
        f"hdf5_probe.probe(Path({str(path)!r}))\n"
        "assert hdf5_probe._helper is not None\n"
        "stop.set(); t.join()\n"
        "print('probed')\n"
    )
    start = time.monotonic()
    assert _python(code, timeout=30) == "probed\n"
    assert time.monotonic() - start < 20


def _scans(tmp_path: Path, n: int) -> list[Path]:
    paths = [tmp_path / f"scan{i}.h5-jpk" for i in range(n)]
    for path in paths:
        _write_scan(path)
    return paths


def test_one_helper_serves_every_probe(tmp_path):
    first, second = _scans(tmp_path, 2)
    with another_thread():
        hdf5_probe.probe(first)
        helper = hdf5_probe._helper
        hdf5_probe.probe(second)
    assert helper is not None and hdf5_probe._helper is helper
    assert helper.proc.poll() is None


def test_a_helper_that_died_between_probes_is_replaced(tmp_path):
    first, second = _scans(tmp_path, 2)
    with another_thread():
        hdf5_probe.probe(first)
        dead = hdf5_probe._helper
        assert dead is not None
        dead.proc.kill()
        dead.proc.wait()
        hdf5_probe.probe(second)  # walked by a new helper, not refused
        assert hdf5_probe._helper is not None and hdf5_probe._helper is not dead


def test_without_an_interpreter_to_start_the_walk_runs_here(tmp_path, monkeypatch):
    """A frozen application has no Python to start the helper with."""
    many = tmp_path / "many.h5"
    with h5py.File(many, "w") as f:
        f.create_group("a")
        f.create_group("b")
    monkeypatch.setattr(hdf5_probe, "MAX_OBJECTS", 2)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python"))
    with another_thread(), pytest.raises(ReadError) as err:
        hdf5_probe.probe(many)
    assert hdf5_probe._helper is None
    assert str(err.value) == f"{many}: refused: it holds more than 2 HDF5 objects"
