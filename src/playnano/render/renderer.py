"""Render a stack's frames as palette indices or RGB, annotated, one frame at a time.

Heights become palette indices with numpy through the colour table
(:mod:`playnano.render.palette`) over one height range for the whole stack
(:mod:`playnano.render.zrange`); the scale bar and timestamp are drawn in reserved
palette entries (:mod:`playnano.render.annotations`). Nothing is plotted (no pyplot,
no figure), and matplotlib and Pillow are imported only when a function needs them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from playnano.errors import ExportWarning, OptionError
from playnano.io.guard import check_cancelled
from playnano.render.annotations import (
    auto_scale_bar_nm,
    load_font,
    paste,
    text_patch,
    timestamp_label,
    upscale_factor,
)
from playnano.render.palette import (
    BLACK_INDEX,
    DEFAULT_NAN_RGB,
    N_LEVELS,
    WHITE_INDEX,
    colormap_palette,
    heights_to_indices,
    level_spread,
)
from playnano.render.zrange import (
    CLIP_WARN_FRACTION,
    SLIVER_FRACTION,
    clip_message,
    clipped_fraction,
    is_word,
    resolve_z_range,
    sliver_message,
    varies,
)


class FrameRenderer:
    """Renders the frames of one stack; made by :func:`prepare_render`.

    Attributes
    ----------
    palette : numpy.ndarray
        (256, 3) uint8 colour table the index frames refer to.
    zmin, zmax : float
        Height range mapped onto the colormap.
    upscale : int
        Nearest-neighbour enlargement factor.
    size : tuple of int
        (width, height) of a rendered frame in pixels.
    times : list of float or None
        Timestamp of each frame in seconds.
    auto : bool
        The range is ``"auto"``'s (the warnings then say how it was chosen).
    clipped_frames, sliver_frames : list of int
        Frames found, while rendering, with more than
        :data:`~playnano.render.zrange.CLIP_WARN_FRACTION` of their pixels outside
        the range, or using less than
        :data:`~playnano.render.zrange.SLIVER_FRACTION` of it; each list is named
        in an :class:`~playnano.errors.ExportWarning` when the last frame is done.
    """

    def __init__(
        self,
        data: np.ndarray,
        times: list[float | None],
        pixel_sizes_nm: list[float | None],
        palette: np.ndarray,
        z_range: tuple[float, float],
        *,
        scale_bar_nm: float | str,
        draw_ts: bool,
        auto: bool = False,
    ) -> None:
        self.data = data
        self.times = times
        self.palette = palette
        self.zmin, self.zmax = z_range
        h, w = data.shape[1:]
        self.upscale = upscale_factor((h, w))
        self.size = (w * self.upscale, h * self.upscale)
        short = min(self.size)
        self.margin = max(3, short // 50)
        self._font = load_font(max(10, round(short / 20)))
        steps = np.diff([t for t in times if t is not None])
        small = steps.size and float(np.median(steps)) < 0.01
        self._decimals = 3 if small else 2
        # a single frame is a still image: "0.00 s" on it would say nothing
        self.draw_ts = draw_ts and len(times) > 1
        self.auto = auto
        self.clipped_frames: list[int] = []
        self.sliver_frames: list[int] = []
        self._bars = {
            px: self._bar_patch(scale_bar_nm, px) for px in set(pixel_sizes_nm)
        }
        self._bar_of_frame = [self._bars[px] for px in pixel_sizes_nm]

    def _bar_patch(
        self, bar_nm: float | str, pixel_size_nm: float | None
    ) -> np.ndarray | None:
        if bar_nm == 0 or pixel_size_nm is None:
            return None
        if isinstance(bar_nm, str):  # "auto": a length that reads well
            bar_nm = auto_scale_bar_nm(self.size[0] / self.upscale * pixel_size_nm)
        bar_px = round(bar_nm / pixel_size_nm * self.upscale)
        thick = max(3, min(self.size) // 60)
        pad = thick
        label = text_patch(f"{bar_nm:g} nm", self._font, 0)
        width = max(bar_px, label.shape[1]) + 2 * pad
        height = label.shape[0] + thick + 3 * pad
        if width + 2 * self.margin > self.size[0] or height > self.size[1] // 2:
            warnings.warn(
                f"a {bar_nm:g} nm scale bar does not fit a frame "
                f"{self.size[0] / self.upscale * pixel_size_nm:g} nm wide; "
                "it is left out (choose a smaller scale_bar_nm)",
                ExportWarning,
                stacklevel=4,
            )
            return None
        patch = np.full((height, width), BLACK_INDEX, dtype=np.uint8)
        paste(patch, label, pad, pad + (width - 2 * pad - label.shape[1]) // 2)
        patch[height - pad - thick : height - pad, pad : pad + bar_px] = WHITE_INDEX
        return patch

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.data.shape[0])

    def render(self, i: int, work: np.ndarray | None = None) -> np.ndarray:
        """Frame ``i`` as palette indices, enlarged and annotated."""
        heights = self.data[i]
        small = heights_to_indices(heights, self.zmin, self.zmax, work)
        if clipped_fraction(heights, self.zmin, self.zmax) > CLIP_WARN_FRACTION:
            self.clipped_frames.append(i)
        elif 0 < level_spread(small) < SLIVER_FRACTION * N_LEVELS and varies(
            heights, (self.zmin, self.zmax)
        ):
            self.sliver_frames.append(i)  # detail a narrower range would show
        f = self.upscale
        h, w = small.shape
        if f > 1:
            small = np.broadcast_to(small[:, None, :, None], (h, f, w, f))
        frame = small.reshape(h * f, w * f)
        if not frame.flags.writeable:  # a reshape of tiny frames can stay a view
            frame = frame.copy()
        bar = self._bar_of_frame[i]
        if bar is not None:
            y = frame.shape[0] - self.margin - bar.shape[0]
            paste(frame, bar, y, self.margin)
        if self.draw_ts:
            label = timestamp_label(self.times[i], i, self._decimals)
            paste(frame, text_patch(label, self._font, 2), self.margin, self.margin)
        return frame

    def frames(self, rgb: bool = False) -> Iterator[np.ndarray]:
        """Yield each frame, one at a time: uint8 indices, or (H, W, 3) RGB."""
        work = np.empty(self.data.shape[1:], dtype=np.float64)
        self.clipped_frames, self.sliver_frames = [], []
        for i in range(self.n_frames):
            check_cancelled()  # an interrupted export stops between frames
            frame = self.render(i, work)
            yield self.palette[frame] if rgb else frame
        z_range = (self.zmin, self.zmax)
        for found, message in (
            (self.clipped_frames, clip_message),
            (self.sliver_frames, sliver_message),
        ):
            if found:
                text = message(found, self.n_frames, z_range, self.auto)
                # attributed here, not to the format: the GIF, the PNG frames and
                # a video of one stack share the range, and say so once
                warnings.warn(text, ExportWarning, stacklevel=1)


def prepare_render(
    source: Any,
    *,
    raw: bool = False,
    pixel_size_nm: float | Sequence[float | None] | None = None,
    timestamps: Sequence[float | None] | None = None,
    cmap: str = "afmhot",
    zmin: float | str | None = "auto",
    zmax: float | str | None = "auto",
    scale_bar_nm: float | str = "auto",
    draw_ts: bool = True,
    nan_rgb: tuple[int, int, int] = DEFAULT_NAN_RGB,
) -> FrameRenderer:
    """Check the settings and make a :class:`FrameRenderer`; no frame is rendered yet.

    Parameters
    ----------
    source : AFMImageStack or numpy.ndarray
        A stack (its ``export_source(raw)`` is rendered, with the frames' own
        timestamps and pixel sizes) or a (frames, height, width) array of heights.
    raw : bool
        For a stack, render the unprocessed snapshot.
    pixel_size_nm : float or sequence, optional
        For an array: nm per pixel (one value or one per frame); needed for the
        scale bar. For a stack it overrides the stack's calibration.
    timestamps : sequence of float or None, optional
        For an array: seconds of each frame. For a stack it overrides the metadata.
    cmap : str
        Matplotlib colormap name.
    zmin, zmax : float, "auto", "min" or "max"
        Height range of the colormap; ``"auto"`` spans the 1st to 99th
        percentiles of every frame but outlier frames, ``"min"`` / ``"max"`` the
        exact extremes (see :func:`~playnano.render.zrange.auto_range`).
    scale_bar_nm : float or "auto"
        Scale bar length in nm, drawn as given; 0 leaves it out; ``"auto"``
        chooses one (see :func:`auto_scale_bar_nm`).
    draw_ts : bool
        Draw each frame's timestamp in the top-left corner (never on a single
        frame: a still image has no time to show).
    nan_rgb : tuple of int
        Colour of NaN pixels.
    """
    if hasattr(source, "export_source"):
        data, meta = source.export_source(raw=raw)
        stack_px = source.pixel_size_nm
        meta_px = [md.get("frame_pixel_size_nm") or stack_px for md in meta]
        meta_times = [md.get("timestamp") for md in meta]
        unit = int(getattr(source, "read_unit", 1))
    else:
        data = np.asarray(source)
        data = data[None] if data.ndim == 2 else data
        if data.ndim != 3 or min(data.shape) == 0:
            raise OptionError(
                f"expected (frames, height, width) heights; got {data.shape}"
            )
        meta_px, meta_times = [None] * len(data), [None] * len(data)
        unit = 1
    n = len(data)
    if pixel_size_nm is not None:
        if isinstance(pixel_size_nm, (int, float, np.number)):
            pixel_size_nm = [float(pixel_size_nm)] * n
        meta_px = [None if p is None else float(p) for p in pixel_size_nm]
    times = list(meta_times if timestamps is None else timestamps)
    if len(meta_px) != n or len(times) != n:
        raise OptionError(f"give one pixel size and one timestamp per frame ({n})")
    if scale_bar_nm is None or is_word(scale_bar_nm, "auto"):
        scale_bar_nm = "auto"
    elif isinstance(scale_bar_nm, str) or not (
        math.isfinite(scale_bar_nm) and scale_bar_nm >= 0
    ):
        raise OptionError(
            f"scale_bar_nm must be 0 (off), positive or auto; got {scale_bar_nm!r}"
        )
    if scale_bar_nm and any(p is None for p in meta_px):
        raise OptionError(
            "the scale bar needs pixel_size_nm; give it or set scale_bar_nm=0"
        )
    palette = colormap_palette(cmap, nan_rgb)
    z_range = resolve_z_range(data, zmin, zmax, unit)
    auto = all(z is None or is_word(z, "auto") for z in (zmin, zmax))
    return FrameRenderer(
        data,
        times,
        meta_px,
        palette,
        z_range,
        scale_bar_nm=scale_bar_nm,
        draw_ts=draw_ts,
        auto=auto,
    )


def render_frames(
    source: Any, *, rgb: bool = False, **settings: Any
) -> Iterator[np.ndarray]:
    """Render ``source`` frame by frame; settings as for :func:`prepare_render`.

    The settings are checked now; frames are rendered as the iterator is consumed.
    Yields uint8 palette indices (``rgb=False``; the palette is
    ``colormap_palette(cmap)``) or (H, W, 3) uint8 RGB frames.
    """
    return prepare_render(source, **settings).frames(rgb=rgb)
