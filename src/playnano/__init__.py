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
    format: str | None = None,
    *,
    raw: bool = False,
    overwrite: bool = False,
    **options: Any,
) -> list[Path]:
    """Write ``stack`` to ``path`` with the named format (or the one its suffix implies)."""
    from playnano.io.export_data import export_stack

    return export_stack(
        stack, path, format, raw=raw, overwrite=overwrite, options=options
    )
