"""`playnano info`: real instrument files against REFERENCE.json, our bundles against
the stacks written into them, 0.5.0-layout bundles, errors and the import budget."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from playnano.cli import cli
from playnano.io.export_data import export_stack
from playnano.readers import reader_for
from playnano.schemas import load_schema, validate
from playnano.testing import HEAVY_MODULES, make_sample_stack
from tests.io.test_loaders import save_npz_like_050

SUFFIX = {"npz": ".npz", "h5": ".h5", "tif": ".ome.tif"}


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def info_json(path: Path, *flags: str) -> dict:
    result = run("info", "--json", *flags, str(path))
    assert result.exit_code == 0, result.output
    [d] = json.loads(result.output)
    assert validate(d, load_schema("info"), "info") == []
    return d


# ------------------------------------------------------------ real instrument files
REAL = [
    ("asd/asd_sample_0.asd", "playnano_TP"),
    ("asd/202110200146.asd", "playnano_TP"),
    ("h5-jpk/sample_0.h5-jpk", "playnano_height_trace"),
    ("jpk_folder/streptavidin_hs/", "playnano_height_trace"),
    ("spm/old_bruker.002", "afmreader_Height"),
]


@pytest.fixture(scope="module")
def reference(afm_data: Path) -> dict:
    return json.loads((afm_data / "REFERENCE.json").read_text())


@pytest.mark.parametrize(("name", "key"), REAL)
def test_real_files_match_reference(afm_data, reference, name, key) -> None:
    ref = reference[name]
    want = ref[key]
    d = info_json(afm_data / name, "--sha256")
    shape = want["shape"] if len(want["shape"]) == 3 else [1, *want["shape"]]
    assert d["data"]["shape"] == shape
    assert d["frames"] == shape[0]
    assert d["data"]["dtype"] == want["dtype"]
    assert d["pixel_size"] == {
        "value": pytest.approx(want["pixel_size_nm"]),
        "unit": "nm",
    }
    assert {c.lower() for c in d["channels"]} == {c.lower() for c in ref["channels"]}
    times = want.get("timestamps_s")
    if times:
        t = d["frame_times"]
        assert (t["first"], t["last"]) == (
            pytest.approx(times[0]),
            pytest.approx(times[-1]),
        )
        assert t["interval"] == pytest.approx(np.median(np.diff(times)))
        assert t["regular"] is True and t["missing"] == 0
    sha = ref["sha256"]
    if isinstance(sha, str):  # a folder's reference lists each frame file
        assert d["file_sha256"] == sha
    # the readers that declare an inspect() path describe from headers alone
    metadata_only = reader_for(afm_data / name).obj.supports_inspect
    assert d["metadata_only"] is metadata_only
    notes = list(d["notes"])
    if (afm_data / name).is_dir():  # a folder says why it is one video
        series = notes.pop(0)
        assert series.startswith("one video: 3 frames of one scan (512x512 px, ")
        assert series.endswith("acquired one after another")
    if not metadata_only:  # opened with read_lazy: the fallback is said, not hidden
        (note,) = notes
        assert "on demand" in note and "no frame was kept in memory" in note
    assert d["file_size_bytes"] == sum(
        f.stat().st_size
        for f in [afm_data / name, *(afm_data / name).glob("*")]
        if f.is_file()
    )


def test_truncated_instrument_file_is_one_line(afm_data) -> None:
    result = run("info", str(afm_data / "spm/bruker_data_header.001"))
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "bruker_data_header.001" in lines[0]


# ------------------------------------------------------------------ our bundles
@pytest.mark.parametrize("fmt", list(SUFFIX))
def test_bundle_info_matches_the_stack(tmp_path, fmt) -> None:
    stack = make_sample_stack()
    stack.provenance["source"] = {"file": "v.asd", "sha256": "ab" * 32, "reader": "asd"}
    [path] = export_stack(stack, tmp_path / "v", fmt)
    d = info_json(path)
    assert d["metadata_only"] is True
    assert (
        d["reader"] == {"npz": "npz-bundle", "h5": "h5-bundle", "tif": "ome-tiff"}[fmt]
    )
    assert d["format_version"] == 1
    assert d["data"]["shape"] == list(stack.data.shape)
    assert d["data"]["dtype"] == str(stack.data.dtype)
    assert d["pixel_size"]["value"] == stack.pixel_size_nm
    assert d["channel"] == stack.channel
    times = stack.get_frame_times()
    t = d["frame_times"]
    assert (t["first"], t["last"], t["interval"]) == (times[0], times[-1], 0.25)
    assert d["provenance"]["source_file"] == "v.asd"
    assert d["provenance"]["source_sha256"] == "ab" * 32
    assert [s["name"] for s in d["provenance"]["steps"]] == ["remove_plane"]
    assert d["file_size_bytes"] == path.stat().st_size
    if fmt == "tif":  # OME-TIFF keeps no layers
        assert d["layers"] == {} and d["masks"] == {}
        return
    assert d["data"]["units"] == "nm"
    assert {k: (v["shape"], v["dtype"]) for k, v in d["layers"].items()} == {
        k: (list(a.shape), str(a.dtype)) for k, a in stack.processed.items()
    }
    assert {k: (v["shape"], v["dtype"]) for k, v in d["masks"].items()} == {
        k: (list(m.shape), "bool") for k, m in stack.masks.items()
    }
    assert (
        d["compression"] == {"npz": "zip deflate", "h5": "gzip level 4 + shuffle"}[fmt]
    )
    text = run("info", str(path)).output
    assert "4x12x17" in text and "1.5 nm" in text and "remove_plane" in text


def test_missing_and_irregular_frame_times_are_said(tmp_path) -> None:
    stack = make_sample_stack()
    stack.frame_metadata[1]["timestamp"] = None
    stack.frame_metadata[3]["timestamp"] = 2.0
    [path] = export_stack(stack, tmp_path / "v", "h5")
    t = info_json(path)["frame_times"]
    assert t["missing"] == 1 and t["regular"] is False
    assert (t["first"], t["last"]) == (0.0, 2.0)
    assert "irregular" in run("info", str(path)).output


def test_info_reads_no_frame_data(tmp_path) -> None:
    """A bundle whose frame bytes are damaged is still described: only headers are read."""
    stack = make_sample_stack()
    [path] = export_stack(stack, tmp_path / "v", "npz", options={"compress_level": 0})
    raw = bytearray(path.read_bytes())
    needle = stack.data.tobytes()[:64]
    at = raw.find(needle)
    assert at > 0
    raw[at : at + 64] = b"\xff" * 64  # the zip CRC of 'data' no longer matches
    path.write_bytes(bytes(raw))
    assert info_json(path)["data"]["shape"] == [4, 12, 17]
    assert run(
        "process", str(path), "--export", "npz", "-o", str(tmp_path / "o")
    ).exit_code


# ------------------------------------------------------------- 0.5.0's layout
def save_h5_like_050(path: Path, stack) -> None:
    """What playnano 0.5.0 writes: float32 frames, bytes JSON, no version, no units."""
    with h5py.File(path, "w") as f:
        f.create_dataset("data", data=stack.data.astype(np.float32))
        for k, a in stack.processed.items():
            f.create_dataset(f"processed/{k}", data=a.astype(np.float32))
        for k, m in stack.masks.items():
            f.create_dataset(f"masks/{k}", data=m)
        f.create_dataset("timestamps", data=np.array(stack.get_frame_times(), float))
        for key, doc in (
            ("frame_metadata_json", stack.frame_metadata),
            ("provenance_json", stack.provenance),
        ):
            f.create_dataset(key, data=np.bytes_(json.dumps(doc).encode()))
        f.attrs["pixel_size_nm"] = np.float32(stack.pixel_size_nm)
        f.attrs["channel"] = stack.channel


@pytest.mark.parametrize("fmt", ["npz", "h5"])
def test_050_bundles(tmp_path, fmt) -> None:
    stack = make_sample_stack()
    path = tmp_path / f"old{SUFFIX[fmt]}"
    (save_npz_like_050 if fmt == "npz" else save_h5_like_050)(path, stack)
    d = info_json(path)
    assert d["format_version"] is None and d["metadata_only"] is True
    assert d["data"] == {"shape": [4, 12, 17], "dtype": "float32", "units": None}
    assert set(d["layers"]) == set(stack.processed)
    assert set(d["masks"]) == set(stack.masks)
    assert d["pixel_size"]["value"] == pytest.approx(1.5)
    assert d["frame_times"]["last"] == 0.75
    result = run("info", "--check", str(path))
    assert result.exit_code == 0, result.output


# ----------------------------------------------------------------------- --check
@pytest.mark.parametrize("fmt", list(SUFFIX))
def test_check_passes_our_bundles(tmp_path, fmt) -> None:
    [path] = export_stack(make_sample_stack(), tmp_path / "v", fmt)
    result = run("info", "--check", str(path))
    assert result.exit_code == 0 and result.output.strip() == f"{path}: ok"


def test_check_names_each_problem_of_a_damaged_h5(tmp_path) -> None:
    [path] = export_stack(make_sample_stack(), tmp_path / "v", "h5")
    with h5py.File(path, "r+") as f:
        del f["timestamps"]
        f["timestamps"] = np.zeros(3)
        mask = f["masks/step_2_mask_threshold"]
        values = mask[()]
        del f["masks/step_2_mask_threshold"]
        f["masks/step_2_mask_threshold"] = values.astype(np.uint8)
        del f["provenance_json"]
        f["provenance_json"] = np.bytes_(b'{"source": [1]}')
        f.attrs["playnano_format_version"] = 99
        f["extra"] = 1
    result = run("info", "--check", str(path))
    assert result.exit_code == 1
    out = result.output
    assert "timestamps has 3 values for 4 frames" in out
    assert "mask 'step_2_mask_threshold' has dtype uint8; expected bool" in out
    assert "provenance_json.source is list; expected object" in out
    assert "playnano_format_version is 99" in out
    assert "unexpected entry '/extra'" in out
    assert "1 of 1 file(s) do not follow the specification" in out


def test_check_names_a_missing_npz_member(tmp_path) -> None:
    stack = make_sample_stack()
    [path] = export_stack(stack, tmp_path / "v", "npz")
    with np.load(path) as z:
        kept = {k: z[k] for k in z.files if k != "channel"}
    np.savez(tmp_path / "bad.npz", **kept)
    result = run("info", "--check", str(tmp_path / "bad.npz"))
    assert result.exit_code == 1
    assert "members has no 'channel'" in result.output


def test_check_refuses_an_instrument_file(afm_data) -> None:
    result = run("info", "--check", str(afm_data / "asd/asd_sample_0.asd"))
    assert result.exit_code == 1
    assert "no specification check" in result.output


# ---------------------------------------------------------------------- errors
def test_missing_path_is_one_line(tmp_path) -> None:
    result = run("info", str(tmp_path / "nope.h5"))
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"playnano: error: {tmp_path / 'nope.h5'}: no such file or folder"
    ]


def test_info_help_imports_no_heavy_module() -> None:
    code = (
        "import sys\nfrom playnano.cli import cli\n"
        "try:\n    cli.main(['info', '--help'], prog_name='playnano')\n"
        "except SystemExit as e:\n    assert not e.code\n"
        f"print('HEAVY', sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "HEAVY []" in out.stdout, out.stderr


def test_a_link_out_of_the_bundle_is_refused_in_one_line(tmp_path) -> None:
    [path] = export_stack(make_sample_stack(), tmp_path / "v", "h5")
    with h5py.File(path, "r+") as f:
        del f["timestamps"]
        f["timestamps"] = h5py.ExternalLink("elsewhere.h5", "/t")
    for args in (["info"], ["info", "--check"]):
        result = run(*args, str(path))
        assert result.exit_code == 1
        assert "/timestamps is an external link to 'elsewhere.h5'" in result.output
        assert len(result.output.strip().splitlines()) <= 2  # problem + summary


def test_asd_metadata_path_agrees_with_a_full_read(afm_data) -> None:
    from playnano import load
    from playnano.info import from_stack, inspect

    for name in ("asd/asd_sample_0.asd", "asd/202110200146.asd"):
        fast = inspect(afm_data / name).to_dict()
        stack = load(afm_data / name)
        slow = from_stack(stack, "asd", fast["channels"]).to_dict()
        for key in ("data", "frames", "pixel_size", "channel", "frame_times"):
            assert fast[key] == slow[key], (name, key)


def test_a_single_frame_says_so(afm_data) -> None:
    result = run("info", str(afm_data / "spm/old_bruker.002"))
    assert result.exit_code == 0, result.output
    assert "  frame times:   single frame" in result.output.splitlines()
