"""One input to its outputs: the code path ``playnano process`` and ``batch`` share.

:class:`RunSettings` holds what a run does (steps, formats, options) as plain,
picklable values; :meth:`RunSettings.check` validates all of it before any file is
read. :func:`read_input` (from :mod:`playnano.run.read`, which also chooses between
blocks and memory) and :func:`convert_stack` are what ``process`` runs;
:func:`run_one` wraps them for ``batch``: paths in, a plain JSON-ready record out, so
no stack, open file or h5py object crosses a process boundary.
"""

from __future__ import annotations

import contextlib
import time
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playnano.errors import OptionError, PlaynanoError
from playnano.run.read import read_input, use_blocks

__all__ = [
    "RunSettings",
    "base_name",
    "convert_stack",
    "processes",
    "read_input",
    "run_one",
    "steps_as_plain",
    "use_blocks",
]

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack
    from playnano.io.export_data import ExportResult
    from playnano.plugins.registry import Entry
    from playnano.processing.pipeline import ResolvedStep

Progress = Callable[[int, int, str], None]
#: ``stages(done, total)``: the fraction of a run that is finished: ``done`` of its
#: ``total`` stages (the read, each step, each format), or, between stage ends, of
#: stages times frames (:class:`~playnano.progress_ticks.StageTicker`); a batch's
#: progress bar turns them into frames.
Stages = Callable[[int, int], None]


@dataclass(frozen=True)
class RunSettings:
    """What a run does to each input, as plain values.

    Parameters
    ----------
    formats : tuple of str
        Format names as requested (``all`` already expanded).
    steps : tuple
        ``(name, params)`` pairs, in order.
    raw : bool
        Export the unprocessed snapshot.
    options : dict
        Per-format options (``{"gif": {"fps": "10"}}``).
    shared_options : dict
        Options given to every format that declares them (``zmin``, ``scale_bar_nm``).
    channel : str, optional
        Channel to read.
    skip_damaged : bool
        Frame folders: leave out damaged frames.
    threads : int, optional
        Compression threads; the files are the same whatever the count.
    overwrite : bool
        Replace existing outputs.
    blocks : bool, optional
        Read, process and write the stack a block of frames at a time (True),
        entirely in memory (False), or choose (None, the default: blocks when the
        reader can read lazily, every step works frame by frame and processing in
        memory would take more than half the available memory; see
        :func:`use_blocks`). The files are the same either way.
    block_frames : int, optional
        Frames per block on the block path (default: about 64 MB of frames;
        rounded up to whole batches of a levelling filter).
    """

    formats: tuple[str, ...]
    steps: tuple[tuple[str, dict[str, Any]], ...] = ()
    raw: bool = False
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    shared_options: dict[str, Any] = field(default_factory=dict)
    channel: str | None = None
    skip_damaged: bool = False
    threads: int | None = None
    overwrite: bool = False
    blocks: bool | None = None
    block_frames: int | None = None

    def check(self) -> tuple[list[tuple[Entry, dict[str, Any]]], list[ResolvedStep]]:
        """Resolve every format, option and step; raise before any work if one is bad."""
        from playnano.io.export_data import check_threads, plan_exports
        from playnano.processing.pipeline import validate_steps

        check_threads(self.threads)
        if self.block_frames is not None and (
            isinstance(self.block_frames, bool) or int(self.block_frames) < 1
        ):
            raise OptionError(
                f"block_frames must be 1 or more, not {self.block_frames!r}"
            )
        plan = plan_exports(
            self.formats,
            raw=self.raw,
            options=self.options,
            shared_options=self.shared_options,
        )
        resolved = validate_steps(list(self.steps))
        if self.blocks:
            from playnano.processing.lazy_steps import refuse_stack_steps

            refuse_stack_steps(resolved)
        return plan, resolved

    def fingerprint(self) -> dict[str, Any]:
        """The settings that decide the outputs' content (resume compares these)."""
        d = asdict(self)
        d["steps"] = [[name, dict(params)] for name, params in self.steps]
        d["formats"] = list(self.formats)
        # same files whatever their value
        for key in ("threads", "overwrite", "blocks", "block_frames"):
            d.pop(key)
        return d


def steps_as_plain(steps: Sequence[Any]) -> tuple[tuple[str, dict[str, Any]], ...]:
    """Parsed :class:`~playnano.processing.parsing.Step` objects as ``(name, params)``."""
    return tuple((s.name, dict(s.params)) for s in steps)


def processes(resolved: Sequence[ResolvedStep]) -> bool:
    """True when the steps change the data (outputs then carry ``_filtered``)."""
    return any(r.spec.kind in ("filter", "stack") for r in resolved)


