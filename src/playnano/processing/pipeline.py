"""The processing pipeline: validate every step first, then run them in order.

Steps are checked by :func:`~playnano.processing.validate.validate_steps` before any
data is touched; per-frame steps run through the kernel in
:mod:`playnano.processing.apply`.

Running a pipeline on an AFMImageStack:

- stores the unprocessed data once as ``processed["raw"]``;
- a ``filter`` step maps every frame; its output becomes ``data`` and is kept as
  ``processed["step_<i>_<name>"]``;
- a ``mask`` step stores ``masks["step_<i>_<name>"]`` and makes it the active mask.
  While a mask is active, filters with a masked variant (the levelling filters) fit
  only the background, ``~mask``. A mask step while another is active ORs the two
  (0.5.0 semantics) and stores the union; ``clear`` ends the active mask;
- a ``stack`` step edits the whole stack (frame count or shape may change; masks,
  the active one included, follow the frames); its result is kept like a filter's;
- every step is recorded in the provenance with its parameters (defaults included),
  version, time and duration.

Step numbers ``<i>`` start at 1 and continue across runs on one stack. If a step
fails, the stack is restored to its state before the run.

Nothing is copied to keep layers apart: the raw snapshot is a view of the loaded
array, ``data`` is the last layer itself, and every stored layer and mask is
read-only (``flags.writeable`` is False), so an in-place edit raises instead of
changing a stored result. Copy an array (``stack.data.copy()``) to edit it.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.errors import PlaynanoError, ProcessingError
from playnano.lazy import is_lazy
from playnano.plugins.registry import BUILTIN_DIST
from playnano.processing.lazy_steps import aligned_block, map_step, refuse_stack_steps
from playnano.processing.parsing import Step
from playnano.processing.snapshot import ensure_raw_snapshot, frozen
from playnano.processing.validate import ResolvedStep, StepLike, validate_steps
from playnano.provenance import make_json_safe, record_step

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

__all__ = ["ProcessingPipeline", "run_pipeline"]

Progress = Callable[[int, int, str], None]


class _Checkpoint:
    """References to a stack's state, to undo a failed run (no array copies)."""

    def __init__(self, stack: AFMImageStack) -> None:
        proc = stack.provenance.setdefault("processing", {})
        proc.setdefault("steps", [])
        proc.setdefault("keys_by_name", {})
        self.data = stack.data
        self.frame_metadata = copy.deepcopy(stack.frame_metadata)
        self.processed = dict(stack.processed)
        self.masks = dict(stack.masks)
        self.state_backups = dict(stack.state_backups)
        self.n_steps = len(proc["steps"])
        self.keys_by_name = copy.deepcopy(proc["keys_by_name"])

    def restore(self, stack: AFMImageStack) -> None:
        stack.data = self.data
        stack.frame_metadata = self.frame_metadata
        stack.processed = self.processed
        stack.masks = self.masks
        stack.state_backups = self.state_backups
        proc = stack.provenance["processing"]
        del proc["steps"][self.n_steps :]
        proc["keys_by_name"] = self.keys_by_name


_KEY_RE = re.compile(r"^step_(\d+)_")


def _last_index(stack: AFMImageStack) -> int:
    """Highest step number used so far (keys and provenance), 0 for a fresh stack."""
    used = [len(stack.provenance["processing"]["steps"])]
    for key in (*stack.processed, *stack.masks):
        if match := _KEY_RE.match(key):
            used.append(int(match[1]))
    return max(used)


def run_pipeline(
    stack: AFMImageStack,
    steps: str | Iterable[StepLike | ResolvedStep],
    progress: Progress | None = None,
) -> AFMImageStack:
    """Validate ``steps``, then run them on ``stack`` in order, recording each.

    Parameters
    ----------
    stack : AFMImageStack
        Edited in place (see the module documentation for what is stored where).
    steps : iterable
        Steps as accepted by :func:`validate_steps`.
    progress : callable, optional
        ``progress(step_number, n_steps, name)``, called before each step with the
        1-based position in ``steps``.

    Returns
    -------
    AFMImageStack
        ``stack`` itself.

    Raises
    ------
    ProcessingError, OptionError
        From validation (nothing has run), or a failing step (the stack is restored
        to its state before the run).
    """
    resolved = validate_steps(steps)
    if is_lazy(stack.data):  # frame-wise steps only, in blocks whose batches line up
        refuse_stack_steps(resolved)
        stack.data.set_block(
            aligned_block(stack.data.block, stack.data.shape, resolved)
        )
    checkpoint = _Checkpoint(stack)
    try:
        _run(stack, resolved, progress)
    except BaseException:
        checkpoint.restore(stack)
        raise
    return stack


