"""The dock widget: steps, formats from the registry, export, cancel, mistakes."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from napari_playnano._play import open_viewer, show_scale_bar
from napari_playnano._widget import PlaynanoWidget

import playnano

from .conftest import run_cli, wait_for

STEPS = "remove_plane;mask_mean_offset:factor=1;row_median_align"
BUILTINS = ["tif", "npz", "h5", "gif"]
# a 100 nm scale bar does not fit the 100 nm wide sample; both sides use 20 nm
GIF_OPTION = ("gif.scale_bar_nm", "20")


@pytest.fixture
def asd(afm: Path) -> Path:
    return afm / "asd" / "asd_sample_0.asd"


@pytest.fixture
def widget(make_napari_viewer, asd: Path) -> PlaynanoWidget:
    viewer = make_napari_viewer()
    viewer.open(str(asd), plugin="napari-playnano")
    w = PlaynanoWidget(viewer)
    viewer.window.add_dock_widget(w, name="playnano")
    return w


#: Provenance that differs between two runs of the same export: who ran it and when.
RUN_RECORDS = ("command", "exports", "environment")
VOLATILE = ("timestamp", "duration_s", "time", "started", "finished", "read_at")


def file_parts(path: Path) -> dict[str, bytes]:
    """Every part of a bundle or OME-TIFF but the provenance, as raw bytes."""
    import zipfile

    import h5py
    import tifffile

    parts: dict[str, bytes] = {}
    if path.suffix == ".npz":
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.filename != "provenance_json.npy":
                    parts[info.filename] = zf.read(info)
    elif path.suffix == ".h5":
        with h5py.File(path) as f:
            parts["/attrs"] = repr(sorted(f.attrs.items())).encode()

            def visit(name: str, obj: object) -> None:
                if isinstance(obj, h5py.Dataset) and name != "provenance_json":
                    raw = obj[()]
                    meta = (obj.dtype.str, obj.shape, obj.chunks, obj.compression)
                    parts[name] = (
                        repr(meta).encode() + getattr(raw, "tobytes", lambda: raw)()
                    )

            f.visititems(visit)
    else:
        with tifffile.TiffFile(path) as tif:
            for i, page in enumerate(tif.pages):
                parts[f"page {i}"] = page.asarray().tobytes()
                for tag in page.tags:
                    # the provenance tag; where the pixels start moves with its
                    # length; the OME-XML names each file by a fresh UUID
                    if tag.code in (65000, 273, 324):
                        continue
                    value = repr(tag.value)
                    if tag.code == 270:
                        value = re.sub(r'UUID="urn:uuid:[^"]*"', "", value)
                    parts[f"page {i} tag {tag.code}"] = value.encode()
    return parts


def provenance(path: Path) -> dict:
    """The provenance record as the file stores it."""
    import json

    import h5py
    import tifffile

    if path.suffix == ".npz":
        with np.load(path) as z:
            return json.loads(str(z["provenance_json"]))
    if path.suffix == ".h5":
        with h5py.File(path) as f:
            raw = f["provenance_json"][()]
            return json.loads(raw.decode() if isinstance(raw, bytes) else str(raw))
    with tifffile.TiffFile(path) as tif:
        raw = tif.pages[0].tags[65000].value
        return json.loads(raw.decode() if isinstance(raw, bytes) else raw)


def without_run_records(prov: dict) -> dict:
    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if k not in VOLATILE}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return clean({k: v for k, v in prov.items() if k not in RUN_RECORDS})


def tick(w: PlaynanoWidget, *formats: str) -> None:
    for f in formats:
        w.formats.boxes[f].value = True


def assert_same_stack(a, b) -> None:
    """Everything but the provenance (which records who wrote the file, and when)."""
    np.testing.assert_array_equal(a.data, b.data)
    assert a.data.dtype == b.data.dtype
    assert a.pixel_size_nm == b.pixel_size_nm and a.channel == b.channel
    assert a.frame_metadata == b.frame_metadata
    assert list(a.processed) == list(b.processed)
    for k in a.processed:
        np.testing.assert_array_equal(a.processed[k], b.processed[k])
    assert list(a.masks) == list(b.masks)
    for k in a.masks:
        np.testing.assert_array_equal(a.masks[k], b.masks[k])


def test_formats_and_steps_come_from_the_registries(widget: PlaynanoWidget) -> None:
    from playnano.plugins.registry import exporters, filters

    assert set(widget.formats.boxes) == {e.name for e in exporters().entries()}
    assert "csv" in widget.formats.boxes  # the example plugin, installed alongside
    assert set(BUILTINS) <= set(widget.formats.boxes)
    assert set(widget.builder.pick.choices) == {e.name for e in filters().entries()}
    gif_options = set(widget.formats.option_editors["gif"])
    assert {"scale_bar_nm", "zmin", "zmax", "cmap", "fps", "loop"} <= gif_options
    assert set(widget.formats.option_editors["csv"]) == {"precision", "delimiter"}
    assert widget.channel.choices == ("TP",)
    assert widget.out_name.value == "asd_sample_0"


def test_step_builder_writes_the_cli_syntax(widget: PlaynanoWidget) -> None:
    widget.builder.pick.value = "gaussian_filter"
    widget.builder._editors["sigma"].value = "2.5"
    widget.builder.add_button.clicked.emit()
    widget.builder.pick.value = "remove_plane"
    widget.builder.add_button.clicked.emit()
    assert widget.steps.value == "gaussian_filter:sigma=2.5;remove_plane"


def test_step_builder_refuses_an_out_of_range_value(widget: PlaynanoWidget) -> None:
    widget.builder.pick.value = "median_filter"
    widget.builder._editors["size"].value = "4"
    widget.builder.add_button.clicked.emit()
    assert widget.steps.value == ""
    assert "must be odd" in widget.status.value


def test_export_every_format_matches_the_cli(
    qtbot, widget: PlaynanoWidget, asd: Path, tmp_path: Path
) -> None:
    cli_out, gui_out = tmp_path / "cli", tmp_path / "gui"
    result = run_cli(
        "process", str(asd), "-p", STEPS, "-e", *BUILTINS, "csv",
        "-o", str(cli_out), "--option", "=".join(GIF_OPTION), "-q",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    widget.steps.value = STEPS
    tick(widget, *BUILTINS, "csv")
    widget.formats.option_editors["gif"]["scale_bar_nm"].value = GIF_OPTION[1]
    widget.folder.value = gui_out
    assert widget.start(export=True) is not None
    wait_for(qtbot, widget)
    assert widget.status.value.startswith("wrote"), widget.status.value
    # the GIF's warning (the sample's outlier frames drawn clipped), as the CLI
    # prints it
    assert "warning: " in widget.status.value
    assert "outside the colour range" in widget.status.value
    names = sorted(p.name for p in gui_out.iterdir())
    assert names == sorted(p.name for p in cli_out.iterdir())
    assert len(names) == 5
    for name in names:
        gui, cli = gui_out / name, cli_out / name
        if name.endswith((".gif", ".csv")):  # no provenance inside: same bytes
            assert gui.read_bytes() == cli.read_bytes()
            continue
        # every member, dataset and page byte for byte; only the provenance
        # record says who wrote the file and when
        assert file_parts(gui) == file_parts(cli), name
        ours, theirs = provenance(gui), provenance(cli)
        assert ours["command"]["origin"] == "napari"
        assert without_run_records(ours) == without_run_records(theirs)
        steps = [s["name"] for s in ours["processing"]["steps"]]
        assert steps == ["remove_plane", "mask_mean_offset", "row_median_align"]
    # the processed video is shown: data, hidden processed layers, mask labels
    kinds = [ly._type_string for ly in widget.viewer.layers]
    assert kinds == ["image", "image", "image", "image", "labels"]


def test_raw_toggle_shows_and_exports_the_raw_snapshot(
    qtbot, widget: PlaynanoWidget, asd: Path, tmp_path: Path
) -> None:
    widget.steps.value = "remove_plane"
    widget.start(export=False)
    wait_for(qtbot, widget)
    data, raw = widget.viewer.layers[0], widget.viewer.layers[1]
    assert data.visible and not raw.visible
    widget.show_raw.value = "raw"
    assert raw.visible and not data.visible
    tick(widget, "npz")
    widget.folder.value = tmp_path
    widget.start(export=True)
    wait_for(qtbot, widget)
    [written] = tmp_path.iterdir()
    assert written.name == "asd_sample_0.npz"  # raw: no _filtered
    np.testing.assert_array_equal(playnano.load(written).data, playnano.load(asd).data)


def test_bad_parameter_shows_an_error_and_writes_nothing(
    widget: PlaynanoWidget, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    widget.folder.value = out
    tick(widget, "npz")
    widget.steps.value = "remove_plane;gaussian_filter:sigma=-1"
    assert widget.start(export=True) is None
    assert "sigma" in widget.status.value and "must be > 0" in widget.status.value
    widget.steps.value = "remove_plane;gausian_filter"
    assert widget.start(export=True) is None
    assert "did you mean gaussian_filter" in widget.status.value
    widget.steps.value = "remove_plane"
    tick(widget, "gif")
    widget.formats.option_editors["gif"]["fps"].value = "fast"
    assert widget.start(export=True) is None
    assert "fps" in widget.status.value
    assert widget.job is None and not out.exists()


def test_existing_output_is_refused_before_any_work(
    widget: PlaynanoWidget, tmp_path: Path
) -> None:
    (tmp_path / "asd_sample_0_filtered.npz").write_bytes(b"mine")
    widget.folder.value = tmp_path
    widget.steps.value = "remove_plane"
    tick(widget, "npz")
    assert widget.start(export=True) is None
    assert "already exists" in widget.status.value
    assert (tmp_path / "asd_sample_0_filtered.npz").read_bytes() == b"mine"


def test_cancel_mid_export_leaves_nothing(
    qtbot, make_napari_viewer, afm: Path, tmp_path: Path
) -> None:
    viewer = make_napari_viewer()
    viewer.open(str(afm / "jpk_folder" / "streptavidin_hs"), plugin="napari-playnano")
    w = PlaynanoWidget(viewer)
    tick(w, "npz", "csv", "h5", "gif")
    out = tmp_path / "out"
    w.folder.value = out
    job = w.start(export=True)
    assert job is not None
    # cancel while a format is being written in the staging folder (which of
    # them is first depends on the machine: they are written side by side)
    qtbot.waitUntil(
        lambda: (
            job.message.startswith("writing") and any(out.glob(".playnano-partial-*/*"))
        ),
        timeout=120_000,
    )
    w.cancel_button.clicked.emit()
    wait_for(qtbot, w)
    assert job.cancelled
    assert list(out.iterdir()) == []
    assert w.status.value.startswith("cancelled")
    assert w.export_button.enabled and not w.cancel_button.enabled


def test_play_opens_the_file_with_the_widget_and_runs_the_steps(
    qtbot, make_napari_viewer, asd: Path
) -> None:
    viewer, widget = open_viewer(asd, steps="remove_plane", viewer=make_napari_viewer())
    assert viewer.window.dock_widgets["playnano"] is widget
    wait_for(qtbot, widget)
    expected = playnano.load(asd)
    playnano.processing.run_pipeline(expected, "remove_plane")
    np.testing.assert_array_equal(viewer.layers[0].data, expected.data)
    assert widget.steps.value == "remove_plane"
    assert viewer.canvas.overlays.scale_bar.visible


def test_screenshot_with_the_widget_docked(
    qtbot, make_napari_viewer, asd: Path, tmp_path: Path
) -> None:
    viewer = make_napari_viewer(show=True)  # on the virtual display
    viewer.window._qt_window.resize(1500, 950)
    viewer.open(str(asd), plugin="napari-playnano")
    widget = PlaynanoWidget(viewer, steps="remove_plane;row_median_align")
    viewer.window.add_dock_widget(widget, name="playnano")
    tick(widget, "npz", "gif")
    widget.start(export=False)
    wait_for(qtbot, widget)
    show_scale_bar(viewer)  # physical: nm from the layer scale
    viewer.dims.set_point(0, 20.0)  # frame 20 (t scale 1 s)
    viewer.reset_view()
    path = tmp_path / "napari-playnano.png"
    shot = viewer.screenshot(str(path), canvas_only=False, flash=False)
    copy_to = os.environ.get("NAPARI_PLAYNANO_SCREENSHOT")
    if copy_to:
        Path(copy_to).write_bytes(path.read_bytes())
    assert path.stat().st_size > 10_000
    canvas = viewer.screenshot(canvas_only=True, flash=False)
    rgb = canvas[..., :3].astype(np.float64)
    assert rgb.std() > 20, "the canvas is blank"
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 50  # many AFM colours
    assert shot.shape[1] > canvas.shape[1] + 300  # the window is wider: widget docked


def test_choosing_another_channel_reads_it(make_napari_viewer, afm: Path) -> None:
    path = afm / "asd" / "202110200146.asd"
    viewer = make_napari_viewer()
    viewer.open(str(path), plugin="napari-playnano")
    w = PlaynanoWidget(viewer)
    assert w.channel.choices == ("TP", "PH")
    w.channel.value = "PH"
    [layer] = viewer.layers
    np.testing.assert_array_equal(layer.data, playnano.load(path, channel="PH").data)
    assert layer.name == "202110200146 [PH]"
    assert w.source.channel == "PH"
