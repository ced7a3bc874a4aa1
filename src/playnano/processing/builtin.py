"""The builtin processing steps, registered exactly like a third-party plugin."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from playnano.plugins.hookspecs import hookimpl
from playnano.plugins.options import Option
from playnano.plugins.step import REQUIRED, ExtraOption, FilterSpec
from playnano.processing import alignment as a
from playnano.processing import crop as c
from playnano.processing import filters as f
from playnano.processing import frame_selection as fs
from playnano.processing import masks as m
from playnano.processing import nan_fill as n
from playnano.processing import rolling as r
from playnano.processing import temporal as t

#: Version of the builtin algorithms, recorded with every step in the provenance.
VERSION = "1.0.0"


def _odd_size(params: Mapping[str, Any]) -> None:
    if params["size"] % 2 == 0:
        raise ValueError(f"option 'size' must be odd; got {params['size']}")


def _odd_window(params: Mapping[str, Any]) -> None:
    if params["window"] % 2 == 0:
        raise ValueError(f"option 'window' must be odd; got {params['window']}")


def _range_order(params: Mapping[str, Any]) -> None:
    start, end = params["start"], params["end"]
    if start is not REQUIRED and end is not REQUIRED and start >= end:
        raise ValueError(f"start ({start}) must be less than end ({end})")


def _spec(
    name: str,
    kind: str,
    func: Callable[..., Any],
    description: str,
    *options: Option,
    masked: Callable[..., Any] | None = None,
    batch: Callable[..., Any] | None = None,
    aliases: tuple[str, ...] = (),
    check: Callable[[Mapping[str, Any]], None] | None = None,
) -> FilterSpec:
    return FilterSpec(
        name=name,
        aliases=aliases,
        description=description,
        kind=kind,
        func=func,
        options=options,
        version=VERSION,
        masked_func=masked,
        batch_func=batch,
        check=check,
    )


_MAX_SHIFT = Option(
    "max_shift", "int", None, "Largest shift (pixels).", minimum=0, nullable=True
)
_MAX_JUMP = Option(
    "max_jump",
    "int",
    None,
    "Largest shift change between consecutive frames (pixels).",
    minimum=0,
    nullable=True,
)
_SIGMA = Option(
    "pre_filter_sigma",
    "float",
    None,
    "Gaussian smoothing before correlating (pixels).",
    minimum=0.0,
    exclusive_minimum=True,
    nullable=True,
)
_MODE = Option(
    "mode",
    "str",
    "pad",
    "Borders: pad with NaN, crop, crop_square.",
    choices=a.ALIGN_MODES,
)
_PAD = ExtraOption(
    "pad",
    "int_list",
    [0],
    "Extra pixels: all sides, [vertical, horizontal] or [top, bottom, left, right].",
    minimum=0,
)
_DEBUG = Option("debug", "bool", False, "Accepted for 0.5.0 files (no effect).")
_WINDOW = Option("window", "int", 3, "Frames in the window (odd).", minimum=1)

_THRESHOLD = Option("threshold", "float", 0.0, "Height threshold (data units, nm).")
_ORDER = Option(
    "order",
    "int",
    2,
    "Total degree of the surface (1 plane, 2 bowl).",
    minimum=1,
    maximum=5,
)

FILTER_SPECS: tuple[FilterSpec, ...] = (
    # levelling (masked variants fit the background only)
    _spec("remove_plane", "filter", f.remove_plane, "Subtract the least-squares plane.",
          masked=f.remove_plane_masked),
    _spec("row_median_align", "filter", f.row_median_align,
          "Subtract each row's median height.", masked=f.row_median_align_masked),
    _spec("polynomial_flatten", "filter", f.polynomial_flatten,
          "Subtract a least-squares 2D polynomial surface.", _ORDER,
          masked=f.polynomial_flatten_masked, batch=f.polynomial_flatten_frames),
    _spec("zero_mean", "filter", f.zero_mean, "Subtract the mean height.",
          masked=f.zero_mean_masked),
    _spec("zero_median", "filter", f.zero_median, "Subtract the median height.",
          masked=f.zero_median_masked),
    # smoothing and geometry
    _spec("gaussian_filter", "filter", f.gaussian_filter,
          "Smooth with a Gaussian kernel.",
          Option("sigma", "float", 1.0, "Kernel standard deviation in pixels.",
                 minimum=0.0, exclusive_minimum=True)),
    _spec("median_filter", "filter", f.median_filter,
          "Replace each pixel by its neighbourhood median.",
          Option("size", "int", 3, "Odd window size in pixels.", minimum=1),
          check=_odd_size),
    _spec("vertical_flip", "filter", f.vertical_flip, "Reverse the row order."),
    # masks (True marks a feature)
    _spec("mask_threshold", "mask", m.mask_threshold,
          "Mask pixels above a height threshold.", _THRESHOLD),
    _spec("mask_below_threshold", "mask", m.mask_below_threshold,
          "Mask pixels below a height threshold.", _THRESHOLD),
    _spec("mask_mean_offset", "mask", m.mask_mean_offset,
          "Mask pixels more than factor standard deviations above the mean.",
          Option("factor", "float", 1.0, "Standard deviations above the mean.")),
    _spec("mask_morphological", "mask", m.mask_morphological,
          "Mask |height| above a threshold, then close gaps.",
          Option("threshold", "float", 0.0, "Threshold on |height| (nm)."),
          Option("structure_size", "int", 3, "Closing square size in pixels.",
                 minimum=1)),
    _spec("mask_adaptive", "mask", m.mask_adaptive,
          "Mask pixels above their local mean plus an offset.",
          Option("block_size", "int", 15, "Local window size in pixels.", minimum=2),
          Option("offset", "float", 0.0, "Height above the local mean (nm).")),
    _spec("clear", "clear", m.clear, "Remove the active mask."),
    # whole-stack operations
    _spec("align_frames", "stack", a.align_frames,
          "Correct drift by FFT cross-correlation with a reference frame.",
          Option("reference_frame", "int", 0, "Index of the reference frame.",
                 minimum=0),
          Option("method", "str", "fft_cross_correlation", "Correlation method.",
                 choices=a.ALIGN_METHODS),
          _MODE, _MAX_SHIFT, _SIGMA, _MAX_JUMP,
          Option("subpixel", "bool", False, "Refine shifts to a fraction of a pixel."),
          _DEBUG,
          aliases=("align",)),
    _spec("drop_frames", "stack", fs.drop_frames, "Remove frames by index.",
          ExtraOption("indices_to_drop", "int_list", REQUIRED,
                      "0-based frame indices, e.g. [0,5].", minimum=0)),
    _spec("select_frames", "stack", fs.select_frames, "Keep only the frames given.",
          ExtraOption("keep_indices", "int_list", REQUIRED,
                      "0-based frame indices, e.g. [0,5].", minimum=0)),
    _spec("drop_frame_range", "stack", fs.drop_frame_range,
          "Remove frames start (inclusive) to end (exclusive).",
          Option("start", "int", REQUIRED, "First frame dropped.", minimum=0),
          Option("end", "int", REQUIRED, "Frame after the last dropped.", minimum=1),
          check=_range_order),
    _spec("drop_final_frames", "stack", fs.drop_final_frames,
          "Remove the last frames.",
          Option("n_frames_to_drop", "int", 1, "How many frames.", minimum=0)),
    # playnano 0.5.0's video steps, same parameters and defaults
    _spec("rolling_frame_align", "stack", r.rolling_frame_align,
          "Correct drift against the mean of the last aligned frames.",
          Option("window", "int", 5, "Aligned frames in the reference.", minimum=1),
          _MODE,
          _DEBUG,
          _MAX_SHIFT, _SIGMA, _MAX_JUMP),
    _spec("intersection_crop", "stack", c.intersection_crop,
          "Crop to the region finite in every frame.", _PAD, check=c.check_pad),
    _spec("crop_square", "stack", c.crop_square,
          "Crop to the largest centred square finite in every frame.", _PAD,
          check=c.check_pad),
    _spec("replace_nan", "stack", n.replace_nan, "Replace NaN pixels by a number.",
          Option("mode", "str", "zero", "What replaces NaN (mean and median "
                 "are per frame).", choices=n.NAN_MODES),
          Option("value", "float", None, "The number for mode=constant.",
                 nullable=True),
          check=n.check_replace_nan),
    _spec("temporal_mean_filter", "stack", t.temporal_mean_filter,
          "Average each pixel over neighbouring frames.", _WINDOW,
          check=_odd_window),
    _spec("temporal_median_filter", "stack", t.temporal_median_filter,
          "Median of each pixel over neighbouring frames.", _WINDOW,
          check=_odd_window),
)  # fmt: skip


@hookimpl
def register_filters(register: Callable[[Any], None]) -> None:
    """Register every builtin processing step."""
    for spec in FILTER_SPECS:
        register(spec)
