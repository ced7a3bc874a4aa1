"""One input to its outputs: the code path ``playnano process`` and ``batch`` share."""

from __future__ import annotations

from playnano.run.read import read_input, use_blocks
from playnano.run.task import (
    RunSettings,
    base_name,
    convert_stack,
    processes,
    run_one,
    steps_as_plain,
)

__all__ = [
    "RunSettings",
    "base_name",
    "convert_stack",
    "processes",
    "read_input",
    "run_one",
    "steps_as_plain",
    "use_blocks",
]
