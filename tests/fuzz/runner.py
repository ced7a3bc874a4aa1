"""Run one fuzz case through the doors into a file, in a forked child under limits.

The forked child, its limits and the verdict are :mod:`playnano.testing.children`
(the reader conformance kit runs hostile files the same way); this module adds the
fuzzer's doors (``--door``) and the signature that groups failures.
"""

from __future__ import annotations

import re
from pathlib import Path

from playnano.testing.children import (
    CPU_SECONDS,
    KINDS,
    MEMORY_BYTES,
    RSS_FLOOR,
    RSS_PER_INPUT_BYTE,
    Outcome,
    preload,
    verdict,
    where,
)

__all__ = [
    "CPU_SECONDS",
    "DOORS",
    "KINDS",
    "MEMORY_BYTES",
    "RSS_FLOOR",
    "RSS_PER_INPUT_BYTE",
    "Outcome",
    "preload",
    "run_case",
    "signature",
    "verdict",
]

#: ``--door``: which doors a case goes through (``all``: every one, in one child).
DOORS: dict[str, tuple[str, ...]] = {
    "load": ("read",),
    "lazy": ("read_lazy",),
    "info": ("inspect", "channels", "check"),
    "all": ("read", "read_lazy", "inspect", "channels", "check"),
}


def run_case(
    path: Path,
    *,
    door: str = "all",
    cpu_s: int = CPU_SECONDS,
    wall_s: float | None = None,
    mem: int = MEMORY_BYTES,
) -> Outcome:
    """Open ``path`` through ``door``'s doors in a forked child; what happened."""
    from playnano.testing.children import run_doors

    doors = DOORS[door]
    cpu = cpu_s * len(doors)  # each door reads the file again
    return run_doors(path, doors, cpu_s=cpu, wall_s=wall_s, mem=mem, only_declared=True)


def signature(family: str, kind: str, outcome: Outcome, name: str) -> str:
    """A short key grouping failures that are probably the same bug (``name``: the
    case file's, left out)."""
    res = outcome.result
    text = f"{res.get('type', '')}: {res.get('message', '')}".replace(name, "F")
    text = re.sub(r"\S*/F\b", "F", text)  # a full path to the case
    if kind == "warning":
        text = res["warnings"][0]
    if kind == "memory" and not res.get("chain"):
        text = "peak RSS"
    if kind in ("crash", "hang"):
        text = where(outcome.stack)
    if kind == "partial":
        text = "doors disagree"
    text = re.sub(r"\d+\.?\d*(e[-+]?\d+)?", "N", text)
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "S", text)
    door = f"{res['door']}|" if res.get("door") else ""
    return f"{family}|{kind}|{door}{text[:120]}"
