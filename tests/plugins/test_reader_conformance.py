"""ReaderConformance itself: it fails readers that break the contract.

Each case installs a small reader plugin with one flaw (a real plugin module,
registered through its entry point) and runs the kit's test on it: the test must
fail, saying what is wrong. The builtin readers and the plugins pass the same kit
(their test modules subclass it).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import tifffile

from playnano.plugins.registry import readers
from playnano.testing import ReaderConformance
from playnano.testing.hostile import hostile_set

READER = """
from pathlib import Path
import numpy as np
from playnano.plugins import ReaderBase, hookimpl


class Flawed(ReaderBase):
    name = "flawed"
    suffixes = (".flawed",)
    description = "A reader with one flaw, for the kit's own tests."
{flags}
    def read(self, path, channel=None):
        from playnano.afm_stack import AFMImageStack
        {read}
        return AFMImageStack(data, 1.0, "height", Path(path), None)
{doors}

@hookimpl
def register_readers(register):
    register(Flawed())
"""

LAZY = """
    def read_lazy(self, path, channel=None):
        from playnano.readers.lazy_stack import lazy_stack

        class Frames:
            shape, dtype = (2, 3, 4), np.dtype("float64")

            def read(self, start, stop):
                return np.ones((stop - start, 3, 4))  # read() gives arange

            def close(self):
                pass

        return lazy_stack(Path(path), Frames(), 1.0, "height", None)
"""
INSPECT = """
    def inspect(self, path):
        from playnano.info import ArrayInfo, StackInfo

        return StackInfo("flawed", True, None, ArrayInfo((5, 3, 4), "float64"),
                         1.0, "height", ["height"], [None] * 5)
"""

NAIVE_TIFF = "data = np.asarray(__import__('tifffile').imread(path), dtype=float)"
ANYTHING = "data = np.arange(24.0).reshape(2, 3, 4)  # whatever the file holds"


def _source(read: str, lazy: bool = False, inspect: bool = False) -> str:
    flags = f"    supports_lazy = {lazy}\n    supports_inspect = {inspect}\n"
    doors = (LAZY if lazy else "") + (INSPECT if inspect else "")
    return READER.format(read=read, flags=flags, doors=doors)


def _install(install_plugin, read: str, lazy: bool = False, inspect: bool = False):
    install_plugin(
        "flawed-reader",
        {"flawed_reader": _source(read, lazy, inspect)},
        {"playnano.readers": {"f": "flawed_reader"}},
    )
    return readers().resolve("flawed")


class Kit(ReaderConformance):
    reader_name = "flawed"


def _tiff(path: Path) -> Path:
    tifffile.imwrite(path, np.zeros((2, 3, 4), np.uint8), photometric="minisblack")
    return path


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the kit forks (POSIX)")
def test_a_reader_that_trusts_tifffile_fails_the_hostile_test(install_plugin, tmp_path):
    entry = _install(install_plugin, NAIVE_TIFF)
    sample = _tiff(tmp_path / "video.flawed")
    hostile = hostile_set(sample, tmp_path / "hostile")
    with pytest.raises(
        AssertionError, match="pages claim 65535 x 65535 pixels: memory"
    ):
        Kit().test_hostile_files_are_refused_in_one_line(entry, hostile, "read")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the kit forks (POSIX)")
def test_a_reader_that_trusts_a_description_reads_a_wrong_stack(
    install_plugin, tmp_path
):
    """tifffile reads a copy whose description claims one more frame than the
    pages store without complaint; the kit compares it with the sample's read."""
    entry = _install(install_plugin, NAIVE_TIFF)
    sample = _tiff(tmp_path / "video.flawed")
    hostile = [
        (what, path)
        for what, path in hostile_set(sample, tmp_path / "hostile")
        if what == "shaped description claims one more frame"
    ]
    assert len(hostile) == 1
    with pytest.raises(AssertionError) as failed:
        Kit().test_hostile_files_are_refused_in_one_line(entry, hostile, "read")
    assert (
        "shaped description claims one more frame: wrong stack: read [3, 3, 4] "
        "where the sample reads [2, 3, 4]"
    ) in str(failed.value)


def test_read_lazy_that_differs_from_read_fails(install_plugin, tmp_path):
    entry = _install(install_plugin, ANYTHING, lazy=True)
    sample = tmp_path / "video.flawed"
    sample.write_bytes(b"x")
    with pytest.raises(AssertionError):
        Kit().test_read_lazy_gives_the_same_frames(entry, [sample])


def test_inspect_that_differs_from_read_fails(install_plugin, tmp_path):
    entry = _install(install_plugin, ANYTHING, inspect=True)
    sample = tmp_path / "video.flawed"
    sample.write_bytes(b"x")
    with pytest.raises(AssertionError) as failed:
        Kit().test_inspect_describes_what_read_gives(entry, [sample])
    assert "info.data.shape" in str(failed.traceback[-1].statement)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the kit forks (POSIX)")
def test_a_reader_that_reads_anything_fails_the_foreign_test(install_plugin, tmp_path):
    entry = _install(install_plugin, ANYTHING)
    sample = tmp_path / "video.flawed"
    sample.write_bytes(b"x")
    with pytest.raises(AssertionError, match="accepted: read as a stack"):
        Kit().test_foreign_files_are_refused(entry, [sample], tmp_path / "foreign")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            "    supports_check = True\n",
            "declares supports_check but does not implement check()",
        ),
        (
            "    def inspect(self, path):\n        return None\n",
            "implements inspect() but does not declare supports_inspect = True",
        ),
    ],
)
def test_declarations_and_doors_must_agree_at_registration(
    install_plugin, body: str, error: str
) -> None:
    source = READER.format(read=ANYTHING, flags=body, doors="")
    install_plugin(
        "flawed-reader",
        {"flawed_reader": source},
        {"playnano.readers": {"f": "flawed_reader"}},
    )
    [plugin] = [p for p in readers().plugins() if p.dist == "flawed-reader"]
    assert error in plugin.error
