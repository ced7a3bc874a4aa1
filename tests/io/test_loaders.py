"""Loaders: bit-for-bit round trips, playnano 0.5.0's files, and refusing bad files."""

from __future__ import annotations

import copy
import io
import json
import os
import pickle
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
import tifffile

from playnano.afm_stack import AFMImageStack
from playnano.errors import ExportWarning, ReadError
from playnano.io.export_data import export_stack
from playnano.io.loaders import load_h5_bundle, load_npz_bundle, load_ome_tiff_stack
from playnano.testing import assert_stacks_equal, make_sample_stack

LOADERS: dict[str, Callable[..., AFMImageStack]] = {
    "npz": load_npz_bundle,
    "h5": load_h5_bundle,
    "tif": load_ome_tiff_stack,
}
BUNDLES = ["npz", "h5"]


def export_and_load(
    stack: AFMImageStack, fmt: str, folder: Path, **kw: Any
) -> AFMImageStack:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExportWarning)  # asserted in test_tif
        [path] = export_stack(stack, folder / "video", fmt, **kw)
    return LOADERS[fmt](path)


# ------------------------------------------------------------------ round trips
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16])
@pytest.mark.parametrize("fmt", ["npz", "h5", "tif"])
def test_round_trip_is_bit_for_bit(tmp_path: Path, fmt: str, dtype: type) -> None:
    stack = make_sample_stack(dtype=dtype)
    stack.state_backups["frame_metadata_before_edit"] = copy.deepcopy(
        stack.frame_metadata
    )
    stack.frame_metadata[0]["extra_key"] = "kept"
    before = copy.deepcopy(stack.provenance)
    back = export_and_load(stack, fmt, tmp_path)
    bundle = fmt in BUNDLES
    assert_stacks_equal(back, stack, layers=bundle, masks=bundle)
    assert back.data.dtype == dtype
    assert back.provenance == before  # as written, nothing added on load
    assert back.state_backups == (stack.state_backups if bundle else {})
    if bundle:  # processing order is kept
        assert list(back.processed) == list(stack.processed)


@pytest.mark.parametrize("fmt", ["npz", "h5", "tif"])
def test_unknown_timestamps_round_trip_as_none(tmp_path: Path, fmt: str) -> None:
    stack = make_sample_stack()
    stack.frame_metadata[1]["timestamp"] = None
    back = export_and_load(stack, fmt, tmp_path)
    assert back.get_frame_times() == [0.0, None, 0.5, 0.75]


@pytest.mark.parametrize("fmt", ["npz", "h5", "tif"])
def test_differing_pixel_sizes_round_trip(tmp_path: Path, fmt: str) -> None:
    stack = make_sample_stack()
    stack.frame_metadata[2]["frame_pixel_size_nm"] = 1.75
    back = export_and_load(stack, fmt, tmp_path)
    assert back.pixel_size_nm == 1.5
    assert back.frame_metadata == stack.frame_metadata


@pytest.mark.parametrize("fmt", ["npz", "h5", "tif"])
def test_channel_argument_is_accepted(tmp_path: Path, fmt: str) -> None:
    stack = make_sample_stack()
    [path] = export_stack(stack, tmp_path / "v", fmt)
    assert LOADERS[fmt](path, channel="other").channel == "height_trace"
    assert LOADERS[fmt](str(path)).file_path == path


# ----------------------------------------------------------- 0.5.0-style files
def save_npz_like_050(path: Path, stack: AFMImageStack) -> None:
    """What playnano 0.5.0's save_npz_bundle writes: strings as object arrays."""
    arrays: dict[str, Any] = {
        "pixel_size_nm": np.array(stack.pixel_size_nm, dtype=np.float32),
        "channel": np.array(stack.channel, dtype=object),
        "frame_metadata_json": np.array(json.dumps(stack.frame_metadata), dtype=object),
        "provenance_json": np.array(
            json.dumps(stack.provenance).encode(), dtype=object
        ),
        "state_backups_json": np.array(json.dumps(stack.state_backups), dtype=object),
        "data": stack.data.astype(np.float32),
        "timestamps": np.array(stack.get_frame_times(), dtype=np.float64),
    }
    for name, arr in stack.processed.items():
        arrays[f"processed__{name}"] = arr.astype(np.float32)
    for name, m in stack.masks.items():
        arrays[f"masks__{name}"] = m
    np.savez_compressed(path, **arrays)


