"""The "playnano" dock widget: channel, steps, raw/processed, formats, export.

Everything is checked before any work, as by ``playnano process``: the steps and
their parameters, the formats and their options, existing outputs, free space. A
mistake is shown in the widget and as a napari notification, and nothing runs.
Processing and export run in a worker thread with a progress bar; Cancel interrupts
it and nothing the run wrote is kept. The run is planned and carried out by the
CLI's own planner and executor (:mod:`playnano.run`), so the files are the CLI's.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FileEdit,
    Label,
    LineEdit,
    ProgressBar,
    PushButton,
)

from napari_playnano._controls import FormatPanel, StepBuilder
from napari_playnano._job import Job
from napari_playnano._layers import META_KEY, stack_of, stack_to_layers
from napari_playnano._writer import napari_origin
from playnano.afm_stack import AFMImageStack
from playnano.errors import PlaynanoError

if TYPE_CHECKING:
    import napari

logger = logging.getLogger(__name__)
POLL_MS = 50


def _is_video_layer(layer: Any) -> bool:
    info = layer.metadata.get(META_KEY) if hasattr(layer, "metadata") else None
    return bool(info) and info.get("key") == "data" and stack_of(layer.metadata)


class PlaynanoWidget(Container):
    """Process a video read by playnano and export it in any installed format."""

    def __init__(self, viewer: napari.viewer.Viewer, steps: str = "") -> None:
        from napari_playnano._formats import register_installed_formats

        register_installed_formats()
        self.viewer = viewer
        self.source: AFMImageStack | None = None  # as read from the file
        self.stack: AFMImageStack | None = None  # what is shown and exported
        self._ran: str = ""  # the steps self.stack was processed with
        self.job: Job | None = None
        self._active: Any = None
        self._updating = False
        self.video = ComboBox(label="video", choices=self._video_names)
        self._channels: list[str] = []
        self.channel = ComboBox(label="channel", choices=lambda *_: self._channels)
        self.steps = LineEdit(label="steps", value=steps)
        self.steps.tooltip = (
            'As playnano process -p: "remove_plane;gaussian_filter:sigma=2"'
        )
        self.builder = StepBuilder(on_add=self._append_step)
        self.run_button = PushButton(text="Run steps")
        self.show_raw = ComboBox(
            label="show", choices=["processed", "raw"], value="processed"
        )
        self.formats = FormatPanel()
        self.folder = FileEdit(label="output folder", mode="d", value=Path("output"))
        self.out_name = LineEdit(label="name", value="")
        self.overwrite = CheckBox(text="replace existing files", value=False)
        self.export_button = PushButton(text="Export")
        self.cancel_button = PushButton(text="Cancel", enabled=False)
        self.progress = ProgressBar(label="progress", min=0, max=1, value=0)
        self.status = Label(label="", value="")
        super().__init__(
            widgets=[
                self.video,
                self.channel,
                self.steps,
                self.builder,
                self.run_button,
                self.show_raw,
                Label(value="formats"),
                self.formats,
                self.folder,
                self.out_name,
                self.overwrite,
                self.export_button,
                self.cancel_button,
                self.progress,
                self.status,
            ]
        )
        self.video.changed.connect(self._on_video)
        self.channel.changed.connect(self._on_channel)
        self.run_button.changed.connect(lambda *_: self.start(export=False))
        self.export_button.changed.connect(lambda *_: self.start(export=True))
        self.cancel_button.changed.connect(lambda *_: self.cancel())
        self.show_raw.changed.connect(self._on_show_raw)
        viewer.layers.events.inserted.connect(self._on_layers_changed)
        viewer.layers.events.removed.connect(self._on_layers_changed)
        from qtpy.QtCore import QTimer

        self._timer = QTimer()
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._on_layers_changed()

    # ------------------------------------------------------------ source video
    def _video_names(self, *_: Any) -> list[str]:
        return [ly.name for ly in self.viewer.layers if _is_video_layer(ly)]

    def _on_layers_changed(self, *_: Any) -> None:
        if self._updating:
            return
        self.video.reset_choices()
        if self.video.value is not None and self.stack is None:
            self._on_video(self.video.value)

    def _on_video(self, name: str | None) -> None:
        if name is None or name not in self.viewer.layers:
            return
        stack = stack_of(self.viewer.layers[name].metadata)
        if stack is None or stack is self.stack:
            return
        self.source = self.stack = stack
        self._ran = ""
        if not self.out_name.value and stack.file_path is not None:
            from playnano.run import base_name

            self.out_name.value = base_name(stack.file_path)
        channels = [stack.channel]
        if stack.file_path is not None and stack.file_path.exists():
            from playnano.readers import available_channels

            try:
                channels = available_channels(stack.file_path) or channels
            except PlaynanoError as exc:
                logger.info("cannot list channels: %s", exc)
        with self.channel.changed.blocked():
            self._channels = channels
            self.channel.reset_choices()
            self.channel.value = next(
                (c for c in channels if c.lower() == stack.channel.lower()),
                channels[0],
            )

    def _on_channel(self, channel: str | None) -> None:
        if channel is None or self.source is None or self.source.file_path is None:
            return
        if channel.lower() == self.source.channel.lower():
            return
        import playnano

        try:
            stack = playnano.load(self.source.file_path, channel=channel)
        except PlaynanoError as exc:
            self.error(str(exc))
            return
        self.source, self._ran = stack, ""
        self._show(stack)

    def _show(self, stack: AFMImageStack) -> None:
        """Replace the current video's layers with ``stack``'s."""
        old = [ly for ly in self.viewer.layers if stack_of(ly.metadata) is self.stack]
        self.stack = stack
        self._updating = True
        try:
            # add before removing: the dims (and the frame shown) stay as they are
            added = [
                (getattr(self.viewer, f"add_{kind}")(data, **kwargs), kwargs["name"])
                for data, kwargs, kind in stack_to_layers(stack)
            ]
            for layer in old:
                self.viewer.layers.remove(layer)
            for layer, name in added:
                layer.name = name  # napari numbered them while the old ones existed
        finally:
            self._updating = False
        self.video.reset_choices()
        with self.video.changed.blocked():
            self.video.value = self._video_names()[-1]
        self._on_show_raw(self.show_raw.value)

    def _on_show_raw(self, value: str) -> None:
        for layer in self.viewer.layers:
            info = layer.metadata.get(META_KEY) or {}
            if info.get("stack") is self.stack and self.stack is not None:
                has_raw = "raw" in self.stack.processed
                if info.get("key") == "data":
                    layer.visible = value == "processed" or not has_raw
                elif info.get("key") == "raw":
                    layer.visible = value == "raw"

    # ------------------------------------------------------------ steps
    def _append_step(self, builder: StepBuilder) -> None:
        try:
            text = builder.step_text()
        except PlaynanoError as exc:
            self.error(str(exc))
            return
        current = self.steps.value.strip().rstrip(";")
        self.steps.value = f"{current};{text}" if current else text
        self.info(f"added {text}")

    # ------------------------------------------------------------ messages
    def error(self, message: str) -> None:
        """Show a user mistake in the widget and as a notification (no traceback)."""
        from napari.utils.notifications import show_error

        self.status.value = f"error: {message}"
        self.status.native.setStyleSheet("color: #e05050;")
        show_error(f"playnano: {message}")

    def warn(self, message: str) -> None:
        """Show a warning as a napari notification."""
        from napari.utils.notifications import show_warning

        show_warning(f"playnano: {message}")

    def info(self, message: str) -> None:
        """Show a status line."""
        self.status.value = message
        self.status.native.setStyleSheet("")

    # ------------------------------------------------------------ run / export
    def start(self, export: bool) -> Job | None:
        """Check everything, then process (and export) in a worker thread."""
        from napari_playnano._run import plan_run

        if self.job is not None and not self.job.done:
            self.error("a run is in progress; wait for it or cancel it")
            return None
        if self.source is None:
            self.error("open an AFM video first (File > Open, or playnano play FILE)")
            return None
        try:
            run = plan_run(
                self.source,
                self.stack,
                self._ran,
                self.steps.value,
                formats=self.formats.chosen() if export else None,
                options=self.formats.format_options(),
                raw=self.show_raw.value == "raw",
                folder=Path(self.folder.value),
                name=self.out_name.value,
                overwrite=self.overwrite.value,
                origin=napari_origin(via="playnano widget", steps=self.steps.value),
            )
        except PlaynanoError as exc:
            self.error(str(exc))
            return None
        self.job = Job(run.work, total=run.total)
        self._active = run
        self.progress.max = max(1, run.total)
        self.progress.value = 0
        self.export_button.enabled = self.run_button.enabled = False
        self.cancel_button.enabled = True
        self.info("processing…" if run.steps_text != self._ran else "exporting…")
        self.job.start()
        self._timer.start()
        return self.job

    def cancel(self) -> None:
        """Interrupt the running job; what it wrote is removed."""
        if self.job is not None and not self.job.done:
            self.info("cancelling…")
            self.job.cancel()

    def _poll(self) -> None:
        job = self.job
        if job is None:
            self._timer.stop()
            return
        self.progress.value = min(job.progress, self.progress.max)
        if job.message:
            self.status.value = job.message
        if not job.done:
            return
        self._timer.stop()
        self.export_button.enabled = self.run_button.enabled = True
        self.cancel_button.enabled = False
        run = self._active
        if job.cancelled:
            self.progress.value = 0
            self.info("cancelled; nothing was kept")
            return
        if job.error is not None:
            if isinstance(job.error, PlaynanoError):
                self.error(str(job.error))
            else:
                logger.error("playnano run failed", exc_info=job.error)
                self.error(f"{type(job.error).__name__}: {job.error}")
            return
        if run.processed is not None:
            self._ran = run.steps_text
            self._show(run.processed)
        failures = [r for r in run.results if r.error is not None]
        written = [p for r in run.results for p in r.paths]
        self.progress.value = self.progress.max
        for message in job.warnings:  # what the CLI prints as warnings
            self.warn(message)
        if failures:
            self.error("; ".join(f"{r.format}: {r.error}" for r in failures))
        elif run.formats:
            self.info(
                "wrote "
                + ", ".join(p.name for p in written)
                + "".join(f"\nwarning: {m}" for m in job.warnings)
            )
        else:
            self.info(f"ran {run.steps_text or 'no steps'}")
