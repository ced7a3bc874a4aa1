"""The click group, error handling and output helpers shared by the commands."""

from __future__ import annotations

import logging
import sys
import warnings
from typing import Any, NoReturn

import click

from playnano.__about__ import __version__
from playnano.errors import PlaynanoError


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one error line on stderr and exit with ``code``."""
    click.echo(f"playnano: error: {message}", err=True)
    sys.exit(code)


def _show_warning(message: Any, category: type[Warning], *args: Any, **kw: Any) -> None:
    click.echo(f"playnano: warning: {message}", err=True)


class PlaynanoGroup(click.Group):
    """A click group that turns user errors into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        previous = warnings.showwarning
        warnings.showwarning = _show_warning
        try:
            return super().invoke(ctx)
        except PlaynanoError as exc:
            if ctx.obj and ctx.obj.get("verbose", 0) > 1:
                raise
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted; no partial output was kept", 130)
        finally:
            warnings.showwarning = previous


@click.group(
    cls=PlaynanoGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, "--version", prog_name="playnano")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Read high-speed AFM videos, process them, and export them to open formats.

    Every input and output format is a plugin: `playnano formats list` shows what is
    installed.
    """
    ctx.ensure_object(dict)
    logging.basicConfig(format="playnano: %(message)s", level=logging.WARNING)


def _register_commands() -> None:
    from playnano.cli.formats import formats
    from playnano.cli.info import info
    from playnano.cli.process import process
    from playnano.cli.steps import steps

    cli.add_command(formats)
    cli.add_command(info)
    cli.add_command(process)
    cli.add_command(steps)


_register_commands()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="playnano")
