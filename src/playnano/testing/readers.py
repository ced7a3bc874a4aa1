"""The conformance tests every reader plugin passes: :class:`ReaderConformance`.

A reader's test module, builtin or third-party, subclasses it, names the reader
and gives a few sample files as a fixture::

    import pytest
    from playnano.testing import ReaderConformance

    class TestMyReader(ReaderConformance):
        reader_name = "myformat"

        @pytest.fixture
        def samples(self, tmp_path_factory):
            folder = tmp_path_factory.mktemp("samples")
            return [write_a_small_file(folder / "video.myf")]

For every door (``read``, and ``read_lazy``, ``inspect``, ``channels`` and
``check``: the reader's own where it declares them, see
:class:`~playnano.plugins.ReaderBase`, else their defaults) the class checks that: (a) each door tells the same story about each sample (frames bit
for bit through ``read`` and ``read_lazy``, every frame in and out of order; shape,
dtype, pixel size, channel and frame times through ``inspect``; channels that can
be read); (b) damaged and hostile copies of each sample
(:func:`~playnano.testing.hostile.hostile_set`: truncations, size fields that lie,
loops and huge declarations for the sample's container) end, at every door, in a
one-line :class:`~playnano.errors.PlaynanoError` naming the file within
:attr:`ReaderConformance.door_seconds` and a bounded peak memory, checked in a forked
child (:mod:`playnano.testing.children`), or in a result only where the edit can
leave a readable file (for
:data:`~playnano.testing.hostile.STORED_UNCHANGED`, only as the sample reads); (c) files of other kinds, named like the
reader's files, are refused the same way. POSIX only for (b) and (c).
"""

from __future__ import annotations

import math
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from playnano.afm_stack import AFMImageStack
from playnano.errors import ChannelError
from playnano.plugins.reader import DOORS
from playnano.plugins.registry import Entry, readers
from playnano.plugins.validate import validate_reader
from playnano.testing import children
from playnano.testing.hostile import hostile_set, sample_of
from playnano.testing.stacks import assert_import_is_light

#: Foreign content written under a reader's own suffix, by container kind.
FOREIGN: dict[str, bytes] = {
    "bytes": b"this is a text file, not an AFM video\n",
    "tiff": b"II*\x00\x08\x00\x00\x00\x00\x00\x00\x00",
    "hdf5": b"\x89HDF\r\n\x1a\n" + bytes(64),
    "zip": b"PK\x05\x06" + bytes(18),
    "json": b'{"zarr_format": 3, "node_type": "array"}',
}


def _same_times(a: list[Any], b: list[Any]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if (x is None) != (y is None):
            return False
        if x is not None and not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12):
            return False
    return True


def _without_read_at(provenance: dict[str, Any]) -> dict[str, Any]:
    """The provenance without the time ``load`` read the file (two reads differ)."""
    source = {k: v for k, v in provenance["source"].items() if k != "read_at"}
    return {**provenance, "source": source}


def _same_frames(where: Any, got: Any, want: np.ndarray) -> None:
    """``got`` (lazy frames, or an array when the file was read whole) is ``want``
    bit for bit: in blocks of 1, 7 and all frames, and frame by frame out of order."""
    from playnano.lazy import LazyFrames, is_lazy

    assert got.shape == want.shape and got.dtype == want.dtype, where
    n = want.shape[0]
    if is_lazy(got):
        for size in (1, 7, n):
            blocks = LazyFrames(got.source, block=size).blocks()
            joined = np.concatenate([b for _, b in blocks])
            assert joined.tobytes() == want.tobytes(), (where, f"blocks of {size}")
    order = list(range(n))
    random.Random(0).shuffle(order)
    for i in [n - 1, 0, *order]:
        assert np.asarray(got[i]).tobytes() == want[i].tobytes(), (where, i)


def _read_unlike(
    sample: Path, result: dict[str, Any], door: str, wall_s: float
) -> tuple[str, str] | None:
    """A failure when ``door`` read a copy (``result``) unlike the ``sample``."""
    got = result.get("doors", {}).get(door)
    if result.get("status") != "ok" or got is None or got.get("problems"):
        return None  # refused, or (check) found what is wrong
    want = children.run_doors(sample, [door], wall_s=wall_s).result
    if got == want.get("doors", {}).get(door):
        return None
    shapes = [r.get("shape") for r in (got, want.get("doors", {}).get(door, {}))]
    return "wrong stack", f"read {shapes[0]} where the sample reads {shapes[1]}"


