"""Find the examples in docs/*.rst and check them against what playnano really does.

Three kinds of block are taken from the pages:

- ``.. testsetup::`` (hidden in the built pages): Python run first, e.g. to make the
  ``stack`` a page's examples use;
- ``.. code-block:: python`` and ``.. testcode::``: Python run in document order in
  one namespace per page. A run of ``# `` comment lines right after a line with
  ``print(`` is the output that print shows;
- ``.. code-block:: console`` (or bash/shell): every ``$ playnano ...`` command
  (``$ VAR=value playnano ...`` and ``$ python -m playnano ...`` too). The lines
  after a command, up to the next ``$``, are its output. Other commands (``$ pip``)
  are shown, not run.

Shown output is compared line by line with whitespace collapsed; ``...`` in a shown
line stands for any text. A command whose shown output has a ``playnano: error:``
line must fail; any other must succeed.
"""

from __future__ import annotations

import re
import shlex
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"

PYTHON_LANGS = {"python", "py", "python3", "pycon"}
CONSOLE_LANGS = {"console", "bash", "shell", "sh", "shell-session"}
_DIRECTIVE = re.compile(
    r"^(?P<indent>\s*)\.\. (?P<name>code-block|code|sourcecode|testcode|testsetup)::"
    r"\s*(?P<lang>\S*)\s*$"
)
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass
class Block:
    """One example block of a page."""

    page: Path
    line: int  # 1-based line of the first content line
    kind: str  # "setup", "python", "console" or "other"
    text: str

    @property
    def where(self) -> str:
        return f"{self.page.name}:{self.line}"


@dataclass
class Command:
    """One ``$ playnano ...`` line of a console block and the output shown after it."""

    block: Block
    line: int
    env: dict[str, str]
    args: list[str]  # after "playnano"
    shown: list[str] = field(default_factory=list)

    @property
    def expect_failure(self) -> bool:
        return any(s.strip().startswith("playnano: error:") for s in self.shown)

    @property
    def where(self) -> str:
        return f"{self.block.page.name}:{self.line}"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def extract_blocks(page: Path) -> list[Block]:
    """Every code block of a reStructuredText page, in document order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        if not m:
            i += 1
            continue
        base = len(m["indent"])
        name, lang = m["name"], m["lang"].lower()
        j = i + 1
        while (
            j < len(lines)
            and lines[j].strip().startswith(":")
            and _indent(lines[j]) > base
        ):
            j += 1  # directive options
        body: list[str] = []
        first = None
        while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > base):
            if lines[j].strip() and first is None:
                first = j + 1
            body.append(lines[j])
            j += 1
        if name == "testsetup":
            kind = "setup"
        elif name == "testcode" or lang in PYTHON_LANGS:
            kind = "python"
        elif lang in CONSOLE_LANGS:
            kind = "console"
        elif not lang:
            raise AssertionError(
                f"{page.name}:{i + 1}: a code-block must name its language"
            )
        else:
            kind = "other"
        text = textwrap.dedent("\n".join(body)).strip("\n")
        blocks.append(Block(page, first or i + 1, kind, text))
        i = j
    return blocks


def commands(block: Block) -> list[Command]:
    """The ``$ playnano`` commands of a console block with their shown output."""
    out: list[Command] = []
    lines = block.text.splitlines()
    k = 0
    current: Command | None = None
    while k < len(lines):
        line, number = lines[k], block.line + k
        if line.startswith("$ "):
            cmd = line[2:]
            while cmd.rstrip().endswith("\\") and k + 1 < len(lines):
                k += 1
                cmd = cmd.rstrip()[:-1] + " " + lines[k].strip()
            words = shlex.split(cmd, comments=True)
            env = {}
            while words and _ENV.match(words[0]):
                key, _, value = words.pop(0).partition("=")
                env[key] = value
            if words[:1] == ["playnano"]:
                current = Command(block, number, env, words[1:])
            elif words[:3] == ["python", "-m", "playnano"]:
                current = Command(block, number, env, words[3:])
            else:
                current = None  # shown, not run (pip, python -m build, ...)
            if current is not None:
                out.append(current)
        else:
            if line.lstrip().startswith("playnano ") or line.startswith("python -m"):
                raise AssertionError(
                    f"{block.page.name}:{number}: a command without a '$ ' prompt "
                    "would not be tested; write it as '$ playnano ...'"
                )
            if current is not None and line.strip():
                current.shown.append(line)
        k += 1
    return out


def shown_print_output(block: Block) -> list[str]:
    """The ``# `` comment lines that follow a ``print(`` line: expected stdout."""
    expected: list[str] = []
    after_print = False
    for line in block.text.splitlines():
        stripped = line.strip()
        if after_print and stripped.startswith("#"):
            expected.append(stripped[1:].strip())
            continue
        after_print = "print(" in stripped
    return expected


def _collapse(text: str) -> str:
    return " ".join(text.split())


def matches(shown: str, actual: str) -> bool:
    """True when ``actual`` holds ``shown``; ``...`` in ``shown`` is any text."""
    parts = [p for p in (_collapse(s) for s in _collapse(shown).split("...")) if p]
    pos = 0
    text = _collapse(actual)
    for part in parts:
        found = text.find(part, pos)
        if found < 0:
            return False
        pos = found + len(part)
    return True


def check_output(shown: list[str], actual: str, where: str) -> None:
    """Every shown line appears in ``actual``, in order, each within one line."""
    actual_lines = actual.splitlines()
    pos = 0
    for line in shown:
        if not line.strip():
            continue
        for k in range(pos, len(actual_lines)):
            if matches(line, actual_lines[k]):
                pos = k + 1
                break
        else:
            raise AssertionError(
                f"{where}: the page shows\n    {line.strip()}\n"
                f"but the output was:\n{textwrap.indent(actual, '    ')}"
            )


def python_source(block: Block) -> str:
    """The block's code, padded so tracebacks give the page's line numbers."""
    return "\n" * (block.line - 1) + block.text + "\n"
