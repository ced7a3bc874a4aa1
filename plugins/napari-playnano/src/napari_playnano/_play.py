"""What ``playnano play FILE`` runs: a napari viewer with the file and the widget."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def show_scale_bar(viewer: Any) -> None:
    """Turn napari's scale bar on (its place moved in napari 0.9)."""
    overlays = getattr(getattr(viewer, "canvas", None), "overlays", None)
    bar = overlays.scale_bar if overlays is not None else viewer.scale_bar
    bar.visible = True


def open_viewer(
    path: str | Path,
    *,
    steps: str = "",
    channel: str | None = None,
    show: bool = True,
    viewer: Any = None,
) -> tuple[Any, Any]:
    """Open ``path`` in a viewer (a new one by default) with the widget docked.

    With ``steps`` the widget runs them at once (in its worker thread). Returns the
    viewer and the widget.
    """
    import napari

    from napari_playnano._reader import read_layers
    from napari_playnano._widget import PlaynanoWidget

    layers = read_layers(str(path), channel=channel)  # errors before a window opens
    if viewer is None:
        viewer = napari.Viewer(show=show, title=f"playnano — {Path(path).name}")
    for data, kwargs, kind in layers:
        getattr(viewer, f"add_{kind}")(data, **kwargs)
    show_scale_bar(viewer)  # in nm: the layers carry the pixel size
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
