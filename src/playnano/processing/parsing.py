"""Processing steps from text: the ``--processing`` string and processing files.

Both formats are playnano 0.5.0's. The string is steps separated by ``;``, each a
step name optionally followed by ``:`` and ``key=value`` pairs separated by ``,``::

    remove_plane; gaussian_filter:sigma=2; mask_threshold:threshold=1.5

A file (YAML or JSON) has a ``filters`` list of mappings, each with a ``name`` and
the step's parameters::

    filters:
      - name: remove_plane
      - name: gaussian_filter
        sigma: 2.0
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playnano.errors import ProcessingError

__all__ = ["Step", "load_processing_file", "parse_steps", "parse_value"]

_NAME = r"[A-Za-z0-9][A-Za-z0-9_.+-]*"
_NAME_RE = re.compile(rf"^{_NAME}(:{_NAME})?$")  # optional dist:name
_INT_RE = re.compile(r"^[+-]?\d+$")
_FLOAT_RE = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
_QUOTES = "\"'"


@dataclass(frozen=True)
class Step:
    """One requested processing step, before validation.

    Parameters
    ----------
    name : str
        Step name, alias or ``dist:name`` as the user wrote it.
    params : dict
        Parameters as given (converted and checked by validation).
    source : str
        Where the step came from, for error messages (``"proc.yaml: filters[2]"``).
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    source: str = ""


def _scan(text: str, seps: str) -> list[int]:
    """Indices of ``seps`` characters outside brackets and quotes."""
    found, depth, quote = [], 0, ""
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in _QUOTES:
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unmatched ']' in {text!r}")
        elif ch in seps and depth == 0:
            found.append(i)
    if quote:
        raise ValueError(f"unterminated quote in {text!r}")
    if depth:
        raise ValueError(f"unmatched '[' in {text!r}")
    return found


def _split(text: str, sep: str) -> list[str]:
    cuts = _scan(text, sep)
    bounds = zip([-1, *cuts], [*cuts, len(text)], strict=True)
    return [text[a + 1 : b] for a, b in bounds]


def parse_value(text: str) -> Any:
    """Convert one parameter value from text.

    ``None``/``null`` → None; ``true``/``false`` → bool; integers → int; decimals
    and scientific notation (``1e-3``) → float; ``[a, b]`` → list of values;
    ``"quoted"`` or ``'quoted'`` → the text inside; any other bare word → str.

    Raises
    ------
    ValueError
        For an empty value or stray brackets, quotes or ``=``.
    """
    s = text.strip()
    if not s:
        raise ValueError("empty value")
    if len(s) >= 2 and s[0] in _QUOTES and s[-1] == s[0]:
        if s[0] in s[1:-1]:
            raise ValueError(f"stray quote in {s!r}")
        return s[1:-1]
    if s.startswith("[") and s.endswith("]"):
        _scan(s, "")
        inner = s[1:-1]
        return [] if not inner.strip() else [parse_value(v) for v in _split(inner, ",")]
    low = s.lower()
    if low in ("none", "null"):
        return None
    if low in ("true", "false"):
        return low == "true"
    if _INT_RE.match(s):
        return int(s)
    if _FLOAT_RE.match(s):
        return float(s)
    if any(c in s for c in "[]=\"'"):
        raise ValueError(f"malformed value {s!r}")
    return s


def _parse_segment(segment: str) -> Step:
    equals = _scan(segment, "=")
    head = segment[: equals[0]] if equals else segment
    colons = _scan(head, ":") if equals else []
    if equals and not colons:
        raise ValueError(f"expected name:key=value, got {segment!r}")
    if colons:
        name, params_text = segment[: colons[-1]].strip(), segment[colons[-1] + 1 :]
    else:
        name, params_text = segment.strip().removesuffix(":").strip(), ""
    if not _NAME_RE.match(name):
        raise ValueError(f"bad step name {name!r}")
    params: dict[str, Any] = {}
    for pair in _split(params_text, ","):
        if not pair.strip():
            if params_text.strip():
                raise ValueError(f"empty parameter in {segment!r}")
            continue
        cut = _scan(pair, "=")
        if not cut:
            raise ValueError(f"parameter {pair.strip()!r} has no '=value'")
        key = pair[: cut[0]].strip()
        if not key.isidentifier():
            raise ValueError(f"bad parameter name {key!r} in {segment!r}")
        if key in params:
            raise ValueError(f"parameter {key!r} given twice in {segment!r}")
        params[key] = parse_value(pair[cut[0] + 1 :])
    return Step(name, params)


def parse_steps(text: str) -> list[Step]:
    """Parse ``"name; name:key=value,key=value; ..."`` into steps (0.5.0 syntax).

    Steps are separated by ``;`` (empty ones are skipped), a name is followed by
    ``:`` and ``key=value`` pairs separated by ``,``; ``dist:name`` picks a plugin's
    step. Values are parsed by :func:`parse_value`; ``;`` and ``,`` inside quotes or
    brackets do not split.

    Raises
    ------
    ProcessingError
        For malformed text, naming the problem.
    """
    if not isinstance(text, str):
        raise ProcessingError(f"processing steps must be text; got {text!r}")
    steps: list[Step] = []
    try:
        for segment in _split(text, ";"):
            if segment.strip():
                step = _parse_segment(segment)
                steps.append(Step(step.name, step.params, f"step {len(steps) + 1}"))
    except ValueError as exc:
        raise ProcessingError(f"cannot parse processing steps: {exc}") from None
    return steps


def _load_text(path: Path, text: str) -> Any:
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProcessingError(
                f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}): "
                f"{exc.msg}"
            ) from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ProcessingError(f"{path}: not valid YAML{where}: {problem}") from None


def load_processing_file(path: str | Path) -> list[Step]:
    """Read the steps of a YAML or JSON processing file (0.5.0 format).

    The file holds a mapping with a ``filters`` list; each item is a mapping with
    ``name`` and the step's parameters, or just a step name. ``.json`` files are read
    as JSON, any other suffix as YAML. Other top-level keys are ignored.

    Raises
    ------
    ProcessingError
        If the file is missing, unreadable, not valid YAML/JSON, or not in the format
        above; the message names the file.
    """
    p = Path(path)
    if not p.is_file():
        raise ProcessingError(f"processing file not found: {p}")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProcessingError(f"{p}: cannot read processing file: {exc}") from None
    data = _load_text(p, text)
    if not isinstance(data, Mapping) or "filters" not in data:
        raise ProcessingError(f"{p}: expected a top-level 'filters:' list of steps")
    items = data["filters"]
    if not isinstance(items, list):
        raise ProcessingError(f"{p}: 'filters' must be a list of steps")
    steps = []
    for k, item in enumerate(items):
        where = f"{p.name}: filters[{k}]"
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise ProcessingError(f"{where}: each step needs a 'name:'; got {item!r}")
        params = {str(key): v for key, v in item.items() if key != "name"}
        steps.append(Step(item["name"].strip(), params, where))
    return steps
