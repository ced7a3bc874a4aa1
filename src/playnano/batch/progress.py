"""The batch's progress bar: frames of every input, and files done and failed.

The bar's total is the frames of the inputs to run, read from each input's header
(a reader's ``inspect``); an input whose header cannot say counts as one unit.
Within an input the bar moves per frame: the read, each step and each format are
one share of the input's frames each, and :func:`playnano.run.run_one` reports
the fraction done as frame loops finish frames within a stage
(:mod:`playnano.progress_ticks`) and as stages end, in this process or, on Dask,
from the workers (throttled there to one event per 0.2 s and 1 %). Updates are
fractions ``done / total``; the bar never moves back. A finished input is
credited in full, whatever became of it. The bar is drawn only on a terminal;
updates may come from any thread.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import click


def frame_count(path: Path) -> int | None:
    """Frames of ``path`` from its reader's header, or None when it cannot say.

    Never reads frame data (readers that do not declare ``supports_inspect``
    give None) and never
    raises: an unreadable input fails later, in its own task.
    """
    from playnano.info import inspect
    from playnano.readers import reader_for, usable_reader

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if not usable_reader(reader_for(path)).supports_inspect:
                return None
            n = int(inspect(path).data.shape[0])
    except Exception:
        return None
    return n if n > 0 else None


def frame_units(paths: Iterable[str]) -> dict[str, int]:
    """Each input's weight on the bar: its frames, or 1 when the header cannot say."""
    return {p: frame_count(Path(p)) or 1 for p in paths}


class FrameBar:
    """A click progress bar over frames whose label counts files done and failed.

    Parameters
    ----------
    units : dict
        Each input's weight (:func:`frame_units`).
    engine : str
        Shown in the label (``serial``, ``local:2``, a scheduler's address).
    file : TextIO
        Where the bar is drawn (stderr).
    hidden : bool
        Draw nothing (not a terminal, or ``--quiet``).
    """

    def __init__(
        self, units: dict[str, int], engine: str, file: TextIO, hidden: bool
    ) -> None:
        self.units = units
        self.engine = engine
        self.file = file
        self.hidden = hidden
        self.credited = dict.fromkeys(units, 0)
        self.finished: set[str] = set()
        self.failed = 0
        self._lock = threading.Lock()
        self._bar: Any = None

    @property
    def total(self) -> int:
        """Frames (or units) of every input."""
        return sum(self.units.values())

    def _files(self, _item: object = None) -> str:
        text = f"{len(self.finished)}/{len(self.units)} files"
        return text + (f", {self.failed} failed" if self.failed else "")

    @contextmanager
    def shown(self) -> Iterator[FrameBar]:
        """Draw the bar while the block runs; end its line afterwards."""
        with click.progressbar(
            length=max(self.total, 1),
            label=f"frames ({self.engine})",
            file=self.file,
            hidden=self.hidden,
            show_pos=True,
            item_show_func=self._files,
        ) as bar:
            self._bar = bar
            try:
                yield self
            finally:
                with self._lock:
                    self._bar = None

    def _credit(self, key: str, to: int) -> None:
        """Raise ``key``'s credited units to ``to`` (never lower) and redraw."""
        gain = min(to, self.units[key]) - self.credited[key]
        if gain > 0:
            self.credited[key] += gain
        if self._bar is not None:
            if gain > 0:
                self._bar.update(gain)
            else:
                self._bar.render_progress()  # the files count may have changed

    def stage(self, key: str, done: int, total: int) -> None:
        """The fraction ``done / total`` of input ``key`` is finished.

        ``total`` is its stages (a stage event) or stages times frames (frames
        done within a stage); a lower fraction than credited changes nothing.
        """
        with self._lock:
            if key not in self.units or key in self.finished or total <= 0:
                return  # a late event of a finished input changes nothing
            if self.units[key] * min(done, total) // total <= self.credited[key]:
                return
            self._credit(key, self.units[key] * min(done, total) // total)

    def done(self, record: dict[str, Any]) -> None:
        """Input ``record["input"]`` finished (any status): credit all its frames."""
        key = record["input"]
        with self._lock:
            if key not in self.units or key in self.finished:
                return
            self.finished.add(key)
            if record.get("status") not in ("ok", "skipped"):
                self.failed += 1
            self._credit(key, self.units[key])
