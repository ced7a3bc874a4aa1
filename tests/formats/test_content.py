"""The content checks viewers ask before claiming a .npz, .h5 or .tif file."""

from __future__ import annotations

import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import tifffile

from playnano.formats import written_by_playnano
from playnano.io.export_data import export_stack
from playnano.testing import make_sample_stack


@pytest.mark.parametrize("fmt", ["npz", "h5", "tif"])
def test_playnanos_own_files_are_recognised(tmp_path: Path, fmt: str) -> None:
    [path] = export_stack(make_sample_stack(), tmp_path / "v", fmt)
    assert written_by_playnano(path) is True


def test_other_programs_files_are_not(tmp_path: Path) -> None:
    np.savez(tmp_path / "other.npz", data=np.zeros((2, 3, 3)), labels=np.ones(3))
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["data"] = np.zeros((2, 3, 3))  # no pixel size, no frame metadata
    with h5py.File(tmp_path / "other.hdf5", "w") as f:
        f["images"] = np.zeros((2, 3, 3))
    tifffile.imwrite(
        tmp_path / "other.tif",
        np.zeros((2, 3, 3), np.float32),
        photometric="minisblack",
    )
    tifffile.imwrite(
        tmp_path / "other.ome.tif",
        np.zeros((2, 4, 4), np.uint8),
        photometric="minisblack",
    )
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 not really")
    (tmp_path / "broken.TIFF").write_bytes(b"II*\x00" + b"\xff" * 20)
    for name in ["other.npz", "other.h5", "other.hdf5", "other.tif",
                 "other.ome.tif", "broken.npz", "broken.TIFF"]:  # fmt: skip
        assert written_by_playnano(tmp_path / name) is False, name


def test_a_050_npz_bundle_is_a_bundle(tmp_path: Path) -> None:
    # playnano 0.5.0 wrote no version member: data and pixel size are enough
    path = tmp_path / "old.npz"
    with zipfile.ZipFile(path, "w") as zf:
        for key in ("data", "pixel_size_nm"):
            with zf.open(f"{key}.npy", "w") as member:
                np.lib.format.write_array(member, np.zeros(2))
    assert written_by_playnano(path) is True


def test_other_suffixes_are_not_its_question(tmp_path: Path) -> None:
    assert written_by_playnano(tmp_path / "video.asd") is None
    assert written_by_playnano(tmp_path / "video.h5-jpk") is None
