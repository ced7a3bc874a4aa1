"""Every builtin reader runs the reader conformance kit somewhere in the suite.

A reader added to the builtin table without a ``ReaderConformance`` subclass
(``reader_name = "..."``) fails here: every door of every reader is tried with
the hostile corpus, not only the readers someone remembered.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

from playnano.plugins.registry import readers
from playnano.testing import ReaderConformance

TESTS = Path(__file__).resolve().parents[1]


def _conformance_names() -> set[str]:
    names = set()
    for path in TESTS.rglob("test_*.py"):
        if "ReaderConformance" not in path.read_text(encoding="utf-8"):
            continue
        module = ".".join(path.relative_to(TESTS.parent).with_suffix("").parts)
        for _, obj in inspect.getmembers(importlib.import_module(module)):
            if (
                inspect.isclass(obj)
                and issubclass(obj, ReaderConformance)
                and obj is not ReaderConformance
            ):
                names.add(obj.reader_name)
    return names


def test_every_builtin_reader_has_a_conformance_class() -> None:
    builtin = {e.name for e in readers().entries() if e.plugin.builtin}
    assert len(builtin) >= 10
    missing = builtin - _conformance_names()
    assert not missing, f"no ReaderConformance subclass for {sorted(missing)}"
