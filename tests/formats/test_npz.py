"""NPZ exporter: conformance, and the file as plain numpy sees it."""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from playnano.errors import ExportError, ReadError
from playnano.formats.npz.layout import VERSION_KEY
from playnano.formats.npz.reader import read_member
from playnano.io.export_data import export_stack, save_npz_bundle
from playnano.io.loaders import load_npz_bundle
from playnano.plugins.registry import exporters
from playnano.testing import (
    ExporterConformance,
    ReaderConformance,
    make_sample_stack,
    strict_json,
)
from tests.formats.samples import bundle_samples


class TestNpz(ExporterConformance):
    format_name = "npz"

    def read_back(self, path: Path):
        return load_npz_bundle(path)


SEED_KEYS = {"data", "frame_metadata_json", "provenance_json", "pixel_size_nm"}
SEED_KEYS |= {"channel", "timestamps", "playnano_format_version", "units_json"}
LAYER_KEYS = {"processed__raw", "processed__step_1_remove_plane"}
MASK_KEYS = {"masks__step_2_mask_threshold"}


def test_keys_are_the_seeds_and_load_without_pickle(tmp_path: Path) -> None:
    stack = make_sample_stack()
    [path] = save_npz_bundle(tmp_path / "s.npz", stack)
    with np.load(path, allow_pickle=False) as z:
        assert set(z.files) == SEED_KEYS | LAYER_KEYS | MASK_KEYS
        members = {k: z[k] for k in z.files}  # raises if any member is pickled
    assert all(not a.dtype.hasobject for a in members.values())
    assert members["channel"].dtype.kind == "U"
    assert members["channel"].item() == "height_trace"
    assert members["pixel_size_nm"].dtype == np.float64
    assert members["pixel_size_nm"].item() == 1.5
    assert members["playnano_format_version"].item() == 1
    assert members["timestamps"].dtype == np.float64
    np.testing.assert_array_equal(members["timestamps"], [0.0, 0.25, 0.5, 0.75])
    meta = strict_json(members["frame_metadata_json"].item())
    assert meta == stack.frame_metadata
    prov = strict_json(members["provenance_json"].item())
    assert [s["name"] for s in prov["processing"]["steps"]] == ["remove_plane"]
    assert members["masks__step_2_mask_threshold"].dtype == np.bool_
    np.testing.assert_array_equal(members["data"], stack.data)
    units = json.loads(members["units_json"].item())  # height channel: nm
    assert units == {
        "data": "nm",
        "processed": {"raw": "nm", "step_1_remove_plane": "nm"},
        "timestamps": "s",
        "pixel_size_nm": "nm",
    }


def test_state_backups_are_written_only_when_present(tmp_path: Path) -> None:
    stack = make_sample_stack()
    [plain] = save_npz_bundle(tmp_path / "plain.npz", stack)
    stack.state_backups["frame_metadata_before_edit"] = stack.frame_metadata
    [backed] = save_npz_bundle(tmp_path / "backed.npz", stack)
    with np.load(plain) as z:
        assert "state_backups_json" not in z.files
    with np.load(backed) as z:
        backups = strict_json(z["state_backups_json"].item())
    assert backups == {"frame_metadata_before_edit": stack.frame_metadata}


def test_unknown_timestamps_are_nan(tmp_path: Path) -> None:
    stack = make_sample_stack(masks=False)
    stack.frame_metadata[2]["timestamp"] = None
    [path] = save_npz_bundle(tmp_path / "s.npz", stack)
    with np.load(path) as z:
        ts = z["timestamps"]
    assert np.isnan(ts[2]) and ts[3] == 0.75


def test_raw_export_has_no_layers_or_masks(tmp_path: Path) -> None:
    stack = make_sample_stack()
    [path] = save_npz_bundle(tmp_path / "s.npz", stack, raw=True)
    with np.load(path) as z:
        assert set(z.files) == SEED_KEYS
        np.testing.assert_array_equal(z["data"], stack.processed["raw"])


@pytest.mark.parametrize(("level", "method"), [(0, "stored"), (1, "deflated")])
def test_members_are_compressed_unless_asked(
    tmp_path: Path, level: int, method: str
) -> None:
    from playnano.io.export_data import export_stack

    stack = make_sample_stack()
    [path] = export_stack(
        stack, tmp_path / "s", "npz", options={"compress_level": level}
    )
    expected = zipfile.ZIP_STORED if method == "stored" else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path) as zf:
        assert {i.compress_type for i in zf.infolist()} == {expected}
    assert load_npz_bundle(path).data.tobytes() == stack.data.tobytes()


