"""`SpecForm`: a spec as a form, two-way linked, with a live cost, a Run button and a grid.

Why the link is hand-made (not `traitlets.link`): values must be converted (None ↔ "service
default"), refused values must leave the spec untouched and be shown on the field, and the
spec can change from code (or from another field) at any time. One guard set (`_syncing`)
stops the echo in both directions: a change that started on one side is not sent back.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
from collections.abc import Callable
from html import escape
from typing import Any

import ipywidgets as W
import param

import ideogram_nb as ig

from .._config import QUOTE_DEBOUNCE_S
from ._debounce import Debounced
from ._field_view import FieldView
from ._followup import FollowUp
from ._form_state import FormController, ResultCallback
from ._image_fields import ImageField, ResultShelf
from ._mapper import Factory, form_fields, make_field
from ._result_grid import ResultGrid

ActionHandler = Callable[[str, Any], Any]
FORM_CLASS = "ideogram-nb-form"
#: ipywidgets 8 draws ToggleButtons as a block, its label on a line of its own; these rules put
#: it in line with every other field's label (170 px, right-aligned). Layout only, no script.
FORM_STYLE = f"""<style>
.{FORM_CLASS} .widget-toggle-buttons {{ display: flex; align-items: flex-start; }}
.{FORM_CLASS} .widget-toggle-buttons > .widget-label {{ text-align: right; flex: 0 0 auto; line-height: 28px; }}
.{FORM_CLASS} .widget-toggle-buttons > div {{ display: flex; flex-wrap: wrap; flex: 1 1 0; min-width: 0; }}
</style>"""


#: Fields that say what a request is about; Run goes right after the leading run of them.
LEAD_FIELDS = ("prompt", "image", "mask")


def run_position(basic: list[str]) -> int:
    """How many leading fields come before the Run row (at least one, when there is one)."""
    n = 0
    while n < len(basic) and basic[n] in LEAD_FIELDS:
        n += 1
    return max(n, min(1, len(basic)))


def spec_title(spec_cls: type) -> str:
    """'Generate — Text to image with Ideogram 3.0.' from the class and its docstring."""
    doc = (spec_cls.__doc__ or "").strip().splitlines()
    return f"{spec_cls.__name__} — {doc[0]}" if doc else spec_cls.__name__


class SpecForm(W.VBox):
    """A form for one spec: `form.spec`, `form.fields[name]` (each field's widget),
    `form.run()` → Future, `form.on_result(cb)`, `form.grid` (a `ResultGrid`).

    `client` defaults to `ig.Client()`, created on the first run. `shelf` shares result
    images between forms ("use an earlier result"); `on_action` receives `(action, spec)`
    from the grid's per-image actions (default: open the prefilled form under this one).
    `show_results=False` leaves the grid out (the Studio shows every batch in one column).
    """

    def __init__(
        self,
        spec: ig.Spec,
        client: ig.Client | None = None,
        *,
        shelf: ResultShelf | None = None,
        on_action: ActionHandler | None = None,
        overrides: dict[str, Factory] | None = None,
        show_title: bool = True,
        show_results: bool = True,
    ) -> None:
        super().__init__(layout=W.Layout(width="100%"))
        if isinstance(spec, type):  # SpecForm(ig.Generate) means a fresh Generate
            spec = spec()
        self.controller = FormController(spec, client)
        #: Asks the service's price (v2 dry run) once edits have settled, off the kernel's thread.
        self._quoter = Debounced(self._fetch_quote, QUOTE_DEBOUNCE_S)
        self.shelf = shelf if shelf is not None else ResultShelf()
        self._on_action = on_action
        self._syncing: set[str] = set()
        basic, advanced = form_fields(spec)
        self.views: dict[str, FieldView] = {}
        for name in basic + advanced:
            view = make_field(spec, name, shelf=self.shelf, overrides=overrides)
            view.control.observe(lambda change, n=name: self._widget_changed(n), "value")
            self.views[name] = view
        self.fields: dict[str, W.DOMWidget] = {n: v.control for n, v in self.views.items()}
        self.advanced_names = advanced
        self.title = W.HTML(f"<h4 style='margin:4px 0'>{escape(spec_title(type(spec)))}</h4>")
        self.advanced = W.Accordion(
            children=[W.VBox([self.views[n].box for n in advanced])], titles=("Advanced",),
            layout=W.Layout(display=None if advanced else "none"),
        )  # fmt: skip
        self.advanced.selected_index = None
        self.messages = W.HTML()
        self.cost = W.HTML()
        self.run_button = W.Button(description="Run", icon="play", button_style="primary", tooltip="Send this request")
        self.run_button.on_click(lambda _b: self.run())
        self.status = W.HTML()
        self._ticker: threading.Event | None = None
        self.grid = ResultGrid()
        self.grid.on_action(self._action)
        #: Actions on results open their prefilled form here (this form's shelf, same client).
        self.followup = FollowUp(self._make_form)
        self.add_class(FORM_CLASS)
        run_row = W.HBox(
            [self.run_button, self.cost, self.status],
            layout=W.Layout(align_items="center", grid_gap="12px", flex_flow="row wrap", margin="4px 0 8px 0"),
        )
        # Run right under what the request is about (prompt, image, mask: the painter), before
        # the settings that tune it: in reach without scrolling, and near the results column's top
        lead = run_position(basic)
        self.children = (
            W.HTML(FORM_STYLE, layout=W.Layout(display="none")),
            *([self.title] if show_title else []),
            *(self.views[n].box for n in basic[:lead]),
            self.messages,
            run_row,
            *(self.views[n].box for n in basic[lead:]),
            self.advanced,
            *((self.grid, self.followup) if show_results else ()),
        )
        for control in self.fields.values():  # an uploaded image can carry the settings that made it
            if isinstance(control, ImageField):
                control.on_settings(lambda made: self._action("use_settings", made))
        names = list(self.views)
        spec.param.watch(self._spec_changed, names)
        selectors = [n for n in names if isinstance(spec.param[n], param.Selector)]
        if selectors:
            spec.param.watch(self._objects_changed, selectors, what="objects")
        numbers = [n for n in names if isinstance(spec.param[n], param.Number)]
        if numbers:
            spec.param.watch(self._objects_changed, numbers, what="bounds")
        self.controller.on_result(self._got_result)
        self.controller.on_state(self._show_state)
        self.refresh()
        self._show_state()

    # --- public API ----------------------------------------------------------------------------
    @property
    def spec(self) -> ig.Spec:
        return self.controller.spec

    @property
    def client(self) -> ig.Client:
        return self.controller.client

    @client.setter
    def client(self, client: ig.Client | None) -> None:
        self.controller.client = client

    def run(self) -> cf.Future[Any]:
        """Run in the background (one run at a time); the grid fills in when it is done."""
        return self.controller.run()

    def on_result(self, callback: ResultCallback, remove: bool = False) -> None:
        """`callback(result)` after each successful run, once the grid shows it."""
        self.controller.on_result(callback, remove=remove)

    def load(self, spec: ig.Spec) -> None:
        """Show `spec`'s values in this form (same endpoint), keeping the grid and its results.

        Every field is set on this form's own spec, so the widgets follow through the link;
        fields `spec` leaves at their default are reset too.
        """
        if type(spec) is not type(self.spec):
            raise TypeError(f"a {type(self.spec).__name__} form cannot load a {type(spec).__name__}")
        for name in self.spec.field_names():
            value = getattr(spec, name)
            if getattr(self.spec, name) is not value:
                setattr(self.spec, name, value)
        self.controller.attempted = False
        self.controller.last_error = None
        self.refresh()
        self._show_state()

    def load_from_image(self, image: Any) -> ig.Spec:
        """Fill this form from the settings embedded in an image made by ideogram_nb (a path,
        bytes or a result image); raises `MetadataError` when it has none, `TypeError` when
        it was made by another endpoint (the Studio opens that endpoint's tab instead)."""
        spec = ig.spec_from_image(image)
        self.load(spec)
        return spec

    # --- the two-way link ------------------------------------------------------------------------
    def _widget_changed(self, name: str) -> None:
        if name in self._syncing:
            return
        view = self.views[name]
        self.controller.input_changed()
        try:
            value = view.read()
        except ValueError as exc:
            self.controller.reject(name, str(exc))
            self.refresh()
            return
        self._syncing.add(name)
        try:
            self.controller.assign(name, value)
        finally:
            self._syncing.discard(name)
        self.refresh()

    def _spec_changed(self, *events: param.parameterized.Event) -> None:
        for event in events:
            if event.name in self._syncing:
                continue  # the change came from this field's widget
            self._syncing.add(event.name)
            try:
                self.views[event.name].show(event.new)
                self.controller.forget_rejection(event.name)
            finally:
                self._syncing.discard(event.name)
        self.refresh()

    def _objects_changed(self, *events: param.parameterized.Event) -> None:
        for event in events:
            self._syncing.add(event.name)
            try:
                self.views[event.name].follow(self.spec.param[event.name], getattr(self.spec, event.name))
            finally:
                self._syncing.discard(event.name)
        self.refresh()

    # --- drawing the controller's state ----------------------------------------------------------
    def refresh(self) -> None:
        """Field marks, form-level messages and the cost line, from the spec as it is now."""
        marks = self.controller.field_messages(self.views)
        for name, view in self.views.items():
            level, text = marks.get(name, (None, ""))
            view.set_message(level, text)
        if any(marks.get(n, ("",))[0] == "error" for n in self.advanced_names):
            self.advanced.selected_index = 0
        general = self.controller.general_messages(self.views)
        self.messages.value = "".join(
            f"<div style='color:{'#b00020' if level == 'error' else '#a15c00'};white-space:pre-wrap'>"
            f"{escape(text)}</div>"
            for level, text in general
        )
        self._show_cost()
        if self.controller.wants_quote():
            self._quoter()

    def _show_cost(self) -> None:
        quoted = self.controller.quote() is not None
        title = "the service's own price (a dry run: free)" if quoted else "estimate from the price table"
        self.cost.value = f"<span title='{title}'>{escape(self.controller.cost_text())}</span>"

    def _fetch_quote(self) -> None:
        """On a timer thread, after edits settle: ask the service's price, then show it."""
        self.controller.ask_quote()
        self._show_cost()

    def _show_state(self) -> None:
        running = self.controller.is_running
        self.run_button.disabled = running
        self.run_button.description = "Running…" if running else "Run"
        self.run_button.icon = "hourglass-half" if running else "play"
        if running:
            self._start_ticker()
            provider = self.controller.client.provider if self.controller.has_client else ""
            seconds = self.controller.elapsed_s
            self.status.value = f"<i>running on {escape(provider)}… {seconds:.0f} s</i>"
        elif self.controller.last_error is None and self.controller.last_result is not None:
            result = self.controller.last_result
            items = len(result.images) or len(result.descriptions)
            self.status.value = f"<span style='color:#1b5e20'>done: {items} item(s), ${result.cost_usd:.2f}</span>"
        else:
            self.status.value = ""
        self.refresh()

    def _start_ticker(self) -> None:
        """Redraw the status once a second while a run is in flight (the elapsed time)."""
        if self._ticker is not None:
            return
        stop = self._ticker = threading.Event()

        def tick() -> None:
            while not stop.wait(1.0):
                if not self.controller.is_running:
                    break
                self._show_state()
            self._ticker = None

        threading.Thread(target=tick, name="ideogram-nb-form-ticker", daemon=True).start()

    def _got_result(self, result: Any) -> None:
        if self.grid.store is None and self.controller.has_client:
            self.grid.store = self.controller.client.history.store
        self.grid.add(result)
        for image in result.images:
            self.shelf.add(image)

    def _action(self, action: str, spec: ig.Spec) -> None:
        if self._on_action is not None:
            self._on_action(action, spec)
            return
        if type(spec) is type(self.spec):  # e.g. reuse seed: this very form, prefilled
            self.load(spec)
            return
        client = self.controller.client if self.controller.has_client else None
        self.followup.open_form(action.replace("_", " ").capitalize(), spec, client)

    def _make_form(self, spec: ig.Spec, client: ig.Client | None) -> SpecForm:
        return SpecForm(spec, client, shelf=self.shelf)
