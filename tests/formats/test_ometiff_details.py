"""The OME-TIFF reader in detail: what it takes from OME-XML and from playnano's own
tag, and each refusal word for word, through both doors (in memory and lazily).

Files are written by tifffile's own OME writer with the tags playnano writes
(65000 provenance, 65002 playnano's record), each test changing one thing.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from playnano.errors import ReadError
from playnano.formats.ometiff.reader import (
    load_ome_tiff_stack,
    load_ome_tiff_stack_lazy,
)

FRAMES = np.arange(3 * 4 * 5, dtype=np.float32).reshape(3, 4, 5)
DOORS = [load_ome_tiff_stack, load_ome_tiff_stack_lazy]


def _write(
    path: Path,
    data: np.ndarray = FRAMES,
    *,
    axes: str = "TYX",
    ome: dict | None = None,
    own: object = None,
    provenance: str | None = None,
    plain: bool = False,
) -> Path:
    """An OME-TIFF (or, ``plain``, a TIFF without OME-XML) with playnano's tags."""
    tags = []
    if own is not None:
        text = own if isinstance(own, str) else json.dumps(own)
        tags.append((65002, "s", 0, text, True))
    if provenance is not None:
        tags.append((65000, "s", 0, provenance, True))
    if plain:
        tifffile.imwrite(path, data, extratags=tags, photometric="minisblack",
                         metadata=None)  # fmt: skip
        return path
    metadata = {"axes": axes, "PhysicalSizeX": 0.0015, "PhysicalSizeXUnit": "µm",
                **(ome or {})}  # fmt: skip
    metadata = {k: v for k, v in metadata.items() if v is not None}
    tifffile.imwrite(path, data, ome=True, metadata=metadata, extratags=tags)
    return path


def _refusal(door, path: Path) -> str:
    with pytest.raises(ReadError) as err:
        door(path)
    return str(err.value)


@pytest.mark.parametrize("door", DOORS)
def test_a_stack_one_row_high(tmp_path, door) -> None:
    """Y of size 1 stays: it is one of the frame's two axes."""
    data = FRAMES[:, :1, :]
    with door(_write(tmp_path / "row.ome.tif", data)) as stack:
        assert stack.data.shape == (3, 1, 5)
        np.testing.assert_array_equal(np.asarray(stack.data[:]), data)


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(("axes", "shape"), [("TCYX", (2, 2, 4, 5)),
                                             ("TZYX", (2, 2, 4, 5))])  # fmt: skip
def test_more_than_one_stack_is_refused(tmp_path, door, axes, shape) -> None:
    data = np.zeros(shape, np.float32)
    path = _write(tmp_path / "x.ome.tif", data, axes=axes)
    assert _refusal(door, path) == (
        f"{path}: image axes {axes!r} are not a single-channel stack"
    )


@pytest.mark.parametrize("door", DOORS)
def test_the_channel_when_the_file_names_none(tmp_path, door) -> None:
    path = _write(tmp_path / "x.ome.tif")
    named = _write(tmp_path / "y.ome.tif", own={"channel": "amplitude"})
    for where, channel, expected in ((path, "phase", "phase"),
                                     (path, None, "height_trace"),
                                     (named, "phase", "amplitude")):  # fmt: skip
        with door(where, channel=channel) as stack:
            assert stack.channel == expected


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(
    ("own", "provenance", "message"),
    [
        ("{not json", None, "'tag 65002' is not valid JSON (Expecting property "
         "name enclosed in double quotes: line 1 column 2 (char 1))"),
        ("[1, 2]", None, "tag 65002 is not a JSON object"),
        ({"playnano_format_version": 99}, None, "written by a newer playnano "
         "(format version 99; this one reads up to 1); upgrade playnano to read it"),
        (None, "{not json", "'tag 65000' is not valid JSON (Expecting property "
         "name enclosed in double quotes: line 1 column 2 (char 1))"),
    ],
)  # fmt: skip
def test_playnanos_tags_that_are_not_understood(
    tmp_path, door, own, provenance, message
) -> None:
    path = _write(tmp_path / "x.ome.tif", own=own, provenance=provenance)
    assert _refusal(door, path) == f"{path}: {message}"


@pytest.mark.parametrize("door", DOORS)
def test_a_tiff_with_only_playnanos_tag(tmp_path, door) -> None:
    """No OME-XML: the pixel size comes from playnano's tag; times are unknown."""
    # not named .ome.tif: tifffile would write OME-XML
    path = _write(tmp_path / "x.tif", own={"pixel_size_nm": 2.5}, plain=True)
    with tifffile.TiffFile(path) as tif:
        assert tif.ome_metadata is None
    with door(path) as stack:
        assert stack.pixel_size_nm == 2.5
        assert stack.get_frame_times() == [None, None, None]
        assert [m["frame_pixel_size_nm"] for m in stack.frame_metadata] == [2.5] * 3