def test_reads_050_npz_with_pickled_strings(tmp_path: Path) -> None:
    stack = make_sample_stack()
    path = tmp_path / "old.npz"
    save_npz_like_050(path, stack)
    with pytest.raises(ValueError, match="allow_pickle"):
        np.load(path, allow_pickle=False)["channel"]
    back = load_npz_bundle(path)
    assert back.channel == "height_trace"
    assert back.pixel_size_nm == 1.5
    assert back.provenance == json.loads(json.dumps(stack.provenance))
    assert back.frame_metadata == stack.frame_metadata
    assert back.data.dtype == np.float32
    np.testing.assert_array_equal(back.data, stack.data.astype(np.float32))
    assert sorted(back.masks) == sorted(stack.masks)


def npy_object_member(payload: bytes) -> bytes:
    """An .npy member declaring a 0-d object array, followed by ``payload``."""
    buf = io.BytesIO()
    header = {"descr": "|O", "fortran_order": False, "shape": ()}
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + payload


def write_npz(path: Path, members: dict[str, bytes | np.ndarray]) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for key, value in members.items():
            if isinstance(value, np.ndarray):
                buf = io.BytesIO()
                np.lib.format.write_array(buf, value, allow_pickle=False)
                value = buf.getvalue()
            zf.writestr(f"{key}.npy", value)


def bundle_members(**replace: bytes | np.ndarray) -> dict[str, bytes | np.ndarray]:
    stack = make_sample_stack(processed=False, masks=False)
    members: dict[str, bytes | np.ndarray] = {
        "data": stack.data,
        "pixel_size_nm": np.array(1.5),
        "channel": np.array("height_trace"),
        "frame_metadata_json": np.array(json.dumps(stack.frame_metadata)),
        "provenance_json": np.array("{}"),
    }
    members.update(replace)
    return members


def test_protocol_3_pickles_of_older_numpy_are_read(tmp_path: Path) -> None:
    """numpy 1.x wrote protocol 3 with GLOBAL numpy.core.multiarray._reconstruct."""
    payload = pickle.dumps(np.array("height_trace", dtype=object), protocol=3)
    payload = payload.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    path = tmp_path / "p3.npz"
    write_npz(path, bundle_members(channel=npy_object_member(payload)))
    assert load_npz_bundle(path).channel == "height_trace"


class Evil:
    """Unpickling this runs a shell command that creates a sentinel file."""

    def __init__(self, sentinel: Path) -> None:
        self.sentinel = sentinel

    def __reduce__(self) -> Any:
        return (os.system, (f"touch {self.sentinel}",))


def crafted_payloads(sentinel: Path) -> dict[str, bytes]:
    cmd = f"touch {sentinel}".encode()
    return {
        "reduce_os_system": pickle.dumps(Evil(sentinel)),
        "protocol_0_global": b"cos\nsystem\n(S'" + cmd + b"'\ntR.",
        "inside_object_array": pickle.dumps(np.array([Evil(sentinel)], dtype=object)),
        "builtins_eval": pickle.dumps(
            np.array(["x"], dtype=object), protocol=2
        ).replace(b"numpy.core.multiarray\n_reconstruct", b"builtins\neval"),
        "two_strings": pickle.dumps(np.array(["a", "b"], dtype=object)),
        "an_int": pickle.dumps(np.array(5, dtype=object)),
        "truncated": pickle.dumps(np.array("x", dtype=object))[:40],
    }


