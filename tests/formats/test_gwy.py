"""Gwyddion exporter and reader: conformance, the file as gwyfile sees it, exactness.

Files are read back by ``gwyfile`` (an independent parser) where the test is about
what the file holds, and by playnano where it is about the round trip. Gwyddion
itself and AFMReader open these files in ``tests/consumers``.
"""

from __future__ import annotations

import json
from pathlib import Path

import gwyfile
import numpy as np
import pytest

import playnano
from playnano.errors import ChannelError, ExportError, ReadError
from playnano.formats.gwy import exact
from playnano.formats.gwy.content import check
from playnano.io.export_data import export_stack
from playnano.plugins.registry import exporters
from playnano.testing import (
    ExporterConformance,
    ReaderConformance,
    assert_stacks_equal,
    make_sample_stack,
    original_source,
)


class TestGwy(ExporterConformance):
    format_name = "gwy"

    def export_options(self):
        return {"layers": "all"}  # every layer comes back

    def read_back(self, path: Path):
        return playnano.load(path)


def _channels(path: Path) -> dict[int, str]:
    obj = gwyfile.load(str(path))
    return dict(sorted(gwyfile.util.find_datafields(obj)))


def test_gwyddion_is_an_alias() -> None:
    assert exporters().resolve("Gwyddion").name == "gwy"


def test_one_si_channel_per_frame_titled_by_index_and_time(tmp_path: Path) -> None:
    stack = make_sample_stack()
    [path] = export_stack(stack, tmp_path / "v", "gwy")
    obj = gwyfile.load(str(path))
    assert _channels(path) == {
        i: f"height_trace frame {i} (t = {0.25 * i:.3f} s)" for i in range(4)
    }
    field = obj["/2/data"]
    assert field["si_unit_xy"]["unitstr"] == "m"
    assert field["si_unit_z"]["unitstr"] == "m"
    assert field["xres"], field["yres"] == (17, 12)
    assert field["xreal"] / 17 * 1e9 == 1.5  # exactly: AFMReader's pixel size
    assert field["yreal"] / 12 * 1e9 == 1.5
    np.testing.assert_allclose(field.data * 1e9, stack.data[2], rtol=1e-15)
    # the newest mask is the Gwyddion mask of its frame
    np.testing.assert_array_equal(
        obj["/2/mask"].data, stack.masks["step_2_mask_threshold"][2].astype(float)
    )
    meta = obj["/2/meta"]
    assert meta["Time"] == "0.5 s"
    assert meta["Line rate"] == "48 lines/s"
    assert meta["Channel"] == "height_trace"
    assert meta["Start time"] == "2023-11-14 22:13:20.500 UTC"
    assert meta["Processing"] == "remove_plane"
    assert meta["Source"].startswith("sample_video.asd (sha256 555")
    assert meta["Mask"] == "step_2_mask_threshold"
    doc = json.loads(obj["/0/meta"]["playnano stack"])
    assert doc["channel"] == "height_trace" and doc["n_frames"] == 4
    prov = json.loads(obj["/0/meta"]["Provenance"])
    assert prov["processing"]["steps"][0]["name"] == "remove_plane"
    assert check(path) == []


def test_layers_all_adds_a_block_of_channels_per_layer(tmp_path: Path) -> None:
    stack = make_sample_stack()
    [path] = export_stack(stack, tmp_path / "v", "gwy", options={"layers": "all"})
    titles = _channels(path)
    # the current data is the step_1 layer: written once; raw follows
    assert len(titles) == 8
    assert titles[4] == "height_trace raw frame 0 (t = 0.000 s)"
    back = playnano.load(path)
    assert list(back.processed) == ["raw", "step_1_remove_plane"]
    assert back.processed["step_1_remove_plane"] is back.data


def test_raw_export_holds_raw_frames_only(tmp_path: Path) -> None:
    stack = make_sample_stack()
    [path] = export_stack(stack, tmp_path / "v", "gwy", raw=True)
    back = playnano.load(path)
    np.testing.assert_array_equal(back.data, stack.processed["raw"])
    assert back.masks == {} and back.processed == {}
    assert "/0/mask" not in gwyfile.load(str(path))


def test_older_masks_get_channels_of_their_own(tmp_path: Path) -> None:
    stack = make_sample_stack()
    stack.masks["step_3_mask_below"] = stack.data < -1.0
    [path] = export_stack(stack, tmp_path / "v", "gwy")
    titles = _channels(path)
    assert titles[4] == "height_trace mask:step_2_mask_threshold frame 0 (t = 0.000 s)"
    back = playnano.load(path)
    assert list(back.masks) == ["step_2_mask_threshold", "step_3_mask_below"]
    for key, mask in stack.masks.items():
        np.testing.assert_array_equal(back.masks[key], mask)


