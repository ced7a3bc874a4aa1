"""The codec: standard streams from every engine, same bytes for any thread count."""

from __future__ import annotations

import os
import zlib

import numpy as np
import pytest

from playnano.io import codec
from playnano.synthetic import synthetic_hsafm


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return synthetic_hsafm(n_frames=6, size_px=96).data.astype(np.float32)


@pytest.fixture(params=codec.available_engines())
def engine(request: pytest.FixtureRequest) -> str:
    return request.param


def test_shuffle_is_hdf5_byte_planes() -> None:
    a = np.array([0x04030201, 0x08070605], dtype="<u4")
    assert codec.shuffle(a).tobytes() == bytes([1, 5, 2, 6, 3, 7, 4, 8])
    assert codec.unshuffle(codec.shuffle(a).tobytes(), 4).view("<u4").tolist() == [
        0x04030201,
        0x08070605,
    ]


@pytest.mark.parametrize("dtype", ["<f4", ">f4", "<f8", "<i2", "<u8"])
def test_shuffle_and_unshuffle_are_the_byte_plane_transpose(dtype: str) -> None:
    rng = np.random.default_rng(2)
    a = (rng.normal(size=(37, 41)) * 1000).astype(dtype)[:, ::2]  # not contiguous
    size = a.dtype.itemsize
    planes = np.ascontiguousarray(a).view(np.uint8).reshape(-1, size).T
    assert codec.shuffle(a).tobytes() == planes.tobytes()
    back = codec.unshuffle(planes.tobytes(), size)
    assert back.tobytes() == np.ascontiguousarray(a).tobytes()


def test_shuffle_of_bytes_is_identity() -> None:
    m = np.array([[True, False], [False, True]])
    assert codec.shuffle(m).tobytes() == m.tobytes()


@pytest.mark.parametrize("level", [1, 4, 9])
def test_h5_chunk_is_a_zlib_stream_of_the_shuffled_frame(
    frames: np.ndarray, engine: str, level: int
) -> None:
    with codec.using_threads(1, engine=engine):
        chunk = codec.h5_chunk(frames[0], level)
    # stdlib zlib reads it: what HDF5's deflate filter does
    assert zlib.decompress(chunk) == codec.shuffle(frames[0]).tobytes()
    back = codec.h5_unchunk(chunk, frames.dtype, frames[0].shape)
    assert np.array_equal(back, frames[0])


def test_crc32_combine_matches_zlib() -> None:
    rng = np.random.default_rng(1)
    for n1, n2 in [(0, 5), (5, 0), (1, 1), (1000, 12345), (3, 1 << 20)]:
        a, b = rng.bytes(n1), rng.bytes(n2)
        got = codec.crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b))
        assert got == zlib.crc32(a + b)


def _stream(pieces: list, level: int, n: int, engine: str) -> tuple[bytes, tuple]:
    out: list[bytes] = []
    with codec.using_threads(n, engine=engine):
        info = codec.deflate_stream(pieces, level, out.append)
    return b"".join(out), info


