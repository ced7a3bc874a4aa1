"""``playnano steps list`` and ``steps info``: what the filter registry holds."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from playnano.cli import cli
from playnano.plugins.registry import filters


def run(*args: str):
    return CliRunner().invoke(cli, ["steps", *args])


def test_list_shows_every_registered_step() -> None:
    result = run("list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == [
        "NAME", "ALIASES", "KIND", "DESCRIPTION", "PROVIDER", "STATUS"
    ]  # fmt: skip
    names = {line.split()[0] for line in lines[2:]}
    assert names == {e.name for e in filters().entries()}
    row = next(line for line in lines if line.startswith("align_frames "))
    assert row.split()[1:3] == ["align", "stack"]


def test_list_json() -> None:
    result = run("list", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["remove_plane"]["kind"] == "filter"
    assert rows["remove_plane"]["masked_variant"] is True
    assert rows["mask_threshold"]["kind"] == "mask"
    assert rows["rolling_frame_align"]["builtin"] is True
    assert rows["clear"]["status"] == "ok"


def test_info_lists_options_with_defaults_and_required() -> None:
    result = run("info", "replace_nan")
    assert result.exit_code == 0, result.output
    assert "replace_nan: Replace NaN pixels by a number." in result.output
    assert "mode (str, default 'zero')" in result.output
    assert "one of zero, mean, median, global_mean, constant" in result.output
    data = json.loads(run("info", "drop_frames", "--json").output)
    [option] = data["options"]
    assert option["name"] == "indices_to_drop" and option["type"] == "int_list"
    assert option["required"] is True and option["default"] is None
    assert "required" in run("info", "drop_frames").output


def test_info_by_alias_and_unknown_name() -> None:
    data = json.loads(run("info", "ALIGN", "--json").output)
    assert data["name"] == "align_frames"
    assert {o["name"] for o in data["options"]} >= {"reference_frame", "subpixel"}
    result = run("info", "remove_plan")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "unknown filter 'remove_plan'; did you mean remove_plane?" in result.output
    result = run("info", "nothing_like_it")
    assert "unknown filter 'nothing_like_it'. Installed: align_frames" in result.output


def test_steps_list_imports_no_scipy_or_heavy_module() -> None:
    from playnano.testing import HEAVY_MODULES

    heavy = (*HEAVY_MODULES, "scipy")
    code = (
        "import sys\n"
        "from playnano.cli import cli\n"
        "try:\n"
        "    cli.main(['steps', 'list'], prog_name='playnano')\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        f"print('HEAVY', sorted(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "HEAVY []" in out.stderr, out.stderr