def _hard_values(shape=(3, 40, 50)) -> np.ndarray:
    """Heights some of which do not survive ``x / 1e9 * 1e9`` (about 5 %)."""
    return np.random.default_rng(7).normal(0, 50, shape)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int16])
def test_round_trip_is_bit_for_bit(tmp_path: Path, dtype: type) -> None:
    data = _hard_values().astype(dtype)
    stack = playnano.AFMImageStack(data, 0.636, "height", Path("x.asd"), None)
    naive = data.astype(np.float64) / 1e9 * 1e9
    if dtype is np.float64:
        assert (naive != data).mean() > 0.02  # the case exactness is for
    [path] = export_stack(stack, tmp_path / "v", "gwy")
    back = playnano.load(path)
    assert back.data.dtype == dtype
    assert back.data.tobytes() == data.tobytes()
    assert back.pixel_size_nm == 0.636


def test_exact_values_cover_the_pixels_no_si_double_can(tmp_path: Path) -> None:
    x = _hard_values((1, 200, 200))[0]
    stored, text = exact.to_si(x, 1e9)
    np.testing.assert_allclose(stored, x / 1e9, rtol=4e-16)
    listed = len(exact.from_si(stored, 1e9, None, "f").ravel())
    assert text is not None and listed == x.size
    assert (stored * 1e9 != x).mean() < 0.08  # only the unreachable ~5 % listed
    assert exact.from_si(stored, 1e9, text, "f").tobytes() == x.tobytes()


def test_non_finite_heights_are_written_as_the_mean_and_come_back(
    tmp_path: Path,
) -> None:
    data = _hard_values()
    data[1, 3, 4], data[1, 5, 6], data[2, 0, 0] = np.nan, np.inf, -np.inf
    stack = playnano.AFMImageStack(data, 1.0, "height", Path("x.asd"), None)
    with pytest.warns(Warning, match=r"frame\(s\) 1, 2 hold NaN or infinite"):
        [path] = export_stack(stack, tmp_path / "v", "gwy")
    shown = gwyfile.load(str(path))["/1/data"].data
    assert np.isfinite(shown).all()
    assert shown[3, 4] == pytest.approx(
        np.nanmean(np.where(np.isinf(data[1]), np.nan, data[1])) / 1e9
    )
    back = playnano.load(path)
    np.testing.assert_array_equal(back.data, data)  # NaN == NaN here
    assert back.data.tobytes() == data.tobytes()


def test_a_frame_edited_in_gwyddion_reads_as_stored(tmp_path: Path) -> None:
    stack = playnano.AFMImageStack(_hard_values(), 1.0, "height", Path("x"), None)
    [path] = export_stack(stack, tmp_path / "v", "gwy")
    obj = gwyfile.load(str(path))
    edited = obj["/0/data"].data * 2  # what a Gwyddion tool might do
    obj["/0/data"].data = edited
    obj.tofile(str(path))
    back = playnano.load(path)
    np.testing.assert_array_equal(back.data[0], edited * 1e9)  # not "corrected"
    assert back.data[1].tobytes() == stack.data[1].tobytes()


def _foreign(path: Path, titles: list[str], unit: str = "m") -> list[np.ndarray]:
    """A .gwy as Gwyddion writes one (no playnano metadata), by gwyfile."""
    from gwyfile.objects import GwyContainer, GwyDataField, GwySIUnit

    obj = GwyContainer()
    frames = []
    for n, title in enumerate(titles):
        values = np.random.default_rng(n).normal(0, 1e-9, (6, 8))
        obj[f"/{n}/data"] = GwyDataField(
            values,
            xreal=8 * 2e-9,
            yreal=6 * 2e-9,
            si_unit_xy=GwySIUnit(unitstr="m"),
            si_unit_z=GwySIUnit(unitstr=unit),
        )
        obj[f"/{n}/data/title"] = title
        frames.append(values)
    obj.tofile(str(path))
    return frames


def test_other_gwy_files_are_read_by_channel_title(tmp_path: Path) -> None:
    path = tmp_path / "merged.gwy"
    frames = _foreign(path, ["Height", "Phase", "Height"])
    from playnano.readers import available_channels

    assert available_channels(path) == ["Height", "Phase"]
    stack = playnano.load(path)
    assert stack.channel == "Height"
    np.testing.assert_allclose(stack.data, np.stack([frames[0], frames[2]]) * 1e9)
    assert stack.pixel_size_nm == pytest.approx(2.0)
    assert stack.provenance["source"]["gwy_channels"] == [0, 2]
    phase = playnano.load(path, channel="phase")
    assert phase.data.shape == (1, 6, 8)
    with pytest.raises(ChannelError, match="it has Height, Phase"):
        playnano.load(path, channel="ZSensor")


