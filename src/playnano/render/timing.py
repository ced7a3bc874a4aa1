"""Frame timing: how long each frame of an animation shows."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

from playnano.errors import ExportWarning, OptionError

#: Playback rate used when frames have no usable timestamps.
DEFAULT_FPS = 10.0


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
