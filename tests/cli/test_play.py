"""``playnano play``: light to import, one clear line when napari is missing.

The GUI itself is tested with the napari-playnano plugin (plugins/napari-playnano).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

GUI_MODULES = (
    "napari",
    "napari_playnano",
    "qtpy",
    "PyQt5",
    "PyQt6",
    "PySide6",
    "vispy",
)


@pytest.mark.parametrize("argv", [["--help"], ["play", "--help"]])
def test_help_imports_no_gui_module(argv) -> None:
    code = (
        "import sys\n"
        "from playnano.cli import cli\n"
        "try:\n"
        f"    cli.main({argv!r}, prog_name='playnano')\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        f"print('GUI', sorted(m for m in {GUI_MODULES!r} if m in sys.modules), file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "GUI []" in out.stderr, out.stderr
    assert "play" in out.stdout


def test_without_napari_one_line_and_exit_2(tmp_path) -> None:
    video = tmp_path / "v.npz"
    video.write_bytes(b"")
    # napari made unimportable, as on a machine without it
    code = (
        "import sys\n"
        "sys.modules['napari'] = None\n"
        "from playnano.cli import main\n"
        f"sys.argv = ['playnano', 'play', {str(video)!r}]\n"
        "main()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    assert out.returncode == 2
    assert out.stdout == ""
    [line] = out.stderr.splitlines()
    assert line.startswith("playnano: error: play needs napari")
    assert 'pip install "napari[pyqt6]"' in line
    # the plugin's folder in this checkout (it is not on the package index)
    folder = Path(line.rsplit("pip install ", 1)[1])
    assert folder == Path(__file__).resolve().parents[2] / "plugins" / "napari-playnano"
    assert 'name = "napari-playnano"' in (folder / "pyproject.toml").read_text()


def test_napari_without_a_qt_backend_is_one_line_and_exit_2(tmp_path) -> None:
    video = tmp_path / "v.npz"
    video.write_bytes(b"")
    # napari-playnano does not choose a Qt binding: napari may have none
    code = (
        "import sys, types\n"
        "sys.modules['napari'] = types.ModuleType('napari')\n"
        "class QtBindingsNotFoundError(ImportError): pass\n"
        "class Finder:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'qtpy':\n"
        "            raise QtBindingsNotFoundError('No Qt bindings could be found')\n"
        "sys.meta_path.insert(0, Finder())\n"
        "from playnano.cli import main\n"
        f"sys.argv = ['playnano', 'play', {str(video)!r}]\n"
        "main()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 2, out.stderr
    [line] = out.stderr.splitlines()
    assert line.startswith(
        "playnano: error: play needs napari (a Qt backend for napari is missing)"
    )
    assert '"napari[pyqt6]"' in line
