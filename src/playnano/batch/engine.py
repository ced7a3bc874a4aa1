"""Run batch tasks in this process or on Dask; hand each record back as it finishes.

Each task is :func:`playnano.run.run_one` on one input: paths and plain settings in,
a plain record out. Dask (``pip install "playnano[dask]"``) is imported only here,
when a batch runs on it: an embedded ``LocalCluster`` of worker processes by
default, or an existing scheduler's cluster.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import shutil
import signal
import threading
import uuid
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from playnano.batch.inputs import Task
from playnano.errors import EngineError
from playnano.io.atomic import TMP_PREFIX
from playnano.run import RunSettings, run_one

#: ``progress(input, done, total)``: the fraction ``done / total`` of ``input`` is done.
Progress = Callable[[str, int, int], None]

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
HINT = 'dask is not installed: running serially (pip install "playnano[dask]")'


def dask_available() -> bool:
    """True when ``dask.distributed`` can be imported."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


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


def _failed(job: Job, exc: BaseException) -> dict[str, Any]:
    return {
        "input": job.input,
        "status": "failed",
        "outputs": [],
        "seconds": None,
        "sha256": None,
        "error": f"worker failed: {type(exc).__name__}: {exc}".splitlines()[0],
        "warnings": [],
        "settings": job.settings.fingerprint(),
        "blocks": None,
    }


def run_serial(
    jobs: Sequence[Job],
    command: Mapping[str, Any] | None,
    progress: Progress | None = None,
) -> Generator[dict[str, Any], None, None]:
    """Run the jobs one after another in this process."""
    for job in jobs:
        stages = None
        if progress is not None:
            stages = _stages_of(job.input, progress)
        yield run_one(job.input, job.out_dir, job.settings, command, stages)


def _stages_of(key: str, progress: Progress) -> Callable[[int, int], None]:
    return lambda done, total: progress(key, done, total)


def run_task(
    input_path: str,
    out_dir: str,
    settings: RunSettings,
    command: Mapping[str, Any] | None,
    topic: str | None = None,
) -> dict[str, Any]:
    """:func:`~playnano.run.run_one` on a Dask worker; progress goes to event ``topic``.

    Its progress (stage ends, and frames within a stage, throttled) is logged as
    ``[input, done, total]`` (``Worker.log_event``), which the client's progress
    bar subscribes to. Blocks or memory is chosen against the worker's own share
    of memory (:func:`worker_memory`).
    """
    from distributed import get_worker

    worker = get_worker()
    stages = None
    if topic is not None:

        def stages(done: int, total: int) -> None:
            worker.log_event(topic, [input_path, done, total])

    return run_one(
        input_path,
        out_dir,
        settings,
        command,
        stages,
        available=worker_memory(worker),
    )


def worker_memory(worker: Any) -> int | None:
    """Memory a task on ``worker`` may use: the machine's available memory, capped
    by what the worker's memory limit leaves above its present size.

    Several workers share one machine, and Dask's nanny restarts a worker that
    grows past its limit; weighing blocks against the whole machine's memory would
    let each worker choose memory and together exceed it.
    """
    from playnano.lazy import available_memory

    free = available_memory()
    limit = getattr(getattr(worker, "memory_manager", None), "memory_limit", None)
    if not limit:
        return free
    try:
        used = int(worker.monitor.get_process_memory())
    except Exception:  # an older distributed: count the limit whole
        used = 0
    left = max(int(limit) - used, 0)
    return left if free is None else min(free, left)


#: Environment the nanny would give workers that our tasks run slower with: glibc's
#: fixed trim threshold turns off its growing mmap threshold, so every frame-sized
#: array is a fresh mmap (measured: 30-45 % more time per file, in or out of Dask).
_SLOW_ENVIRON = ("MALLOC_TRIM_THRESHOLD_",)


#: The worker preload that leaves Ctrl-C to the batch (:mod:`worker_setup`).
WORKER_SETUP = "playnano.batch.worker_setup"


