"""Options every annotated animation format shares (GIF, MP4, ...).

Kept apart from :mod:`playnano.render` so a plugin can declare them without importing
the renderer; one declaration means ``--scale-bar-nm``, ``--zmin`` and ``--zmax`` reach
every animation format the same way.
"""

from __future__ import annotations

from playnano.plugins.options import Option

#: scale_bar_nm, zmin, zmax, cmap, fps, draw_ts: names, types, defaults and help.
ANIMATION_OPTIONS: tuple[Option, ...] = (
    Option(
        "scale_bar_nm",
        "float",
        100.0,
        "Scale bar length in nm; 0 turns it off.",
        minimum=0,
    ),
    Option(
        "zmin",
        "float|auto",
        "auto",
        "Height at the colormap's low end, or auto (stack minimum).",
    ),
    Option(
        "zmax",
        "float|auto",
        "auto",
        "Height at the colormap's high end, or auto (stack maximum).",
    ),
    Option("cmap", "str", "afmhot", "Matplotlib colormap name."),
    Option(
        "fps",
        "float",
        None,
        "Frames per second; default: from the frame timestamps.",
        minimum=0,
        exclusive_minimum=True,
        nullable=True,
    ),
    Option("draw_ts", "bool", True, "Draw each frame's timestamp."),
)
