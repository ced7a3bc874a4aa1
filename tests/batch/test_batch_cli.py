"""``playnano batch`` in this process (--workers 1): checks, layout, report, resume."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from playnano.cli import cli
from playnano.readers import load

ARGS = ["-p", "remove_plane", "-e", "h5", "npz", "--workers", "1"]


def _batch(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli, ["batch", *args])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.output
    return res.exit_code, res.output


def _report(out: Path) -> dict:
    return json.loads((out / "batch-report.json").read_text())


def test_outputs_mirror_the_input_tree_and_match_process(
    synthetic_inputs: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, text = _batch(str(synthetic_inputs), "-r", *ARGS, "-o", str(out))
    assert code == 0, text
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*.h5"))
    assert names == [
        "a_filtered.h5",
        "b_filtered.h5",
        "sub/c_filtered.h5",
        "sub/deeper/d_filtered.h5",
    ]
    # the same input through `playnano process` gives the same arrays
    single = tmp_path / "single"
    c_npz = str(synthetic_inputs / "sub" / "c.npz")
    res = CliRunner().invoke(
        cli, ["process", c_npz, "-p", "remove_plane", "-e", "h5", "-o", str(single)]
    )
    assert res.exit_code == 0, res.output
    a = load(out / "sub" / "c_filtered.h5")
    b = load(single / "c_filtered.h5")
    assert np.array_equal(a.data, b.data)
    assert not np.array_equal(a.data, load(synthetic_inputs / "sub" / "c.npz").data)
    rep = _report(out)
    assert rep["totals"]["ok"] == 4 and rep["totals"]["inputs"] == 4
    rec = next(r for r in rep["inputs"] if r["input"].endswith("c.npz"))
    import hashlib

    digest = hashlib.sha256((synthetic_inputs / "sub" / "c.npz").read_bytes())
    assert rec["sha256"] == digest.hexdigest()
    assert a.provenance["source"]["previous_source"]["sha256"] == digest.hexdigest()
    assert rec["blocks"] is True  # every step works frame by frame: streamed
    assert sorted(Path(p).name for p in rec["outputs"]) == [
        "c_filtered.h5",
        "c_filtered.npz",
    ]
    assert rec["status"] == "ok" and rec["error"] is None


def test_without_recursive_only_the_top_folder(
    synthetic_inputs: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, text = _batch(str(synthetic_inputs), *ARGS, "-o", str(out))
    assert code == 0, text
    assert sorted(p.name for p in out.rglob("*.h5")) == [
        "a_filtered.h5",
        "b_filtered.h5",
    ]


def test_glob_patterns_and_files(synthetic_inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, text = _batch(
        str(synthetic_inputs / "*.npz"),
        str(synthetic_inputs / "sub" / "c.npz"),
        *ARGS,
        "-o",
        str(out),
    )
    assert code == 0, text
    assert _report(out)["totals"]["inputs"] == 3
    code, text = _batch(str(synthetic_inputs / "*.asd"), *ARGS, "-o", str(out))
    assert code == 1 and "no file or folder matches" in text


def test_colliding_outputs_are_refused_before_reading(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    # not even valid files: the collision is found before anything is read
    (src / "run1.asd").write_bytes(b"junk")
    (src / "run1.h5-jpk").write_bytes(b"junk")
    out = tmp_path / "out"
    code, text = _batch(str(src), *ARGS, "-o", str(out))
    assert code == 1
    assert "would both write" in text and "run1_filtered.h5" in text
    assert len(text.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize(
    "bad, message",
    [
        (["-p", "no_such_step", "-e", "h5"], "no_such_step"),
        (["-e", "nosuchformat"], "nosuchformat"),
        (["-e", "h5", "--option", "gif.fps=3"], "gif"),
    ],
)
def test_bad_settings_fail_before_anything_runs(
    synthetic_inputs: Path, tmp_path: Path, bad: list[str], message: str
) -> None:
    out = tmp_path / "out"
    code, text = _batch(str(synthetic_inputs), "--workers", "1", *bad, "-o", str(out))
    assert code != 0 and message in text
    assert not out.exists()


def test_existing_outputs_refused_then_overwritten(
    synthetic_inputs: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    mine = out / "a_filtered.h5"
    mine.write_bytes(b"the user's own file")
    code, text = _batch(str(synthetic_inputs), *ARGS, "-o", str(out))
    assert code == 1 and "already exists" in text and "--overwrite" in text
    assert mine.read_bytes() == b"the user's own file"
    assert not (out / "b_filtered.h5").exists()
    code, text = _batch(str(synthetic_inputs), *ARGS, "-o", str(out), "--overwrite")
    assert code == 0, text
    assert load(mine).n_frames == 5


def test_resume_skips_done_inputs_and_redoes_changed_ones(
    synthetic_inputs: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert _batch(str(synthetic_inputs), *ARGS, "-o", str(out))[0] == 0
    first = {r["input"]: r for r in _report(out)["inputs"]}
    b_out = out / "b_filtered.h5"
    stamp = b_out.stat().st_mtime_ns
    # change one input: only it is redone
    a_in = synthetic_inputs / "a.npz"
    from playnano.io.export_data import save_npz_bundle
    from playnano.synthetic import synthetic_hsafm

    save_npz_bundle(
        a_in, synthetic_hsafm(n_frames=3, size_px=48, seed=9), overwrite=True
    )
    code, text = _batch(str(synthetic_inputs), *ARGS, "-o", str(out))
    assert code == 0, text
    second = {r["input"]: r for r in _report(out)["inputs"]}
    assert second[str(a_in)]["status"] == "ok"
    assert second[str(a_in)]["sha256"] != first[str(a_in)]["sha256"]
    assert load(out / "a_filtered.h5").n_frames == 3
    b_key = str(synthetic_inputs / "b.npz")
    assert second[b_key]["status"] == "skipped"
    assert b_out.stat().st_mtime_ns == stamp
    # other settings: nothing is skipped, and the outputs are not ours to replace
    code, text = _batch(
        str(synthetic_inputs), "-p", "remove_plane;gaussian_filter:sigma=1",
        "-e", "h5", "npz", "--workers", "1", "-o", str(out),
    )  # fmt: skip
    assert code == 1 and "already exists" in text
    # --force redoes what the report recorded, without --overwrite
    code, text = _batch(str(synthetic_inputs), *ARGS, "-o", str(out), "--force")
    assert code == 0, text
    third = {r["input"]: r for r in _report(out)["inputs"]}
    assert third[b_key]["status"] == "ok"
    assert b_out.stat().st_mtime_ns != stamp


def test_batch_help_and_listing_do_not_import_dask() -> None:
    code = (
        "import sys\n"
        "from playnano.cli import cli\n"
        "for argv in (['--help'], ['batch', '--help'], ['formats', 'list']):\n"
        "    try:\n"
        "        cli(argv, prog_name='playnano')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('LOADED', sorted(m for m in ('dask', 'distributed') if m in sys.modules),"
        " file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "LOADED []" in out.stderr, out.stderr


def test_without_dask_runs_serially_with_a_hint(
    synthetic_inputs: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code = (
        "import sys\n"
        "sys.modules['distributed'] = None  # as if the extra were not installed\n"
        "from playnano.cli import cli\n"
        f"cli(['batch', {str(synthetic_inputs)!r}, '-e', 'npz', '-o', {str(out)!r},"
        " '--workers', '2'], prog_name='playnano')\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    # the extra of this checkout (the index's "playnano[dask]" is another project)
    repo = Path(__file__).resolve().parents[2]
    assert f'pip install -e "{repo}[dask]")' in res.stderr.splitlines()[0]
    extras = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    assert "dask" in extras["optional-dependencies"]
    assert _report(out)["engine"] == "serial"
    assert sorted(p.name for p in out.glob("*.npz")) == ["a.npz", "b.npz"]


def _interrupted_batch(tmp_path: Path, workers: str) -> tuple[int, str, Path]:
    """Start a batch as a terminal does, Ctrl-C its process group after an input is
    done; return the exit code, stderr and the output folder."""
    import os
    import signal
    import time

    from playnano.io.export_data import save_npz_bundle
    from playnano.synthetic import synthetic_hsafm

    src = tmp_path / "in"
    src.mkdir()
    stack = synthetic_hsafm(n_frames=30, size_px=128)
    for i in range(30):
        save_npz_bundle(src / f"v{i:02d}.npz", stack)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "playnano", "batch", str(src), "-p",
         "remove_plane;gaussian_filter:sigma=1", "-e", "h5", "tif", "-o", str(out),
         "-w", workers],
        stderr=subprocess.PIPE, text=True, start_new_session=True,
        # a terminal's foreground job takes Ctrl-C, whatever the test runner ignores
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    report = out / "batch-report.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if report.exists() and '"status": "ok"' in report.read_text():
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the batch ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)  # the whole group, Dask's workers included
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err, out


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_stops_cleanly_and_leaves_a_true_report(
    tmp_path: Path, workers: str
) -> None:
    code, err, out = _interrupted_batch(tmp_path, workers)
    assert code == 130, err
    rep = json.loads((out / "batch-report.json").read_text())
    # our one line and the report's table, nothing of Dask's (no log line, no
    # traceback from a worker process)
    engine, *lines = err.splitlines()
    assert engine.startswith("playnano: running "), engine
    assert (engine == "playnano: running on Dask: 2 local workers") == (workers == "2")
    assert lines[-1] == "playnano: error: interrupted; no partial output was kept"
    assert lines[0].split() == ["STATUS", "SECONDS", "INPUT", "ERROR"]
    n = len(rep["inputs"])
    assert lines[-2].startswith(f"{n} inputs: ") and len(lines) == n + 3, err
    for line, r in zip(lines[1:-2], rep["inputs"], strict=True):
        assert line.split()[0] == r["status"] and r["input"] in line, (line, err)
    statuses = [r["status"] for r in rep["inputs"]]
    assert "ok" in statuses and "interrupted" in statuses
    assert set(statuses) <= {"ok", "interrupted"}
    assert rep["totals"]["interrupted"] == statuses.count("interrupted")
    for r in rep["inputs"]:
        stem = Path(r["input"]).name.split(".")[0] + "_filtered"
        written = sorted(p.name for p in out.glob(f"{stem}.*"))
        if r["status"] == "ok":
            assert written == [f"{stem}.h5", f"{stem}.ome.tif"]
            assert load(out / f"{stem}.h5").n_frames == 30
        else:
            assert written == []  # nothing half written, and no staging left
    assert not list(out.glob(".playnano-partial-*"))


def test_none_succeeded_exits_1_with_each_error(afm_data: Path, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    data = (afm_data / "asd" / "asd_sample_0.asd").read_bytes()
    (src / "cut.asd").write_bytes(data[:5000])
    (src / "empty.asd").write_bytes(b"")
    out = tmp_path / "out"
    code, text = _batch(str(src), *ARGS, "-o", str(out))
    assert code == 1, text
    rep = _report(out)
    assert [r["status"] for r in rep["inputs"]] == ["failed", "failed"]
    assert [Path(r["input"]).name for r in rep["inputs"]] == ["cut.asd", "empty.asd"]
    for r in rep["inputs"]:
        assert Path(r["input"]).name in r["error"] and "\n" not in r["error"]
        assert r["error"] in text  # the table on stderr shows it
    assert rep["totals"]["failed"] == 2 and rep["finished"] is not None
    assert not list(out.rglob("*.h5"))


def nanoscope_series(afm_data: Path, folder: Path, names: list[str]) -> list[Path]:
    """Frames of one Nanoscope scan series: copies of a real image, numbered."""
    folder.mkdir(parents=True, exist_ok=True)
    data = (afm_data / "spm" / "old_bruker.002").read_bytes()
    out = []
    for name in names:
        (folder / name).write_bytes(data)
        out.append(folder / name)
    return out


def test_a_frame_folder_is_one_input_and_its_warnings_are_reported(
    afm_data: Path, tmp_path: Path
) -> None:
    frames = tmp_path / "in" / "scans"
    nanoscope_series(afm_data, frames, ["scan.001", "scan.002", "scan.003"])
    # frame 4 of the series, damaged: its header is whole, its image cut short
    data = (frames / "scan.003").read_bytes()
    (frames / "scan.004").write_bytes(data[:50_000])
    out = tmp_path / "out"
    code, text = _batch(
        str(tmp_path / "in"), "-r", "--skip-damaged-frames", *ARGS, "-o", str(out)
    )
    assert code == 0, text
    (rec,) = _report(out)["inputs"]
    assert Path(rec["input"]) == frames and rec["status"] == "ok"
    assert any("scan.004" in w for w in rec["warnings"])
    # the reader's warning names the folder by the input's path, once
    (line,) = [ln for ln in text.splitlines() if "warning:" in ln]
    assert line.startswith(f"playnano: warning: {frames}: skipped 1 damaged frame")
    assert line.count(str(frames)) == 1
    assert load(out / "scans_filtered.h5").n_frames == 3


def test_frame_files_that_are_not_one_series_are_inputs_of_their_own(
    afm_data: Path, tmp_path: Path
) -> None:
    src = tmp_path / "in"
    files = nanoscope_series(afm_data, src, ["scan.001", "other.002"])  # two names
    out = tmp_path / "out"
    code, text = _batch(str(src), *ARGS, "-o", str(out))
    assert code == 0, text
    records = _report(out)["inputs"]
    assert sorted(Path(r["input"]) for r in records) == sorted(files)
    assert all(r["status"] == "ok" for r in records)
    assert load(out / "scan_filtered.h5").n_frames == 1


def test_numbered_files_with_a_gap_are_not_merged(afm_data: Path, tmp_path: Path):
    """scan.001 and scan.003 are not one series; alone, both are named "scan", which
    is refused before anything is read rather than merged into one video."""
    src = tmp_path / "in"
    nanoscope_series(afm_data, src, ["scan.001", "scan.003"])
    code, text = _batch(str(src), *ARGS, "-o", str(tmp_path / "out"))
    assert code == 1 and "would both write" in text and "scan_filtered.h5" in text


def test_an_output_folder_that_is_a_file_is_refused_up_front(
    synthetic_inputs: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.write_text("not a folder")
    code, text = _batch(str(synthetic_inputs), *ARGS, "-o", str(out))
    assert code == 1 and "is a file, not a folder" in text
    assert len(text.strip().splitlines()) == 1
    assert out.read_text() == "not a folder"


def test_the_shared_data_folder_as_it_is_exits_3_and_resumes(
    afm_data: Path, tmp_path: Path
) -> None:
    """The issue's done-when: the data folder itself, whose Nanoscope folder holds a
    header-only (truncated) frame file."""
    out = tmp_path / "out"
    code, text = _batch(str(afm_data), "-r", *ARGS, "-o", str(out))
    assert code == 3, text
    status = {
        str(Path(r["input"]).relative_to(afm_data)): r for r in _report(out)["inputs"]
    }
    # spm/ holds two unrelated Nanoscope files (256x256 and a truncated 512x512):
    # not one scan series, so each is an input, under its own name
    assert {k: r["status"] for k, r in status.items()} == {
        "asd/202110200146.asd": "ok",
        "asd/asd_sample_0.asd": "ok",
        "h5-jpk/sample_0.h5-jpk": "ok",
        "jpk_folder/streptavidin_hs": "ok",
        "spm/bruker_data_header.001": "failed",
        "spm/old_bruker.002": "ok",
    }
    cut = status["spm/bruker_data_header.001"]
    assert cut["error"].startswith(f"{afm_data / 'spm' / 'bruker_data_header.001'}: ")
    assert "file ends after 10685 bytes" in cut["error"] and cut["outputs"] == []
    assert sorted(p.name for p in (out / "spm").iterdir()) == [
        "old_bruker_filtered.h5",
        "old_bruker_filtered.npz",
    ]
    from playnano.provenance import sha256_of

    # a file that could not be read still has its digest
    assert cut["sha256"] == sha256_of(afm_data / "spm" / "bruker_data_header.001")
    for key, rec in status.items():
        if rec["status"] == "ok":
            for p in rec["outputs"]:
                written = load(p)
                assert written.n_frames == load(afm_data / key).n_frames
                source = written.provenance["source"]["previous_source"]
                assert source["sha256"] == rec["sha256"]  # the input read
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*_filtered.*")}
    assert len(stamps) == 10  # two formats for each of the five readable inputs
    code, text = _batch(str(afm_data), "-r", *ARGS, "-o", str(out))
    assert code == 3, text
    again = {
        str(Path(r["input"]).relative_to(afm_data)): r["status"]
        for r in _report(out)["inputs"]
    }
    assert again == {
        k: "skipped" if r["status"] == "ok" else "failed" for k, r in status.items()
    }
    assert stamps == {p: p.stat().st_mtime_ns for p in out.rglob("*_filtered.*")}


def test_a_processed_bundle_keeps_its_filtered_name_and_collisions_are_found(
    tmp_path: Path,
) -> None:
    from playnano.io.export_data import save_npz_bundle
    from playnano.processing.pipeline import run_pipeline
    from playnano.synthetic import synthetic_hsafm

    src = tmp_path / "in"
    src.mkdir()
    done = synthetic_hsafm(n_frames=3, size_px=32, seed=1)
    run_pipeline(done, "remove_plane")
    save_npz_bundle(src / "x.npz", done)  # processed, under a plain name
    save_npz_bundle(src / "x_filtered.npz", synthetic_hsafm(n_frames=3, size_px=32))
    out = tmp_path / "out"
    # without steps both would write x_filtered.h5: refused before anything runs
    code, text = _batch(str(src), "-e", "h5", "-w", "1", "-o", str(out), "--overwrite")
    assert code == 1 and "would both write" in text and "x_filtered.h5" in text
    assert not out.exists()
    # alone, the processed bundle is planned under the name it is written as
    code, text = _batch(str(src / "x.npz"), "-e", "h5", "-w", "1", "-o", str(out))
    assert code == 0, text
    (rec,) = _report(out)["inputs"]
    assert rec["outputs"] == [str(out / "x_filtered.h5")]
    assert np.array_equal(load(out / "x_filtered.h5").data, done.data)
    code, text = _batch(str(src / "x.npz"), "-e", "h5", "-w", "1", "-o", str(out))
    assert code == 0 and _report(out)["inputs"][0]["status"] == "skipped"
