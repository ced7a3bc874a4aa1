"""``playnano formats list/info`` and the promise that listing stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from playnano.cli import cli
from playnano.testing import HEAVY_MODULES, strict_json
from tests.conftest import exporter_module


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_list_shows_every_builtin_with_provider_and_status() -> None:
    result = run("formats", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == [
        "NAME",
        "ALIASES",
        "SUFFIX",
        "CAPABILITIES",
        "PROVIDER",
        "STATUS",
    ]
    rows = {line.split()[0]: line for line in lines[2:]}
    assert {"tif", "npz", "h5", "gif"} <= set(rows)
    assert ".ome.tif" in rows["tif"] and "hdf5" in rows["h5"]
    assert rows["npz"].rstrip().endswith("ok")


def test_list_json_includes_broken_and_disabled_plugins(
    install_plugin, monkeypatch
) -> None:
    install_plugin(
        "broken-plugin",
        {"broken_mod": "raise ImportError('libfoo missing')"},
        {"playnano.exporters": {"boom": "broken_mod"}},
    )
    install_plugin(
        "acme-formats",
        {"acme_mod": exporter_module("acme")},
        {"playnano.exporters": {"acme": "acme_mod"}},
    )
    monkeypatch.setenv("PLAYNANO_DISABLE_PLUGINS", "acme-formats")
    result = run("formats", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in strict_json(result.output)}
    assert rows["npz"]["status"] == "ok" and rows["npz"]["builtin"] is True
    assert rows["npz"]["provider"] == "playnano"
    assert rows["boom"]["status"] == "error"
    assert "libfoo missing" in rows["boom"]["error"]
    assert rows["acme"]["status"] == "disabled"
    table = run("formats", "list").output
    assert "error: import failed: ImportError: libfoo missing" in table


def test_info_lists_every_option_with_type_default_and_help(install_plugin) -> None:
    install_plugin(
        "acme-formats",
        {"acme_mod": exporter_module("acme", aliases=("acm",))},
        {"playnano.exporters": {"acme": "acme_mod"}},
    )
    result = run("formats", "info", "ACM")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("acme: A fake format for tests.")
    assert "level (int, default 1): A test option." in result.output
    data = strict_json(run("formats", "info", "acme", "--json").output)
    assert data["options"][0]["name"] == "level"
    assert data["provider"] == "acme-formats" and data["version"] == "1.0"


def test_info_of_an_unknown_format_is_one_line_and_exit_1() -> None:
    result = run("formats", "info", "nzp")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "playnano: error: unknown format 'nzp'; did you mean npz?" in result.output


def test_unknown_format_message_separates_the_installed_list() -> None:
    result = run("formats", "info", "nope")
    assert result.exit_code == 1
    assert result.output.startswith(
        "playnano: error: unknown format 'nope'. Installed: gif, gwy, h5, npz, png, tif, "
        "topostats"
    )


def test_group_help_shows_the_whole_process_summary() -> None:
    result = run("--help")
    [line] = [
        ln for ln in result.output.splitlines() if ln.strip().startswith("process")
    ]
    assert not line.rstrip().endswith("...")
    assert line.split(None, 1)[1] == "Read an AFM video, process it, export it."


def test_click_usage_errors_use_the_playnano_error_style() -> None:
    result = run("process", "--synthetic", "-e", "npz", "--bogus")
    assert result.exit_code == 2
    assert result.output.startswith("playnano: error: No such option '--bogus'")
    assert result.output.count("\n") == 1 and "Usage:" not in result.output


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["formats", "list"],
        ["formats", "list", "--json"],
        ["process", "--help"],
        ["steps", "list"],
        ["steps", "list", "--json"],
    ],
)
def test_cli_imports_no_heavy_module(argv) -> None:
    code = (
        "import sys\n"
        "from playnano.cli import cli\n"
        "try:\n"
        f"    cli.main({argv!r}, prog_name='playnano')\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        f"print('HEAVY', sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules), file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "HEAVY []" in out.stderr, out.stderr


def test_version() -> None:
    from playnano import __version__

    result = run("--version")
    assert result.output.strip() == f"playnano, version {__version__}"