def test_stack_provenance_source_becomes_previous_source(tmp_path: Path) -> None:
    stack = make_sample_stack()
    [path] = export_stack(stack, tmp_path / "v", "gwy")
    back = playnano.load(path)
    assert original_source(back)["file"] == "sample_video.asd"
    assert back.provenance["source"]["reader"] == "gwy"
    assert_stacks_equal(back, stack, layers=False)


def test_a_stack_beyond_4_gib_is_refused_before_writing(tmp_path: Path) -> None:
    frame = np.zeros((1, 1024, 1024))
    data = np.broadcast_to(frame, (520, 1024, 1024))  # 4.1 GiB, no memory
    stack = playnano.AFMImageStack(data, 1.0, "height", Path("x"), None)
    with pytest.raises(ExportError, match=r"holds at most 4 GiB; these 520 fields"):
        export_stack(stack, tmp_path / "big", "gwy")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b[:3], "not a .gwy file (3 bytes)"),
        (lambda b: b"GWYQ" + b[4:], "no GWYP signature"),
        (lambda b: b[: len(b) // 2], "declares"),
        (
            lambda b: b.replace(b"xres\0i\x11", b"xres\0i\x12", 1),
            "declares 18x12 pixels",
        ),
        (lambda b: b.replace(b"data\0D", b"data\0Z", 1), "unknown type 'Z'"),
    ],
)
def test_damaged_files_are_one_line_errors(tmp_path: Path, mutate, message) -> None:
    [path] = export_stack(make_sample_stack(), tmp_path / "v", "gwy")
    bad = tmp_path / "bad.gwy"
    bad.write_bytes(mutate(path.read_bytes()))
    with pytest.raises(ReadError) as err:
        playnano.load(bad)
    assert str(err.value).startswith(f"{bad}: ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_deeply_nested_objects_are_refused(tmp_path: Path) -> None:
    from gwyfile.objects import GwyContainer

    inner = GwyContainer()
    for _ in range(40):
        inner = GwyContainer({"x": inner})
    inner.tofile(str(tmp_path / "deep.gwy"))
    with pytest.raises(ReadError, match="nested more than 32 deep"):
        playnano.load(tmp_path / "deep.gwy")


def test_info_describes_the_file_from_its_structure(tmp_path: Path) -> None:
    from playnano.info import inspect

    stack = make_sample_stack()
    stack.masks["step_3_mask_below"] = stack.data < -1.0
    [path] = export_stack(stack, tmp_path / "v", "gwy", options={"layers": "all"})
    info = inspect(path)
    assert info.metadata_only and info.format_version == 1
    assert info.data.shape == (4, 12, 17) and info.data.units == "nm"
    assert sorted(info.layers) == ["raw", "step_1_remove_plane"]
    assert sorted(info.masks) == ["step_2_mask_threshold", "step_3_mask_below"]
    assert info.timestamps == [0.0, 0.25, 0.5, 0.75]
    assert info.pixel_size_nm == 1.5
    foreign = tmp_path / "merged.gwy"
    _foreign(foreign, ["Phase", "Height", "Height"])
    info = inspect(foreign)
    assert (info.channel, info.data.shape, info.channels) == (
        "Height",
        (2, 6, 8),
        ["Phase", "Height"],
    )
    assert info.pixel_size_nm == pytest.approx(2.0)


class TestGwyReaderConformance(ReaderConformance):
    """Every door of the gwy reader, on files playnano writes; the hostile copies are
    also made of a file as Gwyddion writes one (its check reports the missing
    playnano record, so it is not a sample that follows the layout)."""

    reader_name = "gwy"

    @pytest.fixture
    def samples(self, tmp_path: Path) -> list[Path]:
        full = export_stack(make_sample_stack(), tmp_path / "full", "gwy")[0]
        small = make_sample_stack(1, (5, 6), np.int16, processed=False, masks=False)
        return [full, export_stack(small, tmp_path / "raw", "gwy", raw=True)[0]]

    @pytest.fixture
    def hostile_samples(self, samples: list[Path], tmp_path: Path) -> list[Path]:
        foreign = tmp_path / "foreign.gwy"
        _foreign(foreign, ["Height", "Amplitude"])
        return [*samples, foreign]
