"""Export an AFMImageStack through the exporter plugins.

Every format (builtin or pip-installed) goes through :func:`export_stack`, which
resolves the plugin, checks options and capabilities, writes to a staging folder in the
destination and renames the finished files into place, then records the export in the
stack's provenance. ``save_ome_tiff_stack``, ``save_npz_bundle`` and ``save_h5_bundle``
are the documented one-format shortcuts.
"""

from __future__ import annotations

import contextvars
import copy
import logging
import re
import shutil
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playnano.afm_stack import AFMImageStack
from playnano.errors import (
    DiskFullError,
    ExportError,
    OptionError,
    PlaynanoError,
)
from playnano.io.atomic import (
    check_output_folder,
    commit_outputs,
    refuse_existing,
    staging_dir,
)
from playnano.io.codec import default_threads, engine_name, using_threads
from playnano.io.guard import (
    FULL_ERRNOS,
    cancellable,
    deliver_interrupts,
    describe_oserror,
    disk_full_error,
    take_pending,
)
from playnano.plugins.options import resolve_options
from playnano.plugins.registry import BUILTIN_DIST, Entry, exporters
from playnano.provenance import record_export

logger = logging.getLogger(__name__)

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def resolve_format(name: str | None, path: str | Path | None = None) -> Entry:
    """The exporter named ``name``, or the one whose suffix ``path`` ends with."""
    reg = exporters()
    if name is not None:
        return reg.resolve(name)
    if path is None:
        raise OptionError("name a format or give a path with a format's suffix")
    entry = reg.for_suffix(path, lambda o: [o.suffix])
    if entry is None:
        known = ", ".join(f"{e.obj.suffix} ({e.name})" for e in reg.entries())
        raise OptionError(
            f"cannot tell the format of {Path(path).name!r} from its suffix; "
            f"name the format or use one of: {known}"
        )
    return reg.resolve(entry.qualified_name if entry.shadowed_by else entry.name)


def with_suffix(path: Path, suffix: str) -> Path:
    """``path`` ending in ``suffix`` (appended when the name does not end with it)."""
    if path.name.lower().endswith(suffix.lower()):
        return path
    return path.with_name(path.name + suffix)


def output_stem(stack: AFMImageStack, base_name: str | None, raw: bool) -> str:
    """File stem for an export: ``base`` plus ``_filtered`` for processed stacks."""
    src = stack.file_path
    fallback = src.name.split(".")[0] if src else ""
    return make_stem(base_name or fallback, processed=stack.is_processed(), raw=raw)


def make_stem(base_name: str, *, processed: bool, raw: bool) -> str:
    """``base_name`` made safe as a file name, plus ``_filtered`` when processed."""
    stem = _UNSAFE.sub("_", str(base_name)).strip(" .") or "playnano_export"
    if processed and not raw and not stem.endswith("_filtered"):
        stem += "_filtered"  # once: a re-exported bundle keeps its name
    return stem


def refuse_existing_outputs(
    plan: list[tuple[Entry, dict[str, Any]]],
    folder: str | Path,
    stem: str,
    overwrite: bool,
) -> None:
    """Fail before any work when a planned output exists and ``overwrite`` is false.

    Also checks that the folder can be written in and the names are not too long
    (:func:`playnano.io.atomic.check_output_folder`).
    """
    names = [f"{stem}{entry.obj.suffix}" for entry, _ in plan]
    check_output_folder(folder, names)
    for name in names:
        refuse_existing(Path(folder) / name, overwrite)


#: Lossless formats compress heights by less than this factor in practice; the
#: free-space check asks for at least the data's size divided by it per format.
LOSSLESS_MAX_RATIO = 4


