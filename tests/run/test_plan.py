"""The plan: everything checked before reading, each rule once, one header look."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import playnano
from playnano.errors import DiskFullError, OptionError, OutputExistsError
from playnano.formats.npz import reader as npz_reader
from playnano.io.export_data import export_stack
from playnano.run import RunSettings, execute, plan_run, run_one
from playnano.testing import make_sample_stack


@pytest.fixture
def bundles(tmp_path: Path) -> dict[str, Path]:
    """A processed and an unprocessed NPZ bundle."""
    out = tmp_path / "in"
    done = export_stack(make_sample_stack(), out / "done.npz")[0]
    plain = make_sample_stack(processed=False, masks=False)
    fresh = export_stack(plain, out / "fresh.npz")[0]
    return {"done": done, "fresh": fresh}


@pytest.fixture
def no_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("a frame was read while planning")

    monkeypatch.setattr("playnano.readers.load", refuse)


def test_a_processed_bundle_keeps_its_name_from_its_header(
    bundles, tmp_path: Path, no_reading
) -> None:
    settings = RunSettings(formats=("h5", "tif"))
    done = plan_run(settings, tmp_path / "out", source=bundles["done"])
    fresh = plan_run(settings, tmp_path / "out", source=bundles["fresh"])
    assert [o.path.name for o in done.outputs] == ["done_filtered.h5",
                                                   "done_filtered.ome.tif"]  # fmt: skip
    assert [o.path.name for o in fresh.outputs] == ["fresh.h5", "fresh.ome.tif"]
    assert done.named and fresh.named
    assert done.header is not None and done.header.processed
    assert done.header.shape == (4, 12, 17)
    # steps that change the data, or a raw export, decide the name whatever it holds
    steps = RunSettings(formats=("h5",), steps=(("remove_plane", {}),))
    assert plan_run(steps, tmp_path, source=bundles["fresh"]).outputs[0].path.name == (
        "fresh_filtered.h5"
    )
    raw = RunSettings(formats=("h5",), raw=True)
    assert plan_run(raw, tmp_path, source=bundles["done"]).outputs[0].path.name == (
        "done.h5"
    )


def test_the_plans_names_are_the_files_written(bundles, tmp_path: Path) -> None:
    settings = RunSettings(formats=("npz", "gif"))
    plan = plan_run(settings, tmp_path / "out", source=bundles["done"])
    results = execute(plan)
    assert [p for r in results for p in r.paths] == [o.path for o in plan.outputs]


def test_an_existing_output_is_refused_before_reading(
    bundles, tmp_path: Path, no_reading
) -> None:
    (tmp_path / "done_filtered.npz").write_bytes(b"mine")
    with pytest.raises(OutputExistsError, match="done_filtered.npz already exists"):
        plan_run(RunSettings(formats=("npz",)), tmp_path, source=bundles["done"])
    assert (tmp_path / "done_filtered.npz").read_bytes() == b"mine"


def test_free_space_is_checked_from_the_header_before_reading(
    bundles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_reading
) -> None:
    free = 4 * 12 * 17 * 8 // 4 - 1  # a quarter of the data, less one byte

    def usage(path):
        return shutil._ntuple_diskusage(10**9, 10**9 - free, free)  # type: ignore[attr-defined]

    monkeypatch.setattr("playnano.run.plan.shutil.disk_usage", usage)
    with pytest.raises(DiskFullError, match="nothing was written"):
        plan_run(RunSettings(formats=("npz",)), tmp_path, source=bundles["done"])
    # a lossy format needs no room in the estimate
    plan_run(RunSettings(formats=("gif",)), tmp_path, source=bundles["done"])


def test_a_batch_task_looks_at_its_header_once(
    bundles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    looks: list[Path] = []
    inspect = npz_reader.NpzBundleReader.inspect

    def counted(self, path):
        looks.append(Path(path))
        return inspect(self, path)

    monkeypatch.setattr(npz_reader.NpzBundleReader, "inspect", counted)
    settings = RunSettings(formats=("h5",), steps=(("remove_plane", {}),))
    events: list[tuple[int, int]] = []
    record = run_one(
        str(bundles["fresh"]),
        str(tmp_path),
        settings,
        None,
        lambda d, t: events.append((d, t)),
    )
    assert record["status"] == "ok", record
    # frames for the progress bar, the name, blocks or memory: one look
    assert looks == [bundles["fresh"]]
    assert events[-1] == (3, 3)  # the read, the step, the format


def test_progress_names_each_stage_in_order(tmp_path: Path) -> None:
    stack = make_sample_stack(processed=False, masks=False)
    settings = RunSettings(
        formats=("npz", "h5"), steps=(("remove_plane", {}), ("zero_mean", {}))
    )
    plan = plan_run(settings, tmp_path, stack=stack, base="s")
    seen: list[tuple[int, int, str]] = []
    execute(plan, stack, progress=lambda d, t, doing: seen.append((d, t, doing)))
    assert seen[:3] == [
        (0, 4, "step 1/2: remove_plane"),
        (1, 4, "step 2/2: zero_mean"),
        (2, 4, "writing npz, h5"),
    ]
    assert seen[3:] in ([(3, 4, "writing h5"), (4, 4, "")],
                        [(3, 4, "writing npz"), (4, 4, "")])  # fmt: skip


def test_export_writes_several_formats_side_by_side(tmp_path: Path) -> None:
    stack = make_sample_stack()
    paths = playnano.export(
        stack, tmp_path / "v_filtered", ["npz", "gif", "tif"], fps=4
    )
    assert [p.name for p in paths] == ["v_filtered.npz", "v_filtered.gif",
                                       "v_filtered.ome.tif"]  # fmt: skip
    alone = playnano.export(make_sample_stack(), tmp_path / "one", "gif", fps=4)
    assert alone[0].read_bytes() == paths[1].read_bytes()  # fps reached the GIF
    back = playnano.load(paths[0])
    np.testing.assert_array_equal(back.data, stack.data)
    assert [r["format"] for r in stack.provenance["exports"]] == ["npz", "gif", "tif"]


def test_export_refuses_an_option_no_format_has(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="no format requested .* 'fsp'"):
        playnano.export(make_sample_stack(), tmp_path / "v", ["npz", "gif"], fsp=4)
    with pytest.raises(OptionError, match="unknown option 'fsp'"):
        playnano.export(make_sample_stack(), tmp_path / "v", "gif", fsp=4)
    assert list(tmp_path.iterdir()) == []
