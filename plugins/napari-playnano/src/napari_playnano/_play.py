"""What ``playnano play FILE`` runs: a napari viewer with the file and the widget."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def open_viewer(
    path: str | Path, *, steps: str = "", channel: str | None = None, show: bool = True
) -> tuple[Any, Any]:
    """Open ``path`` in a new viewer with the widget docked; return both.

    With ``steps`` the widget runs them at once (in its worker thread).
    """
    import napari

    from napari_playnano._reader import read_layers
    from napari_playnano._widget import PlaynanoWidget

    layers = read_layers(str(path), channel=channel)  # errors before a window opens
    viewer = napari.Viewer(show=show, title=f"playnano — {Path(path).name}")
    for data, kwargs, kind in layers:
        getattr(viewer, f"add_{kind}")(data, **kwargs)
    viewer.scale_bar.visible = True  # in nm: the layers carry the pixel size
    widget = PlaynanoWidget(viewer, steps=steps)
    viewer.window.add_dock_widget(widget, name="playnano", area="right")
    if steps:
        widget.start(export=False)
    return viewer, widget


def launch(path: str | Path, *, steps: str = "", channel: str | None = None) -> None:
    """Open the viewer and run napari's event loop until the window is closed."""
    import napari

    open_viewer(path, steps=steps, channel=channel)
    napari.run()
