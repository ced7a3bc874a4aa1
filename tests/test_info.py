"""playnano.info: the description of a file, field by field, as `playnano info` gives it.

The CLI tests (tests/cli/test_info.py) check real files and bundles against their
references; these check each part of the description on inputs chosen to tell
every branch apart: frame times with gaps and at the tolerance, provenance of
every shape a bundle can carry, and a reader plugin without a metadata path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from playnano.afm_stack import AFMImageStack
from playnano.errors import ReadError
from playnano.info import (
    ArrayInfo,
    StackInfo,
    check,
    frame_times,
    from_stack,
    inspect,
    provenance_summary,
)


def test_frame_times_take_the_median_step() -> None:
    # steps 1, 1, 2, 4: the median is the upper middle one
    assert frame_times([0.0, 1.0, 2.0, 4.0, 8.0]) == {
        "unit": "s",
        "count": 5,
        "missing": 0,
        "first": 0.0,
        "last": 8.0,
        "interval": 2.0,
        "regular": False,
    }


def test_frame_times_with_none_known() -> None:
    assert frame_times([None, None]) == {
        "unit": "s",
        "count": 2,
        "missing": 2,
        "first": None,
        "last": None,
        "interval": None,
        "regular": None,
    }


def test_frame_times_regular_up_to_the_tolerance_of_the_interval() -> None:
    """A spread of 1/1000 of the interval is regular; for a 0.5 s interval,
    0.001 s is twice that."""
    assert frame_times([0.0, 0.5, 1.0, 1.5004])["regular"] is True
    assert frame_times([0.0, 0.5, 1.0, 1.501])["regular"] is False
    assert 1e-3 * 1000.0 == 1.0  # exactly at the tolerance, in floats too
    assert frame_times([0.0, 1000.0, 2000.0, 3001.0])["regular"] is True
    assert frame_times([0.0, 1000.0, 2000.0, 3001.5])["regular"] is False


def test_to_dict_without_a_path_or_frames() -> None:
    info = StackInfo(
        reader="r",
        metadata_only=True,
        format_version=None,
        data=ArrayInfo((), "float64", None),
        pixel_size_nm=1.0,
        channel="height",
        channels=["height"],
        timestamps=[],
    )
    d = info.to_dict()
    assert (d["path"], d["file_size_bytes"], d["frames"]) == (None, None, 0)


def test_to_dict_names_the_path_and_its_size(tmp_path) -> None:
    path = tmp_path / "v.bin"
    path.write_bytes(b"x" * 123)
    info = StackInfo("r", True, None, ArrayInfo((3, 2, 2), "f8"), 1.0, "h", ["h"],
                     [0.0, 1.0, 2.0], path=path)  # fmt: skip
    d = info.to_dict()
    assert (d["path"], d["file_size_bytes"], d["frames"]) == (str(path), 123, 3)


PROVENANCE = {
    "environment": {"playnano": "0.6.0", "python": "3.11"},
    "source": {
        "file": "out.npz",
        "sha256": "cd" * 32,
        "reader": "npz-bundle",
        "previous_source": {"file": "v.asd", "sha256": "ab" * 32, "reader": "asd"},
    },
    "processing": {
        "steps": [
            {"index": 1, "name": "remove_plane", "params": {"order": 1},
             "version": "1.0"},
            {"index": 2, "name": "median"},
            "not a step",
        ]
    },
    "exports": [
        {"format": "npz", "file": "a.npz", "plugin": "playnano", "raw": False,
         "timestamp": "2026-01-01T00:00:00", "plugin_version": "0.6.0"},
        {"format": "zarr", "file": "b.zarr", "plugin": "acme-zarr",
         "plugin_version": "2.1"},
        {"format": "gif", "file": "c.gif"},
        "not an export",
    ],
}  # fmt: skip


def test_provenance_summary_of_a_reexported_bundle() -> None:
    assert provenance_summary(PROVENANCE) == {
        "source_file": "v.asd",
        "source_sha256": "ab" * 32,
        "source_reader": "asd",
        "steps": [
            {"name": "remove_plane", "params": {"order": 1}, "version": "1.0"},
            {"name": "median", "params": {}, "version": None},
        ],
        "playnano_version": "0.6.0",
        "plugin_versions": {"playnano": "0.6.0", "acme-zarr": "2.1"},
        "exports": [
            {"format": "npz", "file": "a.npz", "plugin": "playnano", "raw": False,
             "timestamp": "2026-01-01T00:00:00"},
            {"format": "zarr", "file": "b.zarr", "plugin": "acme-zarr", "raw": None,
             "timestamp": None},
            {"format": "gif", "file": "c.gif", "plugin": None, "raw": None,
             "timestamp": None},
        ],
    }  # fmt: skip


EMPTY = {
    "source_file": None,
    "source_sha256": None,
    "source_reader": None,
    "steps": [],
    "playnano_version": None,
    "plugin_versions": {},
    "exports": [],
}


@pytest.mark.parametrize(
    "prov",
    [
        {},
        {"source": "v.asd", "environment": "0.6", "processing": ["x"], "exports": None},
        {"source": None, "environment": None, "processing": None},
    ],
    ids=["empty", "wrong types", "nulls"],
)
def test_provenance_summary_of_odd_records(prov) -> None:
    assert provenance_summary(prov) == EMPTY


def test_provenance_summary_of_no_record() -> None:
    assert provenance_summary(None) is None
    assert provenance_summary(["source"]) is None  # type: ignore[arg-type]


def test_provenance_summary_of_a_first_source() -> None:
    prov = {"source": {"file": "v.asd", "sha256": "ab" * 32, "reader": "asd"}}
    summary = provenance_summary(prov)
    assert summary is not None
    assert (
        summary["source_file"],
        summary["source_sha256"],
        summary["source_reader"],
    ) == ("v.asd", "ab" * 32, "asd")


def _stack(path: Path) -> AFMImageStack:
    data = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    stack = AFMImageStack(data, 2.5, "height", path, [{"timestamp": 0.0},
                          {"timestamp": 0.5}])  # fmt: skip
    stack.processed["raw"] = data.astype(np.float64)
    stack.masks["mask_threshold"] = data > 5
    stack.provenance.clear()
    stack.provenance.update(
        {"environment": {"playnano": "x"}, "source": {"file": "v.plain"}}
    )
    return stack


def test_from_stack_describes_what_was_read(tmp_path) -> None:
    path = tmp_path / "v.plain"
    info = from_stack(_stack(path), "plain", ["height", "phase"])
    assert info == StackInfo(
        reader="plain",
        metadata_only=False,
        format_version=None,
        data=ArrayInfo((2, 3, 4), "float32", "nm"),
        pixel_size_nm=2.5,
        channel="height",
        channels=["height", "phase"],
        timestamps=[0.0, 0.5],
        layers={"raw": ArrayInfo((2, 3, 4), "float64", "nm")},
        masks={"mask_threshold": ArrayInfo((2, 3, 4), "bool", None)},
        provenance={"source": {"file": "v.plain"}},
        path=path,
        notes=["the plain reader has no metadata-only path; the frames were read"],
    )
    assert from_stack(_stack(path), "plain", []).channels == ["height"]


PLAIN_READER = '''
from pathlib import Path

import numpy as np

from playnano.afm_stack import AFMImageStack
from playnano.plugins import hookimpl


class PlainReader:
    """A reader written to the protocol alone: every method there, some doors not
    declared (the core must not call those)."""

    name = "plain"
    aliases = ()
    suffixes = (".plain",)
    content_suffixes = ()
    reads_folders = False
    description = "Two frames of zeros, for playnano.info's tests."
    requires = ()
    install_hint = ""
    supports_lazy = {lazy}
    supports_inspect = {inspects}
    supports_channels = False
    supports_check = False
    supports_skip_damaged = False

    def can_read(self, path):
        return Path(path).suffix == ".plain"

    def read(self, path, channel=None):
        times = [{{"timestamp": 0.0}}, {{"timestamp": 1.0}}]
        return AFMImageStack(np.zeros((2, 3, 4)), 1.0, "phase", Path(path), times)

    def read_lazy(self, path, channel=None):
        if not {lazy}:
            raise AssertionError("read_lazy called though not declared")
        return self.read(path)

    def inspect(self, path):
        if not {inspects}:
            raise AssertionError("inspect called though not declared")
        raise KeyError("no header here")

    def channels(self, path):
        raise AssertionError("channels called though not declared")

    def check(self, path):  # the only check there is
        raise KeyError("no specification here")


@hookimpl
def register_readers(register):
    register(PlainReader())
'''


def _plain(install_plugin, tmp_path, *, lazy: bool, inspects: bool = False) -> Path:
    """Install the protocol-only reader plugin; a file it reads."""
    install_plugin(
        "plain-reader",
        {"plain_reader": PLAIN_READER.format(lazy=lazy, inspects=inspects)},
        {"playnano.readers": {"plain": "plain_reader"}},
    )
    path = tmp_path / "v.plain"
    path.write_bytes(b"x")
    return path


@pytest.mark.parametrize("lazy", [False, True])
def test_a_reader_without_a_metadata_path_is_described_by_opening(
    install_plugin, tmp_path, lazy: bool
) -> None:
    path = _plain(install_plugin, tmp_path, lazy=lazy, inspects=False)
    info = inspect(path)
    assert (info.reader, info.channel, info.channels) == ("plain", "phase", ["phase"])
    assert info.data == ArrayInfo((2, 3, 4), "float64", None)
    assert info.metadata_only is False
    how = (
        "the file was opened for reading frames on demand, and no frame was kept "
        "in memory"
        if lazy
        else "the frames were read"
    )
    assert info.notes == [f"the plain reader has no metadata-only path; {how}"]


def test_check_names_the_file_whatever_the_reader_raises(
    install_plugin, tmp_path
) -> None:
    path = _plain(install_plugin, tmp_path, lazy=False, inspects=False)
    with pytest.raises(ReadError) as err:
        check(path)
    assert str(err.value) == (
        f"{path}: is corrupt or not understood (KeyError: 'no specification here')"
    )


def _units_of(channel: str, frames=None, source=None) -> str | None:
    from playnano.info import data_units

    stack = AFMImageStack(np.zeros((2, 3, 4)), 1.0, channel, None, frames)
    stack.provenance["source"] = source
    return data_units(stack)


@pytest.mark.parametrize(
    ("frames", "source", "unit"),
    [
        ([{"z_unit": "V"}, {"z_unit": "pm"}], {"z_unit": "A"}, "V"),  # frame 0's
        ([{"z_unit": ""}, {}], {"acquisition": {"z_unit": "mV"}, "z_unit": "A"},
         "mV"),
        ([{"z_unit": 3}, {}], {"acquisition": "none", "z_unit": "A"}, "A"),
        ([{}, {}], {"acquisition": {"z_unit": None}, "z_unit": "A"}, "A"),
        ([{}, {}], "v.asd", None),  # a source that is no record
        ([{}, {}], None, None),
    ],
)  # fmt: skip
def test_the_unit_of_the_frame_values_as_the_reader_recorded_it(
    frames, source, unit
) -> None:
    assert _units_of("Phase", frames, source) == unit


@pytest.mark.parametrize(
    ("channel", "unit"),
    [("TP", "nm"), ("Height", "nm"), ("height_trace", "nm"),
     ("MeasuredHeight_retrace", "nm"), ("Phase", None), ("vDeflection", None)],
)  # fmt: skip
def test_height_channels_are_in_nm_when_nothing_says_otherwise(channel, unit):
    assert _units_of(channel, [{}, {}], "v.asd") == unit
    assert _units_of(channel, [{"z_unit": "V"}, {}], None) == "V"


def test_an_instrument_file_described_from_its_headers(afm_data) -> None:
    import hashlib

    path = afm_data / "asd" / "asd_sample_0.asd"
    info = inspect(path)
    assert (info.reader, info.path, info.metadata_only) == ("asd", path, True)
    assert info.file_sha256 is None  # hashing reads the whole file: on request
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert inspect(path, sha256=True).file_sha256 == digest


def test_a_folder_says_first_why_it_is_one_video(afm_data) -> None:
    path = afm_data / "jpk_folder" / "streptavidin_hs"
    info = inspect(path)
    assert (info.reader, info.path) == ("jpk-folder", path)
    assert len(info.notes) == 2
    assert info.notes[0].startswith("one video: 3 frames of one scan (512x512 px")
    assert info.notes[1].startswith("the jpk-folder reader has no metadata-only path")


def test_a_declared_inspect_that_fails_names_the_file(install_plugin, tmp_path):
    path = _plain(install_plugin, tmp_path, lazy=False, inspects=True)
    with pytest.raises(ReadError) as err:
        inspect(path)
    assert str(err.value) == (
        f"{path}: is corrupt or not understood (KeyError: 'no header here')"
    )
