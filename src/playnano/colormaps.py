"""Colormaps by name: matplotlib's, plus playnano 0.5.0's AFM colormaps.

``afm_brown`` (0.5.0's default), ``classic_afm`` and ``playnano_gold`` are 256-entry
tables shipped as CSV in ``playnano/colormaps_data`` (copied from playnano 0.5.0),
each also reversed as ``<name>_r``. They are built when asked for and not registered
with matplotlib, so importing playnano changes nothing globally. An unknown name is
an :class:`~playnano.errors.OptionError` with the closest known name (0.5.0 warned
and fell back to its default).
"""

from __future__ import annotations

import difflib
import functools
from importlib import resources
from typing import Any

from playnano.errors import OptionError

#: playnano's own colormaps (each also as ``<name>_r``).
PLAYNANO_COLORMAPS = ("afm_brown", "classic_afm", "playnano_gold")


def known_names() -> list[str]:
    """Every colormap name accepted: matplotlib's and playnano's."""
    import matplotlib

    ours = [n + r for n in PLAYNANO_COLORMAPS for r in ("", "_r")]
    return [*matplotlib.colormaps, *ours]


@functools.cache
def _table(name: str) -> Any:
    import numpy as np
    from matplotlib.colors import ListedColormap

    csv = resources.files("playnano") / "colormaps_data" / f"{name}.csv"
    with csv.open("r", encoding="ascii") as fh:
        rgb = np.loadtxt(fh, delimiter=",", comments="#")
    return ListedColormap(rgb, name=name)


def get_colormap(name: str) -> Any:
    """The matplotlib ``Colormap`` called ``name``.

    Raises
    ------
    OptionError
        If no colormap has that name; the message suggests the closest one.
    """
    import matplotlib

    base = name[:-2] if name.endswith("_r") else name
    if base in PLAYNANO_COLORMAPS:
        table = _table(base)
        return table.reversed() if name.endswith("_r") else table
    try:
        return matplotlib.colormaps[name]
    except KeyError:
        close = difflib.get_close_matches(name, known_names(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise OptionError(f"unknown colormap {name!r}{hint}") from None


def check_colormap(name: str) -> str:
    """Return ``name`` if it is a known colormap; raise :class:`OptionError` if not."""
    get_colormap(name)
    return name


__all__ = ["PLAYNANO_COLORMAPS", "check_colormap", "get_colormap", "known_names"]
