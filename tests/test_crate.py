"""RO-Crate documents: valid Process Run Crates (roc-validator, offline), read by
ro-crate-py, digests that match the files, earlier actions kept only while their
outputs are intact."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from playnano.crate import (
    COMPLETED,
    CRATE_NAME,
    FAILED,
    OutputRecord,
    RunAction,
    crate_summary,
    read_crate,
    step_text,
    write_crate,
)
from playnano.provenance import sha256_of, utc_now
from tests import rocrate_check

pytest.importorskip("rocrate_validator", reason="roc-validator is in the test extra")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rocrate_check.seed_cache(tmp_path_factory.mktemp("http") / "cache")


def _output(folder: Path, name: str, content: bytes, fmt: str) -> OutputRecord:
    path = folder / name
    path.write_bytes(content)
    return OutputRecord(
        path=name,
        format=fmt,
        sha256=sha256_of(path),
        size=path.stat().st_size,
        media_type="application/x-hdf5" if fmt == "h5" else "image/gif",
        plugin="playnano",
        plugin_version="0.6.0",
    )


def _action(folder: Path, stem: str, **kw: object) -> RunAction:
    outputs = [
        _output(folder, f"{stem}_filtered.h5", b"h5" + stem.encode(), "h5"),
        _output(folder, f"{stem}_filtered.gif", b"gif" + stem.encode(), "gif"),
    ]
    base: dict[str, object] = {
        "input": f"session/{stem}.asd",
        "input_sha256": hashlib.sha256(stem.encode()).hexdigest(),
        "input_size": 1234,
        "status": "ok",
        "started": utc_now(),
        "finished": utc_now(),
        "steps": (("remove_plane", {}), ("gaussian_filter", {"sigma": 2.0})),
        "formats": ("h5", "gif"),
        "options": {"gif": {"fps": 10}},
        "reader": "asd",
        "software": {"playnano": "0.6.0", "playnano-zarr": "0.2.0"},
        "outputs": outputs,
    }
    base.update(kw)
    return RunAction(**base)  # type: ignore[arg-type]


def _write(folder: Path, actions: list[RunAction]) -> Path:
    return write_crate(
        folder,
        actions,
        name="playnano batch",
        description="test",
        published=utc_now(),
        playnano_version="0.6.0",
    )


def test_a_crate_of_completed_and_failed_actions_is_a_valid_process_run_crate(
    tmp_path: Path, cache: Path
) -> None:
    failed = RunAction(
        input="session/broken.asd",
        input_sha256=hashlib.sha256(b"broken").hexdigest(),
        input_size=10,
        status="failed",
        started=utc_now(),
        finished=utc_now(),
        formats=("h5",),
        error="session/broken.asd: file ends after 10 bytes",
    )
    _write(tmp_path, [_action(tmp_path, "a"), failed])
    report = rocrate_check.validate(tmp_path, cache)
    assert report["passed"], rocrate_check.issues(report)
    doc = read_crate(tmp_path)
    assert doc is not None
    graph = {e["@id"]: e for e in doc["@graph"]}
    actions = [e for e in graph.values() if e["@type"] == "CreateAction"]
    statuses = sorted(a["actionStatus"] for a in actions)
    assert statuses == sorted([COMPLETED, FAILED])
    [bad] = [a for a in actions if a["actionStatus"] == FAILED]
    assert bad["error"] == failed.error
    assert "result" not in bad


def test_every_output_digest_and_size_match_the_file(tmp_path: Path) -> None:
    _write(tmp_path, [_action(tmp_path, "a"), _action(tmp_path, "b")])
    doc = read_crate(tmp_path)
    assert doc is not None
    files = [e for e in doc["@graph"] if e["@type"] == "File" and "#" not in e["@id"]]
    assert sorted(e["@id"] for e in files) == sorted(
        p.name for p in tmp_path.iterdir() if p.name != CRATE_NAME
    )
    for entity in files:
        data = (tmp_path / entity["@id"]).read_bytes()
        assert entity["sha256"] == hashlib.sha256(data).hexdigest()
        assert entity["contentSize"] == str(len(data))


def test_steps_and_options_are_recorded_as_property_values(tmp_path: Path) -> None:
    _write(tmp_path, [_action(tmp_path, "a")])
    doc = read_crate(tmp_path)
    assert doc is not None
    graph = {e["@id"]: e for e in doc["@graph"]}
    [action] = [e for e in graph.values() if e["@type"] == "CreateAction"]
    objects = [graph[o["@id"]] for o in action["object"]]
    values = {
        o["name"]: o.get("value") for o in objects if o["@type"] == "PropertyValue"
    }
    assert values["step 1: remove_plane"] == "remove_plane"
    assert values["step 2: gaussian_filter"] == "gaussian_filter:sigma=2.0"
    assert values["formats"] == "h5 gif"
    assert json.loads(values["options: gif"]) == {"fps": 10}
    [source] = [o for o in objects if o["@type"] == "File"]
    assert source["name"] == "session/a.asd"
    assert source["sha256"] == hashlib.sha256(b"a").hexdigest()
    software = {e["name"]: e["softwareVersion"] for e in graph.values()
                if e["@type"] == "SoftwareApplication"}  # fmt: skip
    assert software == {"playnano": "0.6.0", "playnano-zarr": "0.2.0"}


def test_step_text_is_the_cli_syntax() -> None:
    assert step_text("remove_plane", {}) == "remove_plane"
    assert step_text("mask_threshold", {"threshold": 1, "invert": True}) == (
        "mask_threshold:threshold=1,invert=true"
    )


def test_rewriting_keeps_intact_earlier_actions_and_drops_replaced_ones(
    tmp_path: Path, cache: Path
) -> None:
    _write(tmp_path, [_action(tmp_path, "a")])
    _write(tmp_path, [_action(tmp_path, "b")])
    doc = read_crate(tmp_path)
    assert doc is not None
    assert crate_summary(doc)["actions"] == 2
    # a third run replaces a's files: the first action no longer describes them
    _write(tmp_path, [_action(tmp_path, "a", input="elsewhere/a.asd")])
    doc = read_crate(tmp_path)
    assert doc is not None
    names = sorted(e["name"] for e in doc["@graph"] if e["@type"] == "CreateAction")
    assert names == ["playnano: elsewhere/a.asd", "playnano: session/b.asd"]
    # an output removed by hand: its action goes at the next write
    (tmp_path / "b_filtered.gif").unlink()
    _write(tmp_path, [])
    doc = read_crate(tmp_path)
    assert doc is not None
    assert [e["name"] for e in doc["@graph"] if e["@type"] == "CreateAction"] == [
        "playnano: elsewhere/a.asd"
    ]
    report = rocrate_check.validate(tmp_path, cache)
    assert report["passed"], rocrate_check.issues(report)


def test_ro_crate_py_reads_the_crate(tmp_path: Path) -> None:
    rocrate = pytest.importorskip(
        "rocrate.rocrate", reason="rocrate is in the test extra"
    )
    _write(tmp_path, [_action(tmp_path, "a")])
    crate = rocrate.ROCrate(tmp_path)
    ids = {e.id for e in crate.get_entities()}
    assert {"a_filtered.h5", "a_filtered.gif"} <= {i.rsplit("/", 1)[-1] for i in ids}
    actions = [e for e in crate.get_entities() if e.type == "CreateAction"]
    assert len(actions) == 1


def test_no_temporary_file_is_left_and_a_broken_old_crate_is_replaced(
    tmp_path: Path,
) -> None:
    (tmp_path / CRATE_NAME).write_text("{not json")
    _write(tmp_path, [_action(tmp_path, "a")])
    assert read_crate(tmp_path) is not None
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".playnano")]
