"""Exit codes and the one-line error output every command shares.

Command modules take these from here, not from :mod:`playnano.cli.app`, which
imports the commands to register them.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click

__all__ = [
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_PARTIAL",
    "EXIT_USAGE",
    "error_text",
    "fail",
]

#: Exit codes (documented in docs/cli.rst): a value, file or data is wrong; the
#: command line itself is wrong; some formats failed; interrupted by Ctrl-C.
EXIT_ERROR, EXIT_USAGE, EXIT_PARTIAL, EXIT_INTERRUPTED = 1, 2, 3, 130


def error_text(exc: BaseException) -> str:
    """An error's message as the command line says it (flags, not keywords)."""
    return str(exc).replace(
        "pass overwrite=True (CLI: --overwrite)", "pass --overwrite"
    )


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Print one error line on stderr and exit with ``code``."""
    click.echo(f"playnano: error: {message}", err=True)
    sys.exit(code)
