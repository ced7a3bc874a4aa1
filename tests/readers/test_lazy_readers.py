"""read_lazy beyond what ReaderConformance checks for every reader.

The kit (each reader's test module subclasses it) compares every channel of every
sample read lazily with read(), frame by frame; here: compressed OME-TIFF pages,
files closed once the lazy stack is closed, and the readers that fall back to read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from playnano.plugins.reader import Reader
from playnano.readers import load, reader_for
from playnano.readers.tiff import TiffReader
from tests.readers.lazy_helpers import (
    assert_stacks_match,
    bundle,
    open_fds,
    real_path,
)

BUNDLES = ["npz stored", "npz deflated", "ome-tiff"]


def _reader(path: Path) -> Reader:
    return reader_for(path).obj


def test_compressed_ome_tiff_pages_are_decoded(tmp_path: Path) -> None:
    """Pages written with deflate (by tifffile, not our exporter) read lazily."""
    import tifffile

    data = np.arange(6 * 5 * 4, dtype=np.float32).reshape(6, 5, 4) ** 1.5
    path = tmp_path / "z.ome.tif"
    tifffile.imwrite(
        path,
        data,
        ome=True,
        compression="zlib",
        photometric="minisblack",
        metadata={"axes": "TYX", "PhysicalSizeX": 0.002, "PhysicalSizeXUnit": "µm"},
    )
    with tifffile.TiffFile(path) as tif:
        assert tif.pages.first.compression == tifffile.COMPRESSION.ADOBE_DEFLATE
    reader = _reader(path)
    lazy = reader.read_lazy(path)
    assert_stacks_match(lazy, reader.read(path))
    assert np.asarray(lazy.data).tobytes() == data.tobytes()
    lazy.close()


@pytest.mark.parametrize("kind", [*BUNDLES, "asd", "h5-jpk", "jpk folder"])
def test_files_are_closed_after_close(
    afm_data: Path, tmp_path: Path, kind: str
) -> None:
    real = {"asd": "asd v1", "h5-jpk": "h5-jpk", "jpk folder": "jpk folder"}
    if kind in real:
        path = real_path(afm_data, real[kind], tmp_path)
    else:
        path = bundle(tmp_path, kind)
    stack = _reader(path).read_lazy(path)
    assert open_fds(path) == []  # nothing held open before the first read
    for arr in stack.lazy_frames():
        arr[-1], arr[0]
    if kind != "jpk folder":  # a folder's frame files are read and closed at once
        assert open_fds(path)
    stack.close()
    assert open_fds(path) == []


def test_closed_stack_can_be_read_again(tmp_path: Path) -> None:
    """close() releases the file; a later read opens it again (nothing is lost)."""
    path = bundle(tmp_path, "npz stored")
    reader = _reader(path)
    stack = reader.read_lazy(path)
    first = stack.data[3].copy()
    stack.close()
    assert stack.data[3].tobytes() == first.tobytes()
    stack.close()


def test_bundle_channel_is_checked(tmp_path: Path) -> None:
    from playnano.errors import ChannelError

    path = bundle(tmp_path, "npz stored")
    with pytest.raises(ChannelError, match=r"b\.npz: no channel 'phase'"):
        _reader(path).read_lazy(path, channel="phase")
    assert open_fds(path) == []


def test_fortran_ordered_npz_falls_back_to_read(tmp_path: Path) -> None:
    """A member in Fortran order has no contiguous frames: read_lazy says None."""
    import zipfile

    path = bundle(tmp_path, "npz stored")
    fortran = tmp_path / "f.npz"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(fortran, "w") as dst:
        for info in src.infolist():
            if info.filename == "data.npy":
                arr = np.load(src.open(info))
                with dst.open("data.npy", "w") as fh:
                    np.lib.format.write_array(fh, np.asfortranarray(arr))
            else:
                dst.writestr(info, src.read(info))
    reader = _reader(fortran)
    assert reader.read_lazy(fortran) is None
    assert reader.read(fortran).data.tobytes() == reader.read(path).data.tobytes()


def test_readers_without_read_lazy_keep_working(tmp_path: Path) -> None:
    """The plain TIFF reader does not declare read_lazy: load falls back to read()."""
    import tifffile

    path = tmp_path / "plain.tif"
    data = np.arange(2 * 4 * 3, dtype=np.uint16).reshape(2, 4, 3)
    tifffile.imwrite(
        path,
        data,
        photometric="minisblack",
        resolution=(1e7, 1e7),
        resolutionunit="CENTIMETER",
    )
    reader = TiffReader()
    assert not reader.supports_lazy
    assert reader.read_lazy(path) is None  # the base's default: use read()
    stack = load(path, lazy=True)
    assert not stack.is_lazy
    assert np.asarray(stack.data).tobytes() == data.tobytes()


def test_every_builtin_reader_says_whether_it_reads_lazily() -> None:
    """docs/reading.rst "Frames on demand" has one line per builtin reader, and
    says "not lazy" exactly for those without read_lazy."""
    from playnano.plugins.registry import readers

    text = (Path(__file__).parents[2] / "docs" / "reading.rst").read_text("utf-8")
    section = text.split("Frames on demand\n")[1].split("\nConventions\n")[0]
    lines = {
        line.split("``")[1]: line
        for line in section.replace("\n  ", " ").splitlines()
        if line.startswith("- ``")
    }
    for entry in readers().entries():
        if not entry.plugin.builtin:
            continue
        line = next((v for k, v in lines.items() if k == entry.name), None)
        if line is None:  # listed with another reader: "``jpk-folder``, ``spm``"
            line = next(v for v in lines.values() if f"``{entry.name}``" in v)
        lazy = entry.obj.supports_lazy
        assert ("not lazy" in line) != lazy, entry.name