@pytest.mark.parametrize(
    "kind",
    [
        "reduce_os_system",
        "protocol_0_global",
        "inside_object_array",
        "builtins_eval",
        "two_strings",
        "an_int",
        "truncated",
    ],
)
def test_crafted_pickle_never_runs(tmp_path: Path, kind: str) -> None:
    sentinel = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    payload = crafted_payloads(sentinel)[kind]
    write_npz(path, bundle_members(channel=npy_object_member(payload)))
    with pytest.raises(ReadError, match=r"evil\.npz.*'channel'.*refusing to unpickle"):
        load_npz_bundle(path)
    assert not sentinel.exists()


def test_the_crafted_file_is_live(tmp_path: Path) -> None:
    """Control: the payload does run under a plain np.load(allow_pickle=True)."""
    sentinel = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    payload = crafted_payloads(sentinel)["reduce_os_system"]
    write_npz(path, bundle_members(channel=npy_object_member(payload)))
    code = f"import numpy as np; np.load({str(path)!r}, allow_pickle=True)['channel']"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    assert sentinel.exists()


def test_reads_050_style_ome_tiff(tmp_path: Path) -> None:
    """0.5.0 wrote TCZYX float32 with DeltaT planes and a provenance tag."""
    stack = make_sample_stack()
    data5 = stack.data.astype(np.float32)[:, None, None]
    prov = json.dumps({"processing": {"steps": []}}).encode()
    path = tmp_path / "old.ome.tif"
    tifffile.imwrite(
        path,
        data5,
        ome=True,
        photometric="minisblack",
        metadata={
            "axes": "TCZYX",
            "PhysicalSizeX": 1.5e-3,
            "PhysicalSizeXUnit": "µm",
            "Plane": [{"DeltaT": t} for t in stack.get_frame_times()],
            "Channel": [{"Name": "TP"}],
        },
        extratags=[(65000, 7, len(prov), prov, True)],
    )
    back = load_ome_tiff_stack(path)
    np.testing.assert_array_equal(back.data, data5[:, 0, 0])
    assert back.pixel_size_nm == pytest.approx(1.5)
    assert back.channel == "TP"
    assert back.get_frame_times() == stack.get_frame_times()
    assert back.provenance == {"processing": {"steps": []}}


# ------------------------------------------------------------------- bad files
def write_h5(path: Path, **drop_or_replace: Any) -> None:
    stack = make_sample_stack()
    export_stack(stack, path, "h5")
    with h5py.File(path, "a") as f:
        for key, value in drop_or_replace.items():
            target = f.attrs if key in ("channel", "pixel_size_nm") else f
            if key.startswith("playnano"):
                target = f.attrs
            del target[key]
            if value is not None:
                target[key] = value


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"data": None}, "missing data"),
        ({"provenance_json": None, "channel": None}, "missing channel, provenance"),
        (
            {"provenance_json": np.array("{not json")},
            "'provenance_json' is not valid JSON",
        ),
        ({"frame_metadata_json": np.array("[{}]")}, "frame_metadata has 1 entries"),
        ({"data": np.zeros((3, 4))}, "3D"),
        ({"masks__m": np.zeros((1, 2, 2), dtype=bool)}, "mask 'm' has shape"),
        ({"processed__p": np.zeros(4)}, "processed layer 'p' must be a 3D"),
        ({"channel": np.array([1, 2])}, "'channel' is not a string"),
        ({"playnano_format_version": np.array(99)}, "newer playnano"),
        ({"provenance_json": np.array("[]")}, "provenance is not a JSON object"),
    ],
)
def test_bad_npz_is_a_read_error(
    tmp_path: Path, members: dict[str, Any], message: str
) -> None:
    content = {k: v for k, v in bundle_members(**members).items() if v is not None}
    path = tmp_path / "bad.npz"
    write_npz(path, content)
    with pytest.raises(ReadError, match=rf"bad\.npz.*{message}"):
        load_npz_bundle(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"channel": None}, "missing attribute channel"),
        ({"provenance_json": None}, "missing provenance_json"),
        ({"frame_metadata_json": np.bytes_(b"[")}, "not valid JSON"),
        ({"masks/step_2_mask_threshold": np.zeros((1, 2, 2), bool)}, "has shape"),
        ({"playnano_format_version": 2}, "newer playnano"),
    ],
)
def test_bad_h5_is_a_read_error(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    path = tmp_path / "bad.h5"
    write_h5(path, **change)
    with pytest.raises(ReadError, match=rf"bad\.h5.*{message}"):
        load_h5_bundle(path)


def test_plain_tiff_is_not_an_ome_tiff(tmp_path: Path) -> None:
    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, np.zeros((2, 3, 4), np.float32), photometric="minisblack")
    with pytest.raises(ReadError, match=r"plain\.tif.*not an OME-TIFF"):
        load_ome_tiff_stack(path)


