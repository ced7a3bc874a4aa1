"""OME-TIFF exporter: conformance, and the file as tifffile and OME-XML see it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile

from playnano.errors import ExportWarning
from playnano.io.export_data import save_ome_tiff_stack
from playnano.io.loaders import load_ome_tiff_stack
from playnano.plugins.registry import exporters
from playnano.testing import (
    ExporterConformance,
    ReaderConformance,
    make_sample_stack,
    strict_json,
)
from tests.formats.samples import bundle_samples


class TestTif(ExporterConformance):
    format_name = "tif"

    def read_back(self, path: Path):
        back = load_ome_tiff_stack(path)
        self.resolution_nm = resolution_tags_nm(path)  # what ImageJ reads
        return back

    def check_stack(self, back, stack, caps, *, raw: bool) -> None:
        super().check_stack(back, stack, caps, raw=raw)
        for x_nm, y_nm in self.resolution_nm:
            assert x_nm == pytest.approx(stack.pixel_size_nm, rel=1e-6)
            assert y_nm == pytest.approx(stack.pixel_size_nm, rel=1e-6)


def resolution_tags_nm(path: Path) -> list[tuple[float, float]]:
    """Pixel width and height (nm) from every page's TIFF resolution tags."""
    sizes = []
    with tifffile.TiffFile(path) as tif:
        tif.pages.useframes = False  # full pages, with their tags
        for i in range(len(tif.pages)):
            tags = tif.pages[i].tags
            assert tags["ResolutionUnit"].value == tifffile.RESUNIT.CENTIMETER
            x, y = (tags[n].value for n in ("XResolution", "YResolution"))
            sizes.append((1e7 * x[1] / x[0], 1e7 * y[1] / y[0]))  # px/cm -> nm
    return sizes


def read_tiff(path: Path) -> dict[str, Any]:
    """What a TIFF reader sees: series, OME Pixels/Planes/Channel, private tags."""
    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        pixels = ET.fromstring(tif.ome_metadata).find(".//{*}Pixels")
        assert pixels is not None
        return {
            "axes": series.axes,
            "data": series.asarray(),
            "pixels": pixels.attrib,
            "planes": [p.attrib for p in pixels.findall("{*}Plane")],
            "channels": [c.attrib for c in pixels.findall("{*}Channel")],
            "tags": {
                code: tif.pages[0].tags[code].value
                for code in (65000, 65001, 65002)
                if code in tif.pages[0].tags
            },
            "n_pages": len(tif.pages),
            "later_pages_tagged": later_pages_tagged(path),
        }


def later_pages_tagged(path: Path) -> bool:
    """Whether a page after the first carries the provenance tag."""
    with tifffile.TiffFile(path) as tif:
        tif.pages.useframes = False  # full pages, with their tags
        return any(65000 in tif.pages[i].tags for i in range(1, len(tif.pages)))


@pytest.mark.parametrize("alias", ["tiff", "ome-tif", "OME-TIFF"])
def test_aliases(alias: str) -> None:
    assert exporters().resolve(alias).name == "tif"


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16])
def test_ome_stack_as_readers_see_it(tmp_path: Path, dtype: type) -> None:
    stack = make_sample_stack(dtype=dtype)
    [path] = save_ome_tiff_stack(tmp_path / "s", stack)
    assert path.name == "s.ome.tif"
    got = read_tiff(path)
    assert got["axes"] == "TYX"
    assert got["data"].dtype == dtype  # float64 stays float64
    np.testing.assert_array_equal(got["data"], stack.data)
    px = got["pixels"]
    assert float(px["PhysicalSizeX"]) == pytest.approx(0.0015)  # µm
    assert float(px["PhysicalSizeY"]) == pytest.approx(0.0015)
    assert px["PhysicalSizeXUnit"] == "µm"
    assert float(px["TimeIncrement"]) == pytest.approx(0.25)
    assert px["TimeIncrementUnit"] == "s"
    assert [float(p["DeltaT"]) for p in got["planes"]] == [0.0, 0.25, 0.5, 0.75]
    assert [int(p["TheT"]) for p in got["planes"]] == [0, 1, 2, 3]
    assert got["channels"][0]["Name"] == "height_trace"
    prov = strict_json(got["tags"][65000].decode("utf-8"))
    assert prov["processing"]["steps"][0]["name"] == "remove_plane"
    assert strict_json(got["tags"][65001]) == ["raw", "step_1_remove_plane"]
    own = strict_json(got["tags"][65002])
    assert own["frame_metadata"] == stack.frame_metadata
    assert got["n_pages"] == 4 and not got["later_pages_tagged"]


def test_raw_export_writes_the_snapshot(tmp_path: Path) -> None:
    stack = make_sample_stack()
    [path] = save_ome_tiff_stack(tmp_path / "s.ome.tif", stack, raw=True)
    np.testing.assert_array_equal(read_tiff(path)["data"], stack.processed["raw"])


def test_missing_timestamps_are_left_out_and_said(tmp_path: Path) -> None:
    stack = make_sample_stack()
    stack.frame_metadata[1]["timestamp"] = None
    stack.frame_metadata[2]["timestamp"] = None
    with pytest.warns(ExportWarning, match=r"frame\(s\) 1-2 have no timestamp"):
        [path] = save_ome_tiff_stack(tmp_path / "s", stack)
    got = read_tiff(path)
    assert [p.get("DeltaT") for p in got["planes"]] == ["0.0", None, None, "0.75"]
    assert float(got["pixels"]["TimeIncrement"]) == pytest.approx(0.25)
    notes = strict_json(got["tags"][65000])["export_notes"]
    assert any("no timestamp" in n for n in notes)
    assert "export_notes" not in stack.provenance  # only in the file
    assert load_ome_tiff_stack(path).get_frame_times() == [0.0, None, None, 0.75]


