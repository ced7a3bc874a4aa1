"""Hostile ``.asd`` headers: declared geometry is checked against the file size
before anything is allocated, so a tiny file never becomes a huge array."""

from __future__ import annotations

import re
import struct

import pytest

from playnano.errors import ReadError
from playnano.readers import load
from tests.readers.test_asd import _levels, build_asd

# byte offsets of int32 fields in a version-1 header (after the version number)
V1 = {
    "header_length": 4, "frame_header_length": 8, "n_frames": 36,
    "x_pixels": 48, "y_pixels": 52,
}  # fmt: skip
# ... and in a version-0 header (AFMReader's layout, as written by build_asd)
V0 = {"comment_offset": 20, "comment_size": 24}


def _patched(tmp_path, version, offsets, **values):
    raw = bytearray(
        build_asd(
            version, {"TP": _levels(9)}, layout="afmreader" if not version else ""
        )
    )
    for key, value in values.items():
        struct.pack_into("<i", raw, offsets[key], value)
    path = tmp_path / "hostile.asd"
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize(
    "values",
    [
        {"n_frames": 2**31 - 1},
        {"x_pixels": 65536, "y_pixels": 65536},
        {"header_length": 2**31 - 1},
        {"frame_header_length": 2**31 - 1},
    ],
    ids=["frames", "pixels", "header-length", "frame-header-length"],
)
def test_v1_declared_sizes_beyond_the_file(tmp_path, values):
    path = _patched(tmp_path, 1, V1, **values)
    with pytest.raises(
        ReadError, match=rf"^{re.escape(str(path))}: file ends after \d+ bytes"
    ):
        load(path)


@pytest.mark.parametrize(
    "values",
    [{"n_frames": -1}, {"x_pixels": 0}, {"y_pixels": -5}, {"x_pixels": 65537}],
    ids=["negative-frames", "zero-width", "negative-height", "too-wide"],
)
def test_v1_impossible_geometry(tmp_path, values):
    path = _patched(tmp_path, 1, V1, **values)
    with pytest.raises(
        ReadError, match=rf"^{re.escape(str(path))}: .*header is corrupt"
    ):
        load(path)


@pytest.mark.parametrize(
    ("values", "pattern"),
    [
        ({"comment_offset": 2**31 - 1}, r"file ends after \d+ bytes"),
        ({"comment_size": 2**31 - 1}, r"file ends after \d+ bytes"),
        ({"comment_offset": -1}, r"header is corrupt"),
    ],
    ids=["comment-offset", "comment-size", "negative-offset"],
)
def test_v0_comment_block_beyond_the_file(tmp_path, values, pattern):
    path = _patched(tmp_path, 0, V0, **values)
    with pytest.raises(ReadError, match=rf"^{re.escape(str(path))}: .*{pattern}"):
        load(path)
