"""Kill ratio per module from the last ``mutmut run`` (``nox -s mutants`` prints it).

Reads mutmut's result files under ``mutants/``; a mutant counts as killed when a test
failed or timed out on it, and as alive when it survived or no test ran it. Mutants
not run yet (another module's) are left out. ``--survivors`` lists the live ones.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

KILLED = {"killed", "timeout", "caught by type check"}
ALIVE = {"survived", "no tests"}


def results(root: Path) -> dict[str, Counter[str]]:
    """Per module (dotted name), how many mutants ended in each status."""
    by_module: dict[str, Counter[str]] = {}
    for meta in sorted((root / "src").rglob("*.py.meta")):
        module = ".".join(
            meta.relative_to(root / "src").with_suffix("").with_suffix("").parts
        )
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        counts = Counter(
            status_by_exit_code[c] for c in codes.values() if c is not None
        )
        if counts:
            by_module[module] = counts
    return by_module


def survivors(root: Path) -> list[str]:
    names = []
    for meta in sorted((root / "src").rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        names += [k for k, c in codes.items() if status_by_exit_code[c] in ALIVE]
    return names


def main(argv: list[str]) -> int:
    root = Path("mutants")
    if not root.is_dir():
        print("no mutants/ folder: run `nox -s mutants` first", file=sys.stderr)
        return 1
    if "--survivors" in argv:
        print("\n".join(survivors(root)))
        return 0
    table = results(root)
    print(f"{'module':40} {'killed':>7} {'alive':>6} {'other':>6} {'ratio':>7}")
    groups: dict[str, Counter[str]] = {}
    for module, counts in table.items():
        killed = sum(counts[s] for s in KILLED)
        alive = sum(counts[s] for s in ALIVE)
        other = sum(counts.values()) - killed - alive
        ratio = killed / (killed + alive) if killed + alive else float("nan")
        print(f"{module:40} {killed:7} {alive:7} {other:6} {ratio:7.1%}")
        group = module.split(".")[1]
        groups.setdefault(group, Counter()).update({"k": killed, "a": alive})
    for group, c in groups.items():
        total = c["k"] + c["a"]
        print(f"{'= ' + group:40} {c['k']:7} {c['a']:7} {'':6} {c['k'] / total:7.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
