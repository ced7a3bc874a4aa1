"""The documented I/O API: export_data, gif_export and loaders.

Submodules import their heavy dependencies only when a function runs.
"""

from __future__ import annotations

from typing import Any

__all__ = ["export_bundles"]


def export_bundles(*args: Any, **kwargs: Any) -> Any:
    """Export a stack in several formats; see :func:`playnano.io.export_data.export_bundles`."""
    from playnano.io.export_data import export_bundles as _export_bundles

    return _export_bundles(*args, **kwargs)
