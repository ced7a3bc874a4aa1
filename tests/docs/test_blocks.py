"""The example checker itself: it must find every example and catch wrong ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs._blocks import (
    check_output,
    commands,
    extract_blocks,
    matches,
    shown_print_output,
)

PAGE = """\
Title
=====

.. testsetup::

   x = 1

Text.

.. code-block:: python
   :caption: a caption

   print(x + 1)
   # 2

.. code-block:: console

   $ playnano formats list
   NAME ...
   $ pip install something
   Successfully installed
   $ PLAYNANO_DISABLE_PLUGINS=a,b playnano process --synthetic \\
       --export npz  # a comment
   playnano: error: no
   $ python -m playnano --version

.. code-block:: text

   playnano is not run here
"""


@pytest.fixture
def page(tmp_path: Path) -> Path:
    path = tmp_path / "page.rst"
    path.write_text(PAGE)
    return path


def test_blocks_kinds_lines_and_text(page: Path) -> None:
    blocks = extract_blocks(page)
    assert [(b.kind, b.line) for b in blocks] == [
        ("setup", 6),
        ("python", 13),
        ("console", 18),
        ("other", 29),
    ]
    assert blocks[1].text == "print(x + 1)\n# 2"
    assert shown_print_output(blocks[1]) == ["2"]


def test_commands_env_continuations_and_expected_status(page: Path) -> None:
    cmds = commands(extract_blocks(page)[2])
    assert [(c.env, c.args) for c in cmds] == [
        ({}, ["formats", "list"]),
        (
            {"PLAYNANO_DISABLE_PLUGINS": "a,b"},
            ["process", "--synthetic", "--export", "npz"],
        ),
        ({}, ["--version"]),
    ]
    assert cmds[0].shown == ["NAME ..."]
    assert [c.expect_failure for c in cmds] == [False, True, False]


def test_a_command_without_prompt_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.rst"
    path.write_text(".. code-block:: console\n\n   playnano formats list\n")
    with pytest.raises(AssertionError, match="without a '\\$ ' prompt"):
        commands(extract_blocks(path)[0])


def test_a_code_block_must_name_its_language(tmp_path: Path) -> None:
    path = tmp_path / "bad.rst"
    path.write_text(".. code-block::\n\n   x = 1\n")
    with pytest.raises(AssertionError, match="language"):
        extract_blocks(path)


@pytest.mark.parametrize(
    ("shown", "actual", "ok"),
    [
        ("wrote  out/a.npz", "wrote out/a.npz", True),
        (
            "error: ... did you mean npz? ...",
            "error: bad 'npx'; did you mean npz? x",
            True,
        ),
        ("a ... c", "c then a", False),
        ("wrote out/b.npz", "wrote out/a.npz", False),
    ],
)
def test_matches(shown: str, actual: str, ok: bool) -> None:
    assert matches(shown, actual) is ok


def test_check_output_wants_every_line_in_order() -> None:
    check_output(["a", "c"], "a\nb\nc\n", "here")
    with pytest.raises(AssertionError, match="here: the page shows"):
        check_output(["c", "a"], "a\nb\nc\n", "here")
