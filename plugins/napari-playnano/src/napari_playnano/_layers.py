"""An AFMImageStack as napari layer data tuples, and an image layer back as a stack.

Every layer carries axis labels ``t, y, x``, units (s, nm, nm) and the scale (frame
interval, pixel size), so napari's scale bar and time slider are physical. Images
use the GIF's colour table (``afmhot`` sampled as :mod:`playnano.render` samples it)
and its automatic range as contrast limits (:func:`playnano.render.auto_range`: every
ordinary frame's 1st to 99th percentile, outlier frames left out), so the viewer
shows a video as its GIF and videos do.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from playnano.afm_stack import AFMImageStack

#: Key of a layer's ``metadata`` that holds what playnano knows about the layer.
META_KEY = "playnano"
AXIS_LABELS = ("t", "y", "x")
DEFAULT_CMAP = "afmhot"

LayerData = tuple[Any, dict[str, Any], str]


@lru_cache(maxsize=8)
def afm_colormap(name: str = DEFAULT_CMAP) -> Any:
    """The napari colormap with the GIF's colours for ``name``."""
    from napari.utils.colormaps import Colormap

    from playnano.render import N_LEVELS, colormap_palette

    colors = colormap_palette(name)[:N_LEVELS].astype(np.float64) / 255.0
    return Colormap(colors=colors, name=f"playnano-{name}", display_name=name)


def frame_interval_s(frame_metadata: list[dict[str, Any]]) -> float | None:
    """Median interval between frame timestamps in seconds, or None if unknown."""
    times = [md.get("timestamp") for md in frame_metadata]
    if len(times) < 2 or any(t is None for t in times):
        return None
    steps = np.diff(np.asarray(times, dtype=np.float64))
    if not np.all(steps > 0):
        return None
    return float(np.median(steps))


def _geometry(
    pixel_size_nm: float, frame_metadata: list[dict[str, Any]]
) -> dict[str, Any]:
    dt = frame_interval_s(frame_metadata)
    return {
        "scale": (dt if dt is not None else 1.0, pixel_size_nm, pixel_size_nm),
        # without timestamps the time axis counts frames (napari's "pixel" unit)
        "units": ("s" if dt is not None else "pixel", "nm", "nm"),
        "axis_labels": AXIS_LABELS,
    }


def contrast_limits(data: np.ndarray) -> tuple[float, float] | None:
    """The GIF's automatic height range, or None when no height is finite.

    The same rule as every animated format's ``auto`` (outlier frames, such as a
    tip crash, show clipped instead of flattening the rest).
    """
    from playnano.errors import OptionError
    from playnano.render import resolve_z_range

    try:
        return resolve_z_range(data, "auto", "auto")
    except OptionError:
        return None


def _image_kwargs(data: np.ndarray, name: str, **extra: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"name": name, "colormap": afm_colormap()}
    limits = contrast_limits(data)
    if limits is not None:
        kwargs["contrast_limits"] = limits
    kwargs.update(extra)
    return kwargs


def display_name(stack: AFMImageStack) -> str:
    """Short label of a stack: its base name (as outputs are named) and channel."""
    from playnano.run import base_name

    stem = base_name(stack.file_path) if stack.file_path else "stack"
    return f"{stem} [{stack.channel}]"


def stack_to_layers(stack: AFMImageStack) -> list[LayerData]:
    """Layer data tuples: ``data`` shown, processed layers hidden, masks as labels."""
    base = display_name(stack)
    geometry = _geometry(stack.pixel_size_nm, stack.frame_metadata)
    meta = {META_KEY: {"stack": stack, "key": "data"}}
    layers: list[LayerData] = [
        (
            stack.data,
            _image_kwargs(stack.data, base, metadata=meta, **geometry),
            "image",
        )
    ]
    for key, layer in stack.processed.items():
        if key == "raw":
            _, raw_meta = stack.export_source(raw=True)
            geo = _geometry(stack.pixel_size_nm, raw_meta)
        else:
            geo = (
                geometry
                if layer.shape[0] == stack.n_frames
                else _geometry(stack.pixel_size_nm, [{}] * layer.shape[0])
            )
        meta = {META_KEY: {"stack": stack, "key": key}}
        kwargs = _image_kwargs(
            layer, f"{base} {key}", visible=False, metadata=meta, **geo
        )
        layers.append((layer, kwargs, "image"))
    for key, mask in stack.masks.items():
        meta = {META_KEY: {"stack": stack, "key": f"mask:{key}"}}
        kwargs = {
            "name": f"{base} mask {key}",
            "visible": False,
            "opacity": 0.5,
            "metadata": meta,
            **geometry,
        }
        layers.append((mask.astype(np.uint8), kwargs, "labels"))
    return layers


def stack_of(layer_metadata: dict[str, Any] | None) -> AFMImageStack | None:
    """The stack a layer was made from, if it came from playnano."""
    info = (layer_metadata or {}).get(META_KEY) or {}
    stack = info.get("stack")
    return stack if isinstance(stack, AFMImageStack) else None


def layer_to_stack(
    data: Any, meta: dict[str, Any], *, name: str | None = None
) -> AFMImageStack:
    """Build a stack from an image layer's data and its state (scale, metadata).

    The pixel size is the layer's y/x scale (nm); the frame times come from the
    stack the layer was read from when the frame count matches, otherwise from the
    time scale (seconds). The data is used as it is in the layer.
    """
    from playnano.errors import StackError

    arr = np.asarray(data)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise StackError(
            f"layer {name or meta.get('name')!r} has {arr.ndim} dimensions; "
            "playnano writes (t, y, x) stacks"
        )
    scale = [float(s) for s in (meta.get("scale") or (1.0, 1.0, 1.0))][-3:]
    if len(scale) == 2:
        scale = [1.0, *scale]
    source = stack_of(meta.get("metadata"))
    if source is not None and meta.get("metadata", {})[META_KEY].get("key") == "data":
        frame_metadata = source.frame_metadata
        channel, path = source.channel, source.file_path
    else:
        frame_metadata = None
        channel = source.channel if source is not None else "height"
        path = source.file_path if source is not None else None
    if frame_metadata is None or len(frame_metadata) != arr.shape[0]:
        dt = scale[0]
        frame_metadata = [{"timestamp": i * dt} for i in range(arr.shape[0])]
    px = scale[-1]
    if not (math.isfinite(px) and px > 0):
        raise StackError(f"layer {name!r}: pixel size {px!r} is not positive")
    stack = AFMImageStack(arr, px, channel, path, frame_metadata)
    if source is not None:
        import copy

        stack.provenance = copy.deepcopy(source.provenance)
    return stack
