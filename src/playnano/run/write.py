"""Write a plan's outputs: each atomically, several side by side, nothing left on Ctrl-C.

:func:`write_one` writes one format: the exporter writes into a staging folder in
the destination, the finished files are renamed into place, and the export is
recorded in the stack's provenance. :func:`write_outputs` writes every output of a
plan: formats that store provenance one after another (each records the ones
before it), and the formats after the last of them in a thread beside (a GIF
renders while the bundles compress). A failing format does not stop the others,
except a full disk, which stops every later one. An interrupt (Ctrl-C, a GUI's
cancel) stops the side thread at its next frame and removes every output this run
had already put in place, so an interrupted run leaves nothing.
"""

from __future__ import annotations

import contextvars
import copy
import ctypes
import logging
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from playnano.errors import DiskFullError, ExportError, PlaynanoError

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack
    from playnano.run.plan import Output
    from playnano.run.stream import BlockStream

__all__ = ["ExportResult", "write_one", "write_outputs"]

logger = logging.getLogger("playnano.run")


@dataclass
class ExportResult:
    """What became of one requested format."""

    format: str
    paths: list[Path] = field(default_factory=list)
    error: PlaynanoError | None = None


def _moved(exc: BaseException, staging: Path, dest: Path) -> DiskFullError:
    """A disk-full error naming the output folder, not the staging folder."""
    per_file = isinstance(exc, DiskFullError) and exc.per_file
    return DiskFullError(str(exc).replace(str(staging), str(dest)), per_file=per_file)


def _short_write(target: Path, dest: Path) -> DiskFullError:
    """numpy's ``tofile`` stopped short without an errno: the disk is full when it
    has no room left, else a file size limit stopped this file."""
    import shutil

    try:
        free = shutil.disk_usage(dest).free
    except OSError:
        free = 0
    per_file = free > 1 << 20
    why = "a file size limit" if per_file else "the disk is full"
    return DiskFullError(
        f"{target}: the write stopped short ({why}); nothing was kept",
        per_file=per_file,
    )


def write_one(
    stack: AFMImageStack,
    output: Output,
    *,
    raw: bool,
    overwrite: bool,
    threads: int | None = None,
) -> list[Path]:
    """Write ``stack`` as ``output`` (options already checked); return final paths.

    Raises a :class:`~playnano.errors.PlaynanoError` for anything that went
    wrong (an exporter's own error, a full disk, an unexpected exception as an
    :class:`~playnano.errors.ExportError` naming the file and format); nothing
    of the output is left then.
    """
    from playnano.io.atomic import commit_outputs, staging_dir
    from playnano.io.codec import engine_name, using_threads
    from playnano.io.guard import (
        FULL_ERRNOS,
        deliver_interrupts,
        describe_oserror,
        disk_full_error,
        take_pending,
    )
    from playnano.provenance import record_export
    from playnano.run.formats import uses_codec

    entry, target = output.entry, output.path
    dest = target.parent
    with deliver_interrupts(), staging_dir(dest) as staging:
        try:
            with using_threads(threads):
                written = entry.obj.export(
                    stack, staging / target.name, raw=raw, **output.options
                )
        except DiskFullError as exc:
            raise _moved(exc, staging, dest) from None
        except PlaynanoError:
            raise
        except KeyboardInterrupt:
            pending = take_pending()  # a guarded file stopped the writer
            if pending is not None:
                raise _moved(pending, staging, dest) from None
            raise
        except OSError as exc:
            pending = take_pending()
            if pending is not None:
                raise _moved(pending, staging, dest) from None
            if exc.errno in FULL_ERRNOS:
                raise disk_full_error(target, exc) from None
            if not exc.errno and " requested and " in str(exc):
                raise _short_write(target, dest) from None  # numpy's tofile
            raise ExportError(
                f"{target}: {describe_oserror(exc)} (writing it as {entry.name})"
            ) from exc
        except Exception as exc:
            raise ExportError(
                f"writing {target.name} as {entry.name} failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if not written:
            raise ExportError(f"format {entry.name!r} reported no file written")
        finals = commit_outputs(list(written), staging, dest, overwrite)
    for final in finals:
        record_export(
            stack,
            format_name=entry.name,
            plugin=entry.plugin.dist,
            plugin_version=entry.plugin.version,
            path=final,
            raw=raw,
            deflate_engine=engine_name() if uses_codec(entry, output.options) else None,
        )
        logger.info("wrote %s", final)
    return finals


def _remove(paths: Sequence[Path]) -> None:
    """Remove outputs a stopped run had put in place (files or folder stores)."""
    for p in paths:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def side_by_side(outputs: Sequence[Output], threads: int | None) -> int:
    """How many trailing outputs are written in a thread beside the others.

    Formats after the last one that stores provenance change no other output
    (their export records are added afterwards, in order), so they can run
    beside the rest when there is more than one thread to use.
    """
    from playnano.io.codec import default_threads

    n_side = 0
    if (threads or default_threads()) > 1:
        while n_side < len(outputs) and not (
            outputs[-1 - n_side].entry.obj.capabilities.supports_provenance
        ):
            n_side += 1
    return n_side


def _raise_in(thread: threading.Thread) -> None:
    """Raise KeyboardInterrupt in ``thread`` at its next Python instruction."""
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread.ident), ctypes.py_object(KeyboardInterrupt)
        )


