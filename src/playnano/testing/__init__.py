"""Conformance tests and fixtures for plugin authors: exporters and readers.

Subclass :class:`ExporterConformance` for an exporter and :class:`ReaderConformance`
for a reader (see each for the few lines a subclass needs); the builtin formats and
readers pass the same classes. :func:`make_sample_stack`, :func:`lazy_copy`,
:func:`assert_stacks_equal` and :func:`strict_json` help with your own tests.
"""

from playnano.testing.exporters import ExporterConformance
from playnano.testing.readers import ReaderConformance
from playnano.testing.stacks import (
    HEAVY_MODULES,
    SAMPLE_SOURCE,
    ArrayFrames,
    FramesSeen,
    assert_stacks_equal,
    lazy_copy,
    make_sample_stack,
    original_source,
    strict_json,
)

__all__ = [
    "HEAVY_MODULES",
    "SAMPLE_SOURCE",
    "ArrayFrames",
    "ExporterConformance",
    "FramesSeen",
    "ReaderConformance",
    "assert_stacks_equal",
    "lazy_copy",
    "make_sample_stack",
    "original_source",
    "strict_json",
]
