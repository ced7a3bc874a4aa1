"""``playnano process`` / ``batch`` with --blocks, --in-memory and --block-frames."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from playnano.cli import cli
from tests.lazy.conftest import assert_same_arrays, h5_arrays, tif_frames


def run(*args):
    return CliRunner().invoke(cli, [*map(str, args)])


def test_blocks_and_in_memory_write_the_same_files(bundle, tmp_path):
    for mode in ("--blocks", "--in-memory"):
        r = run(
            "process",
            bundle,
            "-p",
            "remove_plane",
            "--export",
            "h5",
            "tif",
            "-o",
            tmp_path / mode,
            mode,
            "--block-frames",
            "3",
        )
        assert r.exit_code == 0, r.output
    a, b = tmp_path / "--blocks", tmp_path / "--in-memory"
    assert_same_arrays(h5_arrays(a / "in_filtered.h5"), h5_arrays(b / "in_filtered.h5"))
    ta, tb = (
        tif_frames(a / "in_filtered.ome.tif"),
        tif_frames(b / "in_filtered.ome.tif"),
    )
    assert ta.tobytes() == tb.tobytes()


def test_blocks_with_a_whole_stack_step_is_a_one_line_error(bundle, tmp_path):
    r = run(
        "process",
        bundle,
        "-p",
        "remove_plane;align_frames",
        "-e",
        "h5",
        "-o",
        tmp_path / "out",
        "--blocks",
    )
    assert r.exit_code != 0
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and "align_frames needs the whole stack" in lines[0]
    assert "Traceback" not in r.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_block_frames_must_be_positive(bundle, tmp_path):
    r = run("process", bundle, "-e", "h5", "-o", tmp_path, "--block-frames", "0")
    assert r.exit_code == 2 and "--block-frames" in r.output


def test_batch_takes_the_block_options(bundle, tmp_path):
    r = run(
        "batch",
        bundle,
        "-p",
        "gaussian_filter",
        "-e",
        "npz",
        "-o",
        tmp_path,
        "--workers",
        "1",
        "--blocks",
        "--block-frames",
        "4",
    )
    assert r.exit_code == 0, r.output
    with np.load(tmp_path / "in_filtered.npz") as out:
        assert out["data"].shape == (50, 32, 40)


@pytest.mark.filterwarnings("always::UserWarning")  # shown by the CLI, not raised
def test_blocks_for_a_reader_without_read_lazy_reads_in_memory(
    afm_data, tmp_path, monkeypatch
):
    from playnano.plugins import ReaderBase
    from playnano.readers._folder_frames import FrameFolderReader

    # as a reader that declares no read_lazy: --blocks reads it in memory, warned
    monkeypatch.setattr(FrameFolderReader, "supports_lazy", False)
    monkeypatch.setattr(FrameFolderReader, "read_lazy", ReaderBase.read_lazy)
    src = afm_data / "spm" / "old_bruker.002"
    r = run(
        "process", src, "-p", "remove_plane", "-e", "npz", "-o", tmp_path, "--blocks"
    )
    assert r.exit_code == 0, r.output
    assert "block at a time; reading it into memory" in r.output
    # named by the path as given, as read errors are (not by its bare name)
    assert f"{src}: its reader cannot read this file a block at a time" in r.output
    with np.load(tmp_path / "old_bruker_filtered.npz") as out:
        assert out["data"].shape[0] == 1


def test_an_interrupted_block_run_closes_its_input(bundle, tmp_path, monkeypatch):
    import h5py

    from playnano.run import executor

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(executor, "write_outputs", interrupted)
    r = run(
        "process", bundle, "-p", "remove_plane", "-e", "h5", "-o", tmp_path, "--blocks"
    )
    assert r.exit_code == 130, r.output
    with h5py.File(bundle, "r+"):  # not held open by the interrupted run
        pass


def test_a_frame_folder_with_skip_damaged_goes_the_block_path(afm_data, tmp_path):
    src = afm_data / "jpk_folder" / "streptavidin_hs"
    for mode in ("--blocks", "--in-memory"):
        r = run(
            "process",
            src,
            "-p",
            "remove_plane",
            "-e",
            "npz",
            "-o",
            tmp_path / mode,
            "--skip-damaged-frames",
            mode,
        )
        assert r.exit_code == 0, r.output
        assert "reading it into memory" not in r.output
    a = np.load(tmp_path / "--blocks" / "streptavidin_hs_filtered.npz")
    b = np.load(tmp_path / "--in-memory" / "streptavidin_hs_filtered.npz")
    with a, b:
        assert a["data"].shape[0] == 3
        assert a["data"].tobytes() == b["data"].tobytes()
