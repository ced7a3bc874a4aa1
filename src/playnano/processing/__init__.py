"""Processing: per-frame filters, masks, whole-stack operations and the pipeline.

The builtin steps are registered through the ``playnano.filters`` entry point (and,
without package metadata, through :mod:`playnano.builtins`), exactly like plugins.
Heavy modules (scipy) load only when a step runs or this package's names are used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "FilterSpec": "playnano.plugins.step",
    "legacy_filter": "playnano.plugins.step",
    "Step": "playnano.processing.parsing",
    "parse_steps": "playnano.processing.parsing",
    "load_processing_file": "playnano.processing.parsing",
    "ResolvedStep": "playnano.processing.validate",
    "ProcessingPipeline": "playnano.processing.pipeline",
    "validate_steps": "playnano.processing.validate",
    "run_pipeline": "playnano.processing.pipeline",
}

__all__ = [
    "FilterSpec",
    "ProcessingPipeline",
    "ResolvedStep",
    "Step",
    "legacy_filter",
    "load_processing_file",
    "parse_steps",
    "run_pipeline",
    "validate_steps",
]

if TYPE_CHECKING:
    from playnano.plugins.step import FilterSpec, legacy_filter
    from playnano.processing.parsing import Step, load_processing_file, parse_steps
    from playnano.processing.pipeline import ProcessingPipeline, run_pipeline
    from playnano.processing.validate import ResolvedStep, validate_steps


def __getattr__(name: str) -> Any:
    """Import the re-exported names on first use (keeps ``import playnano`` light)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'playnano.processing' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
