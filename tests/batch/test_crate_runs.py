"""Every batch, and ``process --crate``, leaves an RO-Crate that roc-validator
accepts, listing every input and output with SHA-256s that match the files."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from playnano.crate import COMPLETED, CRATE_NAME, FAILED
from playnano.provenance import sha256_of
from tests import rocrate_check
from tests.rocrate_check import crate_graph, refs, run_playnano

pytest.importorskip("rocrate_validator", reason="roc-validator is in the test extra")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rocrate_check.seed_cache(tmp_path_factory.mktemp("http") / "cache")


def _check_digests(folder: Path, graph: dict[str, dict]) -> list[str]:
    """Every output entity's digest and size are the file's; returns the ids."""
    outputs = [
        e for i, e in graph.items()
        if e["@type"] in ("File", "Dataset") and i != "./" and not i.startswith("#")
    ]  # fmt: skip
    for entity in outputs:
        path = folder / entity["@id"]
        assert path.exists(), entity["@id"]
        assert entity["sha256"] == sha256_of(path)
        size = (
            sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
            if path.is_dir()
            else path.stat().st_size
        )
        assert entity["contentSize"] == str(size)
    return sorted(e["@id"] for e in outputs)


def test_batch_over_the_real_files_leaves_a_valid_crate_of_every_input(
    afm_data: Path, tmp_path: Path, cache: Path
) -> None:
    shutil.copytree(afm_data, tmp_path / "afm")
    out = tmp_path / "out"
    run = run_playnano(
        "batch", "afm", "-r", "-w", "1", "-q", "-p", "remove_plane",
        "-e", "h5", "tif", "-o", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 3, run.stderr  # the truncated Nanoscope file fails
    report = rocrate_check.validate(out, cache)
    assert report["passed"], rocrate_check.issues(report)
    graph = crate_graph(out)
    actions = [e for e in graph.values() if e["@type"] == "CreateAction"]
    batch = json.loads((out / "batch-report.json").read_text())
    assert len(actions) == len(batch["inputs"])
    inputs = {graph[refs(a["object"])[0]]["name"]: a for a in actions}
    assert sorted(inputs) == sorted(r["input"] for r in batch["inputs"])
    for rec in batch["inputs"]:
        action = inputs[rec["input"]]
        source = graph[refs(action["object"])[0]]
        assert source["sha256"] == rec["sha256"]
        if rec["status"] == "ok":
            assert action["actionStatus"] == COMPLETED
            results = sorted(refs(action["result"]))
            written = sorted(
                Path(p).relative_to(out).as_posix() for p in rec["outputs"]
            )
            assert results == written
        else:
            assert action["actionStatus"] == FAILED
            assert action["error"] == rec["error"]
    listed = _check_digests(out, graph)
    on_disk = sorted(
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and p.name not in (CRATE_NAME, "batch-report.json")
    )
    assert listed == on_disk
    # the input digests are the files' own
    asd = next(a for name, a in inputs.items() if name.endswith("asd_sample_0.asd"))
    data = (tmp_path / "afm" / "asd" / "asd_sample_0.asd").read_bytes()
    assert graph[refs(asd["object"])[0]]["sha256"] == hashlib.sha256(data).hexdigest()


def test_a_resumed_batch_keeps_every_input_in_its_crate(
    synthetic_inputs: Path, tmp_path: Path, cache: Path
) -> None:
    out = tmp_path / "out"
    args = ("batch", str(synthetic_inputs), "-r", "-w", "1", "-q", "-e", "npz")
    assert run_playnano(*args, "-o", str(out), cwd=tmp_path).returncode == 0
    first = {i: e for i, e in crate_graph(out).items() if e["@type"] == "CreateAction"}
    assert len(first) == 4
    assert run_playnano(*args, "-o", str(out), cwd=tmp_path).returncode == 0
    graph = crate_graph(out)
    actions = [e for e in graph.values() if e["@type"] == "CreateAction"]
    assert len(actions) == 4  # the skipped inputs are still described, once each
    assert all("earlier run" in a["description"] for a in actions)
    _check_digests(out, graph)
    report = rocrate_check.validate(out, cache)
    assert report["passed"], rocrate_check.issues(report)


def test_process_crate_adds_each_run_and_info_summarises_the_folder(
    afm_data: Path, tmp_path: Path, cache: Path
) -> None:
    asd = afm_data / "asd" / "asd_sample_0.asd"
    run = run_playnano(
        "process", str(asd), "-p", "remove_plane;gaussian_filter:sigma=1.5",
        "-e", "h5", "png", "--crate", "-o", "out", cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert f"wrote out/{CRATE_NAME}" in run.stdout
    jpk = afm_data / "h5-jpk" / "sample_0.h5-jpk"
    run = run_playnano(
        "process", str(jpk), "-e", "npz", "--crate", "-o", "out", cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    out = tmp_path / "out"
    report = rocrate_check.validate(out, cache)
    assert report["passed"], rocrate_check.issues(report)
    graph = crate_graph(out)
    assert _check_digests(out, graph) == [
        "asd_sample_0_filtered.h5",
        "asd_sample_0_filtered_frames/",
        "sample_0.npz",
    ]
    steps = sorted(
        e["value"] for e in graph.values()
        if e["@type"] == "PropertyValue" and e["name"].startswith("step ")
    )  # fmt: skip
    assert steps == ["gaussian_filter:sigma=1.5", "remove_plane"]
    [png] = [e for e in graph.values() if e["@id"].endswith("_frames/")]
    assert png["@type"] == "Dataset" and png["encodingFormat"] == "image/png"
    info = run_playnano("info", "--json", "out", cwd=tmp_path)
    assert info.returncode == 0, info.stderr
    [summary] = json.loads(info.stdout)
    assert summary["crate"]["actions"] == 2
    assert summary["crate"]["inputs"] == 2
    assert summary["crate"]["outputs"] == 3
    text = run_playnano("info", "out", cwd=tmp_path).stdout
    assert "runs:          2 (0 failed)" in text


def test_process_without_crate_writes_none(tmp_path: Path) -> None:
    run = run_playnano("process", "--synthetic", "-e", "npz", "-o", "out", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert not (tmp_path / "out" / CRATE_NAME).exists()
