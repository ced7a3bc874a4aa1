"""Run every example of docs/*.rst and compare what it prints with what the page shows.

See :mod:`tests.docs._blocks` for what counts as an example. Each page runs in a fresh
working directory holding the real instrument files under the names the pages use.
The ``$ playnano`` commands of the plugin guide need the example plugin installed;
``test_example_plugin.py`` runs them in a virtual environment that has it.
"""

from __future__ import annotations

import contextlib
import io
import traceback
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from playnano.cli import cli
from playnano.plugins import registry
from tests.docs._blocks import (
    DOCS,
    Block,
    check_output,
    commands,
    extract_blocks,
    matches,
    python_source,
    shown_print_output,
)

PAGES = sorted(DOCS.glob("*.rst"))
#: Pages whose commands run in test_example_plugin.py (they need the plugin).
VENV_PAGES = {"plugins.rst"}

#: Names the pages give real files -> their place under $PLAYNANO_TEST_DATA/afm.
DATA_FILES = {
    "video.asd": "asd/asd_sample_0.asd",
    "two_channels.asd": "asd/202110200146.asd",
    "video.h5-jpk": "h5-jpk/sample_0.h5-jpk",
    "jpk_frames": "jpk_folder/streptavidin_hs",
    "scan.002": "spm/old_bruker.002",
}


def test_pages_are_found() -> None:
    names = {p.name for p in PAGES}
    assert {
        "index.rst",
        "quickstart.rst",
        "reading.rst",
        "processing.rst",
        "exporting.rst",
        "cli.rst",
        "api.rst",
        "plugins.rst",
    } <= names


def _prepare_data(
    page: Path, blocks: list[Block], request: pytest.FixtureRequest
) -> None:
    text = "\n".join(b.text for b in blocks)
    needed = [name for name in DATA_FILES if name in text]
    if not needed:
        return
    root = request.getfixturevalue("afm_data")  # skips when the data is absent
    for name in needed:
        Path(name).symlink_to(root / DATA_FILES[name])


def _run_python(block: Block, namespace: dict) -> None:
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(python_source(block), str(block.page), "exec"), namespace)
    except Exception:
        pytest.fail(
            f"{block.where}: the example raised\n{traceback.format_exc()}",
            pytrace=False,
        )
    check_output(shown_print_output(block), out.getvalue(), block.where)


def _run_console(block: Block) -> None:
    runner = CliRunner()
    for cmd in commands(block):
        registry.reset()  # a command may set PLAYNANO_DISABLE_PLUGINS
        with warnings.catch_warnings():
            warnings.simplefilter("always")  # printed by the command, as users see
            result = runner.invoke(cli, cmd.args, env=cmd.env, prog_name="playnano")
        output = result.output
        if result.exception is not None and not isinstance(
            result.exception, SystemExit
        ):
            exc = result.exception
            output += "".join(traceback.format_exception(exc))
        ok = result.exit_code == 0
        if ok == cmd.expect_failure:
            want = "fail" if cmd.expect_failure else "succeed"
            pytest.fail(
                f"{cmd.where}: 'playnano {' '.join(cmd.args)}' should {want} but "
                f"exited {result.exit_code}:\n{output}",
                pytrace=False,
            )
        check_output(cmd.shown, output, cmd.where)
        for line in output.splitlines():  # a page shows every warning users get
            if line.startswith("playnano: warning:"):
                assert any(matches(s, line) for s in cmd.shown), (
                    f"{cmd.where}: 'playnano {' '.join(cmd.args)}' warns\n    {line}\n"
                    "but the page does not show it"
                )
    registry.reset()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_examples(
    page: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    blocks = extract_blocks(page)
    monkeypatch.chdir(tmp_path)
    # the CLI installs its own warning printer; keep it from outliving this test
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)
    _prepare_data(page, blocks, request)
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    for block in blocks:
        if block.kind == "setup":
            _run_python(block, namespace)
    for block in blocks:
        if block.kind == "python":
            _run_python(block, namespace)
        elif block.kind == "console":
            if page.name in VENV_PAGES:
                commands(block)  # still checks every command has its '$ ' prompt
            else:
                _run_console(block)
