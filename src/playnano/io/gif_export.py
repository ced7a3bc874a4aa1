"""Annotated GIF export: playnano 0.5.0's ``export_gif``, over the ``gif`` exporter.

``export_gif`` writes ``<output_folder>/<base>.gif`` (``<base>_filtered.gif`` for a
processed stack) through :func:`playnano.io.export_data.export_stack`, so it is
written atomically and recorded in the stack's provenance like every other format.
The rendering itself is :mod:`playnano.formats.gif.exporter` and :mod:`playnano.render`.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from playnano.errors import ExportWarning

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack


def export_gif(
    stack: AFMImageStack | None = None,
    make_gif: bool = True,
    output_folder: str | Path | None = "output",
    output_name: str | None = None,
    scale_bar_nm: float | str | None = "auto",
    zmin: float | str | None = "auto",
    zmax: float | str | None = "auto",
    draw_ts: bool = True,
    raw: bool = False,
    overwrite: bool = False,
    cmap: str = "afmhot",
    fps: float | None = None,
    *,
    afm_stack: AFMImageStack | None = None,
    cmap_name: str | None = None,
    draw_scale: bool | None = None,
    font_scale: float | None = None,
) -> list[Path]:
    """Write ``stack`` as an annotated GIF; return the paths written.

    Parameters
    ----------
    stack : AFMImageStack
        The stack to animate (``afm_stack=`` is accepted too, as in playnano 0.5.0).
    make_gif : bool
        When false nothing is written and ``[]`` is returned.
    output_folder : str or pathlib.Path
        Destination folder (``"output"`` when ``None``); created if missing.
    output_name : str, optional
        Base file name; default: the stack's source file name. ``_filtered`` is
        appended for a processed stack unless ``raw`` is true.
    scale_bar_nm : float or "auto"
        Scale bar length in nm, drawn as given; 0 turns it off. ``"auto"`` (or
        ``None``) draws 100 nm when that is a tenth to a half of the frame width,
        else a round length (1, 2 or 5 x 10^n nm) near a fifth of it.
    zmin, zmax : float, "auto", "min" or "max"
        Heights at the ends of the colormap, one scale for all frames. ``"auto"``
        (or ``None``) spans every frame's 1st to 99th percentile of heights except
        outlier frames' (:func:`playnano.render.auto_range`; measured on an even
        sample of frames and pixels), so a few wild frames do not wash out the
        others; ``"min"`` / ``"max"`` take the exact extremes. Frames drawn
        clipped, or using only a sliver of the range, are named in an
        :class:`~playnano.errors.ExportWarning`.
    draw_ts : bool
        Draw each frame's timestamp.
    raw : bool
        Animate the unprocessed snapshot.
    overwrite : bool
        Replace an existing file.
    cmap : str
        Matplotlib colormap name (``cmap_name=`` is accepted too).
    fps : float, optional
        Frames per second; default: from the frame timestamps.
    afm_stack, cmap_name, draw_scale, font_scale
        playnano 0.5.0's keyword names. ``draw_scale=False`` is ``scale_bar_nm=0``;
        ``font_scale`` is ignored (text is sized to the frame) with a warning.

    Returns
    -------
    list of pathlib.Path
        The GIF written, or ``[]`` when ``make_gif`` is false.
    """
    if not make_gif:
        return []
    from playnano.io.export_data import export_stack
    from playnano.run.names import output_stem

    if (stack is None) == (afm_stack is None):
        raise TypeError("export_gif() needs the stack once, as stack or afm_stack")
    target = stack if stack is not None else afm_stack
    assert target is not None
    if cmap_name is not None:
        cmap = cmap_name
    if draw_scale is False:
        scale_bar_nm = 0
    if font_scale is not None:
        warnings.warn(
            "font_scale is ignored: the text is sized to the frame",
            ExportWarning,
            stacklevel=2,
        )
    options = {
        "scale_bar_nm": "auto" if scale_bar_nm is None else scale_bar_nm,
        "zmin": "auto" if zmin is None else zmin,
        "zmax": "auto" if zmax is None else zmax,
        "draw_ts": draw_ts,
        "cmap": cmap,
        "fps": fps,
    }
    folder = Path("output" if output_folder is None else output_folder)
    path = folder / f"{output_stem(target, output_name, raw)}.gif"
    return export_stack(
        target, path, "gif", raw=raw, overwrite=overwrite, options=options
    )
