"""Compatibility both ways with playnano 0.5.0, run in its own environment.

``PLAYNANO_050_PYTHON`` names a python with ``playnano==0.5.0`` installed (the nox
``compat`` session creates one); without it these tests skip, unless
``PLAYNANO_REQUIRE_COMPAT=1`` makes that a failure. ``driver_050.py`` runs there.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from playnano.afm_stack import AFMImageStack
from playnano.errors import ExportWarning
from playnano.io.export_data import export_stack
from playnano.io.loaders import load_h5_bundle, load_npz_bundle, load_ome_tiff_stack
from playnano.testing import make_sample_stack

pytestmark = pytest.mark.slow

DRIVER = Path(__file__).with_name("driver_050.py")
SUFFIX = {"npz": ".npz", "h5": ".h5", "tif": ".ome.tif"}
LOADERS = {"npz": load_npz_bundle, "h5": load_h5_bundle, "tif": load_ome_tiff_stack}


@pytest.fixture(scope="module")
def old_python() -> str:
    """The python of the playnano 0.5.0 environment, checked to really be 0.5.0."""
    python = os.environ.get("PLAYNANO_050_PYTHON")
    if not python:
        reason = (
            "PLAYNANO_050_PYTHON is not set (a python with playnano==0.5.0; "
            "`nox -s compat` sets it)"
        )
        if os.environ.get("PLAYNANO_REQUIRE_COMPAT") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    code = "import importlib.metadata as m; print(m.version('playnano'))"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True)
    if out.returncode != 0 or out.stdout.strip() != "0.5.0":
        pytest.fail(
            f"{python} does not have playnano 0.5.0: {out.stderr or out.stdout}"
        )
    return python


def run_driver(python: str, *args: Any) -> None:
    out = subprocess.run(
        [python, str(DRIVER), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=DRIVER.parent.parent.parent,  # never shadow 0.5.0 with our src/
    )
    assert out.returncode == 0, f"playnano 0.5.0 driver failed:\n{out.stderr}"


def awkward_stack() -> AFMImageStack:
    """Everything 0.5.0's own writer crashes on: no timestamp, uneven pixel sizes."""
    stack = make_sample_stack(dtype=np.float64)
    stack.frame_metadata[1]["timestamp"] = None
    stack.frame_metadata[3]["frame_pixel_size_nm"] = 1.6
    stack.state_backups["frame_metadata_before_edit"] = copy.deepcopy(
        stack.frame_metadata
    )
    return stack


STACKS = {
    "sample": lambda: make_sample_stack(dtype=np.float64),
    "awkward": awkward_stack,
}


# ------------------------------------------------------- 0.5.0 reads our files
@pytest.fixture(scope="module")
def read_by_050(
    old_python: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str], tuple[AFMImageStack, dict[str, Any], Path]]:
    """Our files for every stack and format, as 0.5.0's loaders saw them."""
    folder = tmp_path_factory.mktemp("ours")
    written = {}
    for kind, make in STACKS.items():
        for fmt in SUFFIX:
            stack = make()
            provenance = copy.deepcopy(stack.provenance)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExportWarning)
                [path] = export_stack(stack, folder / f"{kind}_{fmt}", fmt)
            stack.provenance = provenance  # what the file holds
            written[kind, fmt] = (stack, path)
    dumps = folder / "dumps"
    run_driver(old_python, "read", dumps, *(p for _, p in written.values()))
    return {
        key: (
            stack,
            json.loads((dumps / p.name / "meta.json").read_text()),
            dumps / p.name,
        )
        for key, (stack, p) in written.items()
    }


@pytest.mark.parametrize("kind", list(STACKS))
@pytest.mark.parametrize("fmt", list(SUFFIX))
def test_050_reads_our_files(read_by_050: dict, fmt: str, kind: str) -> None:
    stack, meta, dump = read_by_050[kind, fmt]
    data = np.load(dump / "data.npy")  # 0.5.0 casts to float32, except npz data
    assert data.dtype == (np.float64 if fmt == "npz" else np.float32)
    np.testing.assert_array_equal(data, stack.data.astype(data.dtype))
    assert meta["pixel_size_nm"] == pytest.approx(stack.pixel_size_nm, rel=1e-9)
    assert meta["channel"] == stack.channel
    times = stack.get_frame_times()
    if fmt == "tif":  # 0.5.0 puts the frame index where a plane has no DeltaT
        times = [i if t is None else t for i, t in enumerate(times)]
    assert meta["timestamps"] == times
    provenance = meta["provenance"]
    assert provenance.pop("bundle")["bundle_type"] in {"npz", "h5", "ome-tiff"}
    notes = provenance.pop("export_notes", [])
    assert provenance == stack.provenance
    assert bool(notes) == (fmt == "tif" and kind == "awkward")
    if fmt == "tif":
        assert meta["processed"] == [] and meta["masks"] == []
        return
    assert meta["processed"] == list(stack.processed)
    for key, arr in stack.processed.items():
        got = np.load(dump / f"processed__{key}.npy")
        np.testing.assert_array_equal(got, arr.astype(np.float32))
    assert meta["masks"] == list(stack.masks)
    for key, mask in stack.masks.items():
        np.testing.assert_array_equal(np.load(dump / f"masks__{key}.npy"), mask)
    assert meta["frame_metadata"] == stack.frame_metadata
    assert meta["state_backups"] == stack.state_backups


