"""The conformance tests every exporter plugin passes: :class:`ExporterConformance`.

Every exporter's test module, builtin or third-party, subclasses
:class:`ExporterConformance` and names its format::

    from playnano.testing import ExporterConformance

    class TestMyFormat(ExporterConformance):
        format_name = "myformat"

        def read_back(self, path):  # optional: enables the round-trip test
            return my_loader(path)

The class checks what every exporter owes its users: declarations that validate, the
declared suffix used, raw exports, a faithful round trip (bit for bit unless the format
declares itself lossy), the same from a stack streamed a block at a time, no
overwriting without ``overwrite=True``, nothing left behind when writing fails, an export record in provenance, and no heavy import when the
plugin module is imported.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from playnano.afm_stack import AFMImageStack
from playnano.errors import OptionError, OutputExistsError
from playnano.io.export_data import export_stack
from playnano.plugins.registry import Entry, exporters
from playnano.plugins.validate import validate_exporter
from playnano.testing.stacks import (
    FramesSeen,
    assert_import_is_light,
    lazy_copy,
    make_sample_stack,
    original_source,
)


def _put_users_content(path: Path) -> Path:
    """Replace an output with a user's own of the same kind; return the user's file.

    File outputs become a file; folder outputs (Zarr stores) a folder holding one.
    """
    if path.is_dir():
        shutil.rmtree(path)
        path.mkdir()
        users = path / "users_notes.txt"
    else:
        path.unlink()
        users = path
    users.write_bytes(b"a user's file")
    return users


class ExporterConformance:
    """Tests every exporter must pass. Subclass it and set ``format_name``.

    Define :meth:`read_back` for a format that stores heights, or :meth:`inspect`
    for an animation; the round-trip and raw tests run whichever is defined.
    """

    #: Name of the format under test (as users type it).
    format_name: str = ""

    def read_back(self, path: Path) -> AFMImageStack | None:
        """Load a written file as a stack (formats that store heights)."""
        return None

    def inspect(self, path: Path) -> FramesSeen | None:
        """Decode a written animation (formats that store colours, not heights)."""
        return None

    def export_options(self) -> dict[str, Any]:
        """Options passed to every export in these tests (override if needed)."""
        return {}

    # ----------------------------------------------------------------- fixtures
    @pytest.fixture
    def entry(self) -> Entry:
        assert self.format_name, "set format_name on the conformance subclass"
        return exporters().resolve(self.format_name)

    @pytest.fixture
    def stack(self) -> AFMImageStack:
        return make_sample_stack()

    def _export(self, stack: AFMImageStack, path: Path, **kw: Any) -> list[Path]:
        return export_stack(
            stack, path, self.format_name, options=self.export_options(), **kw
        )

    def _read(self, path: Path) -> AFMImageStack | FramesSeen:
        back = self.read_back(path)
        seen = self.inspect(path) if back is None else None
        assert back is not None or seen is not None, (
            f"{type(self).__name__}: define read_back(path) (a format that stores "
            "heights) or inspect(path) (an animation) so the round trip is checked"
        )
        return back if back is not None else seen  # type: ignore[return-value]

    # ------------------------------------------------------------- comparisons
    def check_stack(
        self, back: AFMImageStack, stack: AFMImageStack, caps: Any, *, raw: bool
    ) -> None:
        """Compare a stack read back with the one written, as far as ``caps`` promise."""
        exact = not caps.lossy
        compare = np.testing.assert_array_equal if exact else np.testing.assert_allclose
        want = stack.processed["raw"] if raw else stack.data
        assert back.data.shape == want.shape
        if exact:
            assert back.data.dtype == want.dtype
        compare(back.data, want)
        assert back.pixel_size_nm == pytest.approx(stack.pixel_size_nm, rel=1e-9)
        assert back.channel == stack.channel
        if caps.supports_provenance:  # full bundles: every frame-metadata field
            assert back.frame_metadata == stack.frame_metadata
        if caps.supports_timestamps:
            assert back.get_frame_times() == pytest.approx(stack.get_frame_times())
        if caps.supports_processed_layers and not raw:  # a raw export: the snapshot
            assert sorted(back.processed) == sorted(stack.processed)
            for key, arr in stack.processed.items():
                if exact:
                    assert back.processed[key].dtype == arr.dtype, key
                compare(back.processed[key], arr)
        if caps.supports_masks and not raw:
            assert sorted(back.masks) == sorted(stack.masks)
            for key, m in stack.masks.items():
                assert back.masks[key].dtype == np.bool_, key
                np.testing.assert_array_equal(back.masks[key], m)
        if caps.supports_provenance:
            steps = back.provenance["processing"]["steps"]
            assert steps == stack.provenance["processing"]["steps"]
            assert original_source(back) == stack.provenance["source"]

    def check_frames(self, seen: FramesSeen, stack: AFMImageStack, caps: Any) -> None:
        """Frame count, timing and size of an animation against the stack."""
        assert seen.n_frames == stack.n_frames
        assert seen.rgb.shape == (stack.n_frames, seen.size[1], seen.size[0], 3)
        assert len(seen.durations_s) == stack.n_frames
        if caps.supports_timestamps:
            times = np.asarray(stack.get_frame_times(), dtype=float)
            steps = np.diff(times)
            want = [*steps, float(np.median(steps))]
            assert list(seen.durations_s) == pytest.approx(want, abs=0.011)
        # the frames are the image enlarged by a whole factor (a codec may pad a
        # row or column to an even size)
        h, w = stack.image_shape
        k = round(seen.size[1] / h)
        assert k >= 1, seen.size
        assert abs(seen.size[0] - k * w) <= 1 and abs(seen.size[1] - k * h) <= 1, (
            f"frames of {seen.size} are not {w} x {h} px enlarged {k} times"
        )

    # -------------------------------------------------------------------- tests
    def test_declarations_are_valid(self, entry: Entry) -> None:
        validate_exporter(entry.obj)
        assert entry.obj.suffix[:1] in (".", "_")  # "_frames": a folder output
        assert entry.status() == "ok"

    def test_writes_declared_suffix(
        self, entry: Entry, stack: AFMImageStack, tmp_path: Path
    ) -> None:
        paths = self._export(stack, tmp_path / "video")
        assert paths, "export returned no paths"
        assert paths[0].name == "video" + entry.obj.suffix
        assert all(p.exists() and p.parent == tmp_path for p in paths)
        assert sorted(tmp_path.iterdir()) == sorted(paths)

    def test_round_trip(
        self, entry: Entry, stack: AFMImageStack, tmp_path: Path
    ) -> None:
        expected = copy.deepcopy(stack)
        [path, *_] = self._export(stack, tmp_path / "video")
        got = self._read(path)
        if isinstance(got, FramesSeen):
            self.check_frames(got, expected, entry.obj.capabilities)
        else:
            self.check_stack(got, expected, entry.obj.capabilities, raw=False)

    def test_streamed_stack_round_trips(
        self, entry: Entry, stack: AFMImageStack, tmp_path: Path
    ) -> None:
        """A stack read a block at a time is streamed: the exporter pulls its frames
        from the blocks the run shares with every format, and writes the same."""
        expected = copy.deepcopy(stack)
        with lazy_copy(stack) as lazy:
            [path, *_] = self._export(lazy, tmp_path / "video")
        got = self._read(path)
        if isinstance(got, FramesSeen):
            self.check_frames(got, expected, entry.obj.capabilities)
        else:
            self.check_stack(got, expected, entry.obj.capabilities, raw=False)

    def test_raw_export_writes_the_raw_snapshot(
        self, entry: Entry, stack: AFMImageStack, tmp_path: Path
    ) -> None:
        if not entry.obj.capabilities.supports_raw:
            with pytest.raises(OptionError):
                self._export(stack, tmp_path / "raw", raw=True)
            return
        # processing that changes every frame a lot: heights upside down
        stack.data = (-3.0 * stack.processed["raw"]).astype(stack.data.dtype)
        stack.processed["step_1_remove_plane"] = stack.data
        expected = copy.deepcopy(stack)
        [path, *_] = self._export(stack, tmp_path / "raw", raw=True)
        got = self._read(path)
        if not isinstance(got, FramesSeen):
            self.check_stack(got, expected, entry.obj.capabilities, raw=True)
            return
        self.check_frames(got, expected, entry.obj.capabilities)
        # the raw render is the render of the raw heights, not of the processed ones
        unprocessed = copy.deepcopy(expected)
        unprocessed.data = expected.processed["raw"]
        [plain, *_] = self._export(unprocessed, tmp_path / "plain")
        [proc, *_] = self._export(expected, tmp_path / "processed")
        want = self._read(plain)
        other = self._read(proc)
        assert isinstance(want, FramesSeen) and isinstance(other, FramesSeen)
        diff = np.abs(got.rgb.astype(int) - want.rgb.astype(int)).mean()
        assert diff <= 1.0, f"raw export differs from the raw render by {diff:.1f}"
        diff = np.abs(got.rgb.astype(int) - other.rgb.astype(int)).mean()
        assert diff > 10.0, "raw export looks like the processed render"

    def test_refuses_to_overwrite(self, stack: AFMImageStack, tmp_path: Path) -> None:
        [path, *_] = self._export(stack, tmp_path / "video")
        users = _put_users_content(path)  # a file, or a folder for folder outputs
        with pytest.raises(OutputExistsError, match="overwrite=True"):
            self._export(stack, tmp_path / "video")
        assert users.read_bytes() == b"a user's file"
        self._export(stack, tmp_path / "video", overwrite=True)
        assert path.exists()
        assert not users.exists() or users.read_bytes() != b"a user's file"

    def test_nothing_left_behind_on_failure(
        self,
        entry: Entry,
        stack: AFMImageStack,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        real_export = type(entry.obj).export

        def write_then_fail(self_: Any, *args: Any, **kwargs: Any) -> list[Path]:
            real_export(self_, *args, **kwargs)  # real bytes on disk, then a crash
            raise RuntimeError("disk full")

        monkeypatch.setattr(type(entry.obj), "export", write_then_fail)
        with pytest.raises(Exception, match="disk full"):
            self._export(stack, tmp_path / "video")
        assert list(tmp_path.iterdir()) == []

    def test_records_export_in_provenance(
        self, entry: Entry, stack: AFMImageStack, tmp_path: Path
    ) -> None:
        paths = self._export(stack, tmp_path / "video")
        rec = stack.provenance["exports"][-1]
        assert rec["format"] == entry.name
        assert rec["plugin"] == entry.plugin.dist
        assert rec["plugin_version"] == entry.plugin.version
        assert rec["file"] == paths[-1].name
        assert rec["raw"] is False
        json.dumps(stack.provenance, allow_nan=False)

    def test_unknown_option_is_refused(
        self, stack: AFMImageStack, tmp_path: Path
    ) -> None:
        with pytest.raises(OptionError, match="unknown option"):
            export_stack(
                stack, tmp_path / "x", self.format_name, options={"no_such_opt": 1}
            )
        assert list(tmp_path.iterdir()) == []

    def test_plugin_import_is_light(self, entry: Entry) -> None:
        assert_import_is_light(entry.plugin.target.split(":")[0])