def base_name(path: Path) -> str:
    """The output base name of an input: its name up to the first dot."""
    return path.name.split(".")[0] or "playnano_export"


def convert_stack(
    stack: AFMImageStack,
    output_folder: str | Path,
    base: str | None,
    settings: RunSettings,
    *,
    progress: Progress | None = None,
    stages: Stages | None = None,
) -> list[ExportResult]:
    """Run the steps on ``stack`` and write every format; one result per format.

    A failing step raises (the stack is restored); a failing format is recorded in
    its result and the others are still written. ``progress`` is called before each
    step; ``stages(done, total)`` as each step and each format finishes.
    """
    from playnano.io.export_data import export_all
    from playnano.processing.pipeline import run_pipeline

    n_steps, n_all = len(settings.steps), len(settings.steps) + len(settings.formats)

    def step(i: int, n: int, name: str) -> None:
        if progress is not None:
            progress(i, n, name)
        if stages is not None:
            stages(i - 1, n_all)

    if settings.steps:
        run_pipeline(stack, list(settings.steps), progress=step)
    if stages is not None:
        stages(n_steps, n_all)
    return export_all(
        stack,
        output_folder,
        base,
        settings.formats,
        raw=settings.raw,
        overwrite=settings.overwrite,
        options=settings.options,
        shared_options=settings.shared_options,
        threads=settings.threads,
        on_format=None
        if stages is None
        else lambda done, total: stages(n_steps + done, n_steps + total),
    )


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
    step and format (:func:`convert_stack`), and in between, at most every 0.2 s,
    with the fraction ``done / total`` of the input its frame loops have finished
    (:class:`~playnano.progress_ticks.StageTicker`). ``available`` is the memory
    the choice between blocks and memory weighs (bytes; default: the machine's
    available memory, see :func:`read_input`).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if progress is None:
            record = _run_one(
                input_path, output_folder, settings, command, None, available
            )
        else:
            record = _run_ticking(
                input_path, output_folder, settings, command, progress, available
            )
    seen: dict[str, None] = {}
    for w in caught:
        seen.setdefault(str(w.message).splitlines()[0] if str(w.message) else "", None)
    record["warnings"] = [m for m in seen if m]
    return record


def _run_ticking(
    input_path: str,
    output_folder: str,
    settings: RunSettings,
    command: Mapping[str, Any] | None,
    progress: Stages,
    available: int | None = None,
) -> dict[str, Any]:
    """:func:`_run_one` reporting frames done within each stage too.

    Frame loops' ticks (:mod:`playnano.progress_ticks`) become fractions of the
    input between the stage events, throttled to one report per 0.2 s and 1 %.
    """
    from playnano.batch.progress import frame_count
    from playnano.progress_ticks import StageTicker, ticking

    n_steps = len(settings.steps)
    ticker = StageTicker(
        progress,
        1 + n_steps + len(settings.formats),
        n_steps,
        frame_count(Path(input_path)),
    )
    with ticking(ticker.tick):
        return _run_one(input_path, output_folder, settings, command, ticker, available)


def _after_read(progress: Stages | None, settings: RunSettings) -> Stages | None:
    """Report the read as stage 1 of 1 + steps + formats; the stages that follow."""
    if progress is None:
        return None
    report = progress
    report(1, 1 + len(settings.steps) + len(settings.formats))
    return lambda done, total: report(1 + done, 1 + total)


def _run_one(
    input_path: str,
    output_folder: str,
    settings: RunSettings,
    command: Mapping[str, Any] | None,
    progress: Stages | None = None,
    available: int | None = None,
) -> dict[str, Any]:
    from playnano.progress_ticks import StageTicker
    from playnano.provenance import sha256_of

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
    }
    try:
        stack = read_input(input_path, settings, available=available)
        # the digest the reader put in the provenance: one pass over the file,
        # and the report and every output name the same bytes
        source = stack.provenance.get("source") or {}
        record["sha256"] = source.get("sha256") or sha256_of(input_path)
        record["blocks"] = stack.is_lazy
        if isinstance(progress, StageTicker):
            progress.frames = stack.n_frames  # the header may not have said
        try:
            if command:
                stack.provenance["command"] = dict(command)
            stages = _after_read(progress, settings)
            results = convert_stack(
                stack,
                output_folder,
                base_name(Path(input_path)),
                settings,
                stages=stages,
            )
        finally:
            stack.close()  # a lazy stack's file, also on errors and Ctrl-C
        record["outputs"] = [str(p) for r in results for p in r.paths]
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
    return record
