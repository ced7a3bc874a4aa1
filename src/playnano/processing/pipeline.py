"""The processing pipeline: validate every step first, then run them in order.

Steps are looked up in the filter registry, so builtin steps and plugins are run
alike. Validation is strict: an unknown step or parameter, a value of the wrong type
or out of range fails before any data is touched (playnano 0.5.0 ran such steps with
their defaults).

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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.errors import (
    AmbiguousFormatError,
    OptionError,
    PlaynanoError,
    ProcessingError,
    UnknownFormatError,
)
from playnano.lazy import is_lazy
from playnano.plugins.options import resolve_options
from playnano.plugins.registry import BUILTIN_DIST
from playnano.processing.lazy_steps import aligned_block, map_step, refuse_stack_steps
from playnano.processing.parsing import Step, load_processing_file, parse_steps
from playnano.processing.spec import FilterSpec, as_spec, is_required
from playnano.processing.stack_ops import ensure_raw_snapshot, frozen
from playnano.provenance import make_json_safe, record_step

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

__all__ = [
    "ProcessingPipeline",
    "ResolvedStep",
    "Step",
    "load_processing_file",
    "parse_steps",
    "run_pipeline",
    "validate_steps",
]

Progress = Callable[[int, int, str], None]
StepLike = Step | str | tuple[str, Mapping[str, Any]]


@dataclass(frozen=True)
class ResolvedStep:
    """A validated step: its FilterSpec and every parameter's value.

    Parameters
    ----------
    name : str
        The step's canonical name.
    spec : FilterSpec
        What runs.
    params : dict
        Every option of the step with the value used (defaults filled in).
    plugin : str
        Distribution that provides the step.
    source : str
        Where the step was requested (for error messages).
    """

    name: str
    spec: FilterSpec
    params: dict[str, Any]
    plugin: str
    source: str


def _as_step(raw: StepLike, position: int) -> Step:
    if isinstance(raw, Step):
        return raw if raw.source else Step(raw.name, raw.params, f"step {position}")
    if isinstance(raw, str):
        return Step(raw, {}, f"step {position}")
    if (
        isinstance(raw, tuple)
        and len(raw) == 2
        and isinstance(raw[0], str)
        and isinstance(raw[1], Mapping)
    ):
        return Step(raw[0], dict(raw[1]), f"step {position}")
    raise ProcessingError(
        f"step {position}: expected a Step, a name or (name, params); got {raw!r}"
    )


def validate_steps(
    steps: str | Iterable[StepLike | ResolvedStep],
) -> list[ResolvedStep]:
    """Resolve every step name and check every parameter, before anything runs.

    Parameters
    ----------
    steps : str or iterable
        A step string in the CLI syntax (``"remove_plane;gaussian_filter:sigma=2"``),
        or :class:`Step` objects, step names, ``(name, params)`` tuples (0.5.0's
        parsed form) or already resolved steps.

    Returns
    -------
    list of ResolvedStep

    Raises
    ------
    ProcessingError
        For an unknown or ambiguous step name (with a "did you mean").
    OptionError
        For an unknown parameter (with a "did you mean"), a value of the wrong type
        or out of range, or a missing required parameter.
    """
    from playnano.plugins.registry import filters

    registry = filters()
    if isinstance(steps, str):
        steps = parse_steps(steps)
    resolved: list[ResolvedStep] = []
    for position, raw in enumerate(steps, start=1):
        if isinstance(raw, ResolvedStep):
            resolved.append(raw)
            continue
        step = _as_step(raw, position)
        try:
            entry = registry.resolve(step.name)
        except (UnknownFormatError, AmbiguousFormatError) as exc:
            message = str(exc)
            head, sep, tail = step.name.partition(":")
            if sep and head.lower() in registry.names():
                message = (
                    f"unknown filter {step.name!r}; to give {head} a parameter, "
                    f"write {head}:{tail}=value"
                )
            raise ProcessingError(f"{step.source}: {message}") from None
        spec = as_spec(entry.obj, entry.plugin.version)
        owner = f"{step.source} ({spec.name})"
        params = resolve_options(spec.options, step.params, owner=owner)
        missing = [
            o.name for o in spec.options if is_required(o) and o.name not in step.params
        ]
        if missing:
            raise OptionError(f"{owner}: missing required option {', '.join(missing)}")
        if spec.check is not None:
            try:
                spec.check(params)
            except ValueError as exc:
                raise OptionError(f"{owner}: {exc}") from None
        resolved.append(
            ResolvedStep(spec.name, spec, params, entry.plugin.dist, step.source)
        )
    return resolved


# ---------------------------------------------------------------- running
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


#: Bytes of float64 work a batch step handles at once (bounds its temporaries).
BATCH_BYTES = 64 * 2**20


def _check_result(
    result: np.ndarray, shape: tuple[int, ...], kind: str, label: str, where: str
) -> None:
    if result.shape != shape:
        raise ProcessingError(
            f"{label} returned shape {result.shape} for {where}; expected {shape}"
        )
    if kind == "mask" and result.dtype != np.bool_:
        raise ProcessingError(
            f"{label} returned {result.dtype} for {where}; a mask must be boolean"
        )
    if kind == "filter" and not (
        np.issubdtype(result.dtype, np.number) and not np.iscomplexobj(result)
    ):
        raise ProcessingError(
            f"{label} returned {result.dtype} for {where}; expected real numbers"
        )


def _map_frames(
    step: ResolvedStep,
    data: np.ndarray,
    mask: np.ndarray | None,
    label: str,
    offset: int = 0,
) -> np.ndarray:
    """Apply a per-frame filter or mask step to every frame, into one new array.

    While no mask is active a step with a ``batch_func`` handles blocks of frames
    at once. A plugin's function gets a copy of each frame (it may write into its
    input; builtin steps never do, so they get views of ``data``). Builtin steps
    run on every core (:func:`playnano.io.codec.threads`): each block or frame is
    computed as it would be alone, so the result is the same for any thread count.
    ``offset`` is the index of ``data``'s first frame in the stack (for errors).
    """
    from playnano.io import codec
    from playnano.progress_ticks import STEP, frames_done

    spec = step.spec
    masked_func = spec.masked_func if mask is not None else None
    batch = spec.batch_func if masked_func is None else None
    own = step.plugin == BUILTIN_DIST
    t, h, w = data.shape
    if t == 0:  # AFMImageStack refuses empty data; kept for plain arrays
        raise ProcessingError(f"{label}: the stack has no frames")

    def one(j: int) -> np.ndarray:
        frame = data[j] if own else data[j].copy()
        try:
            if masked_func is not None and mask is not None:
                result = np.asarray(masked_func(frame, mask[j], **step.params))
            else:
                result = np.asarray(spec.func(frame, **step.params))
        except PlaynanoError as exc:
            raise ProcessingError(
                f"{label} failed on frame {j + offset}: {exc}"
            ) from exc
        except Exception as exc:
            raise ProcessingError(
                f"{label} failed on frame {j + offset}: {type(exc).__name__}: {exc}"
            ) from exc
        _check_result(result, (h, w), spec.kind, label, f"frame {j + offset}")
        return result

    def run(start: int, stop: int) -> np.ndarray:
        if batch is None:
            return np.stack([one(j) for j in range(start, stop)])
        frames = data[start:stop] if own else data[start:stop].copy()
        try:
            result = np.asarray(batch(frames, **step.params))
        except Exception:  # redo frame by frame: the error names the frame
            result = np.stack([one(j) for j in range(start, stop)])
        where = f"frames {start + offset}-{stop - 1 + offset}"
        _check_result(result, (stop - start, h, w), spec.kind, label, where)
        return result

    # a batch block is BATCH_BYTES of float64 work; per-frame steps go a few at a time
    block = max(1, BATCH_BYTES // (8 * h * w)) if batch is not None else 8
    first = min(t, block if batch is not None else 1)
    head = run(0, first)  # its dtype sizes the output
    out = np.empty((t, h, w), dtype=head.dtype)
    out[:first] = head
    del head
    frames_done(first, STEP)
    starts = range(first, t, block)

    def fill(start: int) -> int:
        stop = min(t, start + block)
        out[start:stop] = run(start, stop)
        return stop - start

    for n in codec.ordered_map(fill, starts, None if own else 1):
        frames_done(n, STEP)
    return out


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
