"""``playnano process``: read, process and export an AFM video (being written)."""

from __future__ import annotations

import click


@click.command()
def process() -> None:
    """Read an AFM video, run processing steps, and export it."""
    raise click.UsageError("process is not available yet")
