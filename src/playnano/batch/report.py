"""``batch-report.json``: one record per input, rewritten atomically as tasks finish.

An interrupted batch leaves a true report: inputs not yet done are ``pending`` (or
``interrupted`` after Ctrl-C), finished ones carry their outputs, seconds, input
SHA-256 and one-line error. A re-run reads it to skip inputs already done.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from playnano.io.atomic import TMP_PREFIX
from playnano.provenance import utc_now

REPORT_NAME = "batch-report.json"
REPORT_VERSION = 1

#: Statuses that mean an input's outputs are complete.
DONE = ("ok", "skipped")


class BatchReport:
    """The report of one batch, kept in memory and on disk in step.

    Parameters
    ----------
    path : pathlib.Path
        Where ``batch-report.json`` is written.
    inputs : iterable of str
        Every input of the batch, in order.
    settings : dict
        The run's settings fingerprint.
    engine : str
        How the tasks run (``serial``, ``local:N``, ``tcp://...``).
    """

    def __init__(
        self, path: Path, inputs: Iterable[str], settings: dict[str, Any], engine: str
    ) -> None:
        self.path = path
        self.started = utc_now()
        self.settings = settings
        self.engine = engine
        self.records: dict[str, dict[str, Any]] = {
            i: {"input": i, "status": "pending", "outputs": [], "seconds": None,
                "sha256": None, "error": None, "warnings": [],
                "settings": settings, "blocks": None}
            for i in inputs
        }  # fmt: skip

    @staticmethod
    def previous(path: Path) -> dict[str, dict[str, Any]]:
        """Records of an earlier report at ``path`` by input (empty if none/unreadable)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return {r["input"]: r for r in data["inputs"] if isinstance(r, dict)}
        except (OSError, ValueError, KeyError, TypeError):
            return {}

    def update(self, record: dict[str, Any], *, write: bool = True) -> None:
        """Store one input's record and rewrite the report."""
        self.records[record["input"]] = record
        if write:
            self.write()

    def interrupt(self) -> None:
        """Mark every input not finished as ``interrupted`` and write."""
        for rec in self.records.values():
            if rec["status"] == "pending":
                rec["status"] = "interrupted"
        self.write(finished=True)

    def totals(self) -> dict[str, Any]:
        """Counts per status, the number of inputs and the seconds spent on them."""
        counts = Counter(r["status"] for r in self.records.values())
        out: dict[str, Any] = {
            s: counts.get(s, 0)
            for s in ("ok", "skipped", "partial", "failed", "pending", "interrupted")
        }
        out["inputs"] = len(self.records)
        out["seconds"] = round(
            sum(r["seconds"] or 0 for r in self.records.values() if r["status"] != "skipped"),
            3,
        )  # fmt: skip
        return out

    def as_dict(self, finished: bool = False) -> dict[str, Any]:
        """The report as written to disk."""
        return {
            "playnano_batch_report": REPORT_VERSION,
            "started": self.started,
            "finished": utc_now() if finished else None,
            "engine": self.engine,
            "settings": self.settings,
            "totals": self.totals(),
            "inputs": list(self.records.values()),
        }

    def write(self, finished: bool = False) -> None:
        """Write the report atomically (temporary file in the same folder, rename).

        The file gets the usual permissions (``0o666`` less the umask), as every
        other output does.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.parent / f"{TMP_PREFIX}{uuid.uuid4().hex}.json"
        try:
            with open(tmp, "x", encoding="utf-8") as fh:
                json.dump(self.as_dict(finished), fh, indent=2)
                fh.write("\n")
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def table(self) -> str:
        """A plain-text table: status, seconds, input, error."""
        rows = [("STATUS", "SECONDS", "INPUT", "ERROR")]
        for r in self.records.values():
            secs = "" if r["seconds"] is None else f"{r['seconds']:.2f}"
            rows.append((r["status"], secs, r["input"], r["error"] or ""))
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows)
        lines = [f"{a:<{w0}}  {b:>{w1}}  {c}  {d}".rstrip() for a, b, c, d in rows]
        t = self.totals()
        lines.append(
            f"{t['inputs']} inputs: {t['ok']} ok, {t['skipped']} skipped, "
            f"{t['partial']} partial, {t['failed']} failed"
            + (f", {t['interrupted']} interrupted" if t["interrupted"] else "")
        )
        return "\n".join(lines)
