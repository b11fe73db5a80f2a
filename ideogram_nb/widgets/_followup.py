"""The one place where a prefilled form opens under a widget.

Why: a result grid, a comparison cell, a history row and a form itself can all turn an image
or a run into a new request. Inside the Studio a listener takes that request (it opens the
matching tab); used alone, the widget opens the prefilled form right under itself. That
fallback used to be written four times, and `_result_grid` had to import `_form` at call time
(an import cycle: the form contains a grid). Now the form factory is injected: `SpecForm`
passes its own, and the package wires the default once in `widgets/__init__.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import ipywidgets as W

import ideogram_nb as ig

#: Builds a form for a spec (and the client it should run on, or None for the default).
FormFactory = Callable[[ig.Spec, Any], W.Widget]

_default_factory: FormFactory | None = None


def use_form_factory(factory: FormFactory) -> None:
    """Set the form every `FollowUp` without a factory of its own opens (wired by the package)."""
    global _default_factory
    _default_factory = factory


def prefilled(
    title: str, spec: ig.Spec, client: Any = None, make_form: FormFactory | None = None
) -> tuple[W.HTML, W.Widget]:
    """A bold title and a form for `spec` (from `make_form`, else the package's default)."""
    make = make_form or _default_factory
    if make is None:  # pragma: no cover - the package wires it on import
        raise RuntimeError("no form factory: import ideogram_nb.widgets")
    return W.HTML(f"<hr><b>{escape(title)}</b>"), make(spec, client)


class FollowUp(W.VBox):
    """A slot under a widget that shows one prefilled form at a time, with a title."""

    children: tuple[W.Widget, ...]  # the trait VBox declares (ipywidgets has no types)

    def __init__(self, make_form: FormFactory | None = None) -> None:
        super().__init__()
        self._make_form = make_form

    @property
    def form(self) -> W.Widget | None:
        """The form open here now, if any."""
        return self.children[-1] if self.children else None

    def open_form(self, title: str, spec: ig.Spec, client: Any = None) -> W.Widget:
        """Replace whatever was open with a form for `spec`, under a bold `title`."""
        old = self.children
        self.children = prefilled(title, spec, client, self._make_form)
        for widget in old:
            close_tree(widget)
        return self.children[-1]

    def clear(self) -> None:
        old = self.children
        self.children = ()
        for widget in old:
            close_tree(widget)


def close_tree(widget: W.Widget) -> None:
    """Close a widget and everything inside it (ipywidgets' close() does not recurse)."""
    for child in getattr(widget, "children", ()):
        close_tree(child)
    widget.close()
