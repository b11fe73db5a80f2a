"""`HistoryBrowser`: every recorded run, newest first, with thumbnails, filters, totals and
pages; and the three things one does with an old run: export it, re-run it, look at it.

Why pages: a history of thousands of runs is never drawn whole. A page is two indexed queries
(see `_history_query`) and twenty rows of small JPEGs from the store's thumbnail cache (the
same files exported notebooks use). Why rows are closed on every page change: ipywidgets keeps
each live widget in a registry (and the front end a model for each), so paging through 500
pages without closing them would leak thousands of widgets.

A click on a thumbnail opens the run's images in the large view (`_large_view`). With a
client that announces recorded calls (`client.on_record(cb)`), the browser re-reads the
history shortly after each one, so a compare grid's cells show up without Refresh.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from html import escape
from pathlib import Path
from typing import Any

import ipywidgets as W

import ideogram_nb as ig

from .._callbacks import Callbacks
from .._config import EXPORT_THUMBNAIL_PX, HISTORY_REFRESH_DEBOUNCE_S, PROVIDERS
from ._actions import action_spec
from ._debounce import Debounced
from ._followup import close_tree, prefilled
from ._history_query import PAGE_SIZE, STATUSES, HistoryQuery, endpoints
from ._history_row import ERROR_COLOUR, OK_COLOUR, row_html
from ._image_button import ImageButton
from ._large_view import LargeView
from ._result_grid import ResultGrid
from ._thumbs import placeholder

#: The store's export-size thumbnail: cached on disk once, shared with exported notebooks.
ROW_THUMB_PX = EXPORT_THUMBNAIL_PX
ROW_THUMBS = 4
THUMB_WIDTH = "72px"
#: The thumbnail column of a row: room for ROW_THUMBS at THUMB_WIDTH (plus their gaps).
ROW_THUMBS_WIDTH = "300px"
#: Exports go inside the history folder by default: beside its images, out of the notebooks.
DEFAULT_EXPORT_NAME = "exports/runs.ipynb"
_OK, _ERROR = OK_COLOUR, ERROR_COLOUR
RERUN_UNKNOWN_TOOLTIP = (
    "This run's outcome is unknown: the service may already have made and billed it. "
    "Re-running opens it prefilled; running it sends a new call, which may be paid twice."
)

#: A filter dropdown's "any" choice. Not None: ipywidgets shows a None value as no selection
#: (a blank box), so "any endpoint" would never be seen.
ANY = ""

RerunCallback = Callable[[ig.Spec], Any]


class HistoryBrowser(W.VBox):
    """Runs newest first with thumbnails; filters (endpoint, provider, status, text, label);
    totals; pages of 20; tick runs and export them as a notebook; re-run one
    (`browser.on_rerun(cb)`: `cb(spec)`); open a run's images in a `ResultGrid`.

    `browser.refresh()` re-reads the history; with a client that has `on_record`, that
    happens by itself after every recorded call (debounced). `browser.open_large(run_id,
    index)` shows a run's images in `browser.large_view` (a thumbnail click does it).
    """

    def __init__(
        self, history: ig.History | None = None, *, client: ig.Client | None = None, page_size: int = PAGE_SIZE
    ) -> None:
        super().__init__(layout=W.Layout(width="100%"))
        self.client = client
        history = history if history is not None else (client.history if client is not None else ig.History())
        self.query = HistoryQuery(history, page_size)
        self._rerun_callbacks = Callbacks()
        self._refreshing = threading.RLock()
        self.rows: dict[str, dict[str, W.Widget]] = {}  # run id → its checkbox, buttons, box
        self.totals_label = W.HTML()
        self.refresh_button = W.Button(description="Refresh", icon="refresh", tooltip="Read the history again")
        self.endpoint_filter = W.Dropdown(options=[("any endpoint", ANY), *[(e, e) for e in endpoints()]],
                                          layout=W.Layout(width="170px"))  # fmt: skip
        self.provider_filter = W.Dropdown(options=[("any provider", ANY), *[(p, p) for p in PROVIDERS]],
                                          layout=W.Layout(width="150px"))  # fmt: skip
        self.status_filter = W.Dropdown(options=[("any status", ANY), *[(s, s) for s in STATUSES]],
                                        layout=W.Layout(width="120px"))  # fmt: skip
        self.text_filter = W.Text(placeholder="search prompts, descriptions, labels", continuous_update=False,
                                  layout=W.Layout(width="260px"))  # fmt: skip
        self.label_filter = W.Text(placeholder="label", continuous_update=False, layout=W.Layout(width="140px"))
        self.rows_box = W.VBox()
        self._empty = W.HTML("<i>No runs match these filters.</i>")
        self.prev_button = W.Button(description="Prev", icon="chevron-left", layout=W.Layout(width="90px"))
        self.next_button = W.Button(description="Next", icon="chevron-right", layout=W.Layout(width="90px"))
        self.page_label = W.HTML()
        self.select_page_button = W.Button(description="Select page", tooltip="Tick every run on this page")
        self.clear_button = W.Button(description="Clear selection")
        self.selection_label = W.HTML()
        self.export_path = W.Text(value=str(Path(self.query.history.path) / DEFAULT_EXPORT_NAME),
                                  description="Notebook", layout=W.Layout(width="360px"))  # fmt: skip
        self.export_button = W.Button(icon="download", button_style="primary",
                                      tooltip="Write the runs as a notebook that re-runs them")  # fmt: skip
        self.export_message = W.HTML()
        self.message = W.HTML()
        self.detail = W.VBox()
        #: A run's images one at a time, opened from its thumbnails; actions reach `on_rerun`.
        self.large_view = LargeView(act=self._large_view_action)
        #: Re-reads the history once after a burst of recorded calls (see `on_record`).
        self._recorded = Debounced(self._timed_refresh, HISTORY_REFRESH_DEBOUNCE_S)
        self._wire()
        self.children = (
            W.HBox([self.totals_label, self.refresh_button], layout=W.Layout(justify_content="space-between")),
            W.HBox([self.endpoint_filter, self.provider_filter, self.status_filter, self.text_filter,
                    self.label_filter], layout=W.Layout(flex_flow="row wrap")),
            W.HBox([self.select_page_button, self.clear_button, self.selection_label],
                   layout=W.Layout(align_items="center")),
            self.large_view,
            self.rows_box,
            W.HBox([self.prev_button, self.page_label, self.next_button], layout=W.Layout(align_items="center")),
            W.HBox([self.export_path, self.export_button, self.export_message], layout=W.Layout(align_items="center")),
            self.message,
            self.detail,
        )  # fmt: skip
        self.refresh()

    def _wire(self) -> None:
        self.refresh_button.on_click(lambda _b: self.refresh())
        filters = {"endpoint": self.endpoint_filter, "provider": self.provider_filter, "status": self.status_filter,
                   "text": self.text_filter, "label": self.label_filter}  # fmt: skip
        for name, widget in filters.items():
            widget.observe(lambda change, n=name: self.set_filters(**{n: change["new"] or None}), "value")
        self.prev_button.on_click(lambda _b: self.prev_page())
        self.next_button.on_click(lambda _b: self.next_page())
        self.select_page_button.on_click(lambda _b: self.select_page())
        self.clear_button.on_click(lambda _b: self.clear_selection())
        self.export_button.on_click(lambda _b: self._export_clicked())
        self._watched: Any = None
        if self.client is not None:
            self.watch(self.client)

    # --- public API -----------------------------------------------------------------------------
    @property
    def history(self) -> ig.History:
        return self.query.history

    @property
    def page(self) -> int:
        return self.query.page

    @property
    def pages(self) -> int:
        return self.query.pages

    @property
    def records(self) -> list[ig.RunRecord]:
        """The runs on the current page, newest first."""
        return list(self.query.records)

    @property
    def selected(self) -> list[str]:
        """Run ids ticked on any page, in the order they were ticked."""
        return self.query.selected

    def refresh(self) -> None:
        """Re-read the history: totals, pages and the current page's rows.

        One at a time: a debounced refresh (a recorded call, on a timer thread) and one from the
        kernel (a tab shown, Refresh) must not interleave, or the totals of one read end up
        above the rows of the other."""
        with self._refreshing:
            self.query.refresh()
            self._draw()

    def set_filters(self, **filters: Any) -> None:
        """Filter by endpoint, provider, status, text or label (None/"" = any); back to page 1."""
        with self._refreshing:
            self.query.set_filters(**filters)
            self._draw()

    def go_to(self, page: int) -> int:
        with self._refreshing:
            self.query.go_to(page)
            self._draw()
        return self.page

    def next_page(self) -> int:
        return self.go_to(self.page + 1)

    def prev_page(self) -> int:
        return self.go_to(self.page - 1)

    def select(self, run_ids: str | list[str], on: bool = True) -> None:
        self.query.select(run_ids, on)
        self._sync_checkboxes()

    def select_page(self) -> None:
        self.query.select_page()
        self._sync_checkboxes()

    def clear_selection(self) -> None:
        self.query.clear_selection()
        self._sync_checkboxes()

    def export(self, path: str | Path | None = None, title: str | None = None) -> Path:
        """Export the ticked runs (none ticked: every run matching the filters) as a notebook."""
        if path is None:
            path = self.export_path.value or str(Path(self.query.history.path) / DEFAULT_EXPORT_NAME)
        written = self.query.export(path, title)
        self.export_message.value = f"<span style='color:{_OK}'>wrote {escape(str(written))}</span>"
        return written

    def on_rerun(self, callback: RerunCallback, remove: bool = False) -> None:
        """Call `callback(spec)` when a run's Re-run button is clicked (and for the per-image
        actions of an opened grid). With no callback, the prefilled form opens below."""
        self._rerun_callbacks.register(callback, remove=remove)

    def rerun(self, run_id: str) -> ig.Spec:
        """Rebuild the run's spec (as it was sent) and hand it to the `on_rerun` callbacks."""
        spec = self.query.spec_for(run_id)
        self._open_spec(spec)
        return spec

    def open_large(self, run_id: str, index: int = 0) -> Any:
        """Show image `index` of the run in the large view; returns that `ImageResult`."""
        result = self.query.result_for(run_id)
        return self.large_view.show([result], index)

    def watch(self, client: ig.Client) -> None:
        """Use `client` (re-runs) and refresh shortly after every call it records, if it can
        say so (`client.on_record(cb)`); the client watched before is let go."""
        self.stop_watching()
        self.client = client
        subscribe = getattr(client, "on_record", None)
        if callable(subscribe):
            subscribe(self._recorded)
            self._watched = client

    def stop_watching(self) -> None:
        """Stop refreshing on recorded calls (closing the browser does it too)."""
        subscribe = getattr(self._watched, "on_record", None)
        if callable(subscribe):
            subscribe(self._recorded, remove=True)
        self._watched = None
        self._recorded.cancel()

    def close(self) -> None:
        self.stop_watching()
        super().close()

    def open_images(self, run_id: str) -> ResultGrid:
        """Show the run's images (or descriptions, or error) in a `ResultGrid` below."""
        result = self.query.result_for(run_id)
        grid = ResultGrid([result], store=self.history.store)
        if self._rerun_callbacks:
            grid.on_action(lambda _action, spec: self._open_spec(spec))
        self._show_detail(W.HTML(f"<b>Run {escape(run_id)}</b>"), grid)
        return grid

    # --- drawing ---------------------------------------------------------------------------------
    def _draw(self) -> None:
        old = self.rows
        self.rows = {rec.run_id: self._row(rec) for rec in self.query.records}
        self.rows_box.children = tuple(row["box"] for row in self.rows.values()) or (self._empty,)
        for row in old.values():
            close_tree(row["box"])
        self.totals_label.value = f"<b>{escape(self.query.totals_text())}</b>"
        self.page_label.value = f"&nbsp;{escape(self.query.page_label)}&nbsp;"
        self.prev_button.disabled = self.page <= 1
        self.next_button.disabled = self.page >= self.pages
        self._update_selection_label()

    def _row(self, rec: ig.RunRecord) -> dict[str, W.Widget]:
        checkbox = W.Checkbox(value=self.query.is_selected(rec.run_id), indent=False, layout=W.Layout(width="28px"))
        checkbox.observe(lambda change, r=rec.run_id: self._ticked(r, change["new"]), "value")
        rerun = self._rerun_button(rec)
        openable = bool(rec.images or rec.descriptions or rec.status in ("error", "unknown"))
        open_ = W.Button(description="Open", icon="th", tooltip="Show this run's images with their actions",
                         layout=W.Layout(width="100px"), disabled=not openable)  # fmt: skip
        open_.on_click(lambda _b, r=rec.run_id: self._guard(self.open_images, r))
        thumbs = W.HBox(
            self._thumb_widgets(rec),
            # one width for every row, whatever its number of thumbnails: the texts line up
            layout=W.Layout(width=ROW_THUMBS_WIDTH, flex="0 0 auto", overflow="hidden"),
        )
        # the text may shrink and wrap (min_width 0); the buttons never leave the row
        text = W.HTML(row_html(rec), layout=W.Layout(flex="1 1 0%", min_width="0"))
        buttons = W.VBox([rerun, open_], layout=W.Layout(flex="0 0 auto"))
        box = W.HBox(
            [checkbox, thumbs, text, buttons],
            layout=W.Layout(border_bottom="1px solid #e0e0e0", padding="4px 0", align_items="center"),
        )
        box.add_class("ig-history-row")  # for tests and user CSS
        text.add_class("ig-history-text")
        return {"box": box, "checkbox": checkbox, "rerun": rerun, "open": open_, "thumbs": thumbs}

    def _rerun_button(self, rec: ig.RunRecord) -> W.Button:
        """Re-run (a warning for a possibly billed run), or Resume for a job still running upstream:
        a paid job is finished by polling, never sent again."""
        size = W.Layout(width="100px")
        if rec.status == "pending":
            tip = "Poll this job until it is done and fetch its images (nothing is sent again)"
            button = W.Button(description="Resume", icon="play", button_style="info", layout=size, tooltip=tip)
            button.on_click(lambda _b, r=rec.run_id: self._guard(self.resume, r))
            return button
        unknown = rec.status == "unknown"
        tip = RERUN_UNKNOWN_TOOLTIP if unknown else "Open this request, prefilled, to run it again"
        button = W.Button(description="Re-run", icon="redo", tooltip=tip, layout=size,
                          button_style="warning" if unknown else "")  # fmt: skip
        button.on_click(lambda _b, r=rec.run_id: self._guard(self.rerun, r))
        return button

    def _thumb_widgets(self, rec: ig.RunRecord) -> list[W.Widget]:
        """Outputs are buttons that open the large view; a run's inputs are plain pictures."""
        values = self._thumbs(rec)
        if not rec.images:
            return [W.Image(value=v, format="jpeg", layout=W.Layout(width=THUMB_WIDTH)) for v in values]
        out: list[W.Widget] = []
        for i, value in enumerate(values):
            button = ImageButton(value=value, format="jpeg", layout=W.Layout(width=THUMB_WIDTH))
            button.on_click(partial(self._open_clicked, rec.run_id, i))
            out.append(button)
        return out

    def _open_clicked(self, run_id: str, index: int, _button: Any = None) -> None:
        self._guard(lambda r: self.open_large(r, index), run_id)

    def _thumbs(self, rec: ig.RunRecord) -> list[bytes]:
        """Up to four outputs; a run without outputs (describe, a failure) shows its inputs."""
        items = rec.images or rec.inputs
        out = []
        for item in items[:ROW_THUMBS]:
            sha = item.get("sha256")
            if not sha:
                out.append(placeholder(ROW_THUMB_PX, "withheld"))
                continue
            try:
                out.append(self.history.store.thumbnail(sha, ROW_THUMB_PX))
            except (KeyError, OSError, ValueError):
                out.append(placeholder(ROW_THUMB_PX, "missing"))
        return out

    def _ticked(self, run_id: str, on: bool) -> None:
        self.query.select(run_id, on)
        self._update_selection_label()

    def _sync_checkboxes(self) -> None:
        for run_id, row in self.rows.items():
            row["checkbox"].value = self.query.is_selected(run_id)
        self._update_selection_label()

    def _update_selection_label(self) -> None:
        n = len(self.query.selected)
        self.selection_label.value = f"&nbsp;{n} selected" if n else "&nbsp;none selected: export takes every match"
        self.export_button.description = self.query.export_description()

    # --- actions ---------------------------------------------------------------------------------
    def _timed_refresh(self) -> None:
        try:
            self.refresh()
        except (ig.HistoryError, OSError) as exc:
            self.message.value = (
                f"<span style='color:{_ERROR}'>The history could not be read again: {escape(str(exc))}</span>"
            )

    def resume(self, run_id: str) -> threading.Thread:
        """Finish a pending v2 job in the background (polls only: nothing is sent again); its
        row updates when it is done. Returns the thread doing it."""
        rec = self.history[run_id]
        if rec.status != "pending":
            raise ValueError(f"run {run_id} is not a pending job (its status is {rec.status!r})")
        if self.client is None:
            self.client = ig.Client(history=self.history)
        if self.client.provider != rec.provider:
            raise ValueError(
                f"run {run_id} is a job of {rec.provider!r}, but this browser's client uses "
                f"{self.client.provider!r}: open the browser with a client for {rec.provider!r} to resume it"
            )
        job = self.client.resume(run_id)
        self.message.value = f"Resuming job {escape(job.generation_id)}…"

        def finish() -> None:
            try:
                job.wait()
                self.message.value = f"Job {escape(job.generation_id)} is done."
            except Exception as exc:  # shown, never raised on a background thread
                self.message.value = f"<span style='color:{_ERROR}'>{escape(str(exc))}</span>"
            self._timed_refresh()

        thread = threading.Thread(target=finish, name=f"resume-{run_id}", daemon=True)
        thread.start()
        return thread

    def _large_view_action(self, action: str, image: Any) -> ig.Spec:
        result = self.large_view.gallery.result
        spec = action_spec(action, image, result.spec if result is not None else None)
        self._open_spec(spec)
        return spec

    def _open_spec(self, spec: ig.Spec) -> None:
        if self._rerun_callbacks:
            self._rerun_callbacks(spec)
            return
        if self.client is None:
            self.client = ig.Client(history=self.history)
        self._show_detail(*prefilled(f"Re-run {type(spec).__name__}", spec, self.client))

    def _show_detail(self, *widgets: W.Widget) -> None:
        old = self.detail.children
        self.detail.children = widgets
        for widget in old:
            close_tree(widget)

    def _guard(self, action: Callable[[str], Any], run_id: str) -> None:
        """Run a button's action; a run that cannot be rebuilt shows a message, not a traceback."""
        self.message.value = ""
        try:
            action(run_id)
        except (ValueError, KeyError, OSError) as exc:
            self.message.value = f"<span style='color:{_ERROR}'>{escape(str(exc))}</span>"

    def _export_clicked(self) -> None:
        try:
            self.export()
        except (ValueError, KeyError, OSError) as exc:
            self.export_message.value = f"<span style='color:{_ERROR}'>Not exported: {escape(str(exc))}</span>"
