"""The NPZ zip writer: files numpy, zipfile and unzip read, the same for any threads."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

from playnano.formats.npz.zipstream import ZipWriter, npy_header
from playnano.io import codec

ARRAYS = {
    "data": np.random.default_rng(0).normal(size=(4, 200, 203)).astype(np.float32),
    "mask": np.random.default_rng(1).random((4, 200, 203)) > 0.5,
    "text": np.array("höhe µm"),
    "scalar": np.array(1.5),
    "strided": np.arange(20.0)[::3],
    "fortran": np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    "big_endian": np.arange(6, dtype=">i4").reshape(2, 3),
}


def write(path: Path, level: int, threads: int, engine: str | None = None) -> Path:
    with open(path, "wb") as fh, codec.using_threads(threads, engine=engine):
        zw = ZipWriter(fh)
        for key, arr in ARRAYS.items():
            zw.add_array(f"{key}.npy", arr, level)
        zw.close()
    return path


@pytest.mark.parametrize("level", [0, 1, 9])
def test_numpy_reads_every_member_bit_for_bit(tmp_path: Path, level: int) -> None:
    path = write(tmp_path / "a.npz", level, 2)
    with np.load(path, allow_pickle=False) as z:
        assert sorted(z.files) == sorted(ARRAYS)
        for key, arr in ARRAYS.items():
            assert z[key].dtype == arr.dtype
            assert np.array_equal(z[key], arr)
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        method = zipfile.ZIP_DEFLATED if level else zipfile.ZIP_STORED
        assert {i.compress_type for i in zf.infolist()} == {method}


def test_member_bytes_are_what_np_save_writes(tmp_path: Path) -> None:
    path = write(tmp_path / "a.npz", 1, 2)
    with zipfile.ZipFile(path) as zf:
        for key, arr in ARRAYS.items():
            buf = io.BytesIO()
            np.save(buf, np.require(arr, requirements="C"), allow_pickle=False)
            assert zf.read(f"{key}.npy") == buf.getvalue(), key


@pytest.mark.skipif(shutil.which("unzip") is None, reason="unzip is not installed")
def test_unzip_tests_it_clean(tmp_path: Path) -> None:
    path = write(tmp_path / "a.npz", 1, 2)
    res = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "No errors detected" in res.stdout


@pytest.mark.parametrize("engine", codec.available_engines())
def test_one_and_many_threads_write_identical_files(
    tmp_path: Path, engine: str
) -> None:
    one = write(tmp_path / "one.npz", 1, 1, engine).read_bytes()
    for n in (2, 5):
        assert write(tmp_path / f"n{n}.npz", 1, n, engine).read_bytes() == one


def test_every_engine_writes_a_file_zipfile_reads(tmp_path: Path) -> None:
    for engine in codec.available_engines():
        path = write(tmp_path / f"{engine}.npz", 6, 2, engine)
        with np.load(path, allow_pickle=False) as z:
            assert np.array_equal(z["data"], ARRAYS["data"])


def test_header_matches_numpy() -> None:
    for arr in ARRAYS.values():
        buf = io.BytesIO()
        np.save(buf, np.require(arr, requirements="C"))
        header = npy_header(arr)
        assert buf.getvalue()[: len(header)] == header


def test_zip64_records_when_offsets_pass_4_gib(tmp_path: Path) -> None:
    """A member that starts past 4 GiB gets ZIP64 records zipfile and numpy follow.

    The 4 GiB before it are a sparse file (a stored member of zeros written by
    seeking), so the test is fast and takes no disk space.
    """
    path = tmp_path / "big.npz"
    with open(path, "wb") as fh:
        zw = ZipWriter(fh)
        fh.seek(1 << 32)  # pretend an earlier member filled 4 GiB
        zw.add_array("late.npy", ARRAYS["data"], 1)
        zw.close()
    with zipfile.ZipFile(path) as zf:
        [info] = zf.infolist()
        assert info.header_offset == 1 << 32
        with zf.open(info) as member:
            data = np.lib.format.read_array(member, allow_pickle=False)
    assert np.array_equal(data, ARRAYS["data"])
    with open(path, "rb") as fh:
        fh.seek(-(22 + 20 + 56), 2)
        tail = fh.read()
    assert struct.unpack("<I", tail[:4])[0] == 0x06064B50  # ZIP64 end record


def test_zip64_members_read_back(tmp_path: Path) -> None:
    """Members with ZIP64 local headers (as for > 4 GiB) read in zipfile, numpy, unzip."""
    path = tmp_path / "a.npz"
    with open(path, "wb") as fh:
        zw = ZipWriter(fh)
        for key, arr in ARRAYS.items():
            header = npy_header(arr)
            pieces = [header, np.ascontiguousarray(arr).reshape(-1).view(np.uint8)]
            zw.add(f"{key}.npy", pieces, len(header) + arr.nbytes, 1, zip64=True)
        zw.close()
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        assert all(i.extract_version >= 45 for i in zf.infolist())
    with np.load(path, allow_pickle=False) as z:
        for key, arr in ARRAYS.items():
            assert np.array_equal(z[key], arr)
    if shutil.which("unzip"):
        res = subprocess.run(["unzip", "-t", str(path)], capture_output=True)
        assert res.returncode == 0, res.stdout


def test_a_member_shorter_than_announced_is_refused(tmp_path: Path) -> None:
    with open(tmp_path / "a.zip", "wb") as fh:
        zw = ZipWriter(fh)
        with pytest.raises(ValueError, match="1000 bytes written, 1001 announced"):
            zw.add("x.bin", [b"x" * 1000], 1001, 1)


@pytest.mark.parametrize(("level", "zip64"), [(0, False), (1, False), (1, True)])
def test_a_copied_member_equals_compressing_it_again(
    tmp_path: Path, level: int, zip64: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "playnano.formats.npz.zipstream._COPY_PIECE", 1000
    )  # many pieces
    data = ARRAYS["data"]
    header = npy_header(data)
    pieces = [header, data.tobytes()]
    size = len(header) + data.nbytes

    def build(path: Path, copy: bool) -> bytes:
        with open(path, "w+b") as fh:
            zw = ZipWriter(fh)
            zw.add("a.npy", pieces, size, level, zip64=zip64)
            zw.add_array("mask.npy", ARRAYS["mask"], level)
            if copy:
                zw.add_copy("b.npy", "a.npy")
            else:
                zw.add("b.npy", pieces, size, level, zip64=zip64)
            zw.close()
        return path.read_bytes()

    copied = build(tmp_path / "copied.npz", True)
    assert copied == build(tmp_path / "again.npz", False)
    with zipfile.ZipFile(tmp_path / "copied.npz") as zf:
        assert zf.testzip() is None
    with np.load(tmp_path / "copied.npz", allow_pickle=False) as z:
        assert np.array_equal(z["b"], data)
