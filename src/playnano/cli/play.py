"""``playnano play``: open a video in napari with the playnano widget docked.

napari and Qt come with the separately installed ``napari-playnano`` plugin; they
are imported only when the command runs, never by ``playnano --help``.
"""

from __future__ import annotations

from pathlib import Path

import click

from playnano.errors import ReadError

#: The plugin that brings the playnano widget (napari comes without a Qt backend).
GUI_PLUGIN = "napari-playnano"
#: napari with one Qt backend; the plugin never chooses one for the user.
NAPARI_WITH_QT = '"napari[pyqt6]"'
#: Exit code when the GUI is not installed.
EXIT_NO_GUI = 2


@click.command()
@click.argument("input_path", metavar="FILE", type=click.Path(path_type=Path))
@click.option(
    "--processing",
    "-p",
    default=None,
    help='Steps to run on opening, e.g. "remove_plane;gaussian_filter:sigma=2".',
)
@click.option(
    "--channel",
    "-c",
    default=None,
    help="Channel to read (default: the file's height channel).",
)
def play(input_path: Path, processing: str | None, channel: str | None) -> None:
    """Open FILE (a video, a folder of frames or a bundle) in napari.

    The "playnano" widget is docked: choose the channel, edit and run steps, and
    export to any installed format. Needs the napari-playnano plugin.

    \b
    Example:
      playnano play video.asd -p "remove_plane;row_median_align"
    """
    from playnano.cli.exits import fail
    from playnano.processing import validate_steps

    try:
        import napari  # noqa: F401
        import qtpy  # noqa: F401  (no Qt binding installed: an ImportError)
        from napari_playnano._play import launch
    except ImportError as exc:
        from playnano.plugins.install_hints import plugin_hint

        missing = exc.name or "a Qt backend for napari"
        fail(
            f"play needs napari ({missing} is missing) with a Qt backend and the "
            f"{GUI_PLUGIN} plugin; install them with: pip install {NAPARI_WITH_QT} "
            f"&& {plugin_hint(GUI_PLUGIN)}",
            EXIT_NO_GUI,
        )
    if not input_path.exists():
        raise ReadError(f"{input_path}: no such file or folder")
    validate_steps(processing or "")  # a mistake is one line, before a window opens
    launch(input_path, steps=processing or "", channel=channel)
