"""``playnano batch`` on a real Dask engine: LocalCluster and an external scheduler."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from playnano.cli import cli
from playnano.io.export_data import save_npz_bundle
from playnano.readers import load
from playnano.synthetic import synthetic_hsafm
from tests.batch.conftest import reports_equal_apart_from_times

# dask is in the test extra: a missing install fails these tests, it never skips them
ARGS = ["-p", "remove_plane", "-e", "h5", "npz"]


def _batch(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, ["batch", *args])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.output
    return res.exit_code, res.output


def _report(out: Path) -> dict:
    return json.loads((out / "batch-report.json").read_text())


def _arrays(out: Path) -> dict[str, np.ndarray]:
    return {str(p.relative_to(out)): load(p).data for p in sorted(out.rglob("*.h5"))}


@pytest.mark.slow
def test_one_and_two_workers_give_the_same_outputs_and_report(
    synthetic_inputs: Path, tmp_path: Path
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    code, text = _batch(str(synthetic_inputs), "-r", *ARGS, "-o", str(one), "-w", "1")
    assert code == 0, text
    code, text = _batch(str(synthetic_inputs), "-r", *ARGS, "-o", str(two), "-w", "2")
    assert code == 0, text
    rep1, rep2 = _report(one), _report(two)
    assert rep1["engine"] == "serial" and rep2["engine"] == "local:2"
    a1, a2 = _arrays(one), _arrays(two)
    assert list(a1) == list(a2) and len(a1) == 4
    for name in a1:
        assert a1[name].dtype == a2[name].dtype
        assert np.array_equal(a1[name], a2[name]), name
    assert reports_equal_apart_from_times(rep1, rep2, one, two)
    assert rep1["totals"] == {**rep2["totals"], "seconds": rep1["totals"]["seconds"]}


@pytest.mark.slow
def test_real_files_statuses_exit_3_and_resume(
    real_inputs: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, text = _batch(str(real_inputs), "-r", *ARGS, "-o", str(out), "-w", "2")
    assert code == 3, text
    status = {
        str(Path(r["input"]).relative_to(real_inputs)): r
        for r in _report(out)["inputs"]
    }
    assert {k: r["status"] for k, r in status.items()} == {
        "asd/202110200146.asd": "ok",
        "asd/asd_sample_0.asd": "ok",
        "asd/truncated.asd": "failed",
        "h5-jpk/sample_0.h5-jpk": "ok",
        "jpk_folder/streptavidin_hs": "ok",
        # a folder of one frame file: that file is the input, under its own name
        "spm/old_bruker.002": "ok",
        "spm_header/bruker_data_header.001": "failed",
    }
    assert "truncated.asd" in status["asd/truncated.asd"]["error"]
    cut = status["spm_header/bruker_data_header.001"]["error"]
    assert "bruker_data_header.001" in cut
    for r in status.values():
        assert r["error"] is None or "\n" not in r["error"]
    # every output holds what reading and processing the input in this process gives
    from playnano.processing.pipeline import run_pipeline

    for key, rec in status.items():
        if rec["status"] != "ok":
            assert rec["outputs"] == []
            continue
        expected = run_pipeline(load(real_inputs / key), "remove_plane").data
        h5 = next(Path(p) for p in rec["outputs"] if p.endswith(".h5"))
        assert h5.parent == out / Path(key).parent
        assert np.array_equal(load(h5).data, expected), key
    assert not list(out.rglob(".playnano-partial-*"))
    # a second run skips every finished input and still reports the failures
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.h5")}
    code, text = _batch(str(real_inputs), "-r", *ARGS, "-o", str(out), "-w", "2")
    assert code == 3, text
    again = {
        str(Path(r["input"]).relative_to(real_inputs)): r["status"]
        for r in _report(out)["inputs"]
    }
    assert again == {
        k: ("skipped" if r["status"] == "ok" else "failed") for k, r in status.items()
    }
    assert stamps == {p: p.stat().st_mtime_ns for p in out.rglob("*.h5")}
    assert "skipped" in text and "truncated.asd" in text


@pytest.mark.slow
def test_existing_scheduler_gives_the_same_outputs(
    synthetic_inputs: Path, tmp_path: Path, dask_cluster: str
) -> None:
    local, remote = tmp_path / "local", tmp_path / "remote"
    code, text = _batch(str(synthetic_inputs), "-r", *ARGS, "-o", str(local), "-w", "1")
    assert code == 0, text
    code, text = _batch(
        str(synthetic_inputs),
        "-r",
        *ARGS,
        "-o",
        str(remote),
        "--scheduler",
        dask_cluster,
    )
    assert code == 0, text
    rep = _report(remote)
    assert rep["engine"] == dask_cluster and rep["totals"]["ok"] == 4
    a1, a2 = _arrays(local), _arrays(remote)
    assert list(a1) == list(a2) and len(a1) == 4
    assert all(np.array_equal(a1[k], a2[k]) for k in a1)
    assert reports_equal_apart_from_times(_report(local), rep, local, remote)


def test_local_workers_run_without_the_malloc_trim_threshold() -> None:
    """Dask's nanny sets MALLOC_TRIM_THRESHOLD_, which costs our tasks 30-45 %."""
    import dask
    from distributed import Client

    from playnano.batch.dask_engine import local_cluster

    key = "distributed.nanny.pre-spawn-environ"
    assert "MALLOC_TRIM_THRESHOLD_" in dask.config.get(key)  # what Dask would do
    with local_cluster(2) as cluster, Client(cluster) as client:
        env = client.run(
            lambda: {
                k: __import__("os").environ.get(k)
                for k in ("MALLOC_TRIM_THRESHOLD_", "OPENBLAS_NUM_THREADS")
            }
        )
    assert len(env) == 2
    for worker_env in env.values():  # trim threshold gone; one BLAS thread kept
        assert worker_env == {
            "MALLOC_TRIM_THRESHOLD_": None,
            "OPENBLAS_NUM_THREADS": "1",
        }
    assert "MALLOC_TRIM_THRESHOLD_" in dask.config.get(key)  # config left as it was


