"""``playnano batch``: the one-input code path of :mod:`playnano.run` over many inputs.

:mod:`~playnano.batch.inputs` finds the inputs and plans every output path before any
file is read; :mod:`~playnano.batch.report` keeps ``batch-report.json`` true as tasks
finish; :mod:`~playnano.batch.engine` runs the tasks in-process or on Dask. Dask is
imported only when a batch runs on it.
"""

from __future__ import annotations

from playnano.batch.inputs import Task, discover, plan_tasks
from playnano.batch.report import REPORT_NAME, BatchReport

__all__ = ["REPORT_NAME", "BatchReport", "Task", "discover", "plan_tasks"]