def estimate_bytes(stack: AFMImageStack, entries: Iterable[Entry], raw: bool) -> int:
    """A low estimate of the bytes an export of ``stack`` in ``entries`` needs."""
    data, _ = stack.export_source(raw=raw)
    lossless = sum(1 for e in entries if not e.obj.capabilities.lossy)
    return int(data.nbytes // LOSSLESS_MAX_RATIO * lossless)


def check_free_space(folder: str | Path, need: int) -> None:
    """Raise :class:`DiskFullError` when ``folder``'s disk has less than ``need`` free."""
    existing = Path(folder)
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    try:
        free = shutil.disk_usage(existing).free
    except OSError:
        return  # cannot tell: the write itself is guarded
    if free < need:
        raise DiskFullError(
            f"{folder}: only {free / 1e6:.1f} MB free, the export needs at least "
            f"about {need / 1e6:.1f} MB; nothing was written"
        )


def check_export(entry: Entry, raw: bool, options: Mapping[str, Any]) -> dict[str, Any]:
    """Validate options and capabilities before any work; return the full options."""
    exp = entry.obj
    if raw and not exp.capabilities.supports_raw:
        raise OptionError(f"format {entry.name!r} cannot export the raw snapshot")
    opts = resolve_options(tuple(exp.options), options, owner=f"format {entry.name!r}")
    lo, hi = opts.get("zmin"), opts.get("zmax")
    numbers = (int, float)
    if isinstance(lo, numbers) and isinstance(hi, numbers) and not lo < hi:
        raise OptionError(
            f"format {entry.name!r}: zmin ({lo:g}) must be below zmax ({hi:g})"
        )
    return opts


def _deflated(entry: Entry, opts: Mapping[str, Any]) -> bool:
    """True when a builtin format compressed with :mod:`playnano.io.codec`."""
    return entry.plugin.dist == BUILTIN_DIST and bool(opts.get("compress_level"))


def check_threads(threads: int | None) -> None:
    """Refuse a thread count below 1 (``None`` means every core)."""
    if threads is not None and (isinstance(threads, bool) or int(threads) < 1):
        raise OptionError(f"threads must be 1 or more, not {threads!r}")


def export_stack(
    stack: AFMImageStack,
    path: str | Path,
    format: str | None = None,
    *,
    raw: bool = False,
    overwrite: bool = False,
    options: Mapping[str, Any] | None = None,
    threads: int | None = None,
) -> list[Path]:
    """Write ``stack`` with one exporter; return the paths written.

    Parameters
    ----------
    stack : AFMImageStack
        What to write.
    path : str or pathlib.Path
        Output file. The format's suffix is appended when the name lacks it.
    format : str, optional
        Format name, alias or ``dist:name``; inferred from the suffix when omitted.
    raw : bool
        Write the unprocessed snapshot instead of the processed data.
    overwrite : bool
        Replace existing outputs (refused by default).
    options : dict, optional
        Options the exporter declares (see ``playnano formats info NAME``).
    threads : int, optional
        Compression threads (:mod:`playnano.io.codec`); default: every core. The
        files are the same whatever the count.
    """
    check_threads(threads)
    entry = resolve_format(format, path)
    opts = check_export(entry, raw, options or {})
    exp = entry.obj
    target = with_suffix(Path(path), exp.suffix)
    dest = target.parent
    check_output_folder(dest, [target.name])
    refuse_existing(target, overwrite)
    check_free_space(dest, estimate_bytes(stack, [entry], raw))
    with deliver_interrupts(), staging_dir(dest) as staging:
        try:
            with using_threads(threads):
                written = exp.export(stack, staging / target.name, raw=raw, **opts)
        except DiskFullError as exc:  # name the output, not the staging folder
            raise DiskFullError(str(exc).replace(str(staging), str(dest))) from None
        except PlaynanoError:
            raise
        except KeyboardInterrupt:
            pending = take_pending()  # a guarded file stopped the writer
            if pending is not None:
                raise DiskFullError(
                    str(pending).replace(str(staging), str(dest))
                ) from None
            raise
        except OSError as exc:
            pending = take_pending()
            if pending is not None:
                raise DiskFullError(
                    str(pending).replace(str(staging), str(dest))
                ) from None
            if exc.errno in FULL_ERRNOS:
                raise disk_full_error(target, exc) from None
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
            deflate_engine=engine_name() if _deflated(entry, opts) else None,
        )
        logger.info("wrote %s", final)
    return finals


@dataclass
class ExportResult:
    """What became of one requested format."""

    format: str
    paths: list[Path] = field(default_factory=list)
    error: PlaynanoError | None = None


def plan_exports(
    formats: Iterable[str],
    *,
    raw: bool = False,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    shared_options: Mapping[str, Any] | None = None,
) -> list[tuple[Entry, dict[str, Any]]]:
    """Resolve every format and its options before anything is written.

    ``options`` maps a format name (as requested) to its own options;
    ``shared_options`` are given to every format that declares an option of that name
    (the CLI's ``--scale-bar-nm``, ``--zmin`` and ``--zmax``).
    """
    plan: list[tuple[Entry, dict[str, Any]]] = []
    seen: set[int] = set()
    per_format = {k.lower(): v for k, v in (options or {}).items()}
    for token in formats:
        entry = exporters().resolve(token)
        if id(entry) in seen:
            continue
        seen.add(id(entry))
        declared = {o.name for o in entry.obj.options}
        given = {k: v for k, v in (shared_options or {}).items() if k in declared}
        for key in {token.lower(), entry.name, *entry.aliases, entry.qualified_name}:
            given.update(per_format.get(key, {}))
        plan.append((entry, check_export(entry, raw, given)))
    unknown = set(per_format) - {
        k for e, _ in plan for k in (e.name, *e.aliases, e.qualified_name)
    }
    if unknown:
        raise OptionError(
            f"options were given for {', '.join(sorted(unknown))}, "
            "which is not among the formats requested"
        )
    return plan


