"""JSON Schemas of playnano's bundle specification, and a small validator.

``frame_metadata``, ``provenance`` and ``units`` describe the JSON documents a
bundle stores; ``npz-bundle`` and ``h5-bundle`` describe a bundle's member table
(``{name: {"dtype", "shape", "units"}}``), with each member's unit and meaning as
annotations; ``info`` describes ``playnano info --json``. The documentation page
``bundle-format`` explains them. :func:`validate` understands the subset of JSON
Schema (draft 2020-12) these files use, so no extra dependency is needed.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

NAMES = ("frame_metadata", "provenance", "units", "npz-bundle", "h5-bundle", "info")

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema ``playnano/schemas/<name>.schema.json``."""
    text = resources.files(__name__).joinpath(f"{name}.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _is(value: Any, kind: str) -> bool:
    if isinstance(value, bool) and kind in {"integer", "number"}:
        return False
    return isinstance(value, _TYPES[kind])


def validate(doc: Any, schema: dict[str, Any], where: str) -> list[str]:
    """Every way ``doc`` departs from ``schema``, one line each naming the place."""
    out: list[str] = []
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is(doc, k) for k in kinds):
            return [f"{where} is {type(doc).__name__}; expected {' or '.join(kinds)}"]
    if "const" in schema and doc != schema["const"]:
        out.append(f"{where} is {doc!r}; expected {schema['const']!r}")
    if "enum" in schema and doc not in schema["enum"]:
        out.append(f"{where} is {doc!r}; expected one of {schema['enum']}")
    if "anyOf" in schema and all(validate(doc, s, where) for s in schema["anyOf"]):
        out.append(f"{where} matches none of the allowed forms")
    pattern = schema.get("pattern")
    if isinstance(doc, str) and pattern and not re.search(pattern, doc):
        out.append(f"{where} is {doc!r}; expected to match {schema['pattern']}")
    if _is(doc, "number"):
        if "minimum" in schema and doc < schema["minimum"]:
            out.append(f"{where} is {doc}; expected at least {schema['minimum']}")
        if "exclusiveMinimum" in schema and doc <= schema["exclusiveMinimum"]:
            out.append(f"{where} is {doc}; expected > {schema['exclusiveMinimum']}")
    if isinstance(doc, list):
        if len(doc) < schema.get("minItems", 0):
            out.append(f"{where} has {len(doc)} items; expected {schema['minItems']}+")
        if len(doc) > schema.get("maxItems", len(doc)):
            out.append(f"{where} has {len(doc)} items; at most {schema['maxItems']}")
        if "items" in schema:
            for i, item in enumerate(doc):
                out += validate(item, schema["items"], f"{where}[{i}]")
    if isinstance(doc, dict):
        out += _validate_object(doc, schema, where)
    return out


def _validate_object(
    doc: dict[str, Any], schema: dict[str, Any], where: str
) -> list[str]:
    out = [
        f"{where} has no {key!r}"
        for key in schema.get("required", ())
        if key not in doc
    ]
    props = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    extra = schema.get("additionalProperties", True)
    for key, value in doc.items():
        place = f"{where}.{key}"
        matched = [s for p, s in patterns.items() if re.search(p, key)]
        if key in props:
            out += validate(value, props[key], place)
        for sub in matched:
            out += validate(value, sub, place)
        if key not in props and not matched:
            if extra is False:
                out.append(f"{where} has an unexpected entry {key!r}")
            elif isinstance(extra, dict):
                out += validate(value, extra, place)
    return out