def _run(
    stack: AFMImageStack, resolved: list[ResolvedStep], progress: Progress | None
) -> None:
    ensure_raw_snapshot(stack)
    first = _last_index(stack) + 1
    active: str | None = None
    for position, step in enumerate(resolved):
        index = first + position
        kind, name = step.spec.kind, step.name
        label = f"step {index} ({name})"
        if not step.source.startswith("step "):
            label += f" from {step.source}"
        if progress is not None:
            progress(position + 1, len(resolved), name)
        extra: dict[str, Any] = {"plugin": step.plugin}
        key = f"step_{index}_{name}"
        output_key: str | None = key
        started = time.perf_counter()
        if kind == "clear":
            extra["cleared_mask"] = active
            active, output_key = None, None
        elif kind == "mask":
            prev = stack.masks[active] if active is not None else None
            if active is not None:
                extra["combined_with"] = active
            stack.masks[key] = map_step(step, stack.data, None, label, prev)
            active = key
        elif kind == "filter":
            mask = stack.masks[active] if active is not None else None
            if mask is not None and step.spec.masked_func is not None:
                extra["mask_key"] = active
            stack.data = map_step(step, stack.data, mask, label)
            stack.processed[key] = stack.data
        else:  # stack
            if step.plugin != BUILTIN_DIST and not stack.data.flags.writeable:
                stack.data = stack.data.copy()  # a plugin may edit it in place
            try:
                details = step.spec.func(stack, **step.params)
            except PlaynanoError as exc:
                raise ProcessingError(f"{label} failed: {exc}") from exc
            except Exception as exc:
                raise ProcessingError(
                    f"{label} failed: {type(exc).__name__}: {exc}"
                ) from exc
            if details:
                extra["details"] = details
            stack.data = frozen(stack.data)
            stack.processed[key] = stack.data
            if active is not None and active not in stack.masks:
                active = None
        rec = record_step(
            stack,
            index=index,
            name=name,
            params=step.params,
            version=step.spec.version,
            kind=kind,
            output_key=output_key,
            duration_s=time.perf_counter() - started,
        )
        rec.update(make_json_safe(extra))


class ProcessingPipeline:
    """Build a list of steps and run them (playnano 0.5.0's API).

    ``ProcessingPipeline(stack).add_filter("remove_plane").add_mask(
    "mask_threshold", threshold=1.0).add_filter("zero_median").clear_mask().run()``
    """

    def __init__(self, stack: AFMImageStack) -> None:
        self.stack = stack
        self.steps: list[Step] = []

    def _add(self, name: str, params: Mapping[str, Any]) -> ProcessingPipeline:
        self.steps.append(Step(name, dict(params), f"step {len(self.steps) + 1}"))
        return self

    def add_filter(self, filter_name: str, **kwargs: Any) -> ProcessingPipeline:
        """Add a step (a filter, or any other step) with its parameters."""
        return self._add(filter_name, kwargs)

    def add_mask(self, mask_name: str, **kwargs: Any) -> ProcessingPipeline:
        """Add a mask step; it is ORed with a mask already active."""
        return self._add(mask_name, kwargs)

    def clear_mask(self) -> ProcessingPipeline:
        """Add a step that ends the active mask."""
        return self._add("clear", {})

    def validate(self) -> list[ResolvedStep]:
        """Check every step now (see :func:`validate_steps`)."""
        return validate_steps(self.steps)

    def run(self, progress: Progress | None = None) -> np.ndarray:
        """Run the steps on the stack and return the processed data (``stack.data``)."""
        run_pipeline(self.stack, self.steps, progress)
        return self.stack.data
