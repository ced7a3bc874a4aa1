"""The shipped JSON Schemas agree with the layouts the writers and readers use."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from playnano.formats.h5 import layout as h5_layout
from playnano.formats.npz import layout as npz_layout
from playnano.schemas import NAMES, load_schema, validate


@pytest.mark.parametrize("name", NAMES)
def test_every_schema_ships_and_is_json(name: str) -> None:
    text = resources.files("playnano.schemas").joinpath(f"{name}.schema.json")
    schema = json.loads(text.read_text("utf-8"))
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["$id"] == f"urn:playnano:schemas:{name}.schema.json"


def test_npz_schema_names_every_member_of_the_layout() -> None:
    schema = load_schema("npz-bundle")
    assert set(schema["required"]) == set(npz_layout.REQUIRED)
    named = set(schema["properties"])
    fixed = {npz_layout.DATA, npz_layout.TIMESTAMPS, npz_layout.UNITS}
    fixed |= set(npz_layout.SCALARS) | set(npz_layout.TEXTS)
    assert named == fixed
    for member in schema["properties"].values():
        assert member["description"]


def test_h5_schema_names_every_dataset_and_attribute_of_the_layout() -> None:
    schema = load_schema("h5-bundle")
    want = {f"/{k}" for k in h5_layout.REQUIRED}
    want |= {f"@{a}" for a in h5_layout.REQUIRED_ATTRS}
    assert set(schema["required"]) == want
    assert f"@{h5_layout.VERSION_KEY}" in schema["properties"]
    assert f"/{h5_layout.TIMESTAMPS}" in schema["properties"]


def test_validator_reports_each_departure_with_its_place() -> None:
    schema = load_schema("units")
    assert (
        validate({"data": "nm", "timestamps": "s", "pixel_size_nm": "nm"}, schema, "u")
        == []
    )
    problems = validate({"data": 3, "timestamps": "ms"}, schema, "u")
    assert problems == [
        "u has no 'pixel_size_nm'",
        "u.data is int; expected string",
        "u.timestamps is 'ms'; expected 's'",
    ]
