"""One input to its outputs as a plain record: a batch task, :func:`run_one`.

Paths and plain settings in, a JSON-ready record out, so no stack, open file or
h5py object crosses a process boundary; the run itself is a plan
(:func:`~playnano.run.plan.plan_run`) carried out by
:func:`~playnano.run.executor.execute`, as for ``playnano process``.
"""

from __future__ import annotations

import contextlib
import time
import traceback
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from playnano.errors import PlaynanoError

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack
    from playnano.run.settings import RunSettings

__all__ = ["Stages", "run_one"]

#: ``stages(done, total)``: the fraction of a run that is finished: ``done`` of its
#: ``total`` stages (the read, each step, each format), or, between stage ends, of
#: stages times frames (:class:`~playnano.progress_ticks.StageTicker`); a batch's
#: progress bar turns them into frames.
Stages = Callable[[int, int], None]


def run_one(
    input_path: str,
    output_folder: str,
    settings: RunSettings,
    command: Mapping[str, Any] | None = None,
    progress: Stages | None = None,
    *,
    available: int | None = None,
) -> dict[str, Any]:
    """Turn one input into its outputs; return a plain record, never raise for it.

    The record holds ``input``, ``status`` (``ok``, ``partial`` when some formats
    failed, ``failed``), ``outputs`` (paths written), ``seconds``, ``sha256`` of the
    input, ``error`` (one line, or ``None``), ``warnings`` (one line each) and
    ``settings`` (the fingerprint) and ``blocks`` (whether the stack was read and
    written a block of frames at a time; ``None`` if it could not be read).
    ``progress(done, total)`` is called as its stages finish: the read, then each
    step and format, and in between, at most every 0.2 s, with the fraction
    ``done / total`` of the input its frame loops have finished
    (:class:`~playnano.progress_ticks.StageTicker`). The record also holds
    ``started`` and ``finished`` (ISO 8601), and with ``settings.crate`` what the
    run's provenance crate needs (:mod:`playnano.run.crate`: ``reader``,
    ``input_bytes``, ``software``, ``files`` with each output's SHA-256, and the
    command line). ``available`` is the memory
    the choice between blocks and memory weighs (bytes; default: the machine's
    available memory).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        record = _run(input_path, output_folder, settings, command, progress, available)
    seen: dict[str, None] = {}
    for w in caught:
        seen.setdefault(str(w.message).splitlines()[0] if str(w.message) else "", None)
    record["warnings"] = [m for m in seen if m]
    return record


def _run(
    input_path: str,
    output_folder: str,
    settings: RunSettings,
    command: Mapping[str, Any] | None,
    progress: Stages | None,
    available: int | None,
) -> dict[str, Any]:
    from playnano.progress_ticks import StageTicker, ticking
    from playnano.provenance import sha256_of, utc_now
    from playnano.run.crate import output_files, source_fields
    from playnano.run.executor import execute
    from playnano.run.plan import plan_run

    start = time.perf_counter()
    record: dict[str, Any] = {
        "input": input_path,
        "status": "failed",
        "outputs": [],
        "seconds": 0.0,
        "sha256": None,
        "error": None,
        "settings": settings.fingerprint(),
        "blocks": None,
        "started": utc_now(),
    }
    try:
        plan = plan_run(
            settings,
            output_folder,
            source=input_path,
            available=available,
            command=dict(command) if command else None,
        )
        n_steps = len(plan.steps)
        ticker = None
        if progress is not None:
            ticker = StageTicker(progress, 1 + n_steps + len(plan.outputs), n_steps)
            ticker.frames = plan.header.frames if plan.header else None

        def read(stack: AFMImageStack) -> None:
            # the digest the reader put in the provenance: one pass over the file,
            # and the report and every output name the same bytes
            source = stack.provenance.get("source") or {}
            record["sha256"] = source.get("sha256") or sha256_of(input_path)
            record["blocks"] = stack.is_lazy
            if settings.crate:
                record.update(source_fields(stack, input_path))
            if ticker is not None:
                ticker.frames = stack.n_frames  # the header may not have said

        with ticking(ticker.tick) if ticker else contextlib.nullcontext():
            results = execute(
                plan,
                progress=None if ticker is None else ticker_stages(ticker),
                on_read=read,
            )
        record["outputs"] = [str(p) for r in results for p in r.paths]
        if settings.crate:
            record["files"] = output_files(plan, results)
        errors = [f"{r.format}: {r.error}" for r in results if r.error is not None]
        if errors:
            record["error"] = "; ".join(errors)
            record["status"] = "partial" if record["outputs"] else "failed"
        else:
            record["status"] = "ok"
    except PlaynanoError as exc:
        record["error"] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    except OSError as exc:  # named by the path as given, as read errors are
        record["error"] = f"{input_path}: {exc.strerror or exc}"
    except Exception as exc:  # a bug in a reader, step or plugin: keep the batch going
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" ({last[0].filename}:{last[0].lineno})" if last else ""
        record["error"] = f"{type(exc).__name__}: {exc}{where}".splitlines()[0]
    if record["sha256"] is None:  # not read: the report still tells which bytes
        with contextlib.suppress(OSError):
            record["sha256"] = sha256_of(input_path)
    record["seconds"] = round(time.perf_counter() - start, 3)
    record["finished"] = utc_now()
    if command and settings.crate:
        record["command"] = {"argv": command.get("argv")}
    return record


def ticker_stages(
    ticker: Callable[[int, int], None],
) -> Callable[[int, int, str], None]:
    """The executor's progress as ``stages(done, total)`` events."""
    return lambda done, total, doing: ticker(done, total)