#: Seconds a side format gets to stop by itself (builtins check between frames)
#: before it is interrupted from outside (a plugin's writer that never checks).
SIDE_GRACE_S = 1.0


def write_outputs(
    stack: AFMImageStack,
    outputs: Sequence[Output],
    *,
    raw: bool,
    overwrite: bool,
    threads: int | None = None,
    on_format: Callable[[int, int, str], None] | None = None,
    stream: BlockStream | None = None,
) -> list[ExportResult]:
    """Write every output; one result per format, errors included.

    ``on_format(done, total, name)`` is called as each format finishes (written
    or failed), from the thread that wrote it. With a ``stream`` (the streaming
    block path) every format is written at once, each in its own thread pulling
    the stream's blocks, and each records only the exports made before this run
    (its siblings are not finished when it is written). On an interrupt
    (KeyboardInterrupt, or any exception raised into the run, such as a GUI's
    cancel) the other threads are stopped, every output this run put in place is
    removed, and the interrupt goes on.
    """
    full: list[DiskFullError] = []  # the first full disk stops every later format
    filled: list[str] = []  # streamed: the format that filled the disk
    placed: list[Path] = []  # outputs in place, removed if the run is stopped
    before = {o.path for o in outputs if o.path.exists() or o.path.is_symlink()}
    lock = threading.Lock()
    finished = [0]

    def run(target: AFMImageStack, output: Output) -> ExportResult:
        result = ExportResult(output.format)
        if full:
            result.error = ExportError("not written: the disk is full (see above)")
            return result
        try:
            if stream is not None:
                with stream.consumer(output.format):
                    result.paths = write_one(
                        target, output, raw=raw, overwrite=overwrite, threads=threads
                    )
            else:
                result.paths = write_one(
                    target, output, raw=raw, overwrite=overwrite, threads=threads
                )
            with lock:
                placed.extend(result.paths)
        except DiskFullError as exc:
            result.error = exc
            if not exc.per_file:  # a file size limit: smaller outputs still fit
                full.append(exc)  # stop: the next formats would fail too
                if stream is not None:  # the others are being written: stop them
                    with lock:
                        filled.append(output.format)
                    cancel.set()
                    stream.halt()
        except PlaynanoError as exc:
            result.error = exc
        except KeyboardInterrupt:
            if not filled:
                raise
            result.error = ExportError("not written: the disk is full")
        if on_format is not None:
            with lock:
                finished[0] += 1
                on_format(finished[0], len(outputs), output.format)
        return result

    if stream is not None:  # every format pulls the same blocks, all at once
        serial: Sequence[Output] = ()
        groups = [[o] for o in outputs]
    else:
        n_side = side_by_side(outputs, threads)
        serial = outputs[: len(outputs) - n_side]
        groups = [list(outputs[len(outputs) - n_side :])] if n_side else []
    n_before = len(stack.provenance.get("exports", []))
    cancel = threading.Event()  # Ctrl-C reaches only this thread: pass it on
    sides = [_Side(stack, group, run, cancel) for group in groups]
    try:
        for side in sides:
            side.start()
        results = [run(stack, o) for o in serial]
        for side in sides:
            side.done.wait()
        for side in sides:
            if side.error:
                raise side.error[0]
    except BaseException:
        cancel.set()  # the other formats stop at their next frame
        if stream is not None:
            stream.halt()  # joined by the executor, before the input closes
        for side in sides:
            side.stop(wait_only=stream is not None)
        # a stopped run keeps nothing: finished formats, and files a writer put
        # in place under a planned name, are removed too
        planned = [o.path for o in outputs if o.path not in before]
        _remove([*placed, *(p for p in planned if p.exists() or p.is_symlink())])
        raise
    by_format = {r.format: r for side in sides for r in side.results}
    results += [by_format[o.format] for g in groups for o in g]
    # the side formats wrote stand-ins; their export records join the stack's,
    # in the order the formats were asked for
    for side in sides:
        new = side.shadow.provenance.get("exports", [])[n_before:]
        stack.provenance.setdefault("exports", []).extend(new)
    if filled:  # streamed: the formats that failed beside the one that filled it
        for r in results:
            if r.error is not None and r.format != filled[0]:
                r.error = ExportError(
                    f"not written: the disk is full (see {filled[0]})"
                )
    order = [o.format for o in outputs]
    return sorted(results, key=lambda r: order.index(r.format))


