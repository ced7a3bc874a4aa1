"""playnano's own file formats, one package per format.

``npz``, ``h5`` and ``ometiff`` hold the format's ``layout`` (names and the rules
both sides share, no heavy imports), its ``exporter``, its ``reader`` and a
``content`` check; ``gif`` and ``png`` hold their exporter. Each registers through
the ``playnano.exporters`` and ``playnano.readers`` entry points like any
third-party plugin (listed once in :mod:`playnano.builtins`).
:mod:`playnano.io.export_data` and :mod:`playnano.io.loaders` keep the documented
function names (playnano 0.5.0's).

:func:`written_by_playnano` is what viewers ask before claiming a file whose
suffix other programs use too (``.npz``, ``.h5``, ``.tif``).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["written_by_playnano"]


def written_by_playnano(path: str | Path) -> bool | None:
    """Whether the file at ``path`` is one of playnano's own formats.

    None when its suffix is none of the generic ones those formats use (an
    instrument file such as ``.asd`` is unambiguous); otherwise True when its
    content is a playnano bundle or a TIFF playnano wrote, False when it is some
    other program's file. Only names and headers are read.
    """
    from playnano.formats.h5 import content as h5
    from playnano.formats.npz import content as npz
    from playnano.formats.ometiff import content as tif

    name = Path(path).name.lower()
    for suffixes, check in (
        (npz.SUFFIXES, npz.is_bundle),
        (h5.SUFFIXES, h5.is_bundle),
        (tif.SUFFIXES, tif.is_playnano_tiff),
    ):
        if name.endswith(suffixes):
            return check(path)
    return None