@pytest.mark.slow
def test_largest_inputs_start_first(tmp_path: Path) -> None:
    """On one worker the tasks run in order: the largest input first, then down.

    Given smallest first, a task queue in input order would leave a big file for
    last, where on many workers it runs alone while the others idle.
    """
    from distributed import Client

    from playnano.batch.dask_engine import local_cluster, run_dask
    from playnano.batch.engine import Job
    from playnano.run import RunSettings

    frames = {"small.npz": 2, "middle.npz": 6, "large.npz": 12, "tiny.npz": 1}
    for i, (name, n) in enumerate(frames.items()):
        save_npz_bundle(
            tmp_path / name, synthetic_hsafm(n_frames=n, size_px=32, seed=i)
        )
    settings = RunSettings(formats=("npz",), threads=1)
    jobs = [Job(str(tmp_path / n), str(tmp_path / "out"), settings) for n in frames]
    with local_cluster(1) as cluster, Client(cluster):
        finished = [
            Path(r["input"]).name
            for r in run_dask(
                jobs, None, workers=1, scheduler=cluster.scheduler_address
            )
        ]
    assert finished == sorted(frames, key=lambda n: -frames[n])


def test_input_size_of_a_frame_folder_is_its_files(tmp_path: Path) -> None:
    from playnano.batch.engine import Job, largest_first
    from playnano.run import RunSettings

    folder = tmp_path / "frames"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.jpk").write_bytes(b"x" * 300)
    (folder / "sub" / "b.jpk").write_bytes(b"x" * 200)
    (tmp_path / "one.asd").write_bytes(b"x" * 400)
    settings = RunSettings(formats=("npz",))
    jobs = [
        Job(str(tmp_path / n), "out", settings) for n in ("one.asd", "frames", "gone")
    ]
    assert [(Path(j.input).name, n) for j, n in largest_first(jobs)] == [
        ("frames", 500),
        ("one.asd", 400),
        ("gone", 0),
    ]


@pytest.mark.slow
def test_a_worker_streams_an_input_beyond_its_memory_limit(tmp_path: Path) -> None:
    """An input whose stack (~315 MB with one layer) is above half of what a 500 MB
    worker has left once it has imported playnano is streamed there a few blocks
    at a time, as on the machine alone (the stream is the default whatever the
    size); the worker is not killed and the outputs are the same.
    """
    from distributed import Client, LocalCluster

    from playnano.batch.dask_engine import run_dask
    from playnano.batch.engine import Job, run_serial
    from playnano.lazy import available_memory, in_memory_bytes
    from playnano.run import RunSettings

    src = tmp_path / "big.npz"
    stack = synthetic_hsafm(n_frames=300, size_px=256, seed=3)
    need = in_memory_bytes(stack.data.shape, stack.data.itemsize, 1, 0)
    save_npz_bundle(src, stack)
    del stack
    settings = RunSettings(
        formats=("h5",), steps=(("remove_plane", {}),), threads=1, block_frames=16
    )
    assert 2 * need < (available_memory() or 0)  # the machine alone: memory
    on_worker = [Job(str(src), str(tmp_path / "dask"), settings)]
    with (
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            memory_limit="500MB",
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,
    ):
        left = next(iter(client.run(_worker_memory).values()))  # after imports
        assert 0 < left <= 500e6 and 2 * need > left, (left, need)
        (record,) = run_dask(
            on_worker, None, workers=1, scheduler=cluster.scheduler_address
        )
    (alone,) = run_serial([Job(str(src), str(tmp_path / "here"), settings)], None)
    assert record["status"] == alone["status"] == "ok", (record, alone)
    assert record["blocks"] is True and alone["blocks"] is True
    a = load(tmp_path / "dask" / "big_filtered.h5")
    b = load(tmp_path / "here" / "big_filtered.h5")
    assert np.array_equal(a.data, b.data)


def _worker_memory(dask_worker: object) -> int | None:
    """What :func:`worker_memory` gives on a worker (``client.run`` passes it)."""
    import playnano.run  # noqa: F401  (what a task imports first)
    from playnano.batch.dask_engine import worker_memory

    return worker_memory(dask_worker)


def test_a_scheduler_address_that_cannot_be_used_is_one_line(
    synthetic_inputs: Path, tmp_path: Path
) -> None:
    """A user mistake, not a bug: no traceback, exit 1, nothing written but the
    report, whose inputs are still pending (a re-run with a good address does them).
    """
    out = tmp_path / "out"
    res = subprocess.run(
        [sys.executable, "-m", "playnano", "batch", str(synthetic_inputs), "-r",
         *ARGS, "-o", str(out), "--scheduler", "head-node-without-port"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 1, res.stderr
    (line,) = res.stderr.strip().splitlines()  # Dask's reason is in brackets
    assert line.startswith(
        "playnano: error: head-node-without-port: cannot reach the Dask scheduler ("
    ), line
    assert sorted(p.name for p in out.rglob("*")) == ["batch-report.json"]
    statuses = {r["status"] for r in _report(out)["inputs"]}
    assert statuses == {"pending"}
