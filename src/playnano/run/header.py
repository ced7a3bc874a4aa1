"""What a plan learns about an input before reading its frames: :func:`describe_input`.

One look at the input's header decides the frame count (for progress), whether the
input holds processed layers (its outputs' names), its size (blocks or memory, the
free-space estimate), and whether its reader can read it a block at a time. Only
headers are read; a reader without a header-only description gives no header,
and an input that cannot be described is left for the read to report.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Header", "InputFacts", "describe_input"]


@dataclass(frozen=True)
class Header:
    """An input's frames as its header describes them.

    Parameters
    ----------
    shape : tuple of int
        ``(frames, height, width)`` of the data.
    itemsize : int
        Bytes per value of the data.
    processed : bool
        The input holds processed layers (a playnano bundle of a processed stack).
    """

    shape: tuple[int, ...]
    itemsize: int
    processed: bool

    @property
    def frames(self) -> int:
        """Number of frames."""
        return int(self.shape[0])

    @property
    def nbytes(self) -> int:
        """Bytes of the data."""
        return math.prod(self.shape) * self.itemsize


@dataclass(frozen=True)
class InputFacts:
    """What is known of an input before reading: its header, if any, and its doors.

    Parameters
    ----------
    header : Header, optional
        None when the reader cannot describe the input from its headers (or the
        header could not be read: the read reports why).
    lazy : bool
        The input's reader can read it a block of frames at a time.
    """

    header: Header | None
    lazy: bool


def describe_input(path: str | Path) -> InputFacts:
    """Describe ``path`` from its header; never raises (the read reports errors)."""
    import numpy as np

    from playnano.info import inspect
    from playnano.readers import reader_for, usable_reader

    p = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the read warns once, where it matters
            reader = usable_reader(reader_for(p))
            lazy = reader.supports_lazy
            if not reader.supports_inspect:  # no header-only door: learn nothing
                return InputFacts(None, lazy)
            info = inspect(p)  # the guarded door, errors as one ReadError
            header = Header(
                tuple(int(n) for n in info.data.shape),
                np.dtype(info.data.dtype).itemsize,
                any(k != "raw" for k in info.layers),
            )
    except Exception:
        return InputFacts(None, False)
    return InputFacts(header, lazy)
