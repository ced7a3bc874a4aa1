"""The ``playnano`` command: one module per command group.

Importing this package (``playnano --help``, ``playnano formats list``) imports no
plugin's heavy dependencies; commands import what they need when they run.
"""

from __future__ import annotations

from playnano.cli.app import cli, main

__all__ = ["cli", "main"]
