"""What the plugin depends on and imports: no Qt binding, no playnano internals."""

from __future__ import annotations

import ast
import importlib.metadata as md
from pathlib import Path

import napari_playnano
from packaging.requirements import Requirement

#: Distributions that are a Qt binding, or napari with one.
QT = {"pyqt5", "pyqt6", "pyside2", "pyside6", "pyqt5-qt5", "pyqt6-qt6"}
NAPARI_QT_EXTRAS = {
    "qt",
    "pyqt",
    "pyqt5",
    "pyqt6",
    "pyside",
    "pyside2",
    "pyside6",
    "all",
}
#: The run layer is the plugin's way in: never the pipeline or export internals.
FORBIDDEN = ("playnano.processing.pipeline", "playnano.io.export_data")


def test_installing_it_adds_no_qt_binding() -> None:
    # beside napari[pyqt5] (or a conda PyQt), a second binding breaks Qt
    for text in md.requires("napari-playnano") or []:
        req = Requirement(text)
        if req.marker is not None and "extra" in str(req.marker):
            continue  # the test extra picks one for the tests
        name = req.name.lower()
        assert name not in QT, text
        if name == "napari":
            assert not req.extras & NAPARI_QT_EXTRAS, text


def test_it_imports_no_pipeline_or_export_internals() -> None:
    package = Path(napari_playnano.__file__).parent
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                assert not name.startswith(FORBIDDEN), f"{module.name}: {name}"
