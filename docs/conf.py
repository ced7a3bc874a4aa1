"""Sphinx configuration: plain reStructuredText, builtin extensions and sphinx-click.

Build with warnings as errors (no network needed)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Document the source tree even when playnano is not installed in this environment.
sys.path.insert(0, str(ROOT / "src"))

from playnano.__about__ import __version__  # noqa: E402

project = "playnano"
author = "playnano developers"
copyright = "playnano developers, GPL-3.0-or-later"
release = __version__
version = ".".join(__version__.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    # only for its hidden ``.. testsetup::`` blocks, which tests/docs runs before a
    # page's examples; the examples themselves are ``.. code-block::`` blocks
    "sphinx.ext.doctest",
    "sphinx_click",
]
# No intersphinx: the build must not need the network.

exclude_patterns = ["_build"]
root_doc = "index"
nitpicky = False

html_theme = "alabaster"
html_title = f"playnano {release}"
html_theme_options = {
    "description": "High-speed AFM videos to open files",
    "fixed_sidebar": True,
    "page_width": "1160px",  # room for 88-column code without scrolling
}

# numpydoc-style docstrings
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
# "Attributes" sections as fields, so they do not clash with documented properties
napoleon_use_ivar = True

autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "signature"
autodoc_class_signature = "mixed"

# keep "--export" as typed in help texts and literals (no en dashes)
smartquotes = False