def export_bundles(
    afm_stack: AFMImageStack,
    output_folder: str | Path,
    base_name: str | None,
    formats: Iterable[str],
    raw: bool = False,
    *,
    overwrite: bool = False,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    shared_options: Mapping[str, Any] | None = None,
    threads: int | None = None,
) -> list[Path]:
    """Export ``afm_stack`` in every format named; return all paths written.

    Any installed format name or alias is accepted (third-party ones included). Names
    and options are all checked before anything is written; a format that fails does
    not stop the others, and an :class:`~playnano.errors.ExportError` naming every
    failure is raised at the end. ``threads`` caps the compression threads (default:
    every core); the files are the same whatever the count.
    """
    results = export_all(
        afm_stack,
        output_folder,
        base_name,
        formats,
        raw=raw,
        overwrite=overwrite,
        options=options,
        shared_options=shared_options,
        threads=threads,
    )
    failed = [r for r in results if r.error is not None]
    if failed:
        raise ExportError("; ".join(f"{r.format}: {r.error}" for r in failed))
    return [p for r in results for p in r.paths]


def export_all(
    afm_stack: AFMImageStack,
    output_folder: str | Path,
    base_name: str | None,
    formats: Iterable[str],
    *,
    raw: bool = False,
    overwrite: bool = False,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    shared_options: Mapping[str, Any] | None = None,
    threads: int | None = None,
    on_format: Callable[[int, int], None] | None = None,
) -> list[ExportResult]:
    """Like :func:`export_bundles` but returns one result per format, errors included.

    ``on_format(done, total)`` is called as each format finishes (written or
    failed), from the thread that wrote it.
    """
    check_threads(threads)
    plan = plan_exports(
        formats, raw=raw, options=options, shared_options=shared_options
    )
    folder = Path(output_folder)
    stem = output_stem(afm_stack, base_name, raw)
    check_output_folder(folder, [f"{stem}{e.obj.suffix}" for e, _ in plan])
    check_free_space(folder, estimate_bytes(afm_stack, [e for e, _ in plan], raw))
    full: list[DiskFullError] = []  # the first full disk stops every later format
    finished: list[str] = []  # formats done, for on_format
    finished_lock = threading.Lock()

    def run(stack: AFMImageStack, entry: Entry, opts: dict[str, Any]) -> ExportResult:
        result = ExportResult(entry.name)
        if full:
            result.error = ExportError("not written: the disk is full (see above)")
            return result
        try:
            result.paths = export_stack(
                stack,
                folder / f"{stem}{entry.obj.suffix}",
                entry.qualified_name if entry.shadowed_by else entry.name,
                raw=raw,
                overwrite=overwrite,
                options=opts,
                threads=threads,
            )
        except DiskFullError as exc:
            result.error = exc
            full.append(exc)  # stop: the next formats would fail too
        except PlaynanoError as exc:
            result.error = exc
        if on_format is not None:
            with finished_lock:
                finished.append(entry.name)
                on_format(len(finished), len(plan))
        return result

    # Formats after the last one that stores provenance change no other output: they
    # run in a thread beside the rest (a GIF renders while bundles compress) on a
    # stand-in stack, and their export records are added in plan order afterwards.
    n_side = 0
    if (threads or default_threads()) > 1:
        while n_side < len(plan) and not (
            plan[-1 - n_side][0].obj.capabilities.supports_provenance
        ):
            n_side += 1
    serial, side = plan[: len(plan) - n_side], plan[len(plan) - n_side :]
    shadow = copy.copy(afm_stack)
    shadow.provenance = copy.deepcopy(afm_stack.provenance)
    n_before = len(shadow.provenance.get("exports", []))
    cancel = threading.Event()  # Ctrl-C reaches only this thread: pass it on
    with ThreadPoolExecutor(1, thread_name_prefix="playnano-export") as ex:
        beside = ex.submit(
            contextvars.copy_context().run,
            cancellable,
            cancel,
            lambda: [run(shadow, e, o) for e, o in side],
        )
        try:
            results = [run(afm_stack, e, o) for e, o in serial]
            results += beside.result()
        except BaseException:
            cancel.set()  # the side export stops at its next frame, keeping nothing
            raise
    for rec in shadow.provenance.get("exports", [])[n_before:]:
        afm_stack.provenance.setdefault("exports", []).append(rec)
    return results


def save_ome_tiff_stack(
    path: str | Path,
    stack: AFMImageStack,
    raw: bool = False,
    *,
    overwrite: bool = False,
) -> list[Path]:
    """Write ``stack`` as a multi-frame OME-TIFF (``.ome.tif``)."""
    return export_stack(stack, path, "tif", raw=raw, overwrite=overwrite)


def save_npz_bundle(
    path: str | Path,
    stack: AFMImageStack,
    raw: bool = False,
    *,
    overwrite: bool = False,
) -> list[Path]:
    """Write ``stack`` as an NPZ bundle with layers, masks and provenance."""
    return export_stack(stack, path, "npz", raw=raw, overwrite=overwrite)


def save_h5_bundle(
    path: str | Path,
    stack: AFMImageStack,
    raw: bool = False,
    *,
    overwrite: bool = False,
) -> list[Path]:
    """Write ``stack`` as an HDF5 bundle with layers, masks and provenance."""
    return export_stack(stack, path, "h5", raw=raw, overwrite=overwrite)
