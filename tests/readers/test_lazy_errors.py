"""read_lazy on damaged and hostile files: the one-line ReadError read() gives.

A file whose header already shows the damage fails at read_lazy with read()'s
message; damage only the frames show (a file cut after it was opened, a corrupt
member) fails at the read of those frames, naming the file.
"""

from __future__ import annotations

import re
import shutil
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from playnano.errors import ReadError
from playnano.readers import ReadWarning, reader_for
from tests.readers.lazy_helpers import bundle, open_fds, real_path


def _both_fail(path: Path, **kw: object) -> str:
    """read() and read_lazy() fail with the same one-line message; return it."""
    reader = reader_for(path).obj
    with pytest.raises(ReadError) as full:
        reader.read(path, **kw)
    with pytest.raises(ReadError) as lazy:
        reader.read_lazy(path, **kw)
    message = str(lazy.value)
    assert message == str(full.value)
    assert "\n" not in message
    assert message.startswith(str(path))  # a folder's frame: folder/frame
    assert open_fds(path) == []
    return message


def _read_all(stack: object) -> None:
    """Read every frame from the file, in order, a few frames at a time."""
    source = stack.data.source  # type: ignore[attr-defined]
    for start in range(0, source.shape[0], 3):
        source.read(start, min(source.shape[0], start + 3))


@pytest.mark.parametrize(
    ("rel", "n_bytes"),
    [
        ("asd/asd_sample_0.asd", 100_000),
        ("asd/asd_sample_0.asd", 2_561_197),
        ("asd/202110200146.asd", 300_000),
        ("h5-jpk/sample_0.h5-jpk", 1_000_000),
        ("h5-jpk/sample_0.h5-jpk", 2_000),
    ],
)
def test_truncated_real_file_fails_at_open_as_read(
    afm_data: Path, copy_truncated: Callable[[Path, int], Path], rel: str, n_bytes: int
) -> None:
    _both_fail(copy_truncated(afm_data / rel, n_bytes))


@pytest.mark.parametrize("kind", ["asd", "npz stored", "ome-tiff"])
def test_file_cut_after_open_fails_at_the_read(
    afm_data: Path, tmp_path: Path, kind: str
) -> None:
    if kind == "asd":
        path = tmp_path / "v.asd"
        shutil.copyfile(real_path(afm_data, "asd v1", tmp_path), path)
    else:
        path = bundle(tmp_path, kind)
    cut = path.stat().st_size * 2 // 3
    if kind.startswith("npz"):  # in the middle of 'data'
        import zipfile

        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo("data.npy")
        cut = info.header_offset + info.compress_size // 2
    stack = reader_for(path).obj.read_lazy(path)
    stack.data.source.read(0, 1)  # opens the file
    with open(path, "r+b") as fh:
        fh.truncate(cut)
    try:
        with pytest.raises(ReadError) as err:
            _read_all(stack)
    finally:
        stack.close()
    message = str(err.value)
    assert path.name in message and "\n" not in message


