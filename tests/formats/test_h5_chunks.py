"""Direct-chunk HDF5 writes read by plain h5py, and threaded reads of gzip datasets."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

from playnano.formats.h5.chunks import read_array, write_frames
from playnano.io import codec
from playnano.synthetic import synthetic_hsafm


@pytest.fixture(scope="module")
def stack() -> np.ndarray:
    return synthetic_hsafm(n_frames=7, size_px=80).data.astype(np.float32)


@pytest.mark.parametrize("level", [0, 1, 4, 9])
def test_plain_h5py_reads_what_we_write(
    tmp_path: Path, stack: np.ndarray, level: int
) -> None:
    path = tmp_path / "a.h5"
    mask = stack > 1.0
    with h5py.File(path, "w") as f:
        write_frames(f, "data", stack, level)
        write_frames(f, "mask", mask, level)
        write_frames(f, "f64", stack.astype(">f8"), level)
    with h5py.File(path, "r") as f:
        ds = f["data"]
        assert ds.chunks == (1, 80, 80)
        if level:
            assert (ds.compression, ds.compression_opts, ds.shuffle) == (
                "gzip",
                level,
                True,
            )
        # h5py's own filter pipeline decodes it (no plugin involved)
        assert np.array_equal(ds[()], stack)
        assert np.array_equal(f["mask"][()], mask)
        assert f["mask"].dtype == np.bool_
        assert np.array_equal(f["f64"][()], stack.astype(">f8"))


@pytest.mark.skipif(shutil.which("h5dump") is None, reason="h5dump is not installed")
def test_h5dump_reads_it(tmp_path: Path, stack: np.ndarray) -> None:
    path = tmp_path / "a.h5"
    with h5py.File(path, "w") as f:
        write_frames(f, "data", stack[:1, :4, :4], 4)
    res = subprocess.run(["h5dump", str(path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert (
        "DEFLATE"
        in subprocess.run(
            ["h5dump", "-p", str(path)], capture_output=True, text=True
        ).stdout
    )


def test_chunks_equal_what_hdf5_itself_would_store_decoded(
    tmp_path: Path, stack: np.ndarray
) -> None:
    """Our chunks and HDF5's own gzip+shuffle chunks inflate to the same bytes."""
    path = tmp_path / "a.h5"
    with h5py.File(path, "w") as f:
        write_frames(f, "ours", stack, 4)
        f.create_dataset(
            "hdf5", data=stack, chunks=(1, 80, 80), compression="gzip", shuffle=True
        )
    with h5py.File(path, "r") as f:
        for i in range(len(stack)):
            _, ours = f["ours"].id.read_direct_chunk((i, 0, 0))
            _, theirs = f["hdf5"].id.read_direct_chunk((i, 0, 0))
            assert codec.decompress(ours) == codec.decompress(theirs)


def test_one_and_many_threads_store_identical_chunks(
    tmp_path: Path, stack: np.ndarray
) -> None:
    chunks = []
    for n in (1, 2, 4):
        path = tmp_path / f"t{n}.h5"
        with h5py.File(path, "w") as f, codec.using_threads(n):
            write_frames(f, "data", stack, 4)
        with h5py.File(path, "r") as f:
            ds = f["data"]
            chunks.append(
                [ds.id.read_direct_chunk((i, 0, 0)) for i in range(len(stack))]
            )
    assert chunks[0] == chunks[1] == chunks[2]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"compression": "gzip"},  # 0.5.0: gzip, h5py's own chunk shape
        {"compression": "gzip", "shuffle": True, "chunks": (3, 32, 50)},
        {"compression": "gzip", "chunks": (2, 80, 80), "fillvalue": 7.0},
        {"compression": "lzf"},  # not ours to decode: h5py reads it
        {},  # contiguous
    ],
)
def test_read_array_matches_h5py(
    tmp_path: Path, stack: np.ndarray, kwargs: dict
) -> None:
    path = tmp_path / "a.h5"
    with h5py.File(path, "w") as f:
        if "fillvalue" in kwargs:  # chunks never written hold the fill value
            ds = f.create_dataset("d", shape=stack.shape, dtype=stack.dtype, **kwargs)
            ds[2:5] = stack[2:5]
        else:
            f.create_dataset("d", data=stack, **kwargs)
    with h5py.File(path, "r") as f, codec.using_threads(2):
        expected = f["d"][()]
        got = read_array(f["d"])
    assert got.dtype == expected.dtype
    assert np.array_equal(got, expected)


def test_read_array_inflates_our_bundles(tmp_path: Path, stack: np.ndarray) -> None:
    path = tmp_path / "a.h5"
    with h5py.File(path, "w") as f:
        write_frames(f, "data", stack, 4)
    with h5py.File(path, "r") as f:
        assert np.array_equal(read_array(f["data"]), stack)
