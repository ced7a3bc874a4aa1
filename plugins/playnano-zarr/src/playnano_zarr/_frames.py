"""Frames of a Zarr array, read on demand (a ``playnano.lazy.FrameSource``).

Zarr arrays are chunked on disk: a block of frames reads only the chunks it
touches. :class:`ZarrFrames` maps frames ``start`` to ``stop`` onto the array's
``t`` axis, picks one index of a ``c`` axis and drops other size-1 axes, exactly
as the reader does for a whole read.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from playnano.errors import ReadError


class ZarrFrames:
    """Frames ``start`` to ``stop`` of a Zarr array as ``(stop-start, H, W)``.

    Parameters
    ----------
    store : str
        The store's name, for messages.
    key : str
        The array's path in the store, for messages.
    array : zarr.Array
        The array; its last two axes are ``y, x``.
    t_axis : int or None
        The axis holding frames (``None``: a single frame).
    fixed : dict of int to int
        Axes read at one index (the chosen channel, size-1 axes).
    as_bool : bool
        Give ``array != 0`` (an NGFF label read as a mask).
    """

    def __init__(
        self,
        store: str,
        key: str,
        array: Any,
        t_axis: int | None,
        fixed: dict[int, int],
        *,
        as_bool: bool = False,
    ) -> None:
        self.store, self.key, self._array = store, key, array
        self.t_axis, self.fixed, self.as_bool = t_axis, fixed, as_bool
        n = array.shape[t_axis] if t_axis is not None else 1
        self.shape = (int(n), int(array.shape[-2]), int(array.shape[-1]))
        self.dtype = np.dtype(bool) if as_bool else np.dtype(array.dtype)

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames ``start`` to ``stop`` as a new array."""
        if self._array is None:
            raise ReadError(f"{self.store}: {self.key!r} was closed")
        index: list[Any] = []
        for axis in range(self._array.ndim):
            if axis == self.t_axis:
                index.append(slice(start, stop))
            else:
                index.append(self.fixed.get(axis, slice(None)))
        try:
            block = np.asarray(self._array[tuple(index)])
        except Exception as exc:
            text = (str(exc).strip().splitlines() or [""])[0]
            raise ReadError(
                f"{self.store}: cannot read {self.key!r} ({type(exc).__name__}: {text})"
            ) from exc
        block = block.reshape(stop - start, *self.shape[1:])
        return block.astype(bool) if self.as_bool else block

    def close(self) -> None:
        """Forget the array (Zarr keeps no file open between reads)."""
        self._array = None
