"""How outputs are named: the one rule every front end uses.

An input's *base name* is its file name up to the first dot (``video.h5-jpk`` →
``video``); the user may give another. The *stem* is the base made safe as a file
name, plus ``_filtered`` when the stack written is processed (unless the raw snapshot
is written); each format then appends its suffix. A stack counts as processed when
its steps change the heights or it holds processed layers already (a playnano bundle
read back), so a re-exported bundle keeps its ``_filtered`` name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

__all__ = ["FALLBACK_BASE", "base_name", "make_stem", "output_stem", "with_suffix"]

#: Base name when nothing else gives one (an input named ``.npz``, a bare stack).
FALLBACK_BASE = "playnano_export"
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def base_name(path: str | Path) -> str:
    """The output base name of an input: its name up to the first dot."""
    return Path(path).name.split(".")[0] or FALLBACK_BASE


def make_stem(base: str, *, processed: bool, raw: bool) -> str:
    """``base`` made safe as a file name, plus ``_filtered`` when processed."""
    stem = _UNSAFE.sub("_", str(base)).strip(" .") or FALLBACK_BASE
    if processed and not raw and not stem.endswith("_filtered"):
        stem += "_filtered"  # once: a re-exported bundle keeps its name
    return stem


def output_stem(stack: AFMImageStack, base: str | None, raw: bool) -> str:
    """The stem for writing ``stack`` as it is (its own processed layers decide)."""
    src = stack.file_path
    fallback = base_name(src) if src else ""
    return make_stem(base or fallback, processed=stack.is_processed(), raw=raw)


def with_suffix(path: Path, suffix: str) -> Path:
    """``path`` ending in ``suffix`` (appended when the name does not end with it)."""
    if path.name.lower().endswith(suffix.lower()):
        return path
    return path.with_name(path.name + suffix)