@pytest.mark.parametrize("kind", ["npz stored", "npz deflated"])
def test_corrupt_npz_member_fails_as_read_does(tmp_path: Path, kind: str) -> None:
    """One byte of 'data' flipped: read() refuses the CRC; reading every frame in
    order lazily refuses it too, naming the file and member."""
    import zipfile

    path = bundle(tmp_path, kind, n=40)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("data.npy")
    with open(path, "r+b") as fh:
        fh.seek(info.header_offset + 30 + len("data.npy") + info.compress_size // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0x55]))
    reader = reader_for(path).obj
    with pytest.raises(ReadError, match=r"b\.npz: member 'data'"):
        reader.read(path)
    stack = reader.read_lazy(path)
    try:
        with pytest.raises(ReadError, match=r"b\.npz: member 'data' .*(CRC|unreadab)"):
            _read_all(stack)
        # a second reader of the last block (another format written side by
        # side) is refused too, never given the frames the first was refused
        source = stack.data.source
        with pytest.raises(ReadError, match=r"b\.npz: member 'data' .*(CRC|unreadab)"):
            source.read(source.shape[0] - 1, source.shape[0])
    finally:
        stack.close()


def test_corrupt_member_fails_every_format_written_side_by_side(
    tmp_path: Path,
) -> None:
    """process --blocks writing two formats from a stored NPZ whose 'data' is
    corrupt: the stream reads each block once, for both formats, so the read
    fails the run in one line naming the input; nothing is written (the second
    format used to be written)."""
    from click.testing import CliRunner

    from playnano.cli import cli

    path = bundle(tmp_path, "npz stored", n=40)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("data.npy")
    with open(path, "r+b") as fh:
        fh.seek(info.header_offset + 30 + len("data.npy") + info.compress_size // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0x55]))
    out = tmp_path / "out"
    args = ["process", str(path), "-e", "npz", "h5", "-o", str(out), "--blocks"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert result.output == (
        f"playnano: error: {path}: member 'data' is corrupt (its CRC-32 does not "
        "match)\n"
    )
    assert not out.exists() or list(out.iterdir()) == []


# ------------------------------------------------------------------ frame folders
@pytest.fixture
def nanoscope(afm_data: Path, tmp_path: Path) -> Path:
    return real_path(afm_data, "nanoscope folder", tmp_path)


def test_damaged_frame_fails_at_open_as_read(nanoscope: Path) -> None:
    (nanoscope / "scan.002").write_bytes((nanoscope / "scan.002").read_bytes()[:5000])
    assert "scan.002" in _both_fail(nanoscope)


def test_skip_damaged_leaves_out_the_same_frames(nanoscope: Path) -> None:
    (nanoscope / "scan.002").write_bytes((nanoscope / "scan.002").read_bytes()[:5000])
    reader = reader_for(nanoscope).obj
    with pytest.warns(ReadWarning, match="skipped 1 damaged frame: scan.002"):
        full = reader.read(nanoscope, skip_damaged=True)
    with pytest.warns(ReadWarning, match="skipped 1 damaged frame: scan.002"):
        lazy = reader.read_lazy(nanoscope, skip_damaged=True)
    assert lazy.data.shape == full.data.shape == (2, 256, 256)
    assert np.asarray(lazy.data).tobytes() == full.data.tobytes()
    assert lazy.frame_metadata == full.frame_metadata
    assert lazy.provenance == full.provenance
    assert lazy.provenance["source"]["skipped_frames"][0]["file"] == "scan.002"


def test_frame_damaged_after_open_names_it(nanoscope: Path) -> None:
    reader = reader_for(nanoscope).obj
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stack = reader.read_lazy(nanoscope)
    (nanoscope / "scan.003").write_bytes((nanoscope / "scan.003").read_bytes()[:5000])
    assert stack.data.source.read(0, 2).shape == (2, 256, 256)
    with pytest.raises(
        ReadError, match=rf"^{re.escape(str(nanoscope / 'scan.003'))}: "
    ) as err:
        stack.data.source.read(1, 3)
    assert "\n" not in str(err.value)


def _replace_member(path: Path, name: str, arr: np.ndarray) -> None:
    """Rewrite the bundle with member ``name`` holding ``arr``."""
    import zipfile

    copy = path.with_name("orig.npz")
    path.rename(copy)
    with zipfile.ZipFile(copy) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            if info.filename == name:
                with dst.open(name, "w") as fh:
                    np.lib.format.write_array(fh, arr)
            else:
                dst.writestr(info, src.read(info))
    copy.unlink()


def test_inconsistent_bundle_metadata_fails_as_read(tmp_path: Path) -> None:
    """A negative pixel size, a mask that is not boolean: read()'s message."""
    path = bundle(tmp_path, "npz stored")
    _replace_member(path, "pixel_size_nm.npy", np.array(-1.0))
    assert "pixel_size_nm must be a positive" in _both_fail(path)
    path = bundle(tmp_path / "m", "npz stored")
    reader = reader_for(path).obj
    [mask] = reader.read(path).masks
    _replace_member(path, f"masks__{mask}.npy", np.zeros((17, 9, 11), np.uint8))
    assert "must be boolean" in _both_fail(path)
