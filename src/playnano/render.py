"""Render AFM frames as indexed or RGB images with a colour table and annotations.

Shared by the GIF exporter and any other animated format (an MP4 plugin takes
``render_frames(stack, rgb=True)``). Heights become palette indices with numpy
through a 256-entry colour table sampled once from a matplotlib colormap; the scale
bar and timestamp are drawn in reserved palette entries. Nothing is plotted (no
pyplot, no figure), and matplotlib and Pillow are imported only when a function
needs them.

Palette layout: indices ``0 .. N_LEVELS - 1`` (0..252) are the colormap resampled
to 253 colours (so a frame looks as matplotlib draws it with ``cmap.resampled(253)``);
``NAN_INDEX`` (253) is for NaN heights, ``WHITE_INDEX`` (254) for
annotation text and the scale bar, ``BLACK_INDEX`` (255) for annotation boxes.

Frames whose short side is below ``MIN_SHORT_SIDE`` (256 px) are enlarged by an
integer nearest-neighbour factor, so pixels stay square and sharp and the text
(Pillow's default font, sized to the frame) is legible.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from playnano.errors import ExportWarning, OptionError
from playnano.io.guard import check_cancelled

N_LEVELS = 253
NAN_INDEX = 253
WHITE_INDEX = 254
BLACK_INDEX = 255
#: Colour of NaN pixels (mid grey, which afmhot, the default colormap, lacks).
DEFAULT_NAN_RGB = (128, 128, 128)
#: Frames are enlarged until their short side reaches this many pixels ...
MIN_SHORT_SIDE = 256
#: ... unless that would make the long side longer than this.
MAX_LONG_SIDE = 4096
#: Playback rate used when frames have no usable timestamps.
DEFAULT_FPS = 10.0


def colormap_palette(
    cmap: str = "afmhot", nan_rgb: tuple[int, int, int] = DEFAULT_NAN_RGB
) -> np.ndarray:
    """Return the (256, 3) uint8 colour table for ``cmap`` (see the module layout).

    Raises
    ------
    OptionError
        If no colormap has that name (:mod:`playnano.colormaps`).
    """
    from playnano.colormaps import get_colormap

    colormap = get_colormap(cmap)  # matplotlib's or 0.5.0's afm_brown & co
    palette = np.zeros((256, 3), dtype=np.uint8)
    # the colormap resampled to N_LEVELS entries, as matplotlib would draw with it
    levels = colormap.resampled(N_LEVELS)(np.arange(N_LEVELS), bytes=True)
    palette[:N_LEVELS] = levels[:, :3]
    palette[NAN_INDEX] = nan_rgb
    palette[WHITE_INDEX] = (255, 255, 255)
    palette[BLACK_INDEX] = (0, 0, 0)
    return palette


def _finite_extremes(data: np.ndarray) -> tuple[float, float]:
    from playnano.lazy import is_lazy

    if is_lazy(data):  # frames read a block at a time: one pass over the blocks
        lo, hi = data.extremes(finite=True)
        return float(lo), float(hi)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN input
        lo, hi = float(np.nanmin(data)), float(np.nanmax(data))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        # rare: ±inf or only NaN; look again frame by frame, one frame copy at a time
        lo, hi = math.inf, -math.inf
        for frame in data:
            finite = frame[np.isfinite(frame)]
            if finite.size:
                lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
    return lo, hi


#: Percentiles of the heights that ``"auto"`` maps to the colormap's ends (as in
#: playnano 0.5.0): a few outlier frames or pixels do not wash out the rest.
AUTO_PERCENTILES = (1.0, 99.0)
#: ``"auto"`` looks at no more than about this many heights (a grid of pixels on up
#: to 64 frames spread evenly over the stack): cheap in time and memory (0.5 MB) on
#: any video, and plenty for the 1st and 99th percentiles of a colour scale.
AUTO_SAMPLE = 65_536


def height_sample(data: np.ndarray, size: int = AUTO_SAMPLE) -> np.ndarray:
    """The finite heights of an even sample of ``data``'s frames and pixels."""
    n, h, w = data.shape
    frames = np.unique(np.linspace(0, n - 1, min(n, 64)).round().astype(int))
    per_frame = max(1, size // len(frames))
    step = max(1, math.ceil(math.sqrt(h * w / per_frame)))
    rows, cols = len(range(0, h, step)), len(range(0, w, step))
    out = np.empty(len(frames) * rows * cols, dtype=np.float64)
    end = 0
    from playnano.lazy import peeking

    with peeking():  # lazy frames: read (compute) just these frames, not blocks
        for i in frames:
            part = data[i, ::step, ::step]
            finite = np.isfinite(part)
            got = int(np.count_nonzero(finite))
            out[end : end + got] = part[finite]
            end += got
    return out[:end]


def robust_range(data: np.ndarray) -> tuple[float, float]:
    """The 1st and 99th percentiles of ``data``'s finite heights (on a sample)."""
    sample = height_sample(data)
    if not sample.size:
        return math.nan, math.nan
    lo, hi = np.percentile(sample, AUTO_PERCENTILES, overwrite_input=True)
    return float(lo), float(hi)


def _is(value: Any, word: str) -> bool:
    return isinstance(value, str) and value.strip().lower() == word


def resolve_z_range(
    data: np.ndarray,
    zmin: float | str | None = "auto",
    zmax: float | str | None = "auto",
) -> tuple[float, float]:
    """Return the height range mapped onto the colormap, one range for all frames.

    ``"auto"`` (or ``None``) takes the 1st (``zmin``) or 99th (``zmax``) percentile
    of the stack's finite heights, measured on an even sample of frames and pixels
    (``AUTO_PERCENTILES``, ``AUTO_SAMPLE``), so outliers do not wash out the
    picture. ``"min"`` and ``"max"`` take the exact finite extremes. When an
    automatic range is empty (a flat stack) it falls back to the extremes and,
    if those are equal too, is widened by 0.5 on each side.

    Raises
    ------
    OptionError
        If ``zmin`` is not below ``zmax``, or an automatic bound has no finite
        heights to come from.
    """
    auto_lo = zmin is None or _is(zmin, "auto")
    auto_hi = zmax is None or _is(zmax, "auto")
    for name, value, ok in (("zmin", zmin, "min"), ("zmax", zmax, "max")):
        if isinstance(value, str) and not (_is(value, "auto") or _is(value, ok)):
            raise OptionError(
                f"{name} must be a height in nm, auto or {ok}; got {value!r}"
            )
    lo = hi = math.nan
    if auto_lo or auto_hi:
        lo, hi = robust_range(data)
        if not math.isfinite(lo):
            raise OptionError("the stack has no finite heights; give zmin and zmax")
    if (auto_lo and auto_hi and lo == hi) or _is(zmin, "min") or _is(zmax, "max"):
        ext_lo, ext_hi = _finite_extremes(data)
        if not math.isfinite(ext_lo):
            raise OptionError("the stack has no finite heights; give zmin and zmax")
        if auto_lo and auto_hi and lo == hi:
            lo, hi = ext_lo, ext_hi
        lo = ext_lo if _is(zmin, "min") else lo
        hi = ext_hi if _is(zmax, "max") else hi
    exact_lo = auto_lo or _is(zmin, "min")
    exact_hi = auto_hi or _is(zmax, "max")
    lo = lo if exact_lo else float(zmin)  # type: ignore[arg-type]
    hi = hi if exact_hi else float(zmax)  # type: ignore[arg-type]
    if exact_lo and exact_hi and lo == hi:
        return lo - 0.5, hi + 0.5
    if not lo < hi:
        raise OptionError(
            f"zmin ({lo:g}{' auto' if auto_lo else ''}) must be below "
            f"zmax ({hi:g}{' auto' if auto_hi else ''})"
        )
    return lo, hi


#: A frame with more than this share of its finite pixels outside the colour
#: range is reported (it shows mostly as the colormap's end colours).
CLIP_WARN_FRACTION = 0.5


def clipped_fraction(frame: np.ndarray, zmin: float, zmax: float) -> float:
    """Share of ``frame``'s finite pixels below ``zmin`` or above ``zmax``."""
    finite = np.count_nonzero(np.isfinite(frame))
    if not finite:
        return 0.0
    outside = np.count_nonzero(frame < zmin) + np.count_nonzero(frame > zmax)
    return outside / finite


#: The scale bar length used when it reads well (``scale_bar_nm="auto"``).
DEFAULT_SCALE_BAR_NM = 100.0


def auto_scale_bar_nm(frame_width_nm: float) -> float:
    """The scale bar length ``"auto"`` draws on a frame this wide.

    100 nm when that is between a tenth and a half of the width; otherwise the
    round length (1, 2 or 5 times a power of ten, in nm) nearest a fifth of it.
    """
    if frame_width_nm / 10 <= DEFAULT_SCALE_BAR_NM <= frame_width_nm / 2:
        return DEFAULT_SCALE_BAR_NM
    target = frame_width_nm / 5
    exp = math.floor(math.log10(target))
    candidates = [m * 10.0**e for e in (exp - 1, exp, exp + 1) for m in (1, 2, 5)]
    return min(candidates, key=lambda c: abs(math.log(c / target)))


def heights_to_indices(
    frame: np.ndarray, zmin: float, zmax: float, work: np.ndarray | None = None
) -> np.ndarray:
    """Map a frame of heights to palette indices (uint8).

    ``zmin`` maps to 0 and ``zmax`` to ``N_LEVELS - 1``, heights outside the range
    to the nearer end, NaN to ``NAN_INDEX``. Like matplotlib's colour mapping, the
    range is cut into ``N_LEVELS`` equal bins. ``work`` is an optional float64
    buffer of the frame's shape, reused between frames.
    """
    if work is None:
        work = np.empty(frame.shape, dtype=np.float64)
    np.subtract(frame, zmin, out=work, casting="unsafe")
    work *= N_LEVELS / (zmax - zmin)
    np.floor(work, out=work)
    np.clip(work, 0, N_LEVELS - 1, out=work)
    np.nan_to_num(work, copy=False, nan=NAN_INDEX)
    return work.astype(np.uint8)


def upscale_factor(
    shape: tuple[int, int],
    min_short_side: int = MIN_SHORT_SIDE,
    max_long_side: int = MAX_LONG_SIDE,
) -> int:
    """Integer enlargement that brings the short side to ``min_short_side`` pixels."""
    short, long = min(shape), max(shape)
    factor = max(1, math.ceil(min_short_side / short))
    return max(1, min(factor, max_long_side // long))


def frame_durations_s(
    times: Sequence[float | None], fps: float | None = None
) -> list[float]:
    """How long each frame shows, in seconds.

    With ``fps`` every frame lasts ``1 / fps``. Otherwise the differences of the
    timestamps, the last frame getting the median interval. Frames without
    timestamps (or timestamps that do not increase) play at ``DEFAULT_FPS`` with an
    :class:`~playnano.errors.ExportWarning` saying so.
    """
    n = len(times)
    if fps is not None:
        if not (math.isfinite(fps) and fps > 0):
            raise OptionError(f"fps must be a positive number; got {fps!r}")
        return [1.0 / fps] * n
    if all(t is not None and math.isfinite(t) for t in times):
        if n <= 1:
            return [1.0 / DEFAULT_FPS] * n
        diffs = np.diff(np.asarray(times, dtype=np.float64))
        if np.all(diffs > 0):
            return [*diffs.tolist(), float(np.median(diffs))]
        reason = "the frame timestamps do not increase"
    else:
        reason = "some frames have no timestamp"
    warnings.warn(
        f"{reason}; playing at {DEFAULT_FPS:g} fps (set fps to choose a rate)",
        ExportWarning,
        stacklevel=2,
    )
    return [1.0 / DEFAULT_FPS] * n


def timestamp_label(t: float | None, index: int, decimals: int = 2) -> str:
    """The text drawn on a frame: its time in seconds, or its number if unknown."""
    return f"frame {index}" if t is None else f"{t:.{decimals}f} s"


def _load_font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):  # Pillow < 10.1 or no FreeType
        return ImageFont.load_default()


def text_patch(text: str, font: Any, pad: int) -> np.ndarray:
    """White text on a black box, as palette indices, drawn by Pillow (no antialias)."""
    from PIL import Image, ImageDraw

    left, top, right, bottom = ImageDraw.Draw(Image.new("P", (1, 1))).textbbox(
        (0, 0), text, font=font
    )
    size = (math.ceil(right - left) + 2 * pad, math.ceil(bottom - top) + 2 * pad)
    im = Image.new("P", size, BLACK_INDEX)
    draw = ImageDraw.Draw(im)
    draw.fontmode = "1"  # antialiasing would blend palette indices, not colours
    draw.text((pad - left, pad - top), text, fill=WHITE_INDEX, font=font)
    return np.asarray(im)


def _paste(frame: np.ndarray, patch: np.ndarray, y: int, x: int) -> None:
    h = min(patch.shape[0], frame.shape[0] - y)
    w = min(patch.shape[1], frame.shape[1] - x)
    if h > 0 and w > 0:
        frame[y : y + h, x : x + w] = patch[:h, :w]


def clip_message(frames: Sequence[int], renderer: FrameRenderer) -> str:
    """The warning for frames mostly outside the colour range."""
    shown = ", ".join(str(i) for i in frames[:8]) + (", ..." if len(frames) > 8 else "")
    return (
        f"{len(frames)} of {renderer.n_frames} frames are more than half outside "
        f"the colour range {renderer.zmin:g} to {renderer.zmax:g} nm (frames "
        f"{shown}) and show mostly as its end colours; widen zmin/zmax "
        "(--zmin/--zmax) or leave them auto"
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
        self._font = _load_font(max(10, round(short / 20)))
        steps = np.diff([t for t in times if t is not None])
        small = steps.size and float(np.median(steps)) < 0.01
        self._decimals = 3 if small else 2
        self.draw_ts = draw_ts
        #: Frames found more than half outside the colour range while rendering.
        self.clipped_frames: list[int] = []
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
        _paste(patch, label, pad, pad + (width - 2 * pad - label.shape[1]) // 2)
        patch[height - pad - thick : height - pad, pad : pad + bar_px] = WHITE_INDEX
        return patch

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.data.shape[0])

    def render(self, i: int, work: np.ndarray | None = None) -> np.ndarray:
        """Frame ``i`` as palette indices, enlarged and annotated."""
        heights = self.data[i]
        if clipped_fraction(heights, self.zmin, self.zmax) > CLIP_WARN_FRACTION:
            self.clipped_frames.append(i)
        small = heights_to_indices(heights, self.zmin, self.zmax, work)
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
            _paste(frame, bar, y, self.margin)
        if self.draw_ts:
            label = timestamp_label(self.times[i], i, self._decimals)
            _paste(frame, text_patch(label, self._font, 2), self.margin, self.margin)
        return frame

    def frames(self, rgb: bool = False) -> Iterator[np.ndarray]:
        """Yield each frame, one at a time: uint8 indices, or (H, W, 3) RGB."""
        work = np.empty(self.data.shape[1:], dtype=np.float64)
        self.clipped_frames = []
        for i in range(self.n_frames):
            check_cancelled()  # an interrupted export stops between frames
            frame = self.render(i, work)
            yield self.palette[frame] if rgb else frame
        if self.clipped_frames:
            warnings.warn(
                clip_message(self.clipped_frames, self), ExportWarning, stacklevel=2
            )


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
        Height range of the colormap; ``"auto"`` is the 1st / 99th percentile of
        the finite heights, ``"min"`` / ``"max"`` the exact extremes (see
        :func:`resolve_z_range`).
    scale_bar_nm : float or "auto"
        Scale bar length in nm, drawn as given; 0 leaves it out; ``"auto"``
        chooses one (see :func:`auto_scale_bar_nm`).
    draw_ts : bool
        Draw each frame's timestamp in the top-left corner.
    nan_rgb : tuple of int
        Colour of NaN pixels.
    """
    if hasattr(source, "export_source"):
        data, meta = source.export_source(raw=raw)
        stack_px = source.pixel_size_nm
        meta_px = [md.get("frame_pixel_size_nm") or stack_px for md in meta]
        meta_times = [md.get("timestamp") for md in meta]
    else:
        data = np.asarray(source)
        data = data[None] if data.ndim == 2 else data
        if data.ndim != 3 or min(data.shape) == 0:
            raise OptionError(
                f"expected (frames, height, width) heights; got {data.shape}"
            )
        meta_px, meta_times = [None] * len(data), [None] * len(data)
    n = len(data)
    if pixel_size_nm is not None:
        if isinstance(pixel_size_nm, (int, float, np.number)):
            pixel_size_nm = [float(pixel_size_nm)] * n
        meta_px = [None if p is None else float(p) for p in pixel_size_nm]
    times = list(meta_times if timestamps is None else timestamps)
    if len(meta_px) != n or len(times) != n:
        raise OptionError(f"give one pixel size and one timestamp per frame ({n})")
    if scale_bar_nm is None or _is(scale_bar_nm, "auto"):
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
    z_range = resolve_z_range(data, zmin, zmax)
    return FrameRenderer(
        data,
        times,
        meta_px,
        palette,
        z_range,
        scale_bar_nm=scale_bar_nm,
        draw_ts=draw_ts,
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
