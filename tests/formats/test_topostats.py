"""TopoStats exporter and reader: conformance, and the files as plain h5py sees them.

TopoStats' own loader and AFMReader open these files in ``tests/consumers``; here
each frame file is checked for what they read (``image``, ``image_original``,
``pixel_to_nm_scaling``, ``filename``, ``img_path``, ``topostats_version``).
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

import playnano
from playnano.errors import ReadError
from playnano.io.export_data import export_stack
from playnano.testing import ExporterConformance, ReaderConformance, make_sample_stack


class TestTopostats(ExporterConformance):
    format_name = "topostats"

    def read_back(self, path: Path):
        return playnano.load(path)


def _decode(value: object) -> object:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def test_one_file_per_frame_named_as_topostats_names_frames(tmp_path: Path) -> None:
    stack = make_sample_stack()
    [folder] = export_stack(stack, tmp_path / "video_filtered", "topostats")
    assert folder.name == "video_filtered_topostats"
    assert sorted(p.name for p in folder.iterdir()) == [
        "video_filtered.playnano.json",
        *(f"video_filtered_{i}.topostats" for i in range(4)),
    ]
    with h5py.File(folder / "video_filtered_2.topostats", "r") as f:
        assert sorted(f) == [
            "filename",
            "grain_masks",
            "image",
            "image_original",
            "img_path",
            "pixel_to_nm_scaling",
            "playnano",
            "topostats_version",
        ]
        # what TopoStats 2.4.2 itself writes: variable-length bytes, version "2"
        assert f["topostats_version"].dtype == object
        assert f["topostats_version"][()] == b"2"
        assert f["filename"][()] == b"video_filtered_2"  # TopoStats adds .topostats
        assert f["img_path"][()] == b"sample_video.asd"
        assert f["pixel_to_nm_scaling"][()] == 1.5
        np.testing.assert_array_equal(f["image"][()], stack.data[2])
        np.testing.assert_array_equal(
            f["image_original"][()], stack.processed["raw"][2]
        )
        mask = f["grain_masks/step_2_mask_threshold"][()]
        assert mask.dtype == np.bool_
        np.testing.assert_array_equal(mask, stack.masks["step_2_mask_threshold"][2])
        record = json.loads(f["playnano"][()])
        assert record["frame"] == 2
        assert record["frame_metadata"] == stack.frame_metadata[2]
    index = json.loads((folder / "video_filtered.playnano.json").read_text())
    assert index["format"] == "playnano-topostats"
    assert index["image_original"] == "raw"
    assert [f["timestamp"] for f in index["frames"]] == [0.0, 0.25, 0.5, 0.75]
    assert index["provenance"]["processing"]["steps"][0]["name"] == "remove_plane"


def test_raw_export_has_raw_frames_in_both_images(tmp_path: Path) -> None:
    stack = make_sample_stack()
    [folder] = export_stack(stack, tmp_path / "v", "topostats", raw=True)
    with h5py.File(folder / "v_0.topostats", "r") as f:
        np.testing.assert_array_equal(f["image"][()], stack.processed["raw"][0])
        np.testing.assert_array_equal(
            f["image_original"][()], stack.processed["raw"][0]
        )
        assert "grain_masks" not in f
    back = playnano.load(folder)
    assert back.processed == {} and back.masks == {}


def test_float32_frames_keep_their_dtype(tmp_path: Path) -> None:
    stack = make_sample_stack(dtype=np.float32)
    [folder] = export_stack(stack, tmp_path / "v", "topostats")
    back = playnano.load(folder)
    assert back.data.dtype == np.float32
    assert back.data.tobytes() == stack.data.tobytes()


def _topostats_file(path: Path, image: np.ndarray, px: float = 2.0) -> None:
    """A file as TopoStats 2.4.2 writes one (keys and string types)."""
    with h5py.File(path, "w") as f:
        f.create_dataset("image", data=image - image.mean())
        f.create_dataset("image_original", data=image)
        f.create_dataset("pixel_to_nm_scaling", data=px)
        f.create_dataset("filename", data=path.name.encode())
        f.create_dataset("img_path", data=b"in/scan.spm")
        f.create_dataset("topostats_version", data=b"2")


def test_topostats_own_files_are_read_as_frames(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    images = [rng.normal(5, 1, (12, 12)) for _ in range(11)]
    for i, image in enumerate(images):
        _topostats_file(tmp_path / f"scan_{i}.topostats", image)
    from playnano.readers import available_channels

    assert available_channels(tmp_path) == ["image", "image_original"]
    stack = playnano.load(tmp_path)  # frame 10 after 9, not after 1
    assert stack.channel == "image"
    np.testing.assert_array_equal(stack.data, [im - im.mean() for im in images])
    assert stack.pixel_size_nm == 2.0
    original = playnano.load(tmp_path / "scan_3.topostats", channel="image_original")
    np.testing.assert_array_equal(original.data[0], images[3])


def test_topostats_files_of_different_sizes_are_refused(tmp_path: Path) -> None:
    _topostats_file(tmp_path / "a_0.topostats", np.ones((12, 12)))
    _topostats_file(tmp_path / "a_1.topostats", np.ones((12, 12)), px=3.0)
    with pytest.raises(ReadError, match="differ in size or pixel_to_nm_scaling"):
        playnano.load(tmp_path)


def test_index_naming_a_file_elsewhere_is_refused(tmp_path: Path) -> None:
    [folder] = export_stack(make_sample_stack(), tmp_path / "v", "topostats")
    index = folder / "v.playnano.json"
    doc = json.loads(index.read_text())
    doc["frames"][1]["file"] = "../elsewhere.topostats"
    index.write_text(json.dumps(doc))
    with pytest.raises(ReadError, match="names no file here"):
        playnano.load(folder)


def test_index_from_a_newer_playnano_is_refused(tmp_path: Path) -> None:
    [folder] = export_stack(make_sample_stack(), tmp_path / "v", "topostats")
    index = folder / "v.playnano.json"
    doc = json.loads(index.read_text())
    doc["playnano_format_version"] = 99
    index.write_text(json.dumps(doc))
    with pytest.raises(ReadError, match="newer playnano"):
        playnano.load(folder)


def test_a_frame_file_without_an_image_is_one_line(tmp_path: Path) -> None:
    [folder] = export_stack(make_sample_stack(), tmp_path / "v", "topostats")
    with h5py.File(folder / "v_2.topostats", "a") as f:
        del f["image"]
    with pytest.raises(ReadError) as err:
        playnano.load(folder)
    assert str(err.value) == (
        f"{folder / 'v_2.topostats'}: not a .topostats file; missing image"
    )


def test_a_file_that_inflates_to_gigabytes_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "bomb_0.topostats"
    _topostats_file(path, np.ones((12, 12)))
    with h5py.File(path, "a") as f:  # 288 MB of zeros in a few hundred kB
        del f["image"]
        ds = f.create_dataset(
            "image", (6000, 6000), "f8", chunks=(1000, 1000), compression="gzip"
        )
        block = np.zeros((1000, 1000))
        for i in range(6):
            for j in range(6):
                ds[i * 1000 : (i + 1) * 1000, j * 1000 : (j + 1) * 1000] = block
    assert path.stat().st_size < 2 << 20
    with pytest.raises(ReadError, match="/image") as err:
        playnano.load(path)
    assert "\n" not in str(err.value)


class TestTopostatsReaderConformance(ReaderConformance):
    """Every door of the topostats reader, on sets playnano writes (a folder and
    one frame file of it); the hostile copies are also made of TopoStats' own
    files (no playnano index, so not samples that follow playnano's layout)."""

    reader_name = "topostats"

    @pytest.fixture
    def samples(self, tmp_path: Path) -> list[Path]:
        [ours] = export_stack(make_sample_stack(), tmp_path / "ours", "topostats")
        small = make_sample_stack(2, (5, 6), np.float32, processed=False, masks=False)
        [raw] = export_stack(small, tmp_path / "raw", "topostats", raw=True)
        return [ours, raw / "raw_1.topostats"]  # a set, and one frame file of one

    @pytest.fixture
    def hostile_samples(self, samples: list[Path], tmp_path: Path) -> list[Path]:
        rng = np.random.default_rng(5)
        theirs = tmp_path / "theirs"
        theirs.mkdir()
        for i in range(3):
            _topostats_file(theirs / f"scan_{i}.topostats", rng.normal(5, 1, (9, 10)))
        return [*samples, theirs, theirs / "scan_1.topostats"]
