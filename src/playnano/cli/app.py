"""The click group: registers the commands, turns user errors into one line."""

from __future__ import annotations

import logging
import signal
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import click

from playnano.__about__ import __version__
from playnano.cli.exits import EXIT_INTERRUPTED, EXIT_USAGE, error_text, fail
from playnano.errors import PlaynanoError
from playnano.io.guard import deliver_interrupts


def _show_warning(message: Any, category: type[Warning], *args: Any, **kw: Any) -> None:
    click.echo(f"playnano: warning: {message}", err=True)


class PlaynanoGroup(click.Group):
    """A click group that turns user errors into one line and an exit code."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **kw: Any,
    ) -> Any:
        """Run the command; click's own usage errors get playnano's one-line style."""
        run = super().main
        if not standalone_mode:
            return run(args, prog_name, complete_var, False, **kw)
        try:
            code = run(args, prog_name, complete_var, False, **kw)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else "playnano"
            fail(f"{exc.format_message()} (see '{where} --help')", EXIT_USAGE)
        except click.ClickException as exc:
            fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            fail("interrupted", EXIT_INTERRUPTED)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        previous = warnings.showwarning
        warnings.showwarning = _show_warning
        try:
            # Ctrl-C inside a library callback (h5py's) is raised where it can
            # propagate instead of being dropped: every stage stops at once
            with deliver_interrupts():
                return super().invoke(ctx)
        except PlaynanoError as exc:
            if ctx.obj and ctx.obj.get("verbose", 0) > 1:
                raise
            fail(error_text(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted; no partial output was kept", EXIT_INTERRUPTED)
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
    from playnano.cli.batch import batch
    from playnano.cli.formats import formats
    from playnano.cli.info import info
    from playnano.cli.play import play
    from playnano.cli.process import process
    from playnano.cli.steps import steps

    cli.add_command(batch)
    cli.add_command(formats)
    cli.add_command(info)
    cli.add_command(play)
    cli.add_command(process)
    cli.add_command(steps)


_register_commands()


def main() -> None:
    """Console-script entry point."""
    if hasattr(signal, "SIGXFSZ"):
        # a file size limit then fails the write (EFBIG, reported in one line)
        # instead of killing the process with a core dump
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    cli(prog_name="playnano")