def test_no_timestamps_at_all(tmp_path: Path) -> None:
    stack = make_sample_stack()
    for md in stack.frame_metadata:
        md["timestamp"] = None
    with pytest.warns(ExportWarning):
        [path] = save_ome_tiff_stack(tmp_path / "s", stack)
    got = read_tiff(path)
    assert "TimeIncrement" not in got["pixels"]
    assert all("DeltaT" not in p for p in got["planes"])


def test_differing_pixel_sizes_are_said(tmp_path: Path) -> None:
    stack = make_sample_stack()
    stack.frame_metadata[3]["frame_pixel_size_nm"] = 2.0
    with pytest.warns(ExportWarning, match=r"pixel sizes differ \(1.5-2 nm\)"):
        [path] = save_ome_tiff_stack(tmp_path / "s", stack)
    got = read_tiff(path)
    assert float(got["pixels"]["PhysicalSizeX"]) == pytest.approx(0.0015)
    notes = strict_json(got["tags"][65000])["export_notes"]
    assert any("pixel sizes differ" in n for n in notes)
    back = load_ome_tiff_stack(path)
    assert [md["frame_pixel_size_nm"] for md in back.frame_metadata] == [
        1.5,
        1.5,
        1.5,
        2.0,
    ]


@pytest.mark.parametrize(
    ("values", "stored"),
    [
        (np.arange(12, dtype=np.int64), np.int32),
        (np.arange(12, dtype=np.uint64) + 2**40, np.float64),
        (np.arange(12, dtype=np.float16), np.float32),
    ],
)
def test_dtypes_ome_cannot_hold_are_converted_and_said(
    tmp_path: Path, values: np.ndarray, stored: type
) -> None:
    from playnano.afm_stack import AFMImageStack

    meta = [{"timestamp": float(i)} for i in range(3)]
    stack = AFMImageStack(values.reshape(3, 2, 2), 1.0, "h", None, meta)
    with pytest.warns(ExportWarning, match="was written as"):
        [path] = save_ome_tiff_stack(tmp_path / "s", stack)
    data = read_tiff(path)["data"]
    assert data.dtype == stored
    np.testing.assert_array_equal(data, values.reshape(3, 2, 2).astype(stored))


@pytest.mark.parametrize(
    ("dtype", "stored", "note"),
    [
        (">f8", np.float64, "big-endian float64 data was written as float64"),
        (">i4", np.int32, "big-endian int32 data was written as int32"),
        (">i8", np.int32, "big-endian int64 data was written as int32"),
    ],
)
def test_big_endian_data_is_written_in_native_order_and_said(
    tmp_path: Path, dtype: str, stored: type, note: str
) -> None:
    from playnano.afm_stack import AFMImageStack

    values = np.arange(12).reshape(3, 2, 2).astype(dtype)
    meta = [{"timestamp": float(i)} for i in range(3)]
    stack = AFMImageStack(values, 1.0, "h", None, meta)
    with pytest.warns(ExportWarning, match=note) as caught:
        [path] = save_ome_tiff_stack(tmp_path / "s", stack)
    assert "native byte order" in str(caught[0].message)
    back = load_ome_tiff_stack(path).data
    assert back.dtype == np.dtype(stored) and back.dtype.isnative
    np.testing.assert_array_equal(back, values)
    notes = load_ome_tiff_stack(path).provenance["export_notes"]
    assert any(n.startswith("big-endian") for n in notes)


def test_single_frame_reads_back_as_one_frame(tmp_path: Path) -> None:
    stack = make_sample_stack(n_frames=1)
    [path] = save_ome_tiff_stack(tmp_path / "s", stack)
    back = load_ome_tiff_stack(path)
    assert back.data.shape == stack.data.shape
    np.testing.assert_array_equal(back.data, stack.data)


def test_channel_name_is_xml_escaped(tmp_path: Path) -> None:
    stack = make_sample_stack()
    stack.channel = 'amp <"A&B">'
    [path] = save_ome_tiff_stack(tmp_path / "s", stack)
    assert read_tiff(path)["channels"][0]["Name"] == 'amp <"A&B">'
    assert load_ome_tiff_stack(path).channel == 'amp <"A&B">'


@pytest.mark.parametrize("px_nm", [1.5, 0.37, 12.0])
def test_resolution_tags_give_the_pixel_size(tmp_path: Path, px_nm: float) -> None:
    # ImageJ and most TIFF readers ignore OME-XML and take the scale from these tags
    stack = make_sample_stack()
    stack.pixel_size_nm = px_nm
    for meta in stack.frame_metadata:
        meta["frame_pixel_size_nm"] = px_nm
    [path] = save_ome_tiff_stack(tmp_path / "s", stack)
    sizes = resolution_tags_nm(path)
    assert len(sizes) == stack.n_frames
    assert sizes == [(pytest.approx(px_nm, rel=1e-6),) * 2] * stack.n_frames


class TestOmeTiffReaderConformance(ReaderConformance):
    """Every door of the ome-tiff reader, on bundles playnano writes."""

    reader_name = "ome-tiff"

    @pytest.fixture
    def samples(self, tmp_path: Path) -> list[Path]:
        return bundle_samples(tmp_path, "tif")
