"""The data model: an AFM video with its processed layers, masks and provenance."""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from playnano.errors import StackError

#: Keys every entry of ``AFMImageStack.frame_metadata`` carries (``None`` when unknown).
FRAME_METADATA_KEYS: tuple[str, ...] = (
    "timestamp",
    "frame_pixel_size_nm",
    "frame_duration_s",
    "start_epoch_ms",
    "scan_direction",
    "line_rate",
)

_FLOAT_KEYS = ("timestamp", "frame_pixel_size_nm", "frame_duration_s", "line_rate")


def _as_frames(arr: object) -> Any:
    """``arr`` itself when it is a :class:`~playnano.lazy.LazyFrames`, else an array."""
    from playnano.lazy import LazyFrames

    return arr if isinstance(arr, LazyFrames) else np.asarray(arr)


def _check_layer(name: object, arr: object, *, what: str) -> np.ndarray:
    if not isinstance(name, str) or not name:
        raise StackError(f"{what} names must be non-empty strings; got {name!r}")
    a = _as_frames(arr)
    if a.ndim != 3:
        raise StackError(
            f"{what} {name!r} must be a 3D (frames, height, width) array; "
            f"got shape {a.shape}"
        )
    return a


class LayerDict(dict[str, np.ndarray]):
    """Processed layers by name; each a 3D (frames, height, width) array.

    A layer may also be a :class:`~playnano.lazy.LazyFrames` (frames read or
    computed on demand; see :mod:`playnano.lazy`).
    """

    _what = "processed layer"

    def __init__(self, owner: AFMImageStack, items: Mapping[str, Any] | None = None):
        super().__init__()
        self._owner = owner
        for k, v in (items or {}).items():
            self[k] = v

    def _validate(self, key: str, value: Any) -> np.ndarray:
        return _check_layer(key, value, what=self._what)

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, self._validate(key, value))

    def update(self, *args: Any, **kwargs: Any) -> None:
        for k, v in dict(*args, **kwargs).items():
            self[k] = v

    def setdefault(self, key: str, default: Any = None) -> np.ndarray:
        if key not in self:
            self[key] = default
        return self[key]

    def __reduce__(self) -> Any:  # copy/deepcopy as a plain dict
        return (dict, (dict(self),))


class MaskDict(LayerDict):
    """Boolean masks by name; each must have the shape of the stack's data."""

    _what = "mask"

    def _validate(self, key: str, value: Any) -> np.ndarray:
        a = _check_layer(key, value, what=self._what)
        if a.dtype != np.bool_:
            raise StackError(f"mask {key!r} must be boolean; got dtype {a.dtype}")
        expected = self._owner.data.shape
        if a.shape != expected:
            raise StackError(
                f"mask {key!r} has shape {a.shape}; the stack's data is {expected}"
            )
        return a


def normalize_frame_metadata(
    frame_metadata: Sequence[Mapping[str, Any]] | None, n_frames: int
) -> list[dict[str, Any]]:
    """Return one dict per frame holding every key of FRAME_METADATA_KEYS.

    Missing values become ``None``; numeric values become plain Python floats/ints so
    the metadata is JSON-serialisable. Extra keys are kept.
    """
    if frame_metadata is None:
        frame_metadata = [{} for _ in range(n_frames)]
    if isinstance(frame_metadata, Mapping) or not isinstance(frame_metadata, Iterable):
        raise StackError("frame_metadata must be a list with one dict per frame")
    frame_metadata = list(frame_metadata)
    if len(frame_metadata) != n_frames:
        raise StackError(
            f"frame_metadata has {len(frame_metadata)} entries; "
            f"the data has {n_frames} frames"
        )
    out: list[dict[str, Any]] = []
    for i, md in enumerate(frame_metadata):
        if not isinstance(md, Mapping):
            raise StackError(f"frame_metadata[{i}] must be a dict; got {md!r}")
        entry = {key: None for key in FRAME_METADATA_KEYS}
        entry.update(md)
        for key in _FLOAT_KEYS:
            value = entry[key]
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise StackError(
                    f"frame_metadata[{i}][{key!r}] must be a number or None; "
                    f"got {value!r}"
                )
            value = float(value)
            entry[key] = None if math.isnan(value) else value
        fps = entry["frame_pixel_size_nm"]
        if fps is not None and not (fps > 0 and math.isfinite(fps)):
            raise StackError(
                f"frame_metadata[{i}]['frame_pixel_size_nm'] must be positive; "
                f"got {fps!r}"
            )
        epoch = entry["start_epoch_ms"]
        if epoch is not None:
            if isinstance(epoch, bool) or not isinstance(epoch, numbers.Real):
                raise StackError(
                    f"frame_metadata[{i}]['start_epoch_ms'] must be a number or None"
                )
            entry["start_epoch_ms"] = int(epoch)
        out.append(entry)
    return out


