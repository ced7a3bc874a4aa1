"""Lazy stacks: bundles to read a block at a time, and output comparison."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import tifffile

from playnano.afm_stack import AFMImageStack
from playnano.io.export_data import export_stack
from playnano.lazy import LazyFrames


class RampFrames:
    """A FrameSource of tilted frames with bumps and noise (frame ``i`` seeded ``i``)."""

    def __init__(self, n: int, h: int, w: int, nan: bool = False) -> None:
        self.shape, self.dtype, self.nan = (n, h, w), np.dtype(np.float64), nan
        self.reads: list[tuple[int, int]] = []

    def read(self, start: int, stop: int) -> np.ndarray:
        self.reads.append((start, stop))
        _, h, w = self.shape
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
        out = np.empty((stop - start, h, w))
        for i in range(start, stop):
            rng = np.random.default_rng(i)
            out[i - start] = (
                0.05 * xx - 0.03 * yy + 0.01 * i + rng.normal(0, 0.2, (h, w))
            )
            out[i - start, h // 3 : h // 2, w // 3 : w // 2] += 3.0  # a particle
            if self.nan and i % 5 == 0:
                out[i - start, 0, 0] = np.nan
        return out

    def close(self) -> None:
        pass


def write_bundle(path: Path, n: int, h: int, w: int, level: int = 1, nan=False) -> Path:
    """An HDF5 bundle of ``RampFrames`` written through the h5 exporter (streamed)."""
    frames = LazyFrames(RampFrames(n, h, w, nan))
    meta = [{"timestamp": 0.1 * i} for i in range(n)]
    stack = AFMImageStack(frames, 2.0, "height_trace", path, meta)
    export_stack(stack, path, "h5", options={"compress_level": level})
    return path


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """50 frames of 32x40, some with a NaN pixel."""
    folder = tmp_path_factory.mktemp("lazy")
    return write_bundle(folder / "in.h5", 50, 32, 40, nan=True)


def h5_arrays(path: Path) -> dict[str, tuple[str, np.ndarray]]:
    """Every 3D dataset of an HDF5 file: dtype and values."""
    out: dict[str, tuple[str, np.ndarray]] = {}
    with h5py.File(path) as f:

        def visit(name: str, obj) -> None:
            if isinstance(obj, h5py.Dataset) and obj.ndim == 3:
                out[name] = (str(obj.dtype), obj[()])

        f.visititems(visit)
    return out


def assert_same_arrays(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for key in a:
        (da, va), (db, vb) = a[key], b[key]
        assert da == db, key
        # bit for bit: compare the bytes (NaN payloads included)
        assert va.tobytes() == vb.tobytes(), key


def tif_frames(path: Path) -> np.ndarray:
    return tifffile.imread(path)


def gwy_fields(path: Path) -> dict[str, bytes]:
    """Every data field (channels and masks) of a ``.gwy`` file, as bytes."""
    import gwyfile

    obj = gwyfile.load(str(path))
    return {
        k: np.asarray(v.data).tobytes()
        for k, v in sorted(obj.items())
        if type(v).__name__ == "GwyDataField"
    }


def topostats_arrays(folder: Path) -> dict[str, bytes]:
    """Every dataset of every ``.topostats`` file of a folder but its provenance."""
    out: dict[str, bytes] = {}
    for path in sorted(folder.glob("*.topostats")):
        with h5py.File(path) as f:

            def visit(name: str, obj, path=path) -> None:
                if isinstance(obj, h5py.Dataset) and "provenance" not in name:
                    out[f"{path.name}/{name}"] = np.asarray(obj[()]).tobytes()

            f.visititems(visit)
    return out
