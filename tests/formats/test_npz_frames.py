"""Frames of an NPZ member read on demand (formats/npz/_frames.py), on real zip files.

Members are written as numpy writes them (``np.lib.format`` inside ``zipfile``),
stored or deflated, with and without zip64 extra fields; a file damaged after it
was opened (a network share, a disk) is damaged by editing its bytes between reads.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from playnano.errors import ReadError
from playnano.formats.npz._frames import NpyMemberFrames
from playnano.formats.npz.members import open_npz


def _npz(path: Path, data: np.ndarray, method: int, zip64: bool = False) -> Path:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, data)
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        with zf.open("data.npy", "w", force_zip64=zip64) as fh:
            fh.write(buf.getvalue())
        other = io.BytesIO()  # after the data, so the data is not last
        np.lib.format.write_array(other, np.arange(3))
        zf.writestr("other.npy", other.getvalue())
    return path


def _frames(path: Path) -> NpyMemberFrames:
    with open_npz(path) as (_, members):
        return NpyMemberFrames(path, members["data"])


#: Frames of 16 KiB: reading the header does not reach the member's end.
FRAMES = np.arange(4 * 64 * 64, dtype=np.float32).reshape(4, 64, 64)


@pytest.mark.parametrize("zip64", [False, True], ids=["plain", "zip64 extra"])
def test_stored_frames_in_and_out_of_order(tmp_path, zip64: bool) -> None:
    frames = _frames(_npz(tmp_path / "s.npz", FRAMES, zipfile.ZIP_STORED, zip64))
    assert frames.stored is True
    try:
        for start, stop in ((2, 4), (0, 1), (1, 3), (0, 4)):
            np.testing.assert_array_equal(frames.read(start, stop), FRAMES[start:stop])
    finally:
        frames.close()


def _corrupt_frame(path: Path, frame: int) -> None:
    data = bytearray(path.read_bytes())
    at = data.find(FRAMES[frame].tobytes())
    assert at > 0
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_stored_member_whose_crc_does_not_match(tmp_path) -> None:
    path = _npz(tmp_path / "s.npz", FRAMES, zipfile.ZIP_STORED)
    _corrupt_frame(path, 0)
    frames = _frames(path)
    message = f"{path}: member 'data' is corrupt (its CRC-32 does not match)"
    try:
        frames.read(0, 2)  # the CRC is known only at the member's end
        with pytest.raises(ReadError) as err:
            frames.read(2, 4)
        assert str(err.value) == message
        with pytest.raises(ReadError) as err:  # and stays known
            frames.read(1, 2)
        assert str(err.value) == message
    finally:
        frames.close()


def test_frames_read_without_the_damaged_one_are_given(tmp_path) -> None:
    """Frame 0 is damaged, but only frames 1-3 are asked for: they are intact, and
    no CRC over the whole member was computed."""
    path = _npz(tmp_path / "s.npz", FRAMES, zipfile.ZIP_STORED)
    _corrupt_frame(path, 0)
    frames = _frames(path)
    try:
        np.testing.assert_array_equal(frames.read(1, 4), FRAMES[1:4])
    finally:
        frames.close()


def test_deflated_blocks_larger_than_one_inflate_step(tmp_path) -> None:
    """Frames of 720 000 bytes: two of them take two 1 MiB inflate steps, the
    second one short."""
    big = np.random.default_rng(0).random((3, 300, 300))
    frames = _frames(_npz(tmp_path / "d.npz", big, zipfile.ZIP_DEFLATED))
    assert frames.stored is False
    try:
        np.testing.assert_array_equal(frames.read(0, 2), big[0:2])
        np.testing.assert_array_equal(frames.read(1, 3), big[1:3])
    finally:
        frames.close()


def _bad_local_header(data: bytes, path: Path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        offset = zf.getinfo("data.npy").header_offset
    return data[:offset] + b"XX" + data[offset + 2 :]


def _cut_in_frame_3(data: bytes, path: Path) -> bytes:
    return data[: data.find(FRAMES[3].tobytes()) + 50]


@pytest.mark.parametrize(
    ("damage", "why"),
    [(_bad_local_header, "has no valid local zip header"),
     (_cut_in_frame_3, "runs past the end of the file")],
)  # fmt: skip
def test_a_stored_member_damaged_after_opening(tmp_path, damage, why) -> None:
    path = _npz(tmp_path / "s.npz", FRAMES, zipfile.ZIP_STORED)
    frames = _frames(path)
    path.write_bytes(damage(path.read_bytes(), path))
    with pytest.raises(ReadError) as err:
        frames.read(0, 1)
    assert str(err.value) == f"{path}: member 'data' {why}"


def test_a_stored_member_cut_between_reads(tmp_path) -> None:
    path = _npz(tmp_path / "s.npz", FRAMES, zipfile.ZIP_STORED)
    frames = _frames(path)
    try:
        frames.read(0, 1)  # opened whole
        data = path.read_bytes()
        start = data.find(FRAMES[3].tobytes())
        path.write_bytes(data[: start + 50])  # 50 bytes of frame 3 left
        header = frames.member.header_bytes
        with pytest.raises(ReadError) as err:
            frames.read(3, 4)
        assert str(err.value) == (
            f"{path}: member 'data' ends after {header + 3 * 16384 + 50} of "
            f"{header + FRAMES.nbytes} bytes"
        )
    finally:
        frames.close()


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_member_reopens_after_it_was_closed(tmp_path, method) -> None:
    frames = _frames(_npz(tmp_path / "m.npz", FRAMES, method))
    np.testing.assert_array_equal(frames.read(0, 2), FRAMES[0:2])
    frames.close()
    try:
        np.testing.assert_array_equal(frames.read(2, 4), FRAMES[2:4])
    finally:
        frames.close()


def _refused(frames: NpyMemberFrames, start: int, stop: int) -> str:
    """The one-line refusal of reading frames ``start`` to ``stop`` (then closed)."""
    try:
        with pytest.raises(ReadError) as err:
            frames.read(start, stop)
    finally:
        frames.close()
    return str(err.value)


def test_a_block_past_the_members_end_is_refused_never_padded(tmp_path) -> None:
    frames = _frames(_npz(tmp_path / "d.npz", FRAMES, zipfile.ZIP_DEFLATED))
    header = frames.member.header_bytes
    assert _refused(frames, 3, 5) == (
        f"{frames.path}: member 'data' ends after {header + 4 * 16384} of "
        f"{header + FRAMES.nbytes} bytes"
    )


def test_a_deflated_member_damaged_after_opening(tmp_path) -> None:
    path = _npz(tmp_path / "d.npz", FRAMES, zipfile.ZIP_DEFLATED)
    frames = _frames(path)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("data.npy")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len("data.npy") + len(info.extra)
    data[start : start + 64] = b"\xff" * 64  # no deflate block starts like this
    path.write_bytes(bytes(data))
    assert _refused(frames, 0, 4) == (
        f"{path}: member 'data' is unreadable (Error -3 while decompressing data: "
        "invalid block type)"
    )
