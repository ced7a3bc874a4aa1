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
        "float|auto",
        "auto",
        "Scale bar length in nm, drawn as given; 0 turns it off; auto: 100 nm "
        "when that is 1/10 to 1/2 of the frame width, else a round length "
        "(1, 2 or 5 x 10^n nm) near 1/5 of it.",
        minimum=0,
    ),
    Option(
        "zmin",
        "float|auto|min|max",
        "auto",
        "Height at the colormap's low end: nm, auto (the lowest 1st percentile "
        "of the frames, outlier frames left out) or min (the exact minimum).",
    ),
    Option(
        "zmax",
        "float|auto|min|max",
        "auto",
        "Height at the colormap's high end: nm, auto (the highest 99th "
        "percentile of the frames, outlier frames left out) or max (the exact "
        "maximum).",
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
