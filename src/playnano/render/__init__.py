"""Render AFM frames as indexed or RGB images with a colour table and annotations.

Shared by the GIF exporter and every other animated format (an MP4 plugin takes
``render_frames(stack, rgb=True)``) and by the napari display window. The package
has one module per concern:

- :mod:`~playnano.render.palette`: the 256-entry colour table and the height →
  index mapping;
- :mod:`~playnano.render.zrange`: the height range mapped onto the colour table
  (``auto``, ``min``/``max`` or heights in nm) and the clipped-frame rule;
- :mod:`~playnano.render.annotations`: scale bar, timestamp text, enlargement;
- :mod:`~playnano.render.timing`: how long each frame shows;
- :mod:`~playnano.render.renderer`: :func:`prepare_render` and
  :class:`FrameRenderer`, which put them together frame by frame.

Every name below is importable from ``playnano.render``; importing it pulls in
numpy only (matplotlib and Pillow when a function needs them).
"""

from __future__ import annotations

from playnano.render.annotations import (
    DEFAULT_SCALE_BAR_NM,
    MAX_LONG_SIDE,
    MIN_SHORT_SIDE,
    auto_scale_bar_nm,
    text_patch,
    timestamp_label,
    upscale_factor,
)
from playnano.render.palette import (
    BLACK_INDEX,
    DEFAULT_NAN_RGB,
    N_LEVELS,
    NAN_INDEX,
    WHITE_INDEX,
    colormap_palette,
    heights_to_indices,
    level_spread,
)
from playnano.render.renderer import FrameRenderer, prepare_render, render_frames
from playnano.render.timing import DEFAULT_FPS, frame_durations_s
from playnano.render.zrange import (
    AUTO_PERCENTILES,
    AUTO_SAMPLE,
    CLIP_WARN_FRACTION,
    OUTLIER_SPAN_FACTOR,
    SLIVER_FRACTION,
    AutoRange,
    auto_range,
    clip_message,
    clipped_fraction,
    finite_extremes,
    frame_samples,
    height_sample,
    resolve_z_range,
    robust_range,
    sliver_message,
)

__all__ = [
    "AUTO_PERCENTILES",
    "AUTO_SAMPLE",
    "BLACK_INDEX",
    "CLIP_WARN_FRACTION",
    "DEFAULT_FPS",
    "DEFAULT_NAN_RGB",
    "DEFAULT_SCALE_BAR_NM",
    "MAX_LONG_SIDE",
    "MIN_SHORT_SIDE",
    "NAN_INDEX",
    "N_LEVELS",
    "OUTLIER_SPAN_FACTOR",
    "SLIVER_FRACTION",
    "WHITE_INDEX",
    "AutoRange",
    "FrameRenderer",
    "auto_range",
    "auto_scale_bar_nm",
    "clip_message",
    "clipped_fraction",
    "colormap_palette",
    "finite_extremes",
    "frame_durations_s",
    "frame_samples",
    "height_sample",
    "heights_to_indices",
    "level_spread",
    "prepare_render",
    "render_frames",
    "resolve_z_range",
    "robust_range",
    "sliver_message",
    "text_patch",
    "timestamp_label",
    "upscale_factor",
]