def test_the_layer_that_is_the_data_is_compressed_once_with_the_same_bytes(
    tmp_path: Path,
) -> None:
    stack = make_sample_stack()
    assert stack.data is stack.processed["step_1_remove_plane"]
    [shared] = save_npz_bundle(tmp_path / "shared.npz", stack)
    stack.processed["step_1_remove_plane"] = stack.data.copy()  # equal, not shared
    [copied] = save_npz_bundle(tmp_path / "copied.npz", stack)
    with zipfile.ZipFile(shared) as a, zipfile.ZipFile(copied) as b:
        assert a.testzip() is None
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            if name == "provenance_json.npy":  # records the export's own time
                continue
            ia, ib = a.getinfo(name), b.getinfo(name)
            assert (ia.CRC, ia.compress_size) == (ib.CRC, ib.compress_size), name
            assert a.read(name) == b.read(name), name


def test_missing_timestamps_are_stored_as_nan(tmp_path: Path) -> None:
    stack = make_sample_stack()
    stack.frame_metadata[1]["timestamp"] = None
    [path] = save_npz_bundle(tmp_path / "s.npz", stack)
    with np.load(path, allow_pickle=False) as z:
        times = z["timestamps"]
    assert times.dtype == np.float64
    np.testing.assert_array_equal(times, [0.0, np.nan, 0.5, 0.75])
    assert load_npz_bundle(path).get_frame_times() == [0.0, None, 0.5, 0.75]


def test_an_object_layer_is_refused_never_pickled(tmp_path: Path) -> None:
    stack = make_sample_stack()
    stack.processed["notes"] = np.full(stack.data.shape, None, dtype=object)
    with pytest.raises(ExportError, match="writing s.npz as npz failed: "):
        export_stack(stack, tmp_path / "s.npz")
    assert list(tmp_path.iterdir()) == []


def test_the_exporter_writes_the_processed_data_by_default(tmp_path: Path) -> None:
    stack = make_sample_stack()
    [path] = exporters().resolve("npz").obj.export(stack, tmp_path / "s.npz")
    with np.load(path, allow_pickle=False) as z:
        np.testing.assert_array_equal(z["data"], stack.data)
        assert "processed__step_1_remove_plane" in z.files


def add_member(path: Path, name: str, arr: np.ndarray, version=(1, 0)) -> None:
    """Add (or shadow) one ``.npy`` member, pickled if it holds objects."""
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, version=version, allow_pickle=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile: duplicate name
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr(name, buf.getvalue())


def test_a_pickled_string_with_a_version_2_header_is_read(tmp_path: Path) -> None:
    [path] = save_npz_bundle(tmp_path / "s.npz", make_sample_stack())
    with zipfile.ZipFile(path) as zf:
        member = read_member(zf, "data.npy", path)
    add_member(path, "x.npy", np.array("height_trace", dtype=object), (2, 0))
    with zipfile.ZipFile(path) as zf:
        assert read_member(zf, "x.npy", path) == "height_trace"
    assert member.shape == (4, 12, 17)


def test_a_string_where_a_layer_belongs_is_refused(tmp_path: Path) -> None:
    [path] = save_npz_bundle(tmp_path / "s.npz", make_sample_stack())
    add_member(path, "processed__notes.npy", np.array("text", dtype=object))
    with pytest.raises(ReadError) as err:
        load_npz_bundle(path)
    assert str(err.value) == f"{path}: 'processed__notes' is not a numeric array"


def test_an_unreadable_version_member_names_the_file(tmp_path: Path) -> None:
    [path] = save_npz_bundle(tmp_path / "s.npz", make_sample_stack())
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        members = {n: zf.read(n) for n in names}
    with zipfile.ZipFile(path, "w") as zf:
        for name, raw in members.items():
            broken = b"not an npy file" if name.startswith(VERSION_KEY) else raw
            zf.writestr(name, broken)
    with pytest.raises(ReadError) as err:
        load_npz_bundle(path)
    assert str(err.value).startswith(f"{path}: member '{VERSION_KEY}' is unreadable (")


class TestNpzReaderConformance(ReaderConformance):
    """Every door of the npz-bundle reader, on bundles playnano writes."""

    reader_name = "npz-bundle"

    @pytest.fixture
    def samples(self, tmp_path: Path) -> list[Path]:
        return bundle_samples(tmp_path, "npz")
