"""The bioio Reader: playnano reads, bioio sees ``TCZYX`` with physical sizes in µm.

Metadata comes from :func:`playnano.info.inspect` (headers only where the playnano
reader can); frames are read channel by channel with :func:`playnano.load`, lazily
as one dask chunk per channel, so no file stays open between reads.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr
from bioio_base import constants, dimensions, exceptions, io, reader, types
from dask import delayed
from fsspec.implementations.local import LocalFileSystem

PLUGIN = "bioio-playnano"
DIMS = dimensions.DEFAULT_DIMENSION_ORDER  # "TCZYX"


def _read_channel(path: str, channel: str) -> np.ndarray:
    """Frames ``(T, Y, X)`` of one channel, as playnano reads them."""
    import playnano

    return playnano.load(path, channel=channel).data


class Reader(reader.Reader):
    """Reads every file family playnano reads (instrument files, frame folders,
    playnano bundles) as one scene ``TCZYX``: ``C`` holds the file's channels, ``Z``
    is 1, sizes are in µm (bioio's convention) and the frame interval in seconds.

    Parameters
    ----------
    image : path-like
        A local file or frame folder.
    fs_kwargs : dict, optional
        Passed to fsspec; only the local file system is supported.
    """

    _xarray_dask_data: xr.DataArray | None = None
    _xarray_data: xr.DataArray | None = None
    _mosaic_xarray_dask_data: xr.DataArray | None = None
    _mosaic_xarray_data: xr.DataArray | None = None
    _dims: dimensions.Dimensions | None = None
    _metadata: Any | None = None
    _scenes: tuple[str, ...] | None = None
    _current_scene_index: int = 0

    @staticmethod
    def _is_supported_image(fs: Any, path: str, **kwargs: Any) -> bool:
        from playnano.errors import PlaynanoError
        from playnano.formats import written_by_playnano
        from playnano.readers import reader_for

        if not isinstance(fs, LocalFileSystem):
            raise exceptions.UnsupportedFileFormatError(
                PLUGIN, path, "playnano reads local files only"
            )
        try:
            reader_for(Path(path))
        except PlaynanoError as exc:
            raise exceptions.UnsupportedFileFormatError(
                PLUGIN, path, str(exc)
            ) from None
        if Path(path).is_file() and written_by_playnano(path) is False:
            # another program's .npz, .h5 or .tif: left to the readers made for it
            raise exceptions.UnsupportedFileFormatError(
                PLUGIN, path, "not a file playnano wrote"
            )
        return True

    def __init__(
        self, image: types.PathLike, fs_kwargs: dict[str, Any] | None = None, **kw: Any
    ):
        from playnano.errors import PlaynanoError
        from playnano.info import inspect

        self._fs, self._path = io.pathlike_to_fs(
            image, enforce_exists=True, fs_kwargs=fs_kwargs or {}
        )
        self._is_supported_image(self._fs, self._path)
        try:
            info = inspect(self._path)
        except PlaynanoError as exc:
            raise exceptions.UnsupportedFileFormatError(
                PLUGIN, self._path, str(exc)
            ) from None
        self._info = info.to_dict()
        # the default channel first, as playnano.load(path) returns it
        chans = info.channels
        self._channels = [info.channel] + [c for c in chans if c != info.channel]

    @property
    def scenes(self) -> tuple[str, ...]:
        """One scene: the video."""
        return ("Image:0",)

    def _coords(self) -> dict[str, Any]:
        times = self._info["frame_times"]
        n = self._info["frames"]
        coords: dict[str, Any] = {dimensions.DimensionNames.Channel: self._channels}
        if times["interval"] is not None and times["regular"]:
            coords[dimensions.DimensionNames.Time] = (
                np.arange(n) * times["interval"] + times["first"]
            )
        size_um = self._info["pixel_size"]["value"] / 1000.0
        _, ny, nx = self._info["data"]["shape"]
        coords[dimensions.DimensionNames.SpatialY] = np.arange(ny) * size_um
        coords[dimensions.DimensionNames.SpatialX] = np.arange(nx) * size_um
        return coords

    def _wrap(self, arr: Any) -> xr.DataArray:
        return xr.DataArray(
            arr,
            dims=list(DIMS),
            coords=self._coords(),
            attrs={constants.METADATA_UNPROCESSED: self._info},
        )

    def _read_delayed(self) -> xr.DataArray:
        shape = tuple(self._info["data"]["shape"])
        dtype = np.dtype(self._info["data"]["dtype"])
        per_channel = [
            da.from_delayed(
                delayed(_read_channel)(self._path, c), shape=shape, dtype=dtype
            )
            for c in self._channels
        ]
        return self._wrap(da.stack(per_channel, axis=1)[:, :, np.newaxis])

    def _read_immediate(self) -> xr.DataArray:
        data = np.stack([_read_channel(self._path, c) for c in self._channels], axis=1)
        return self._wrap(data[:, :, np.newaxis])

    @property
    def physical_pixel_sizes(self) -> types.PhysicalPixelSizes:
        """Y and X pixel size in µm (Z is None: one plane)."""
        size_um = self._info["pixel_size"]["value"] / 1000.0
        return types.PhysicalPixelSizes(None, size_um, size_um)

    @property
    def time_interval(self) -> timedelta | None:
        """Median interval between frames; None when the file has no frame times."""
        interval = self._info["frame_times"]["interval"]
        return None if interval is None else timedelta(seconds=interval)
