"""One field on screen: the control, the message line under it, and the value conversions.

Why a view object per field: the form links every field the same way (read the control's
value as the spec wants it, show a spec value on the control, follow new allowed values, mark
the field). Factories in `_mapper` build these; the form (`_form`) links them to the spec.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

import ipywidgets as W
import param
import traitlets

from ._image_fields import ResultShelf

INVALID_CLASS = "ideogram-nb-invalid"
INVALID_BORDER = "2px solid #d32f2f"
WARNING_BORDER = "2px solid #ed8c00"
SERVICE_DEFAULT_LABEL = "service default"


class _ServiceDefault:
    """The option that stands for None ("not sent"): ipywidgets treats a None value as
    "nothing selected", so None itself cannot be an option's value."""

    def __repr__(self) -> str:
        return "SERVICE_DEFAULT"


SERVICE_DEFAULT = _ServiceDefault()


@dataclass
class FieldContext:
    """What a factory may know: the spec, the field, and the session's reusable images."""

    spec: param.Parameterized
    name: str
    pobj: param.Parameter[Any]
    shelf: ResultShelf | None = None

    @property
    def label(self) -> str:
        return self.pobj.label or self.name

    @property
    def doc(self) -> str:
        return " ".join((self.pobj.doc or "").split())

    @property
    def value(self) -> Any:
        return getattr(self.spec, self.name)


def _identity(value: Any) -> Any:
    return value


class FieldView:
    """One field on screen. `control` is what `form.fields[name]` returns: it has `.value`."""

    def __init__(
        self,
        name: str,
        control: W.DOMWidget,
        *,
        to_param: Callable[[Any], Any] = _identity,
        from_param: Callable[[Any], Any] = _identity,
        follow: Callable[[param.Parameter[Any], Any], None] | None = None,
        show: Callable[[Any], None] | None = None,
    ) -> None:
        self.name = name
        self.control = control
        self.message = W.HTML(layout=W.Layout(display="none", margin="0 0 4px 176px"))
        self.box = W.VBox([control, self.message], layout=W.Layout(margin="0 0 2px 0"))
        self._to_param = to_param
        self._from_param = from_param
        self._follow = follow
        self._show = show
        self.level: str | None = None
        self.text = ""

    def read(self) -> Any:
        """The control's value as the spec wants it; ValueError when it cannot be parsed."""
        return self._to_param(self.control.value)

    def show(self, value: Any) -> None:
        """Put a spec value on the control (the caller guards against echo)."""
        if self._show is not None:
            self._show(value)
            return
        self.control.value = self._from_param(value)

    def follow(self, pobj: param.Parameter[Any], value: Any) -> None:
        """The parameter's allowed values changed (e.g. a model narrowed the styles)."""
        if self._follow is not None:
            self._follow(pobj, value)

    def set_message(self, level: str | None, text: str = "") -> None:
        """Mark the field: 'error' (red border and message), 'warning' (orange), or None."""
        if (level, text) == (self.level, self.text):
            return  # unchanged: send nothing to the browser
        self.level, self.text = level, text
        if level is None:
            self.control.remove_class(INVALID_CLASS)
            self.control.layout.border = None
            self.message.value = ""
            self.message.layout.display = "none"
            return
        colour = "#d32f2f" if level == "error" else "#a15c00"
        if level == "error":
            self.control.add_class(INVALID_CLASS)
        else:
            self.control.remove_class(INVALID_CLASS)
        self.control.layout.border = INVALID_BORDER if level == "error" else WARNING_BORDER
        self.message.value = f"<span style='color:{colour};font-size:90%'>{escape(text)}</span>"
        self.message.layout.display = None


class OptionalSlider(W.HBox):
    """A slider that can also mean "service default": unticked → None."""

    value = traitlets.Any(None)

    def __init__(self, slider: W.IntSlider | W.FloatSlider, value: Any, **kwargs: Any) -> None:
        self.slider = slider
        self.use = W.Checkbox(
            value=value is not None, indent=False, description="set",
            tooltip=f"Untick to leave it to the service ({SERVICE_DEFAULT_LABEL})",
            layout=W.Layout(width="52px", flex="0 0 auto"),
        )  # fmt: skip
        #: Says "service default" while unticked: a greyed slider alone reads as a broken one.
        self.unset_label = W.HTML(
            f"<i style='color:#777'>{SERVICE_DEFAULT_LABEL}</i>", layout=W.Layout(flex="0 0 auto", margin="0 0 0 4px")
        )
        slider.layout.flex = "1 1 auto"
        slider.layout.width = "auto"
        slider.disabled = value is None
        super().__init__([slider, self.use, self.unset_label], **kwargs)
        self.layout.align_items = "center"
        self.value = value
        self._busy = False
        self._mark_unset()
        self.use.observe(self._from_children, "value")
        slider.observe(self._from_children, "value")
        self.observe(self._to_children, "value")

    def _from_children(self, _change: Any = None) -> None:
        if self._busy:
            return
        self._mark_unset()
        self.value = self.slider.value if self.use.value else None

    def _to_children(self, change: Any) -> None:
        self._busy = True
        try:
            if change["new"] is None:
                self.use.value = False
            else:
                self.use.value = True
                self.slider.value = change["new"]
            self._mark_unset()
        finally:
            self._busy = False

    def _mark_unset(self) -> None:
        unset = not self.use.value
        self.slider.disabled = unset
        self.slider.readout = not unset  # no number shown for a value that is not sent
        self.unset_label.layout.display = None if unset else "none"
