"""Inputs for the batch tests: synthetic bundles and copies of the real files."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from playnano.io.export_data import save_npz_bundle
from playnano.synthetic import synthetic_hsafm


def _reports_equal_apart_from_times(a: dict, b: dict, root_a: Path, root_b: Path):
    """Records of two reports with times removed and outputs relative to their roots."""

    def norm(rep: dict, root: Path) -> list[dict]:
        out = []
        for r in rep["inputs"]:
            r = dict(r)
            # times, and the command line naming its own output folder
            for key in ("seconds", "started", "finished", "command"):
                r.pop(key, None)
            r["outputs"] = sorted(str(Path(p).relative_to(root)) for p in r["outputs"])
            # each output's digest covers the provenance inside it, which holds
            # times: the crate's records are compared by name and format
            r["files"] = sorted(
                (str(Path(f["path"]).relative_to(root)), f["format"])
                for f in r.get("files") or []
            )
            out.append(r)
        return out

    return norm(a, root_a) == norm(b, root_b)


reports_equal_apart_from_times = _reports_equal_apart_from_times


@pytest.fixture
def synthetic_inputs(tmp_path: Path) -> Path:
    """Four small synthetic NPZ videos in a two-level folder tree."""
    root = tmp_path / "in"
    for i, rel in enumerate(["a.npz", "b.npz", "sub/c.npz", "sub/deeper/d.npz"]):
        stack = synthetic_hsafm(n_frames=5, size_px=48, seed=i)
        stack.data = stack.data + np.linspace(0, 3, 48)[None, None, :]  # a tilt
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        save_npz_bundle(target, stack)
    return root


@pytest.fixture
def real_inputs(afm_data: Path, tmp_path: Path) -> Path:
    """Every real file family in a temporary tree, plus two truncated files."""
    root = tmp_path / "real"
    for rel in ["asd", "h5-jpk", "jpk_folder/streptavidin_hs"]:
        shutil.copytree(afm_data / rel, root / rel)
    (root / "spm").mkdir()
    shutil.copy(afm_data / "spm" / "old_bruker.002", root / "spm")
    (root / "spm_header").mkdir()  # the header-only Nanoscope file: truncated
    shutil.copy(afm_data / "spm" / "bruker_data_header.001", root / "spm_header")
    data = (afm_data / "asd" / "asd_sample_0.asd").read_bytes()
    (root / "asd" / "truncated.asd").write_bytes(data[:100_000])
    for p in root.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)  # the shared copies are read-only
    return root


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """A real ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1."""
    dask = shutil.which("dask", path=str(Path(sys.executable).parent))
    assert dask is not None, "the dask command (from the test extra) is missing"
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs: list[subprocess.Popen] = []
    logs = tmp_path / "dask-logs"
    logs.mkdir()

    def start(name: str, *args: str) -> None:
        log = open(logs / f"{name}.log", "wb")  # noqa: SIM115 (closed below)
        procs.append(
            subprocess.Popen(
                [dask, *args], stdout=log, stderr=subprocess.STDOUT, env=env,
                cwd=tmp_path, start_new_session=True,
            )
        )  # fmt: skip
        log.close()

    try:
        start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", str(port),
              "--dashboard-address", ":0")  # fmt: skip
        for i in range(2):
            start(f"worker{i}", "worker", address, "--nworkers", "1", "--nthreads",
                  "1", "--host", "127.0.0.1", "--dashboard-address", ":0")  # fmt: skip
        from distributed import Client

        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(address, timeout="5s") as client:
                    client.wait_for_workers(2, timeout=60)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield address
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
