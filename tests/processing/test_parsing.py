"""The 0.5.0 step string and processing files (YAML/JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from playnano.errors import ProcessingError
from playnano.processing.parsing import (
    Step,
    load_processing_file,
    parse_steps,
    parse_value,
)


def as_pairs(steps: list[Step]) -> list[tuple[str, dict]]:
    return [(s.name, s.params) for s in steps]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("remove_plane", [("remove_plane", {})]),
        (
            "remove_plane;gaussian_filter:sigma=2;mask_threshold:threshold=1.5",
            [
                ("remove_plane", {}),
                ("gaussian_filter", {"sigma": 2}),
                ("mask_threshold", {"threshold": 1.5}),
            ],
        ),
        (
            " remove_plane ; gaussian_filter : sigma = 2.0 , truncate=4 ;; ",
            [("remove_plane", {}), ("gaussian_filter", {"sigma": 2.0, "truncate": 4})],
        ),
        ("remove_plane:", [("remove_plane", {})]),
        ("acme:blur", [("acme:blur", {})]),
        ("acme:blur:radius=2", [("acme:blur", {"radius": 2})]),
        (
            "drop_frames:indices_to_drop=[1, 2,3]",
            [("drop_frames", {"indices_to_drop": [1, 2, 3]})],
        ),
        ("x:a=[]", [("x", {"a": []})]),
        ("x:a=[1,[2,3]],b=c", [("x", {"a": [1, [2, 3]], "b": "c"})]),
        ("x:s='a;b,c'", [("x", {"s": "a;b,c"})]),
        ('x:s="1e3"', [("x", {"s": "1e3"})]),
        ("", []),
        (" ; ", []),
    ],
)
def test_parse_steps(text: str, expected: list) -> None:
    assert as_pairs(parse_steps(text)) == expected


def test_a_parameter_without_value_reads_as_a_plugin_name() -> None:
    # "dist:name" picks a plugin's step; validation explains the mix-up
    assert as_pairs(parse_steps("gaussian_filter:sigma")) == [
        ("gaussian_filter:sigma", {})
    ]


def test_parse_steps_numbers_the_steps() -> None:
    assert [s.source for s in parse_steps("a; ;b")] == ["step 1", "step 2"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1e-3", 1e-3),
        ("2.5E+2", 250.0),
        ("-.5", -0.5),
        ("3.", 3.0),
        ("+7", 7),
        ("-12", -12),
        ("None", None),
        ("null", None),
        ("true", True),
        ("False", False),
        ("[1,2]", [1, 2]),
        ("[1.5, none, 'a']", [1.5, None, "a"]),
        ("fft_cross_correlation", "fft_cross_correlation"),
        ("'quoted text'", "quoted text"),
        ("nan", "nan"),
        ("1e", "1e"),
    ],
)
def test_parse_value(text: str, value: object) -> None:
    out = parse_value(text)
    assert out == value and type(out) is type(value)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("gaussian_filter:sigma=1,order", "has no '=value'"),
        ("gaussian_filter sigma=2", "expected name:key=value"),
        ("gaussian_filter:sigma=", "empty value"),
        ("gaussian_filter:sigma=1,sigma=2", "given twice"),
        ("gaussian_filter:sigma=1,,order=2", "empty parameter"),
        ("gaussian_filter:1x=2", "bad parameter name"),
        ("bad name!:a=1", "bad step name"),
        (":a=1", "bad step name"),
        ("x:a=[1,2", "unmatched '\\['"),
        ("x:a=1]", "unmatched '\\]'"),
        ("x:a='abc", "unterminated quote"),
        ("x:a=b=c", "malformed value"),
        ("x:a=[1,,2]", "empty value"),
    ],
)
def test_parse_steps_rejects_malformed_text(text: str, match: str) -> None:
    with pytest.raises(ProcessingError, match=match):
        parse_steps(text)


def test_parse_steps_needs_text() -> None:
    with pytest.raises(ProcessingError, match="must be text"):
        parse_steps(None)  # type: ignore[arg-type]


YAML = """\
filters:
  - name: remove_plane
  - name: gaussian_filter
    sigma: 2.0
  - name: mask_threshold
    threshold: 1e-3
  - clear
"""


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_load_processing_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"proc{suffix}"
    if suffix == ".json":
        path.write_text(
            json.dumps(
                {
                    "filters": [
                        {"name": "remove_plane"},
                        {"name": "gaussian_filter", "sigma": 2.0},
                        {"name": "mask_threshold", "threshold": "1e-3"},
                        "clear",
                    ]
                }
            )
        )
    else:
        path.write_text(YAML)
    steps = load_processing_file(path)
    assert [s.name for s in steps] == [
        "remove_plane",
        "gaussian_filter",
        "mask_threshold",
        "clear",
    ]
    assert steps[1].params == {"sigma": 2.0}
    assert steps[2].params == {"threshold": "1e-3"}  # YAML 1.1 reads 1e-3 as text
    assert steps[1].source == f"proc{suffix}: filters[1]"


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        (
            "bad.yaml",
            "filters: [remove_plane\n  - x: :",
            r"bad\.yaml: not valid YAML \(line",
        ),
        ("bad.json", '{"filters": [}', r"bad\.json: not valid JSON \(line 1"),
        ("nofilters.yaml", "steps: []\n", "top-level 'filters:'"),
        ("scalar.yaml", "just text\n", "top-level 'filters:'"),
        ("notlist.yaml", "filters: remove_plane\n", "must be a list"),
        ("noname.yaml", "filters:\n  - sigma: 2\n", r"filters\[0\]: each step needs"),
    ],
)
def test_bad_processing_files_name_the_file(tmp_path: Path, name, text, match) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ProcessingError, match=match):
        load_processing_file(path)


def test_missing_or_unreadable_processing_file(tmp_path: Path) -> None:
    with pytest.raises(ProcessingError, match="not found"):
        load_processing_file(tmp_path / "absent.yaml")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ProcessingError, match="cannot read"):
        load_processing_file(binary)
