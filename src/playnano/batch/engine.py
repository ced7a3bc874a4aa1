"""Run batch tasks one after another or on Dask; hand each record back as it finishes.

Each task is :func:`playnano.run.run_one` on one input: paths and plain settings in,
a plain record out. :func:`run_serial` runs them here, each in a child process that
a time limit can stop (:mod:`~playnano.batch.isolate`) when ``--timeout`` is in
force; :func:`~playnano.batch.dask_engine.run_dask` runs them on Dask (``pip
install ".[dask]"``), imported only when a batch runs on it.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable, Generator, Mapping, Sequence
from pathlib import Path
from typing import Any

from playnano.batch.inputs import Task
from playnano.io.atomic import TMP_PREFIX
from playnano.run import RunSettings, run_one

#: ``progress(input, done, total)``: the fraction ``done / total`` of ``input`` is done.
Progress = Callable[[str, int, int], None]

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
#: Seconds an input may run by default before it is stopped (``--timeout``): far
#: more than any sound input takes here, and a bound on a damaged one.
DEFAULT_TIMEOUT_S = 3600.0
#: Without ``--workers``, an embedded Dask cluster is started only for at least
#: this many bytes of input: starting and stopping its workers takes 2-3 s on 2
#: cores, and on 2 workers a batch runs about 1.4x faster (docs/batch.rst), so
#: less work than this runs sooner one input after another.
CLUSTER_MIN_BYTES = 128 * 2**20


def dask_available() -> bool:
    """True when ``dask.distributed`` can be imported."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


@dataclasses.dataclass(frozen=True)
class Engine:
    """How a batch runs its tasks, and why.

    Attributes
    ----------
    name : str
        As the report records it: ``serial``, ``local:N`` or the scheduler address.
    dask : bool
        The tasks run on Dask.
    workers : int
        Local worker processes (0 on an existing cluster).
    reason : str
        One line for the user: the engine and why it was chosen.
    """

    name: str
    dask: bool
    workers: int
    reason: str


def _size(n_bytes: int) -> str:
    return (
        f"{n_bytes / 2**20:.1f} MB" if n_bytes < 2**30 else f"{n_bytes / 2**30:.1f} GB"
    )


def choose_engine(
    jobs: Sequence[Job], *, workers: int | None, scheduler: str | None
) -> Engine:
    """Dask or serial for ``jobs``: what the user asked, else what finishes sooner.

    A scheduler address means Dask. Otherwise serial for a single input, one
    worker, or without Dask installed; without ``--workers``, also when the inputs
    hold less than :data:`CLUSTER_MIN_BYTES`, too little for a cluster's start-up
    to pay for itself.
    """
    if scheduler:
        return Engine(scheduler, True, 0, f"running on the Dask scheduler {scheduler}")
    n = workers or os.cpu_count() or 1
    if len(jobs) < 2:
        what = "one input" if jobs else "nothing"
        return Engine("serial", False, 1, f"running serially: {what} to process")
    if n == 1:
        why = "--workers 1" if workers == 1 else "one core"
        return Engine("serial", False, 1, f"running serially ({why})")
    if not dask_available():
        from playnano.plugins.install_hints import extra_hint

        return Engine(
            "serial",
            False,
            1,
            "dask is not installed: running serially (to run inputs side by side "
            f"on {n} workers: {extra_hint('dask')})",
        )
    if workers is None:
        total = sum(input_bytes(j.input) for j in jobs)
        if total < CLUSTER_MIN_BYTES:
            return Engine(
                "serial",
                False,
                1,
                f"running serially: {len(jobs)} inputs, {_size(total)} in all, "
                f"finish sooner than {n} Dask workers take to start "
                f"(--workers {n} to use them)",
            )
    return Engine(f"local:{n}", True, n, f"running on Dask: {n} local workers")


@dataclasses.dataclass(frozen=True)
class Job:
    """One task as submitted: plain values only (they cross process boundaries)."""

    input: str
    out_dir: str
    settings: RunSettings


def make_jobs(
    tasks: Sequence[Task], settings: RunSettings, force_overwrite: set[Path]
) -> list[Job]:
    """Jobs for ``tasks``; inputs in ``force_overwrite`` may replace their outputs."""
    jobs = []
    for t in tasks:
        s = settings
        if t.input in force_overwrite and not s.overwrite:
            s = dataclasses.replace(s, overwrite=True)
        jobs.append(Job(str(t.input), str(t.out_dir), s))
    return jobs


def run_serial(
    jobs: Sequence[Job],
    command: Mapping[str, Any] | None,
    progress: Progress | None = None,
    *,
    timeout_s: float = 0.0,
) -> Generator[dict[str, Any], None, None]:
    """Run the jobs one after another.

    With ``timeout_s`` above 0 each runs in a child process
    (:class:`~playnano.batch.isolate.IsolatedRunner`) that is stopped, and
    replaced, when an input takes longer; the input is recorded as failed
    ("timed out after N s"). With 0 they run in this process, with no limit.
    """
    if timeout_s <= 0:
        for job in jobs:
            stages = None if progress is None else _stages_of(job.input, progress)
            yield run_one(job.input, job.out_dir, job.settings, command, stages)
        return
    from playnano.batch.isolate import IsolatedRunner

    runner = IsolatedRunner()
    try:
        for job in jobs:
            stages = None if progress is None else _stages_of(job.input, progress)
            yield runner.run(
                job.input, job.out_dir, job.settings, command, timeout_s, stages
            )
    finally:
        runner.close()


def _stages_of(key: str, progress: Progress) -> Callable[[int, int], None]:
    return lambda done, total: progress(key, done, total)


def input_bytes(path: str) -> int:
    """Bytes on disk of an input: a file's size, or a frame folder's files in all.

    Only an estimate of its work, for ordering; an input that cannot be read is 0
    (it fails in its own task).
    """
    p = Path(path)
    try:
        if p.is_dir():
            return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
        return p.stat().st_size
    except OSError:
        return 0


def largest_first(jobs: Sequence[Job]) -> list[tuple[Job, int]]:
    """Jobs with their input sizes, largest first (ties keep their order).

    Starting the longest tasks first keeps the last worker from finishing alone
    on a big file while the others sit idle (longest-processing-time-first).
    """
    sized = [(j, input_bytes(j.input)) for j in jobs]
    return sorted(sized, key=lambda js: -js[1])


def clean_partials(folders: Sequence[Path]) -> None:
    """Remove staging folders that an interrupted task left in ``folders``."""
    for folder in folders:
        if not folder.is_dir():
            continue
        for p in folder.glob(f"{TMP_PREFIX}*"):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