def test_bad_provenance_tag_is_a_read_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.ome.tif"
    tifffile.imwrite(
        path,
        np.zeros((2, 3, 4), np.float32),
        ome=True,
        photometric="minisblack",
        metadata={"axes": "TYX", "PhysicalSizeX": 0.001},
        extratags=[(65000, 7, 5, b"{bad}", True)],
    )
    with pytest.raises(ReadError, match=r"bad\.ome\.tif.*tag 65000.*not valid JSON"):
        load_ome_tiff_stack(path)


@pytest.mark.parametrize("fmt", ["npz", "h5", "tif"])
def test_missing_or_garbage_file_is_a_read_error(tmp_path: Path, fmt: str) -> None:
    with pytest.raises(ReadError, match="nope.x: no such file"):
        LOADERS[fmt](tmp_path / "nope.x")
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"not a real file" * 10)
    with pytest.raises(ReadError, match="garbage.bin: not an? "):
        LOADERS[fmt](garbage)


@pytest.mark.parametrize("fmt", ["npz", "h5", "tif"])
def test_truncated_file_is_a_read_error(tmp_path: Path, fmt: str) -> None:
    stack = make_sample_stack(n_frames=8, shape=(64, 64))
    [path] = export_stack(stack, tmp_path / "full", fmt, options={})
    cut = tmp_path / f"cut{path.name[4:]}"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    with pytest.raises(ReadError, match=r"cut\."):
        LOADERS[fmt](cut)


def test_null_frame_metadata_is_a_read_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.npz"
    write_npz(path, bundle_members(frame_metadata_json=np.array("null")))
    with pytest.raises(ReadError, match=r"bad\.npz: frame metadata is not a JSON list"):
        load_npz_bundle(path)


def test_empty_channel_name_round_trips_in_tiff(tmp_path: Path) -> None:
    stack = make_sample_stack()
    stack.channel = ""
    [path] = export_stack(stack, tmp_path / "s", "tif")
    assert load_ome_tiff_stack(path).channel == ""


def test_ome_units_are_converted(tmp_path: Path) -> None:
    """An OME-TIFF from another tool: sizes in nm, times in ms, no playnano tags."""
    path = tmp_path / "other.ome.tif"
    tifffile.imwrite(
        path,
        np.zeros((2, 3, 4), np.uint16),
        ome=True,
        photometric="minisblack",
        metadata={
            "axes": "TYX",
            "PhysicalSizeX": 2.5,
            "PhysicalSizeXUnit": "nm",
            "Plane": {"DeltaT": [0.0, 250.0], "DeltaTUnit": ["ms", "ms"]},
        },
    )
    back = load_ome_tiff_stack(path, channel="fallback")
    assert back.pixel_size_nm == 2.5
    assert back.get_frame_times() == [0.0, 0.25]
    assert back.data.dtype == np.uint16
    assert back.channel == "fallback"
