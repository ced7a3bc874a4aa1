"""LazyFrames as numpy-like frames, and AFMImageStack holding them."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from playnano.afm_stack import AFMImageStack
from playnano.errors import ReadError, StackError
from playnano.lazy import LazyFrames, iter_blocks
from playnano.readers import load
from playnano.testing import ArrayFrames as ArraySource
from tests.lazy.conftest import RampFrames


def test_frame_then_numpy_indexing_reads_one_block():
    src = RampFrames(20, 8, 6)
    lazy = LazyFrames(src, block=5)
    whole = src.read(0, 20)
    src.reads.clear()
    assert np.array_equal(lazy[7, ::2, 1:], whole[7, ::2, 1:])
    assert np.array_equal(lazy[3:9, 0], whole[3:9, 0])
    assert np.array_equal(lazy[-1, 2], whole[-1, 2])
    assert src.reads == [(5, 10), (0, 5), (5, 10), (15, 20)]


def test_extremes_walk_the_blocks_and_skip_non_finite():
    src = RampFrames(12, 5, 5, nan=True)
    whole = src.read(0, 12)
    whole[3, 1, 1] = np.inf
    finite = whole[np.isfinite(whole)]
    assert LazyFrames(ArraySource(whole), block=4).extremes() == (
        finite.min(),
        finite.max(),
    )
    ints = np.arange(-5, 19, dtype=np.int64).reshape(6, 2, 2)[::-1].copy()
    got = LazyFrames(ArraySource(ints), block=4).extremes(finite=False)
    assert got == (-5, 18) and all(isinstance(v, int) for v in got)
    nan_only = LazyFrames(ArraySource(np.full((2, 2, 2), np.nan)))
    assert all(np.isnan(v) for v in nan_only.extremes())


def test_iter_blocks_gives_numpy_views_and_lazy_blocks():
    arr = np.arange(7 * 2 * 2).reshape(7, 2, 2)
    assert [s for s, _ in iter_blocks(arr, 3)] == [0, 3, 6]
    lazy = LazyFrames(RampFrames(7, 2, 2), block=3)
    assert [b.shape[0] for _, b in iter_blocks(lazy, 100)] == [3, 3, 1]


def test_stack_checks_lazy_layers_and_masks():
    data = LazyFrames(RampFrames(4, 3, 3))
    stack = AFMImageStack(data, 1.0, "h", None)
    assert stack.is_lazy and stack.n_frames == 4
    with pytest.raises(StackError, match="must be boolean"):
        stack.masks["m"] = LazyFrames(RampFrames(4, 3, 3))
    with pytest.raises(StackError, match="has shape"):
        stack.masks["m"] = np.zeros((4, 3, 2), bool)
    stack.processed["p"] = data
    copy = stack.copy()
    assert copy.data is data and copy.processed["p"] is data  # read-only, shared


def test_close_releases_the_bundle_and_later_reads_fail(bundle):
    stack = load(bundle, lazy=True)
    frames = stack.data
    first = frames[0].copy()
    stack.close()
    with h5py.File(bundle, "r+"):  # no longer open in this process
        pass
    fresh = LazyFrames(frames.source)
    with pytest.raises(ReadError, match="read after the file closed"):
        fresh[0]
    with load(bundle, lazy=True) as again:
        assert again.data[0].tobytes() == first.tobytes()


def test_two_threads_walking_a_layer_keep_their_own_blocks():
    """A GIF beside a bundle: each thread's block stays, neither evicts the other."""
    from concurrent.futures import ThreadPoolExecutor

    src = RampFrames(20, 4, 4)
    lazy = LazyFrames(src, block=5)
    with ThreadPoolExecutor(1) as other:
        for i in range(5):  # interleaved: this thread in block 0, the other in block 2
            here = lazy[i]
            there = other.submit(lambda j=i: lazy[10 + j]).result()
            assert here.tobytes() == src.read(i, i + 1)[0].tobytes()
            assert there.tobytes() == src.read(10 + i, 11 + i)[0].tobytes()
            del src.reads[-2:]  # the reference reads just above
    assert src.reads == [(0, 5), (10, 15)]
    lazy.set_block(4)  # a new block size forgets every thread's block
    lazy[0]
    assert src.reads[-1] == (0, 4)


@pytest.mark.parametrize(
    ("steps", "width"),
    [("gaussian_filter", 1), ("remove_plane", 1), ("polynomial_flatten", 4)],
)
def test_colour_range_sample_reads_frames_not_blocks(monkeypatch, steps, width):
    """The GIF's auto range reads its 64 sample frames (or their batches), no block."""
    from playnano.processing import apply
    from playnano.processing.pipeline import run_pipeline
    from playnano.render import height_sample

    monkeypatch.setattr(apply, "BATCH_BYTES", 8 * 8 * 8 * 4)  # 4-frame batches
    src = RampFrames(400, 8, 8)
    stack = AFMImageStack(LazyFrames(src, block=40), 1.0, "h", None)
    run_pipeline(stack, steps)
    mem = AFMImageStack(src.read(0, 400), 1.0, "h", None)
    run_pipeline(mem, steps)
    src.reads.clear()
    sample = height_sample(stack.data)
    assert sample.tobytes() == height_sample(mem.data).tobytes()
    # frames of block 0 come from its cached block (computed when the step ran);
    # every other sample frame is read alone, or with its batch: never a block
    frames = np.unique(np.linspace(0, 399, 64).round().astype(int))
    expected = [(f // width * width, f // width * width + width) for f in frames]
    assert src.reads == [r for r in expected if r[0] >= 40]