class AFMImageStack:
    """An AFM video: frames of heights with calibration, layers, masks and provenance.

    Parameters
    ----------
    data : numpy.ndarray or playnano.lazy.LazyFrames
        Heights as a (frames, height, width) array. Its dtype is kept. A
        :class:`~playnano.lazy.LazyFrames` makes a *lazy* stack: frames are read
        (and processed layers computed) a block at a time, never all at once;
        :meth:`close` releases its files.
    pixel_size_nm : float
        Size of one pixel in nanometres; positive and finite.
    channel : str
        Channel name (for example ``"height_trace"`` or ``"TP"``).
    file_path : str or pathlib.Path or None
        The file or folder the data came from.
    frame_metadata : list of dict, optional
        One dict per frame. Every entry ends up with the keys of
        :data:`FRAME_METADATA_KEYS` (``timestamp`` in seconds from frame 0,
        ``frame_pixel_size_nm``, ``frame_duration_s``, ``start_epoch_ms``,
        ``scan_direction``, ``line_rate``); missing values are ``None``.

    Attributes
    ----------
    processed : dict of str to numpy.ndarray
        Named processed layers (``"raw"`` among them once processing has run).
    masks : dict of str to numpy.ndarray
        Named boolean masks with the shape of ``data``.
    provenance : dict
        ``environment``, ``source``, ``processing`` (``steps``, ``keys_by_name``) and
        ``exports``.
    state_backups : dict
        ``frame_metadata_before_edit``: the frame metadata of the raw snapshot when
        frames were dropped (the key playnano 0.5.0 uses).
    """

    data: np.ndarray
    pixel_size_nm: float
    channel: str
    file_path: Path | None
    frame_metadata: list[dict[str, Any]]
    provenance: dict[str, Any]
    state_backups: dict[str, Any]
    _processed: LayerDict
    _masks: MaskDict
    #: Frames the input file stores together (an HDF5 chunk spanning 32 frames, as
    #: in playnano 0.5.0's bundles; 1 for most files), set by the reader whether the
    #: stack is read lazily or in memory. A sample of scattered frames (the automatic
    #: colour range) is taken from a few such runs, so it reads a few runs and both
    #: reads sample the same frames.
    read_unit: int = 1

    def __init__(
        self,
        data: Any,
        pixel_size_nm: float,
        channel: str,
        file_path: str | Path | None,
        frame_metadata: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        arr = _as_frames(data)
        if arr.ndim != 3:
            raise StackError(
                f"data must be a 3D (frames, height, width) array; got shape {arr.shape}"
            )
        if min(arr.shape) == 0:
            raise StackError(f"data must not be empty; got shape {arr.shape}")
        if not (
            np.issubdtype(arr.dtype, np.number)
            and not np.issubdtype(arr.dtype, np.complexfloating)
        ):
            raise StackError(f"data must hold real numbers; got dtype {arr.dtype}")
        if (
            isinstance(pixel_size_nm, bool)
            or not isinstance(pixel_size_nm, numbers.Real)
            or not math.isfinite(float(pixel_size_nm))
            or pixel_size_nm <= 0
        ):
            raise StackError(
                f"pixel_size_nm must be a positive, finite number; got {pixel_size_nm!r}"
            )
        if not isinstance(channel, str):
            raise StackError(f"channel must be a string; got {channel!r}")
        self.data = arr
        self.pixel_size_nm = float(pixel_size_nm)
        self.channel = channel
        self.file_path = Path(file_path) if file_path is not None else None
        self.frame_metadata = normalize_frame_metadata(frame_metadata, arr.shape[0])
        self._processed = LayerDict(self)
        self._masks = MaskDict(self)
        from playnano.provenance import new_provenance

        self.provenance = new_provenance()
        self.state_backups = {}

    # processed and masks validate on assignment, also when replaced wholesale
    @property
    def processed(self) -> LayerDict:
        """Named processed layers (3D arrays)."""
        return self._processed

    @processed.setter
    def processed(self, value: Mapping[str, Any]) -> None:
        self._processed = LayerDict(self, value)

    @property
    def masks(self) -> MaskDict:
        """Named boolean masks with the shape of ``data``."""
        return self._masks

    @masks.setter
    def masks(self, value: Mapping[str, Any]) -> None:
        self._masks = MaskDict(self, value)

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.data.shape[0])

    @property
    def image_shape(self) -> tuple[int, int]:
        """(height, width) of one frame in pixels."""
        return int(self.data.shape[1]), int(self.data.shape[2])

    def get_frame_times(self) -> list[float | None]:
        """Timestamp of each frame in seconds from frame 0 (``None`` where unknown)."""
        return [md["timestamp"] for md in self.frame_metadata]

    def export_source(
        self, raw: bool = False
    ) -> tuple[np.ndarray, list[dict[str, Any]]]:
        """Return the frames and frame metadata an export writes.

        With ``raw=True`` and a ``"raw"`` snapshot present, the unprocessed snapshot
        and its own (pre-edit) frame metadata; otherwise ``data`` and
        ``frame_metadata``.
        """
        if raw and "raw" in self.processed:
            raw_data = self.processed["raw"]
            meta = self.state_backups.get("frame_metadata_before_edit")
            if meta is None or len(meta) != raw_data.shape[0]:
                meta = self.frame_metadata
            return raw_data, normalize_frame_metadata(meta, raw_data.shape[0])
        return self.data, self.frame_metadata

    def is_processed(self) -> bool:
        """True when the stack holds processed layers other than the raw snapshot."""
        return any(k != "raw" for k in self.processed)

    @property
    def is_lazy(self) -> bool:
        """True when ``data`` is read on demand (a :class:`~playnano.lazy.LazyFrames`)."""
        from playnano.lazy import is_lazy

        return is_lazy(self.data)

    def lazy_frames(self) -> list[Any]:
        """Every distinct :class:`~playnano.lazy.LazyFrames` the stack holds."""
        from playnano.lazy import is_lazy

        out: dict[int, Any] = {}
        for arr in (self.data, *self.processed.values(), *self.masks.values()):
            if is_lazy(arr):
                out.setdefault(id(arr), arr)
        return list(out.values())

    def close(self) -> None:
        """Release the files lazy frames are read from (nothing for in-memory data).

        Reading those frames afterwards may fail; in-memory stacks are unaffected.
        """
        for lazy in self.lazy_frames():
            lazy.close()

    def __enter__(self) -> AFMImageStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def copy(self) -> AFMImageStack:
        """Return a deep copy (arrays included; lazy frames are shared, read-only)."""

        def dup(a: Any) -> Any:
            return a.copy() if isinstance(a, np.ndarray) else a

        new = AFMImageStack(
            dup(self.data),
            self.pixel_size_nm,
            self.channel,
            self.file_path,
            copy.deepcopy(self.frame_metadata),
        )
        new.processed = {k: dup(v) for k, v in self.processed.items()}
        new.masks = {k: dup(v) for k, v in self.masks.items()}
        new.provenance = copy.deepcopy(self.provenance)
        new.state_backups = copy.deepcopy(self.state_backups)
        return new

    @classmethod
    def load_data(cls, path: str | Path, channel: str | None = None) -> AFMImageStack:
        """Read an AFM video or a playnano bundle with the matching reader plugin."""
        from playnano.readers import load

        return load(path, channel=channel)

    def __repr__(self) -> str:
        t, h, w = self.data.shape
        return (
            f"AFMImageStack({t} frames of {h}x{w}, {self.data.dtype}, "
            f"{self.pixel_size_nm:g} nm/px, channel={self.channel!r})"
        )
