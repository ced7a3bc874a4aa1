"""Controls generated from playnano's typed declarations (magicgui widgets).

An :class:`~playnano.plugins.options.Option` becomes a check box (bool), a combo box
(choices) or a text field whose text is parsed by the option itself, so the widget
accepts and refuses exactly what the CLI does. The step list comes from the filter
registry, the format check boxes from the exporter registry: a pip-installed step or
format appears here with no GUI code of its own.
"""

from __future__ import annotations

from typing import Any

from magicgui.widgets import CheckBox, ComboBox, Container, LineEdit, PushButton

from playnano.plugins.options import REQUIRED, Option


def _text(value: Any) -> str:
    if value is None or value is REQUIRED:
        return ""
    if isinstance(value, list | tuple):
        return "[" + ",".join(str(v) for v in value) + "]"
    return str(value)


def option_editor(option: Option, label: str) -> Any:
    """A widget for one option, holding its default."""
    tip = option.help
    if option.minimum is not None or option.maximum is not None:
        lo = "" if option.minimum is None else f"{option.minimum:g}"
        hi = "" if option.maximum is None else f"{option.maximum:g}"
        tip += f" Range: [{lo}, {hi}]."
    if option.type == "bool":
        return CheckBox(label=label, value=bool(option.default), tooltip=tip)
    if option.choices:
        return ComboBox(
            label=label,
            choices=list(option.choices),
            value=option.default if option.default in option.choices else None,
            tooltip=tip,
        )
    return LineEdit(label=label, value=_text(option.default), tooltip=tip)


def changed_values(
    options: tuple[Option, ...], editors: dict[str, Any]
) -> dict[str, Any]:
    """The values the user changed from the defaults (unparsed; text stays text)."""
    out: dict[str, Any] = {}
    for opt in options:
        value = editors[opt.name].value
        if isinstance(editors[opt.name], LineEdit):
            if value.strip() == _text(opt.default):
                continue
            if value.strip() == "" and opt.default is None:
                continue
        elif value == opt.default:
            continue
        out[opt.name] = value
    return out


class StepBuilder(Container):
    """Pick a registered step, edit its typed parameters, append it to the steps."""

    def __init__(self, on_add: Any) -> None:
        from playnano.plugins.registry import filters
        from playnano.plugins.step import as_spec

        self._specs = {
            e.qualified_name if e.shadowed_by else e.name: as_spec(
                e.obj, e.plugin.version
            )
            for e in filters().entries()
        }
        first = "remove_plane" if "remove_plane" in self._specs else None
        self.pick = ComboBox(
            label="step",
            choices=list(self._specs),
            value=first or next(iter(self._specs)),
        )
        self.params = Container(labels=True)
        self.add_button = PushButton(text="Add step")
        super().__init__(widgets=[self.pick, self.params, self.add_button])
        self._editors: dict[str, Any] = {}
        self._on_add = on_add
        self.pick.changed.connect(self._rebuild)
        self.add_button.changed.connect(self._add)
        self._rebuild()

    def _rebuild(self, *_: Any) -> None:
        spec = self._specs[self.pick.value]
        self.pick.tooltip = spec.description
        self.params.clear()
        self._editors = {o.name: option_editor(o, o.name) for o in spec.options}
        self.params.extend(self._editors.values())

    def step_text(self) -> str:
        """The chosen step in the CLI's ``name:key=value,...`` syntax.

        Raises
        ------
        OptionError
            When a parameter is not valid for the step (checked as the CLI does).
        """
        from playnano.processing import validate_steps

        spec = self._specs[self.pick.value]
        given = changed_values(spec.options, self._editors)
        validate_steps([(self.pick.value, given)])  # raises OptionError
        if not given:
            return self.pick.value
        parts = ",".join(f"{k}={_text(v)}" for k, v in given.items())
        return f"{self.pick.value}:{parts}"

    def _add(self, *_: Any) -> None:
        self._on_add(self)


class FormatPanel(Container):
    """One check box per installed format, with that format's options under it."""

    def __init__(self) -> None:
        from playnano.plugins.registry import exporters

        super().__init__(labels=False)
        self.boxes: dict[str, CheckBox] = {}
        self.option_editors: dict[str, dict[str, Any]] = {}
        self.declared: dict[str, tuple[Option, ...]] = {}
        for entry in exporters().entries():
            token = entry.qualified_name if entry.shadowed_by else entry.name
            status = entry.status()
            box = CheckBox(
                text=f"{token} ({entry.obj.suffix})",
                value=False,
                enabled=status == "ok",
                tooltip=entry.obj.description
                + ("" if status == "ok" else f" — {status}"),
            )
            opts = tuple(entry.obj.options)
            editors = {o.name: option_editor(o, f"{token}.{o.name}") for o in opts}
            panel = Container(widgets=list(editors.values()), visible=False)
            box.changed.connect(lambda on, p=panel: setattr(p, "visible", bool(on)))
            self.boxes[token] = box
            self.option_editors[token] = editors
            self.declared[token] = opts
            self.extend([box, panel])

    def chosen(self) -> list[str]:
        """The formats ticked, in registry order."""
        return [t for t, box in self.boxes.items() if box.value]

    def format_options(self) -> dict[str, dict[str, Any]]:
        """Changed options of each ticked format (checked later by the core)."""
        return {
            t: changed_values(self.declared[t], self.option_editors[t])
            for t in self.chosen()
        }
