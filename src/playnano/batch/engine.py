"""Run batch tasks in this process or on Dask; hand each record back as it finishes.

Each task is :func:`playnano.run.run_one` on one input: paths and plain settings in,
a plain record out. Dask (``pip install "playnano[dask]"``) is imported only here,
when a batch runs on it: an embedded ``LocalCluster`` of worker processes by
default, or an existing scheduler's cluster.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from playnano.batch.inputs import Task
from playnano.io.atomic import TMP_PREFIX
from playnano.run import RunSettings, run_one

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
    }


def run_serial(
    jobs: Sequence[Job], command: Mapping[str, Any] | None
) -> Iterator[dict[str, Any]]:
    """Run the jobs one after another in this process."""
    for job in jobs:
        yield run_one(job.input, job.out_dir, job.settings, command)


def run_dask(
    jobs: Sequence[Job],
    command: Mapping[str, Any] | None,
    *,
    workers: int,
    scheduler: str | None,
) -> Iterator[dict[str, Any]]:
    """Run the jobs on a Dask cluster; yield records in the order they finish.

    With ``scheduler`` the jobs go to that cluster; otherwise an embedded
    ``LocalCluster`` of ``workers`` single-threaded worker processes is started and
    shut down here.
    """
    from distributed import Client, LocalCluster, as_completed

    if not logging.getLogger("playnano").isEnabledFor(logging.INFO):
        logging.getLogger("distributed").setLevel(logging.WARNING)  # -v shows them
    cluster = None
    if scheduler:
        client = Client(scheduler, timeout="30s")
    else:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port: never clashes
        )
        client = Client(cluster)
    try:
        with client:
            futures = {
                client.submit(
                    run_one, j.input, j.out_dir, j.settings, command, pure=False
                ): j
                for j in jobs
            }
            try:
                for fut in as_completed(futures):
                    job = futures[fut]
                    try:
                        yield fut.result()
                    except Exception as exc:  # a worker died (KilledWorker, lost)
                        yield _failed(job, exc)
            finally:
                client.cancel(list(futures), force=True)
    finally:
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