class _Side:
    """Formats written one after another in a thread beside the caller's.

    They write a stand-in of the stack (its provenance copied), whose export
    records are added to the stack's afterwards.
    """

    def __init__(
        self,
        stack: AFMImageStack,
        outputs: list[Output],
        run: Callable[[AFMImageStack, Output], ExportResult],
        cancel: threading.Event,
    ) -> None:
        self.shadow = copy.copy(stack)
        self.shadow.provenance = copy.deepcopy(stack.provenance)
        self.outputs, self.run, self.cancel = outputs, run, cancel
        self.done = threading.Event()  # waited on, not joined: an interrupted
        self.results: list[ExportResult] = []  # Thread.join() forgets the thread
        self.error: list[BaseException] = []
        self.thread = threading.Thread(
            target=self._main,
            args=(contextvars.copy_context(),),
            name=f"playnano-export-{'-'.join(o.format for o in outputs)}",
            daemon=True,
        )

    def _work(self) -> None:
        try:
            self.results.extend(self.run(self.shadow, o) for o in self.outputs)
        except BaseException as exc:
            self.error.append(exc)

    def _main(self, context: contextvars.Context) -> None:
        from playnano.io.guard import cancellable

        try:
            context.run(cancellable, self.cancel, self._work)
        except BaseException as exc:  # an interrupt raised into it late
            self.error.append(exc)
        finally:
            self.done.set()

    def start(self) -> None:
        """Start writing."""
        self.thread.start()

    def stop(self, wait_only: bool = False) -> None:
        """Wait for the thread to stop by itself, else interrupt it (cancel is set).

        ``wait_only``: never interrupt it from outside (a writer pulling a stream's
        blocks stops at its next pull; an interrupt raised from outside can land
        inside a writer library's callback, h5py's, and corrupt it).
        """
        if not self.thread.is_alive() and not self.thread.ident:
            self.done.set()  # never started
        if wait_only or self.done.wait(SIDE_GRACE_S):
            self.done.wait()
            return
        _raise_in(self.thread)
        self.done.wait()