@contextlib.contextmanager
def _interrupts_ignored() -> Iterator[None]:
    """SIGINT ignored in this process, so the processes it starts inherit that."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _verbose() -> bool:
    return logging.getLogger("playnano").isEnabledFor(logging.INFO)


def local_cluster(workers: int) -> Any:
    """A ``LocalCluster`` of ``workers`` single-threaded worker processes.

    Workers keep Dask's one-thread BLAS/OpenMP settings (one worker per core) but
    not the malloc trim threshold (:data:`_SLOW_ENVIRON`): they live only as long
    as the batch, so returning memory to the system early buys nothing. They
    ignore Ctrl-C (the batch stops them) and, unless ``-v``, log only errors to
    the terminal they share with the batch.
    """
    import dask
    from distributed import LocalCluster

    key = "distributed.nanny.pre-spawn-environ"
    environ = {
        k: v for k, v in dask.config.get(key, {}).items() if k not in _SLOW_ENVIRON
    }
    with dask.config.set({key: environ}), _interrupts_ignored():
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port: never clashes
            silence_logs=logging.WARNING if _verbose() else logging.CRITICAL,
            preload=[WORKER_SETUP],
        )


#: Loggers of our process that Dask's shutdown after Ctrl-C writes to.
_CLUSTER_LOGGERS = ("distributed", "tornado", "asyncio")


@contextlib.contextmanager
def _quiet_shutdown() -> Iterator[None]:
    """Silence Dask's loggers in this process while a stopped batch closes its cluster.

    Cancelled tasks and closing workers are what the user asked for with Ctrl-C;
    the batch says so in one line, and its report says what finished.
    """
    loggers = [logging.getLogger(name) for name in _CLUSTER_LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


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


def _connect(scheduler: str | None, workers: int) -> tuple[Any, Any]:
    """A client of ``scheduler``, or of a new local cluster (returned too, to close).

    A scheduler that cannot be reached (a wrong address, a cluster that is down) or
    a local cluster that cannot start is an :class:`~playnano.errors.EngineError`.
    """
    from distributed import Client

    if scheduler:
        try:
            return Client(scheduler, timeout="30s"), None
        except (OSError, ValueError, TypeError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise EngineError(
                f"{scheduler}: cannot reach the Dask scheduler ({reason})"
            ) from None
    try:
        cluster = local_cluster(workers)
    except Exception as exc:  # ports, process limits, a broken dask install
        raise EngineError(
            f"cannot start a local Dask cluster of {workers} workers "
            f"({type(exc).__name__}: {exc})".splitlines()[0]
        ) from None
    try:
        return Client(cluster), cluster
    except BaseException:
        cluster.close()
        raise


def run_dask(
    jobs: Sequence[Job],
    command: Mapping[str, Any] | None,
    *,
    workers: int,
    scheduler: str | None,
    progress: Progress | None = None,
) -> Generator[dict[str, Any], None, None]:
    """Run the jobs on a Dask cluster; yield records in the order they finish.

    With ``scheduler`` the jobs go to that cluster; otherwise an embedded
    ``LocalCluster`` of ``workers`` single-threaded worker processes is started and
    shut down here. The largest inputs are started first (:func:`largest_first`).
    ``progress`` receives the workers' stage events (on the client's event-loop
    thread).
    """
    from distributed import as_completed

    if not _verbose():
        logging.getLogger("distributed").setLevel(logging.WARNING)  # -v shows them
    cluster = None
    stopped = contextlib.ExitStack()
    try:
        client, cluster = _connect(scheduler, workers)
        with client:
            topic = None
            if progress is not None:
                topic = f"playnano-batch-{uuid.uuid4().hex}"
                client.subscribe_topic(topic, lambda event: progress(*event[1]))
            futures = {
                client.submit(
                    run_task,
                    j.input,
                    j.out_dir,
                    j.settings,
                    command,
                    topic,
                    pure=False,
                    priority=size,
                ): j
                for j, size in largest_first(jobs)
            }
            try:
                for fut in as_completed(futures):
                    job = futures[fut]
                    try:
                        yield fut.result()
                    except Exception as exc:  # a worker died (KilledWorker, lost)
                        yield _failed(job, exc)
            except BaseException:  # Ctrl-C, or the batch closed this generator
                stopped.enter_context(_quiet_shutdown())
                raise
            finally:
                client.cancel(list(futures), force=True)
                if topic is not None:
                    client.unsubscribe_topic(topic)
    finally:
        with stopped:
            if cluster is not None:
                cluster.close()


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