# ------------------------------------------------------- we read 0.5.0's files
@pytest.fixture(scope="module")
def written_by_050(
    old_python: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[AFMImageStack, Path]:
    """The sample stack handed to 0.5.0 and the folder its files were written to."""
    stack = make_sample_stack(dtype=np.float64)
    stack.provenance["source"] = {"file": "sample_video.asd", "reader": "test"}
    stack.state_backups = {"note": "kept"}
    src = tmp_path_factory.mktemp("in050")
    np.save(src / "data.npy", stack.data)
    for key, arr in stack.processed.items():
        np.save(src / f"processed__{key}.npy", arr)
    for key, mask in stack.masks.items():
        np.save(src / f"masks__{key}.npy", mask)
    spec = {
        "pixel_size_nm": stack.pixel_size_nm,
        "channel": stack.channel,
        "frame_metadata": stack.frame_metadata,
        "provenance": stack.provenance,
        "state_backups": stack.state_backups,
    }
    (src / "stack.json").write_text(json.dumps(spec))
    out = tmp_path_factory.mktemp("out050")
    run_driver(old_python, "write", src, out)
    return stack, out


@pytest.mark.parametrize("fmt", list(SUFFIX))
def test_we_read_050_files(written_by_050: tuple, fmt: str) -> None:
    stack, folder = written_by_050
    back = LOADERS[fmt](folder / f"old{SUFFIX[fmt]}")
    assert back.data.dtype == np.float32  # 0.5.0 writes float32
    np.testing.assert_array_equal(back.data, stack.data.astype(np.float32))
    assert back.pixel_size_nm == pytest.approx(stack.pixel_size_nm, rel=1e-6)
    assert back.channel == stack.channel
    assert back.get_frame_times() == stack.get_frame_times()
    assert back.provenance == json.loads(json.dumps(stack.provenance))
    sizes = [md["frame_pixel_size_nm"] for md in back.frame_metadata]
    assert sizes == pytest.approx(
        [md["frame_pixel_size_nm"] for md in stack.frame_metadata]
    )
    if fmt == "tif":
        assert back.processed == {} and back.masks == {}
        return
    assert back.frame_metadata == stack.frame_metadata
    assert back.state_backups == stack.state_backups
    assert list(back.processed) == list(stack.processed)
    for key, arr in stack.processed.items():
        np.testing.assert_array_equal(back.processed[key], arr.astype(np.float32))
    assert list(back.masks) == list(stack.masks)
    for key, mask in stack.masks.items():
        np.testing.assert_array_equal(back.masks[key], mask)


@pytest.mark.parametrize("fmt", list(SUFFIX))
def test_info_and_check_on_050_files(written_by_050: tuple, fmt: str) -> None:
    from click.testing import CliRunner

    from playnano.cli import cli

    stack, folder = written_by_050
    path = folder / f"old{SUFFIX[fmt]}"
    result = CliRunner().invoke(cli, ["info", "--json", str(path)])
    assert result.exit_code == 0, result.output
    [d] = json.loads(result.output)
    assert d["metadata_only"] is True
    assert d["format_version"] is None  # 0.5.0 writes no version
    assert d["data"]["shape"] == list(stack.data.shape)
    assert d["data"]["dtype"] == "float32"
    assert d["pixel_size"]["value"] == pytest.approx(stack.pixel_size_nm, rel=1e-6)
    assert d["channel"] == stack.channel
    times = stack.get_frame_times()
    t = d["frame_times"]
    assert (t["first"], t["last"]) == (times[0], times[-1])
    assert d["provenance"]["source_file"] == "sample_video.asd"
    if fmt != "tif":
        assert set(d["layers"]) == set(stack.processed)
        assert set(d["masks"]) == set(stack.masks)
    check = CliRunner().invoke(cli, ["info", "--check", str(path)])
    assert check.exit_code == 0, check.output
