"""Run batch tasks on Dask: an embedded local cluster or an existing scheduler.

Imported only when a batch runs on Dask (``pip install ".[dask]"``). Each task is
:func:`run_task` on one worker; records come back as tasks finish, largest inputs
first. A task past ``--timeout`` is cancelled and its worker restarted; Ctrl-C
cancels everything and closes the cluster without Dask's output on the terminal.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import signal
import threading
import time
import uuid
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from typing import Any

from playnano.batch.engine import Job, Progress, largest_first
from playnano.batch.isolate import failed_record, timed_out_message
from playnano.errors import EngineError
from playnano.run import RunSettings, run_one

#: Seconds between checks of running tasks' clocks while none finishes.
_POLL_S = 0.5
#: Seconds a worker's nanny has to stop and restart it after a timeout.
_RESTART_TIMEOUT_S = 60


def run_task(
    input_path: str,
    out_dir: str,
    settings: RunSettings,
    command: Mapping[str, Any] | None,
    topic: str,
    ticking: bool = False,
) -> dict[str, Any]:
    """:func:`~playnano.run.run_one` on a Dask worker, telling the client on ``topic``.

    Logs ``["start", input, worker address]`` as it starts (the client's time
    limit counts from then) and, with ``ticking``, its progress (stage ends, and
    frames within a stage, throttled) as ``["progress", input, done, total]``
    (``Worker.log_event``), which the client's progress bar subscribes to. Blocks
    or memory is chosen against the worker's own share of memory
    (:func:`worker_memory`).
    """
    from distributed import get_worker

    worker = get_worker()
    worker.log_event(topic, ["start", input_path, worker.address])
    stages = None
    if ticking:

        def stages(done: int, total: int) -> None:
            worker.log_event(topic, ["progress", input_path, done, total])

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
    timeout_s: float = 0.0,
    connected: Callable[[], None] | None = None,
) -> Generator[dict[str, Any], None, None]:
    """Run the jobs on a Dask cluster; yield records in the order they finish.

    With ``scheduler`` the jobs go to that cluster; otherwise an embedded
    ``LocalCluster`` of ``workers`` single-threaded worker processes is started and
    shut down here. The largest inputs are started first (:func:`largest_first`).
    ``progress`` receives the workers' stage events (on the client's event-loop
    thread). A task running longer than ``timeout_s`` (0: no limit) is cancelled,
    recorded as failed ("timed out after N s"), and its worker restarted
    (:func:`replace_worker`), since the thread running it cannot be stopped.
    ``connected()`` is called once the cluster is reached (or started).
    """
    if not _verbose():  # the report records what they would say; -v shows them
        logging.getLogger("distributed").setLevel(logging.ERROR)
    cluster = None
    stopped = contextlib.ExitStack()
    try:
        client, cluster = _connect(scheduler, workers)
        if connected is not None:
            connected()
        with client:
            topic = f"playnano-batch-{uuid.uuid4().hex}"
            started: dict[str, tuple[float, str]] = {}

            def on_event(event: Any) -> None:  # on the client's event-loop thread
                kind, key, *rest = event[1]
                if kind == "start":
                    started[key] = (time.monotonic(), rest[0])
                elif progress is not None:
                    progress(key, *rest)

            client.subscribe_topic(topic, on_event)
            finished: queue.Queue[Any] = queue.Queue()
            # only unfinished tasks are held here: a result fetched is released,
            # so a worker restarted after a timeout loses nothing that is done
            pending: dict[Any, Job] = {}
            for j, size in largest_first(jobs):
                fut = client.submit(
                    run_task,
                    j.input,
                    j.out_dir,
                    j.settings,
                    command,
                    topic,
                    progress is not None,
                    pure=False,
                    priority=size,
                )
                fut.add_done_callback(finished.put)
                pending[fut] = j
            del fut
            try:
                while pending:
                    yield from _records(_finished(finished), pending)
                    if timeout_s > 0:
                        yield from _stop_overdue(client, pending, started, timeout_s)
            except BaseException:  # Ctrl-C, or the batch closed this generator
                stopped.enter_context(_quiet_shutdown())
                raise
            finally:
                client.cancel(list(pending), force=True)
                client.unsubscribe_topic(topic)
    finally:
        with stopped:
            if cluster is not None:
                cluster.close()


def _finished(finished: queue.Queue[Any]) -> list[Any]:
    """The futures finished so far: waits up to :data:`_POLL_S` for the first."""
    try:
        done = [finished.get(timeout=_POLL_S)]
    except queue.Empty:
        return []
    while True:
        try:
            done.append(finished.get_nowait())
        except queue.Empty:
            return done


def _records(done: list[Any], pending: dict[Any, Job]) -> list[dict[str, Any]]:
    """The records of the ``done`` futures still ``pending`` (then no longer held)."""
    records = []
    for fut in done:
        job = pending.pop(fut, None)
        if job is None:  # cancelled after its time ran out: recorded already
            continue
        try:
            records.append(dict(fut.result()))
        except Exception as exc:  # a worker died (KilledWorker, lost)
            why = f"{type(exc).__name__}: {exc}".splitlines()[0]
            records.append(
                failed_record(job.input, job.settings, f"worker failed: {why}", None)
            )
    done.clear()
    return records


def _stop_overdue(
    client: Any,
    pending: dict[Any, Job],
    started: Mapping[str, tuple[float, str]],
    timeout_s: float,
) -> Iterator[dict[str, Any]]:
    """Cancel the tasks running longer than ``timeout_s``; yield their records."""
    now = time.monotonic()
    for fut, job in list(pending.items()):
        began = started.get(job.input)
        if began is None or now - began[0] < timeout_s or fut.done():
            continue  # still queued, within its time, or its result is coming
        del pending[fut]
        client.cancel([fut], force=True)
        record = failed_record(
            job.input,
            job.settings,
            timed_out_message(job.input, timeout_s),
            now - began[0],
        )
        note = replace_worker(client, began[1])
        if note:
            record["warnings"] = [note]
        yield record


def replace_worker(client: Any, address: str) -> str | None:
    """Restart the worker at ``address`` (its nanny starts a fresh process).

    Returns a note when that could not be done (a worker without a nanny cannot be
    restarted: it stays busy until what it runs ends).
    """
    try:
        status = client.restart_workers(
            [address], timeout=_RESTART_TIMEOUT_S, raise_for_error=False
        ).get(address)
    except Exception as exc:  # an older scheduler, a lost connection
        status = f"{type(exc).__name__}: {exc}".splitlines()[0]
    if status == "OK":
        return None
    return f"the worker that ran it ({address}) could not be restarted ({status})"