@pytest.mark.parametrize("level", [0, 1, 6])
def test_deflate_stream_inflates_to_the_input_with_its_crc(
    frames: np.ndarray, engine: str, level: int
) -> None:
    # pieces that straddle block bounds: a small header, then frames
    pieces = [b"header", *(f.reshape(-1).view(np.uint8) for f in frames)]
    pieces += [os.urandom(3 * codec.BLOCK_SIZE // 2)]
    whole = b"".join(bytes(p) for p in pieces)
    stream, (crc, usize, csize) = _stream(pieces, level, 2, engine)
    assert usize == len(whole)
    assert csize == len(stream)
    assert crc == zlib.crc32(whole)
    if level == 0:
        assert stream == whole
    else:
        d = zlib.decompressobj(-15)
        assert d.decompress(stream) == whole
        assert d.eof and not d.unused_data  # the final block ends the stream


def test_empty_deflate_stream_is_valid(engine: str) -> None:
    stream, (crc, usize, _) = _stream([], 1, 2, engine)
    assert zlib.decompress(stream, -15) == b""
    assert (crc, usize) == (0, 0)


def test_one_and_many_threads_give_the_same_bytes(
    frames: np.ndarray, engine: str
) -> None:
    big = np.repeat(frames, 40, axis=0)  # several blocks
    pieces = [f.reshape(-1).view(np.uint8) for f in big]
    one = _stream(pieces, 1, 1, engine)
    for n in (2, 3, 8):
        assert _stream(pieces, 1, n, engine) == one
    with codec.using_threads(1, engine=engine):
        chunks1 = [codec.h5_chunk(f, 4) for f in big[:20]]
    with codec.using_threads(4, engine=engine):
        chunks4 = list(codec.ordered_map(lambda f: codec.h5_chunk(f, 4), big[:20]))
    assert chunks1 == chunks4


def test_ordered_map_keeps_order_and_propagates_errors() -> None:
    assert list(codec.ordered_map(lambda x: x * x, range(100), 3)) == [
        x * x for x in range(100)
    ]

    def boom(x: int) -> int:
        if x == 7:
            raise RuntimeError("seven")
        return x

    with pytest.raises(RuntimeError, match="seven"):
        list(codec.ordered_map(boom, range(50), 2))


def test_using_threads_sets_and_restores() -> None:
    assert codec.threads() == codec.default_threads()
    with codec.using_threads(3, engine="zlib"):
        assert codec.threads() == 3
        assert codec.engine_name() == "zlib"
    assert codec.threads() == codec.default_threads()
    assert codec.engine_name() == codec.available_engines()[0]
    with pytest.raises(ValueError, match="at least 1"), codec.using_threads(0):
        pass


def test_isal_levels_map_onto_its_three(engine: str) -> None:
    with codec.using_threads(1, engine=engine):
        levels = [codec.engine_level(lv) for lv in range(10)]
    if engine == "isal":
        assert levels == [0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    else:
        assert levels == list(range(10))


FALLBACK = """
import sys
sys.modules["isal"] = None  # as on a platform without isal wheels
import numpy as np
from playnano.io import codec
from playnano.io.export_data import export_stack
from playnano.synthetic import synthetic_hsafm
assert codec.available_engines() == ["zlib"], codec.available_engines()
stack = synthetic_hsafm(n_frames=3, size_px=64)
export_stack(stack, sys.argv[1], "npz")
export_stack(stack, sys.argv[2], "h5")
print(codec.engine_name())
"""


def test_without_isal_stdlib_zlib_writes_files_every_reader_opens(tmp_path) -> None:
    import subprocess
    import sys

    import h5py

    npz, h5 = tmp_path / "a.npz", tmp_path / "a.h5"
    res = subprocess.run(
        [sys.executable, "-c", FALLBACK, str(npz), str(h5)],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "zlib"
    expected = synthetic_hsafm(n_frames=3, size_px=64).data
    with np.load(npz, allow_pickle=False) as z:
        assert np.array_equal(z["data"], expected)
    with h5py.File(h5, "r") as f:
        assert np.array_equal(f["data"][()], expected)


def test_a_chunk_that_inflates_past_its_shape_is_refused(engine: str) -> None:
    # a hostile chunk: 64 MiB of zeros deflate to ~64 kB; the frame holds 1 MiB
    bomb = zlib.compress(bytes(64 << 20), 9)
    with (
        codec.using_threads(1, engine=engine),
        pytest.raises(codec.ERRORS, match="more than 1048576 bytes"),
    ):
        codec.h5_unchunk(bomb, np.dtype("<f4"), (512, 512))


def test_a_chunk_of_the_right_size_inflates_under_the_bound(engine: str) -> None:
    frame = np.arange(512 * 512, dtype="<f4").reshape(512, 512)
    with codec.using_threads(1, engine=engine):
        back = codec.h5_unchunk(codec.h5_chunk(frame, 6), frame.dtype, frame.shape)
    assert np.array_equal(back, frame)
