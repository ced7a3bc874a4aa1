"""napari writers: "Save layers" through playnano's exporter plugins.

Each writer turns the image layer into an AFMImageStack and writes it with
:func:`playnano.export`, through the CLI's planner and executor: atomic, never
replacing an existing file, recorded in the provenance with napari as the origin.
The builtin formats have a writer each in the manifest; :func:`write_by_suffix`
takes any installed format from the file name's suffix, and
:mod:`napari_playnano._formats` adds a named writer per third-party format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from napari_playnano._layers import META_KEY, layer_to_stack, stack_of
from playnano.afm_stack import AFMImageStack


def napari_origin(**details: Any) -> dict[str, Any]:
    """The provenance ``command`` record of an export made in napari."""
    import napari

    from napari_playnano import __version__

    return {
        "origin": "napari",
        "napari": napari.__version__,
        "napari_playnano": __version__,
        **details,
    }


def stack_for_layer(data: Any, attributes: dict[str, Any]) -> AFMImageStack:
    """The stack to write for an image layer.

    The layer of a video's data, unchanged since playnano read or processed it, is
    written with its whole stack (processed layers, masks, provenance); any other
    image layer becomes a stack of its own data with its scale.
    """
    source = stack_of(attributes.get("metadata"))
    key = (attributes.get("metadata") or {}).get(META_KEY, {}).get("key")
    if source is not None and key == "data" and data is source.data:
        return source
    return layer_to_stack(data, attributes, name=attributes.get("name"))


def write_layer(
    path: str, data: Any, attributes: dict[str, Any], format: str | None
) -> list[str]:
    """Write one image layer with ``format`` (None: from the suffix); paths written."""
    from napari.utils.notifications import show_error

    import playnano
    from playnano.errors import PlaynanoError

    try:
        stack = stack_for_layer(data, attributes)
        stack.provenance["command"] = napari_origin(
            layer=attributes.get("name"), format=format, via="save layers"
        )
        written = playnano.export(stack, Path(path), format)
    except PlaynanoError as exc:
        # a user mistake (existing file, unknown suffix): a notification, no traceback
        show_error(f"playnano: {exc}")
        return []
    return [str(p) for p in written]


def write_tif(path: str, data: Any, attributes: dict[str, Any]) -> list[str]:
    """Write an image layer as playnano OME-TIFF."""
    return write_layer(path, data, attributes, "tif")


def write_npz(path: str, data: Any, attributes: dict[str, Any]) -> list[str]:
    """Write an image layer as a playnano NPZ bundle."""
    return write_layer(path, data, attributes, "npz")


def write_h5(path: str, data: Any, attributes: dict[str, Any]) -> list[str]:
    """Write an image layer as a playnano HDF5 bundle."""
    return write_layer(path, data, attributes, "h5")


def write_gif(path: str, data: Any, attributes: dict[str, Any]) -> list[str]:
    """Write an image layer as an annotated GIF."""
    return write_layer(path, data, attributes, "gif")


def write_gwy(path: str, data: Any, attributes: dict[str, Any]) -> list[str]:
    """Write an image layer as a Gwyddion ``.gwy`` file (one channel per frame)."""
    return write_layer(path, data, attributes, "gwy")


def write_by_suffix(path: str, data: Any, attributes: dict[str, Any]) -> list[str]:
    """Write an image layer in the installed format its suffix names."""
    return write_layer(path, data, attributes, None)
