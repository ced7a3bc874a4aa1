"""One input to its outputs: the plan, and the one executor every front end uses.

:func:`plan_run` turns :class:`RunSettings` and an input (a path, or a stack in
memory) into a checked :class:`Plan`; :func:`execute` carries a plan out (read,
process, write, with threads, side-by-side formats, progress, Ctrl-C and clean-up).
``playnano process``, each ``playnano batch`` task (:func:`run_one`), the napari
widget and the Python API (:func:`playnano.export`,
:func:`playnano.io.export_data.export_bundles`) are thin front ends over the two.

Where each rule lives: names in :mod:`~playnano.run.names`, formats and their
options in :mod:`~playnano.run.formats`, settings checks in
:meth:`RunSettings.check`, what the input's header says in
:mod:`~playnano.run.header`, blocks or memory in :mod:`~playnano.run.read`, every
check before reading in :mod:`~playnano.run.plan`, writing in
:mod:`~playnano.run.write`.
"""

from __future__ import annotations

from playnano.run.executor import (
    ExportResult,
    Progress,
    execute,
    export_to,
    paths_or_raise,
)
from playnano.run.names import base_name, make_stem, output_stem
from playnano.run.plan import Output, Plan, plan_run
from playnano.run.read import read_input, use_blocks
from playnano.run.settings import RunSettings, step_sources, steps_as_plain
from playnano.run.task import run_one

__all__ = [
    "ExportResult",
    "Output",
    "Plan",
    "Progress",
    "RunSettings",
    "base_name",
    "execute",
    "export_to",
    "make_stem",
    "output_stem",
    "paths_or_raise",
    "plan_run",
    "read_input",
    "run_one",
    "step_sources",
    "steps_as_plain",
    "use_blocks",
]
