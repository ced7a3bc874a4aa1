"""playnano.readers.load(): dispatch, error wrapping, provenance, plugin hygiene."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

import playnano
from playnano.errors import ReadError
from playnano.plugins import Reader
from playnano.plugins import registry as registry_mod
from playnano.readers import load, reader_for

REPO = Path(__file__).resolve().parents[2]
MODULES = ["asd", "h5jpk", "jpk_folder", "spm", "tiff"]
#: playnano's own formats: reader modules beside their layout and exporter.
FORMAT_MODULES = [
    f"playnano.formats.{f}.reader" for f in ("npz", "h5", "ometiff", "gwy", "topostats")
]
READERS = {
    "asd": (".asd",),
    "h5-jpk": (".h5-jpk",),
    "jpk-folder": (".jpk",),
    "spm": (".spm",),
    "npz-bundle": (".npz",),
    "h5-bundle": (".h5", ".hdf5"),
    "ome-tiff": (".ome.tif", ".ome.tiff"),
    "tiff": (".tif", ".tiff"),
    "gwy": (".gwy",),
    "topostats": (".topostats",),
}


def test_every_reader_registers_and_follows_the_protocol():
    registry = registry_mod.readers()
    assert all(p.status == "ok" for p in registry.plugins()), registry.plugins()
    found = {e.name: e.obj for e in registry.entries() if e.plugin.builtin}
    assert {n: tuple(r.suffixes) for n, r in found.items()} == READERS
    for reader in found.values():
        assert isinstance(reader, Reader)
        assert reader.description and "\n" not in reader.description


def test_fallback_without_package_metadata(monkeypatch):
    monkeypatch.setattr(registry_mod, "_entry_points", lambda group: [])
    registry_mod.reset()
    names = {e.name for e in registry_mod.readers().entries()}
    assert names == set(READERS)


@pytest.mark.parametrize(
    ("path", "reader"),
    [
        ("asd/asd_sample_0.asd", "asd"),
        ("h5-jpk/sample_0.h5-jpk", "h5-jpk"),
        ("jpk_folder/streptavidin_hs", "jpk-folder"),
        ("spm/old_bruker.002", "spm"),  # no declared suffix: found by content
    ],
)
def test_dispatch_of_the_real_files(afm_data, path, reader):
    assert reader_for(afm_data / path).name == reader


def test_missing_path():
    with pytest.raises(ReadError) as err:
        load("/no/such/place/video.asd")
    assert str(err.value) == "/no/such/place/video.asd: no such file or folder"


def test_unknown_suffix_lists_the_supported_ones(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ReadError) as err:
        load(path)
    message = str(err.value)
    assert message.startswith(f"{path}: no reader for this file; supported suffixes: ")
    for suffix in (".asd", ".h5-jpk", ".jpk", ".spm", ".npz", ".ome.tif", ".tif"):
        assert suffix in message


def test_folder_without_frames_lists_the_folder_readers(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("not a frame")
    with pytest.raises(ReadError) as err:
        load(tmp_path / "notes")
    # .00N: Nanoscope's numbered files, recognised by their header
    assert str(err.value) == (
        f"{tmp_path / 'notes'}: no folder reader recognises the files in this folder; "
        "folder readers: jpk-folder (.jpk); spm (.spm, .00N); topostats (.topostats)"
    )


def test_an_empty_folder_is_said_to_be_empty(tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)  # folders are not files to read
    with pytest.raises(ReadError) as err:
        load(tmp_path / "empty")
    assert str(err.value) == (
        f"{tmp_path / 'empty'}: the folder is empty (it holds no file to read)"
    )


def test_folder_with_two_kinds_of_frames(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a.jpk").write_bytes(b"II*\x00" + b"\0" * 8)
    (folder / "b.spm").write_bytes(b"\\*File list\r\n")
    with pytest.raises(ReadError) as err:
        load(folder)
    assert str(err.value) == (
        f"{folder}: the folder holds frames for several readers (jpk-folder, spm); "
        "put each video in its own folder"
    )


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (struct.error("unpack requires a buffer of 4 bytes"), "file is truncated or corrupt (error: unpack requires a buffer of 4 bytes)"),
        (KeyError("x_pixels"), "is corrupt or not understood (KeyError: 'x_pixels')"),
        (OSError(5, "Input/output error"), "cannot be read (OSError: [Errno 5] Input/output error)"),
        (ValueError("cannot reshape array of size 3 into shape (2,2)"), "is corrupt or not understood (ValueError: cannot reshape array of size 3 into shape (2,2))"),
    ],
)  # fmt: skip
def test_reader_failures_become_one_line_read_errors(
    afm_data, monkeypatch, exc, message
):
    from playnano.readers.asd import AsdReader

    def broken(self, path, channel=None):
        raise exc

    monkeypatch.setattr(AsdReader, "read", broken)
    with pytest.raises(ReadError) as err:
        load(path := afm_data / "asd/asd_sample_0.asd")
    assert str(err.value) == f"{path}: {message}"
    assert err.value.__cause__ is exc


def test_public_load_records_provenance(afm_data, reference):
    stack = playnano.load(afm_data / "h5-jpk/sample_0.h5-jpk")
    source = stack.provenance["source"]
    assert source["file"] == "sample_0.h5-jpk"
    assert source["sha256"] == reference["h5-jpk/sample_0.h5-jpk"]["sha256"]
    assert (source["reader"], source["channel"]) == ("h5-jpk", "height_trace")
    assert stack.file_path == afm_data / "h5-jpk/sample_0.h5-jpk"