class ReaderConformance:
    """Tests every reader must pass. Set :attr:`reader_name`, override ``samples``."""

    #: Name of the reader under test (as registered).
    reader_name: str = ""
    #: Seconds a door may take on a hostile file before it counts as hung.
    door_seconds: float = 10.0
    #: True when ``check`` must find nothing wrong with every sample.
    samples_follow_specification: bool = True

    # ----------------------------------------------------------------- fixtures
    @pytest.fixture
    def samples(self) -> list[Path]:
        """The sample files (or folders) of the reader; override in the subclass."""
        raise NotImplementedError("override the samples fixture with sample files")

    @pytest.fixture
    def entry(self) -> Entry:
        assert self.reader_name, "set reader_name on the conformance subclass"
        return readers().resolve(self.reader_name)

    @pytest.fixture
    def hostile_samples(self, samples: list[Path]) -> list[Path]:
        """The samples hostile copies are made of (all; override to take fewer)."""
        return samples

    @pytest.fixture
    def hostile(
        self, hostile_samples: list[Path], tmp_path: Path
    ) -> list[tuple[str, Path]]:
        out = tmp_path / "hostile"
        made: list[tuple[str, Path]] = []
        for i, sample in enumerate(hostile_samples):
            for what, path in hostile_set(sample, out / str(i)):
                made.append((f"{sample.name}: {what}", path))
        return made

    def _stacks(self, samples: list[Path]) -> list[tuple[Path, AFMImageStack]]:
        from playnano.readers import load

        return [(p, load(p)) for p in samples]

    # ------------------------------------------------- (a) every door, same story
    def test_declarations_are_valid(self, entry: Entry) -> None:
        validate_reader(entry.obj)
        assert entry.status() == "ok"

    def test_samples_go_to_this_reader(self, entry: Entry, samples: list[Path]) -> None:
        from playnano.readers import reader_for

        assert samples, "the samples fixture gave no file"
        for path in samples:
            assert reader_for(path).name == entry.name, path
            assert entry.obj.can_read(path), path

    def test_read_gives_a_whole_stack(self, entry: Entry, samples: list[Path]) -> None:
        for path, stack in self._stacks(samples):
            data = stack.data
            assert data.ndim == 3 and min(data.shape) >= 1, path
            assert data.dtype.kind in "biuf", path
            assert math.isfinite(stack.pixel_size_nm) and stack.pixel_size_nm > 0
            assert isinstance(stack.channel, str) and stack.channel, path
            assert len(stack.frame_metadata) == data.shape[0], path
            assert stack.provenance["source"]["reader"] == entry.name, path

    def test_read_lazy_gives_the_same_frames(
        self, entry: Entry, samples: list[Path]
    ) -> None:
        """Every channel of every sample, lazily: read's frames in blocks of 1, 7
        and all frames, and out of order; read's layers, masks and metadata."""
        from playnano.readers import available_channels, load

        if not entry.obj.supports_lazy:  # the default: read() serves lazy loads
            for path in samples:
                assert entry.obj.read_lazy(path) is None, path
                with load(path, lazy=True) as stack:
                    assert not stack.is_lazy, path
                    self._same_stack(path, stack, load(path))
            return
        lazily = 0
        for path in samples:
            for channel in available_channels(path):
                stack = load(path, channel=channel)
                with load(path, channel=channel, lazy=True) as lazy:
                    lazily += lazy.is_lazy
                    self._same_stack((path, channel), lazy, stack)
        assert lazily, "no sample was read lazily: give one read_lazy reads"

    def _same_stack(
        self, where: Any, lazy: AFMImageStack, stack: AFMImageStack
    ) -> None:
        assert lazy.pixel_size_nm == stack.pixel_size_nm, where
        assert lazy.channel == stack.channel, where
        assert lazy.file_path == stack.file_path, where
        assert lazy.frame_metadata == stack.frame_metadata, where
        assert _without_read_at(lazy.provenance) == _without_read_at(
            stack.provenance
        ), where
        assert lazy.state_backups == stack.state_backups, where
        assert sorted(lazy.processed) == sorted(stack.processed), where
        assert sorted(lazy.masks) == sorted(stack.masks), where
        pairs = [(lazy.data, stack.data)]
        pairs += [(lazy.processed[k], v) for k, v in stack.processed.items()]
        pairs += [(lazy.masks[k], v) for k, v in stack.masks.items()]
        for got, want in pairs:
            _same_frames(where, got, np.asarray(want))

    def test_inspect_describes_what_read_gives(
        self, entry: Entry, samples: list[Path]
    ) -> None:
        from playnano.info import data_units, inspect

        for path, stack in self._stacks(samples):
            info = inspect(path)
            assert info.reader == entry.name
            assert info.metadata_only is entry.obj.supports_inspect, path
            assert tuple(info.data.shape) == stack.data.shape, path
            assert info.data.dtype == stack.data.dtype.name, path
            if info.data.units is not None:  # a unit the file states is read's
                assert info.data.units == data_units(stack), path
            assert info.pixel_size_nm == pytest.approx(stack.pixel_size_nm, rel=1e-9)
            assert info.channel == stack.channel, path
            assert stack.channel in info.channels, path
            assert _same_times(info.timestamps, stack.get_frame_times()), path

    def test_channels_can_each_be_read(self, samples: list[Path]) -> None:
        from playnano.readers import available_channels, load

        for path, stack in self._stacks(samples):
            names = available_channels(path)
            assert stack.channel in names, path
            for name in names:
                other = load(path, channel=name)
                assert other.channel == name, (path, name)
                assert other.data.shape[0] == stack.data.shape[0], (path, name)
            with pytest.raises(ChannelError, match=str(names[0])):
                load(path, channel="no_such_channel_here")

    def test_check_accepts_the_samples(self, entry: Entry, samples: list[Path]) -> None:
        from playnano.errors import ReadError
        from playnano.info import check

        for path in samples:
            if not entry.obj.supports_check:  # the default: no specification
                with pytest.raises(ReadError, match="no specification check"):
                    check(path)
                continue
            problems = check(path)
            assert all(isinstance(p, str) and "\n" not in p for p in problems)
            if self.samples_follow_specification:
                assert problems == [], (path, problems)

    def test_plugin_import_is_light(self, entry: Entry) -> None:
        assert_import_is_light(entry.plugin.target.split(":")[0])

    # --------------------------------------------- (b) hostile, (c) foreign files
    @pytest.mark.parametrize("door", ["read", *DOORS.values()])
    def test_hostile_files_are_refused_in_one_line(
        self, entry: Entry, hostile: list[tuple[str, Path]], door: str
    ) -> None:
        if not hasattr(os, "fork"):
            pytest.skip("hostile files are opened in forked children (POSIX)")
        doors = [door]  # a door a reader does not declare still opens: its default
        children.preload()
        found = []
        for what, path in hostile:
            outcome = children.run_doors(path, doors, wall_s=self.door_seconds)
            bad = children.verdict(path, outcome, children.input_bytes(path))
            sample = sample_of(what, path)
            if bad is None and sample is not None:
                bad = _read_unlike(sample, outcome.result, door, self.door_seconds)
            if bad is not None:
                found.append(f"{what}: {bad[0]}: {bad[1]}")
        assert not found, f"{len(found)} of {len(hostile)} at {door}:\n" + "\n".join(
            found
        )

    def test_foreign_files_are_refused(
        self, entry: Entry, samples: list[Path], tmp_path: Path
    ) -> None:
        if not hasattr(os, "fork"):
            pytest.skip("foreign files are opened in forked children (POSIX)")
        from playnano.readers import reader_for

        sample = samples[0]
        children.preload()
        found = []
        for kind, content in FOREIGN.items():
            target = tmp_path / kind / sample.name
            if sample.is_dir():  # a folder like the sample's, its file foreign
                first = min(p for p in sample.rglob("*") if p.is_file())
                path = target / first.relative_to(sample)
                path.parent.mkdir(parents=True)
            else:
                path = target
                path.parent.mkdir(parents=True)
            path.write_bytes(content)
            try:
                if reader_for(target).name != entry.name:
                    continue  # another reader claims it: not ours to refuse
            except Exception:
                continue  # no reader takes it at all: refused already
            doors = ["read", *DOORS.values()]
            outcome = children.run_doors(target, doors, wall_s=self.door_seconds)
            bad = children.verdict(target, outcome, children.input_bytes(target))
            if bad is None and "read" in outcome.result.get("doors", {}):
                bad = ("accepted", "read as a stack")
            if bad is not None:
                found.append(f"{kind}: {bad[0]}: {bad[1]}")
        assert not found, "\n".join(found)
