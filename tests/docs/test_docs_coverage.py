"""The user guide names every builtin format, reader and processing step, with options.

A format, step or option added to the code without a line in the docs fails here.
"""

from __future__ import annotations

import pytest

from playnano.plugins.registry import exporters, filters, readers
from playnano.plugins.step import as_spec
from tests.docs._blocks import DOCS


def _page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _missing(text: str, tokens: list[str]) -> list[str]:
    return [t for t in tokens if f"``{t}``" not in text]


def test_every_builtin_format_and_option_is_on_the_exporting_page() -> None:
    text = _page("exporting.rst")
    entries = [e for e in exporters().entries() if e.plugin.builtin]
    assert entries
    tokens = [t for e in entries for t in (e.name, *e.aliases, e.obj.suffix)]
    tokens += [o.name for e in entries for o in e.obj.options]
    assert _missing(text, tokens) == []


def test_every_builtin_reader_is_on_the_reading_page() -> None:
    text = _page("reading.rst")
    entries = [e for e in readers().entries() if e.plugin.builtin]
    assert entries
    assert _missing(text, [t for e in entries for t in (e.name, *e.aliases)]) == []


def test_every_builtin_step_and_option_is_on_the_processing_page() -> None:
    text = _page("processing.rst")
    specs = [as_spec(e.obj) for e in filters().entries() if e.plugin.builtin]
    assert specs
    tokens = [t for s in specs for t in (s.name, *s.aliases)]
    tokens += [o.name for s in specs for o in s.options]
    assert _missing(text, tokens) == []


@pytest.mark.parametrize(
    "variable", ["PLAYNANO_DISABLE_PLUGINS", "PLAYNANO_STRICT_PLUGINS"]
)
def test_plugin_environment_variables_are_documented(variable: str) -> None:
    from playnano.plugins import registry

    assert variable in {registry.DISABLE_ENV, registry.STRICT_ENV}
    for page in ("plugins.rst", "cli.rst"):
        assert f"``{variable}" in _page(page), page
