"""When the block path is taken: options, steps, the reader and the memory figure."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from playnano.errors import OptionError, ProcessingError
from playnano.lazy import available_memory, fits_in_memory, in_memory_bytes
from playnano.processing import validate_steps
from playnano.run import RunSettings, read_input, run_one, use_blocks

SHAPE = (50, 32, 40)  # the bundle fixture's
STACK = 50 * 32 * 40 * 8


def settings(steps=(("remove_plane", {}),), **kw) -> RunSettings:
    return RunSettings(formats=("h5",), steps=tuple(steps), **kw)


def test_in_memory_bytes_counts_data_layers_and_masks():
    values = 10 * 4 * 5
    assert in_memory_bytes((10, 4, 5), 4, 0, 0) == values * 4
    # float32 heights levelled twice: two float64 layers, one bool mask
    assert in_memory_bytes((10, 4, 5), 4, 2, 1) == values * (4 + 16 + 1)
    assert fits_in_memory(100, 200) and not fits_in_memory(101, 200)
    assert fits_in_memory(10**18, None)  # unknown memory: today's in-memory path


def test_available_memory_is_this_machines():
    got = available_memory()
    with open("/proc/meminfo") as fh:
        total = int(next(x for x in fh if x.startswith("MemTotal:")).split()[1]) * 1024
    assert got is not None and 0 < got <= total


def test_the_stream_is_the_default_whatever_the_stack_and_memory():
    s, steps = settings(), validate_steps("remove_plane")
    for available in (1, 2 * in_memory_bytes(SHAPE, 8, 1, 0), 10**15, None):
        assert use_blocks(s, steps, SHAPE, 8, available=available)
    # a whole-stack step keeps the in-memory path however small the stack
    whole = validate_steps("remove_plane;align_frames")
    assert not use_blocks(s, whole, SHAPE, 8, available=10**15)
    # explicit choices win
    assert use_blocks(settings(blocks=True), steps, SHAPE, 8, available=10**15)
    assert not use_blocks(settings(blocks=False), steps, SHAPE, 8, available=1)


def test_read_input_reads_lazily_unless_told_or_a_step_needs_the_stack(bundle):
    default = read_input(bundle, settings(), available=100 * STACK)
    with default:
        assert default.is_lazy
        assert default.provenance["source"]["sha256"]  # recorded as when in memory
    held = read_input(bundle, settings(blocks=False), available=100 * STACK)
    assert not held.is_lazy and isinstance(held.data, np.ndarray)
    forced = read_input(bundle, settings(blocks=True, block_frames=9))
    with forced:
        assert forced.is_lazy and forced.data.block == 9
    whole = settings((("align_frames", {}),))
    assert not read_input(bundle, whole, available=10**15).is_lazy


def test_blocks_with_a_whole_stack_step_is_refused_before_reading():
    with pytest.raises(ProcessingError, match=r"align_frames needs the whole stack"):
        settings((("remove_plane", {}), ("align_frames", {})), blocks=True).check()
    with pytest.raises(OptionError, match="block_frames must be 1 or more"):
        settings(block_frames=0).check()


def test_whole_stack_step_on_a_lazy_stack_is_refused_and_nothing_runs(bundle):
    from playnano.processing.pipeline import run_pipeline

    with read_input(bundle, settings(blocks=True)) as stack:
        with pytest.raises(ProcessingError, match=r"drop_frames.*--in-memory"):
            run_pipeline(stack, "remove_plane;drop_frames:indices_to_drop=[1]")
        assert stack.processed == {}
        assert not stack.provenance["processing"].get("steps")


def test_run_one_closes_the_lazy_file(bundle, tmp_path):
    record = run_one(str(bundle), str(tmp_path), settings(blocks=True))
    assert record["status"] == "ok", record
    with h5py.File(tmp_path / "in_filtered.h5") as f:
        assert f["data"].shape == SHAPE
    # closed: h5py refuses to open a file for writing that this process has open
    with h5py.File(bundle, "r+"):
        pass


def test_a_reader_without_inspect_streams_its_lazy_open(afm_data):
    """h5-jpk has no header-only door: its lazy open is the one kept."""
    path = afm_data / "h5-jpk" / "sample_0.h5-jpk"
    full = read_input(path, settings(blocks=False))
    assert not full.is_lazy and isinstance(full.data, np.ndarray)
    lazy = read_input(path, settings(), available=10**15)
    with lazy:
        assert lazy.is_lazy
        assert np.array_equal(lazy.data[:], full.data)


@pytest.mark.parametrize(
    ("blocks", "steps", "why"),
    [
        (False, "remove_plane", r"\(--in-memory\).*leave out --in-memory"),
        (None, "remove_plane;align_frames", r"\(align_frames needs the whole stack\)"),
    ],
)
def test_an_in_memory_read_that_cannot_fit_is_refused_before_reading(
    bundle, tmp_path, blocks, steps, why
):
    """Held in memory, the bundle's 50x32x40 float64 frames and one layer take
    2 x 512,000 bytes at least: refused below that (in one line naming the file,
    before anything is read or written), run at or above it."""
    from playnano.run import plan_run

    s = settings(tuple((name, {}) for name in steps.split(";")), blocks=blocks)
    need = 2 * STACK
    if "align_frames" in steps:
        need += STACK  # its own layer
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ProcessingError, match=why) as err:
        plan_run(s, out, source=bundle, available=need - 1)
    message = str(err.value)
    assert "\n" not in message and str(bundle) in message and "50x32x40" in message
    with pytest.raises(ProcessingError, match=why):
        read_input(bundle, s, available=need - 1)
    assert list(out.iterdir()) == []
    plan_run(s, out, source=bundle, available=need)  # fits: planned
    # the stream never is: its memory is a few blocks whatever the stack
    plan_run(settings(), out, source=bundle, available=1)
