"""playnano: read high-speed AFM videos, process them, export them through plugins.

Importing this package stays light: no HDF5, TIFF, imaging or plotting libraries are
imported until a reader or exporter that needs them runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from playnano.__about__ import __version__
from playnano.afm_stack import AFMImageStack
from playnano.errors import PlaynanoError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

__all__ = ["AFMImageStack", "PlaynanoError", "__version__", "export", "load"]


def load(
    path: str | Path, channel: str | None = None, *, skip_damaged: bool = False
) -> AFMImageStack:
    """Read an AFM video, folder of frames, or playnano bundle into a stack.

    See :func:`playnano.readers.load`; ``skip_damaged=True`` leaves damaged frame
    files of a frame folder out (warned about, listed in the provenance).
    """
    from playnano.readers import load as _load

    return _load(path, channel=channel, skip_damaged=skip_damaged)


def export(
    stack: AFMImageStack,
    path: str | Path,
    format: str | Sequence[str] | None = None,
    *,
    raw: bool = False,
    overwrite: bool = False,
    threads: int | None = None,
    **options: Any,
) -> list[Path]:
    """Write ``stack`` to ``path`` in one format or several; return the paths written.

    ``format`` names a format (``"h5"``), several (``["tif", "npz", "h5", "gif"]``,
    written side by side as ``playnano process`` writes them), or None for the one
    whose suffix ``path`` ends with. Each format writes ``path`` with its suffix
    appended where the name lacks it. ``options`` are the format's own options
    (``fps=10``); with several formats, each takes those it declares. Everything is
    checked before anything is written; an existing file is replaced only with
    ``overwrite=True``; ``threads`` caps the compression threads (default: every
    core).
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
