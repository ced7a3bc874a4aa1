"""Replay every case the fuzzer found, through every door into the file.

Each case runs in a forked child under the fuzzer's limits (CPU seconds, address
space) through ``read``, ``read_lazy`` (every frame, in and out of order),
``inspect``, ``channels`` and ``check``, with the same verdict: no crash, hang,
memory blow-up, stray exception or warning, doors that agree with each other, and
every error message one line naming the file. Cases still failing carry
their ``xfail`` reason in ``corpus/index.json`` (strict: a fix makes them fail loudly
until the mark is removed).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fuzz import corpus, runner

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork"), reason="the fuzz replay forks each case (POSIX only)"
)

INDEX = corpus.read_index()


def _params() -> list:
    params = []
    for entry in corpus.entries():
        reason = INDEX.get(entry.name, {}).get("xfail")
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(entry, marks=marks, id=entry.name))
    return params


@pytest.fixture(scope="module")
def warm() -> None:
    runner.preload()


@pytest.mark.parametrize("entry", _params())
def test_found_case_is_handled(entry: Path, tmp_path: Path, warm: None) -> None:
    case = corpus.materialise(entry, tmp_path)
    if case is None:
        pytest.skip(f"{entry.name}: its real seed is not in the test data folder")
    outcome = runner.run_case(case)
    found = runner.verdict(case, outcome, corpus.input_bytes(case))
    assert found is None, f"{entry.name}: {found[0]}: {found[1]} ({outcome.result})"


def test_every_case_is_indexed_and_small() -> None:
    names = {e.name for e in corpus.entries()}
    assert names == set(INDEX), "corpus/index.json and the corpus files disagree"
    for entry in corpus.entries():
        assert entry.stat().st_size < corpus.MAX_BYTES, entry.name


def test_the_verdict_catches_each_failure_kind(tmp_path: Path) -> None:
    """The replay would not pass a crash, hang, stray exception or bad message."""
    case = tmp_path / "x.asd"
    case.write_bytes(b"\0" * 10)
    crash = runner.Outcome(signal=11)
    hang = runner.Outcome(signal=24)  # SIGXCPU
    exc = runner.Outcome(
        result={"status": "exception", "type": "KeyError", "message": "k"}
    )
    multi = runner.Outcome(result=_error("x.asd: a\nb"))
    anon = runner.Outcome(result=_error("bad"))
    mem = runner.Outcome(result={"status": "ok"}, rss_growth=1 << 40)
    warn = runner.Outcome(
        result={"status": "ok", "warnings": ["RuntimeWarning: overflow"]}
    )
    kinds = [
        runner.verdict(case, o, 10) for o in (crash, hang, exc, multi, anon, mem, warn)
    ]
    assert [k[0] if k else None for k in kinds] == [
        "crash",
        "hang",
        "exception",
        "message",
        "message",
        "memory",
        "warning",
    ]
    good = runner.Outcome(result=_error("x.asd: bad"))
    assert runner.verdict(case, good, 10) is None
    read = {"shape": [2, 3, 4], "frames": ["a", "b"]}
    other = {**read, "frames": ["a", "c"], "disorder": None}
    same = {**read, "disorder": None}
    wrong = {"shape": [5, 3, 4]}
    for doors, fine in (
        ({"read": read, "read_lazy": same, "inspect": {"shape": [2, 3, 4]}}, True),
        ({"read": read, "read_lazy": other}, False),
        ({"read": read, "read_lazy": {**same, "disorder": "array 0 frame 1"}}, False),
        ({"read": read, "inspect": wrong}, False),
    ):
        outcome = runner.Outcome(result={"status": "ok", "doors": doors})
        found = runner.verdict(case, outcome, 10)
        assert (found is None) == fine, (doors, found)
        assert fine or found[0] == "partial"
    lazy_only = {"status": "error", "door": "read", "doors": {"read_lazy": same}}
    outcome = runner.Outcome(result={**_error("x.asd: cut"), **lazy_only})
    assert runner.verdict(case, outcome, 10)[0] == "partial"


def _error(message: str) -> dict:
    return {
        "status": "error",
        "type": "ReadError",
        "message": message,
        "messages": [message],
    }


def test_a_real_crash_and_hang_are_caught(tmp_path: Path, warm: None) -> None:
    """The forked runner sees a segfault and a CPU-bound loop for what they are."""
    import signal

    import playnano.readers

    case = tmp_path / "x.asd"
    case.write_bytes(b"\0" * 10)
    original = playnano.readers.load

    def crash(path: Path) -> None:
        os.kill(os.getpid(), signal.SIGSEGV)

    def spin(path: Path) -> None:
        while True:
            pass

    try:
        playnano.readers.load = crash  # type: ignore[assignment]
        kind, detail = runner.verdict(case, runner.run_case(case, door="load"), 10)
        assert kind == "crash" and "SIGSEGV in test_corpus.py:crash" in detail
        playnano.readers.load = spin  # type: ignore[assignment]
        outcome = runner.run_case(case, door="load", cpu_s=1)
        kind, detail = runner.verdict(case, outcome, 10)
        assert kind == "hang" and "test_corpus.py:spin" in detail
    finally:
        playnano.readers.load = original
