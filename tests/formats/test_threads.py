"""Bundles are byte for byte the same whatever the thread count or format schedule."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from playnano.afm_stack import AFMImageStack
from playnano.errors import OptionError
from playnano.io import codec
from playnano.io.export_data import export_stack
from playnano.processing import parse_steps, run_pipeline, validate_steps
from playnano.synthetic import synthetic_hsafm
from tests.conftest import export_all


@pytest.fixture(scope="module")
def processed() -> AFMImageStack:
    syn = synthetic_hsafm(n_frames=12, size_px=160)
    stack = AFMImageStack(
        syn.data.astype(np.float32), 1.0, syn.channel, None, syn.frame_metadata
    )
    steps = "remove_plane;mask_threshold:threshold=1.0;gaussian_filter:sigma=1"
    run_pipeline(stack, validate_steps(parse_steps(steps)))
    return stack


def h5_chunks(path: Path) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}

    def visit(name: str, obj: Any) -> None:
        if isinstance(obj, h5py.Dataset) and obj.chunks is not None:
            out[name] = [
                obj.id.read_direct_chunk(obj.id.get_chunk_info(i).chunk_offset)
                for i in range(obj.id.get_num_chunks())
            ]

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return out


def zip_members(path: Path) -> dict[str, tuple[int, bytes]]:
    """Each member's CRC and its compressed bytes as stored."""
    out = {}
    with zipfile.ZipFile(path) as zf, open(path, "rb") as fh:
        for info in zf.infolist():
            fh.seek(info.header_offset + 26)
            n, m = np.frombuffer(fh.read(4), "<u2")
            fh.seek(info.header_offset + 30 + int(n) + int(m))
            out[info.filename] = (info.CRC, fh.read(info.compress_size))
    return out


@pytest.mark.parametrize("engine", codec.available_engines())
def test_npz_and_h5_identical_for_1_and_n_threads(
    tmp_path: Path, processed: AFMImageStack, engine: str
) -> None:
    files: dict[int, dict[str, Any]] = {}
    for n in (1, 2, 4):
        stack = processed.copy()  # same provenance before each export
        with codec.using_threads(None, engine=engine):
            [npz] = export_stack(stack, tmp_path / f"n{n}.npz", threads=n)
            [h5] = export_stack(stack, tmp_path / f"n{n}.h5", threads=n)
        files[n] = {"npz": npz.read_bytes(), "h5": h5_chunks(h5)}
    assert files[1]["npz"] == files[2]["npz"] == files[4]["npz"]
    assert files[1]["h5"] == files[2]["h5"] == files[4]["h5"]
    names = set(files[1]["h5"])
    assert {"data", "processed/raw"} <= names
    assert any(n.startswith("masks/") for n in names)


def _without_times(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {
            k: _without_times(v)
            for k, v in obj.items()
            if k not in {"timestamp", "duration_s", "time"}
        }
    if isinstance(obj, list):
        return [_without_times(v) for v in obj]
    return obj


def test_formats_side_by_side_write_what_a_serial_run_writes(
    tmp_path: Path, processed: AFMImageStack
) -> None:
    """threads=1 runs the formats in series; more threads render the GIF beside the
    bundles. Data, chunks, members and GIF are identical; provenance too, but for
    the recorded times."""
    stacks, outs = {}, {}
    for n in (1, 2):
        stacks[n] = processed.copy()
        outs[n] = tmp_path / f"t{n}"
        results = export_all(
            stacks[n], outs[n], "run", ["tif", "npz", "h5", "gif"], threads=n
        )
        assert [r.error for r in results] == [None] * 4
    one, two = outs[1], outs[2]
    assert (one / "run_filtered.gif").read_bytes() == (
        two / "run_filtered.gif"
    ).read_bytes()
    assert h5_chunks(one / "run_filtered.h5") == h5_chunks(two / "run_filtered.h5")
    m1, m2 = (zip_members(o / "run_filtered.npz") for o in (one, two))
    assert m1.keys() == m2.keys()
    for key in m1:
        if key != "provenance_json.npy":
            assert m1[key] == m2[key], key
    with np.load(one / "run_filtered.npz") as a, np.load(two / "run_filtered.npz") as b:
        pa, pb = (json.loads(str(z["provenance_json"])) for z in (a, b))
    assert _without_times(pa) == _without_times(pb)
    # the stacks record the exports in the order requested, as in series
    formats = [[r["format"] for r in s.provenance["exports"]] for s in stacks.values()]
    assert formats == [["tif", "npz", "h5", "gif"]] * 2


def test_threads_below_one_are_refused(
    processed: AFMImageStack, tmp_path: Path
) -> None:
    with pytest.raises(OptionError, match="threads must be 1 or more"):
        export_stack(processed, tmp_path / "a.npz", threads=0)
    assert not list(tmp_path.iterdir())


def test_the_export_record_names_the_deflate_engine(
    processed: AFMImageStack, tmp_path: Path
) -> None:
    stack = processed.copy()
    export_all(stack, tmp_path, "s", ["npz", "h5", "tif", "gif"])
    export_stack(stack, tmp_path / "plain", "npz", options={"compress_level": 0})
    records = {r["file"]: r for r in stack.provenance["exports"]}
    assert records["s_filtered.npz"]["deflate_engine"] == codec.engine_name()
    assert records["s_filtered.h5"]["deflate_engine"] == codec.engine_name()
    assert codec.engine_name() in codec.available_engines()
    for key in ["s_filtered.ome.tif", "s_filtered.gif", "plain.npz"]:
        assert "deflate_engine" not in records[key]  # nothing deflated by the codec