@pytest.mark.parametrize("door", DOORS)
def test_no_pixel_size_anywhere(tmp_path, door) -> None:
    path = _write(tmp_path / "x.ome.tif", ome={"PhysicalSizeX": None},
                  own={"playnano_format_version": 1})  # fmt: skip
    assert _refusal(door, path) == f"{path}: has no pixel size (OME PhysicalSizeX)"


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(
    ("own_size", "expected"),
    [
        (1.5 + 1e-12, 1.5 + 1e-12),  # the exact value the XML's µm rounds
        (3.0, 1.5),  # a different value: the OME-XML's stands
        ("2", 1.5),  # not a number: ignored
    ],
)
def test_playnanos_exact_pixel_size_where_the_xml_rounds(
    tmp_path, door, own_size, expected
) -> None:
    path = _write(tmp_path / "x.ome.tif", own={"pixel_size_nm": own_size})
    with door(path) as stack:
        assert stack.pixel_size_nm == expected


@pytest.mark.parametrize("door", DOORS)
def test_a_pixel_size_no_stack_can_have(tmp_path, door) -> None:
    path = _write(tmp_path / "x.ome.tif", ome={"PhysicalSizeX": None},
                  own={"pixel_size_nm": -2.0})  # fmt: skip
    assert _refusal(door, path) == (
        f"{path}: pixel_size_nm must be a positive, finite number; got -2.0"
    )


@pytest.mark.parametrize("door", DOORS)
def test_provenance_that_is_not_a_record(tmp_path, door) -> None:
    path = _write(tmp_path / "x.ome.tif", provenance="[1]")
    assert _refusal(door, path) == f"{path}: provenance is not a JSON object"


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(
    ("ome", "message"),
    [
        ({"PhysicalSizeXUnit": "s"}, "PhysicalSizeXUnit 's' is not a length"),
        ({"PhysicalSizeX": "abc"}, "OME-XML value not understood (could not "
         "convert string to float: 'abc')"),
    ],
)  # fmt: skip
def test_ome_values_not_understood(tmp_path, door, ome, message) -> None:
    path = _write(tmp_path / "x.ome.tif", ome=ome)
    assert _refusal(door, path) == f"{path}: {message}"


def _ome_xml(pixels_attrs: str = 'PhysicalSizeX="0.0015"', inner: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">'
        '<Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYCZT" '
        f'Type="float" SizeX="5" SizeY="4" SizeC="1" SizeZ="1" SizeT="3" '
        f"{pixels_attrs}>"
        f'<TiffData IFD="0" PlaneCount="3"/>{inner}</Pixels></Image></OME>'
    )


def _described(path: Path, xml: str) -> Path:
    """A TIFF whose description is ``xml`` as given (not named .ome.tif, so
    tifffile writes no OME-XML of its own)."""
    tifffile.imwrite(path, FRAMES, description=xml, metadata=None,
                     photometric="minisblack")  # fmt: skip
    with tifffile.TiffFile(path) as tif:
        assert tif.is_ome
    return path


@pytest.mark.parametrize("door", DOORS)
def test_what_ome_planes_and_channels_say(tmp_path, door) -> None:
    """Plane times in their unit, the first plane of a T wins, a plane without
    TheT is T 0, planes without DeltaT or past the frames are passed over; the
    channel's name; the pixel size in µm when no unit is given."""
    planes = (
        '<Channel ID="Channel:0:0" Name="phase" SamplesPerPixel="1"/>'
        '<Plane TheT="1" TheZ="0" TheC="0" DeltaT="250" DeltaTUnit="ms"/>'
        '<Plane TheT="1" DeltaT="9"/>'
        '<Plane DeltaT="0.5"/>'
        '<Plane TheT="2"/>'
        '<Plane TheT="3" DeltaT="7"/>'
    )
    path = _described(tmp_path / "x.tif", _ome_xml(inner=planes))
    with door(path) as stack:
        assert (stack.channel, stack.pixel_size_nm) == ("phase", 1.5)
        assert stack.get_frame_times() == [0.5, 0.25, None]


@pytest.mark.parametrize("door", DOORS)
def test_an_ome_time_unit_not_understood(tmp_path, door) -> None:
    planes = '<Plane TheT="0" DeltaT="1" DeltaTUnit="eon"/>'
    path = _described(tmp_path / "x.tif", _ome_xml(inner=planes))
    assert _refusal(door, path) == f"{path}: OME-XML value not understood ('eon')"


@pytest.mark.parametrize("door", DOORS)
def test_ome_xml_without_pixels(tmp_path, door) -> None:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06">'
        '<Image ID="Image:0"></Image></OME>'
    )
    path = _described(tmp_path / "x.tif", xml)
    assert _refusal(door, path) == f"{path}: OME-XML has no Pixels element"


@pytest.mark.parametrize("door", DOORS)
def test_ome_xml_without_a_channel(tmp_path, door) -> None:
    path = _described(tmp_path / "x.tif", _ome_xml())
    with door(path, channel="phase") as stack:
        assert stack.channel == "phase"
        assert stack.get_frame_times() == [None, None, None]


@pytest.mark.parametrize("door", DOORS)
def test_a_tiff_with_neither_ome_xml_nor_playnanos_tag(tmp_path, door) -> None:
    path = _write(tmp_path / "x.tif", plain=True)
    assert _refusal(door, path) == f"{path}: has no OME-XML metadata; not an OME-TIFF"
