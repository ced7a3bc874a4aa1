"""Export an AFMImageStack: the documented Python functions, over the run layer.

Each function plans the export (:mod:`playnano.run.plan`: formats, options, names,
existing files and free space, all checked before anything is written) and has
:func:`playnano.run.executor.execute` carry it out, as ``playnano process`` does:
every output is written in a staging folder in the destination and renamed into
place when complete, and recorded in the stack's provenance.
``save_ome_tiff_stack``, ``save_npz_bundle`` and ``save_h5_bundle`` are the
one-format shortcuts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

__all__ = [
    "export_bundles",
    "export_stack",
    "save_h5_bundle",
    "save_npz_bundle",
    "save_ome_tiff_stack",
]


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

    Raises
    ------
    PlaynanoError
        The format's own error (nothing of the output is left).
    """
    from playnano.run import export_to

    return export_to(
        stack,
        path,
        format,
        raw=raw,
        overwrite=overwrite,
        options=options,
        threads=threads,
    )


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

    Files are named as ``playnano process`` names them:
    ``<base_name>[_filtered]<suffix>`` in ``output_folder``. Any installed format
    name or alias is accepted (third-party ones included). Names, options and
    existing files are all checked before anything is written; a format that fails
    does not stop the others, and an :class:`~playnano.errors.ExportError` naming
    every failure is raised at the end. ``threads`` caps the compression threads
    (default: every core); the files are the same whatever the count.
    """
    from playnano.run import RunSettings, execute, paths_or_raise, plan_run

    settings = RunSettings(
        formats=tuple(formats),
        raw=raw,
        options={k: dict(v) for k, v in (options or {}).items()},
        shared_options=dict(shared_options or {}),
        threads=threads,
        overwrite=overwrite,
    )
    plan = plan_run(settings, output_folder, stack=afm_stack, base=base_name)
    return paths_or_raise(execute(plan, afm_stack))


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
