"""The live comparison grid and the Compare panel: thin views over `ideogram_nb.Comparison`.

Why views and not logic: planning, running, retrying and the records all live in the core
`Comparison`, so the grid only mirrors cell states (it subscribes with `observe`, and ipywidgets
accept updates from the worker threads) and turns clicks into calls. Swapping axes and paging
are pure re-arrangements of the same cell widgets: nothing is re-run.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable
from html import escape
from typing import Any

import ipywidgets as W

import ideogram_nb as ig
from ideogram_nb import Comparison, PromptSR, compare

from .._callbacks import Callbacks
from .._config import COMPARE_CELL_PX
from ._cell_view import Cell, CellView
from ._followup import FollowUp
from ._form import SpecForm
from ._grid_decisions import GridDecisions
from ._large_view import LargeView

GRID_CLASS = "ideogram-nb-compare"
THUMB_PX = COMPARE_CELL_PX
#: Sticky headers: the grid scrolls inside its own box; headers stay on its edges.
_STYLE = f"""<style>
.{GRID_CLASS} {{ overflow: auto; max-height: 80vh; }}
.{GRID_CLASS} .ig-cmp-col {{ position: sticky; top: 0; z-index: 2; background: var(--jp-layout-color0, #fff); }}
.{GRID_CLASS} .ig-cmp-row {{ position: sticky; left: 0; z-index: 1; background: var(--jp-layout-color0, #fff); }}
.{GRID_CLASS} .ig-cmp-corner {{ position: sticky; top: 0; left: 0; z-index: 3;
  background: var(--jp-layout-color0, #fff); }}
</style>"""


class ComparisonGrid(W.VBox):
    """A comparison as a live grid: axis headers that stay in view, cells that fill in as
    calls finish, failed cells with a retry button, swap axes, a page selector for the third
    axis, and `on_open(cb)` for a click on a cell (default: open it in a prefilled SpecForm)."""

    def __init__(self, comparison: Comparison, *, thumb_px: int = THUMB_PX) -> None:
        super().__init__(layout=W.Layout(width="100%"))
        self.comparison = comparison
        self.swapped = False
        self.page = 0
        self.last_future: cf.Future[Comparison] | None = None
        self._open_callbacks = Callbacks()
        store = getattr(getattr(comparison.client, "history", None), "store", None)
        store = store if hasattr(store, "thumbnail") else None
        self.views = {
            c.index: CellView(c, thumb_px, store, self.open_cell, self.retry, self.open_image) for c in comparison.cells
        }
        self._px = thumb_px
        self.summary = W.HTML()
        self.message = W.HTML()
        self.run_button = W.Button(description="Run", icon="play", button_style="primary",
                                   tooltip="Run every cell not yet done")  # fmt: skip
        self.retry_failed_button = W.Button(description="Retry failed", icon="refresh",
                                            tooltip="Run the failed cells again (not those whose outcome is "
                                                    "unknown, unless ticked)")  # fmt: skip
        client = comparison.client
        self.resend_unknown_box = W.Checkbox(
            value=bool(getattr(client, "resend_unknown", False)), indent=False, layout=W.Layout(width="auto"),
            description="also re-send outcome-unknown cells (may pay twice)",
        )  # fmt: skip
        self.swap_button = W.Button(description="Swap axes", icon="exchange", tooltip="Rows become columns (no re-run)")
        pages = comparison.axes[2] if len(comparison.axes) > 2 else None
        self.page_select = W.Dropdown(
            options=[(pages.legend(i), i) for i in range(len(pages))] if pages else [("", 0)], value=0,
            description="Page", layout=W.Layout(display=None if pages else "none", width="auto"),
        )  # fmt: skip
        self.run_button.on_click(lambda _b: self._guarded(self.run))
        self.retry_failed_button.on_click(lambda _b: self._guarded(self.retry_failed))
        self.swap_button.on_click(lambda _b: self.swap_axes())
        self.col_order: list[int] | None = None  # display order of columns and rows (sorting)
        self.row_order: list[int] | None = None
        # --- deciding: votes, best picks, leaderboard, scores (see `_grid_decisions`) ---
        self.decisions = GridDecisions(self)
        d = self.decisions
        self.vote_bars, self.best_buttons, self.tally = d.vote_bars, d.best_buttons, d.tally
        self.leaderboard, self.score_button, self.sort_select = d.leaderboard, d.score_button, d.sort_select
        self.page_select.observe(lambda ch: self.show_page(ch["new"]), "value")
        self.grid = W.GridBox()
        self.grid.add_class(GRID_CLASS)
        #: A cell opened in a prefilled form (when no `on_open` listener takes it).
        self.detail = FollowUp()
        toolbar = W.HBox([self.run_button, self.retry_failed_button, self.resend_unknown_box, self.swap_button,
                          self.page_select, self.score_button, self.sort_select],
                         layout=W.Layout(flex_flow="row wrap", align_items="center"))  # fmt: skip
        #: Any cell's picture, large, with the actions of any result (a click on it opens it).
        self.large_view = LargeView()
        self.children = (W.HTML(_STYLE), self.summary, toolbar, self.message, self.grid, self.large_view,
                         self.tally, self.leaderboard, self.detail)  # fmt: skip
        comparison.observe(self._cell_changed)
        self._layout()
        self._update_summary()
        self.refresh_votes()

    # --- arrangement ----------------------------------------------------------------------
    def _view_axes(self) -> tuple[int | None, int | None]:
        """(axis shown as columns, axis shown as rows); None where there is none."""
        col, row = 0, (1 if len(self.comparison.axes) > 1 else None)
        return (row, col) if self.swapped else (col, row)

    def cell_at(self, col: int, row: int) -> Cell:
        """The cell shown at (column, row) of the current page, orientation and sort order."""
        col = self.col_order[col] if self.col_order else col
        row = self.row_order[row] if self.row_order else row
        rows = self.comparison.page_rows(self.page)
        return rows[col][row] if self.swapped else rows[row][col]

    def _layout(self) -> None:
        axes = self.comparison.axes
        col_ax, row_ax = self._view_axes()
        ncols = len(axes[col_ax]) if col_ax is not None else 1
        nrows = len(axes[row_ax]) if row_ax is not None else 1
        corner = W.HTML(f"<b>{escape(axes[2].legend(self.page))}</b>" if len(axes) > 2 else "")
        corner.add_class("ig-cmp-corner")
        children: list[W.Widget] = [corner]
        cols = self.col_order or list(range(ncols))
        rows = self.row_order or list(range(nrows))
        for i in cols:
            head = W.HTML(f"<b>{escape(axes[col_ax].legend(i))}</b>" if col_ax is not None else "")
            head.add_class("ig-cmp-col")
            children.append(head)
        for j, row in enumerate(rows):
            head = W.HTML(f"<b>{escape(axes[row_ax].legend(row))}</b>" if row_ax is not None else "")
            head.add_class("ig-cmp-row")
            children.append(head)
            children.extend(self.views[self.cell_at(i, j).index] for i in range(ncols))
        self.grid.layout.grid_template_columns = f"max-content repeat({ncols}, {self._px + 12}px)"
        self.grid.children = tuple(children)

    def swap_axes(self) -> None:
        """Show rows as columns and columns as rows; the cells are not run again."""
        self.swapped = not self.swapped
        self.col_order, self.row_order = self.row_order, self.col_order
        self._layout()

    # --- deciding -------------------------------------------------------------------------
    def refresh_votes(self) -> None:
        """Show the recorded votes: chosen buttons, the running tally, the leaderboard."""
        self.decisions.refresh()

    def score(self) -> list[dict[str, Any]]:
        """Score every finished cell (stored in the history) and show the metrics in the cells."""
        return self.decisions.score()

    def sort_by(self, metric: str | None) -> None:
        """Order columns and rows best first by a metric's mean (None: grid order)."""
        self.decisions.sort_by(metric)

    @property
    def cell_scores(self) -> dict[tuple[int, ...], list[dict[str, Any]]]:
        return self.decisions.cell_scores

    @property
    def score_future(self) -> cf.Future[Any] | None:
        return self.decisions.score_future

    def show_page(self, page: int) -> None:
        self.page = int(page)
        if self.page_select.value != self.page:
            self.page_select.value = self.page
        self._layout()

    @property
    def column_labels(self) -> list[str]:
        return [c.value for c in self.grid.children if "ig-cmp-col" in c._dom_classes]

    @property
    def row_labels(self) -> list[str]:
        return [c.value for c in self.grid.children if "ig-cmp-row" in c._dom_classes]

    # --- running --------------------------------------------------------------------------
    def run(self) -> cf.Future[Comparison]:
        """Run every cell not yet done in the background; the grid fills in as they finish."""
        self.last_future = self.comparison.start()
        return self.last_future

    def retry(self, cell: Cell) -> cf.Future[Comparison]:
        self.last_future = self.comparison.start([cell])
        return self.last_future

    def retry_failed(self, resend_unknown: bool | None = None) -> cf.Future[Comparison]:
        """Run the failed cells again in the background. Cells whose outcome is unknown (maybe
        billed) only with `resend_unknown=True` (default: the checkbox in the toolbar)."""
        resend = self.resend_unknown_box.value if resend_unknown is None else resend_unknown
        self.last_future = self.comparison.start(self.comparison.to_retry(resend))
        return self.last_future

    def _guarded(self, action: Callable[[], Any]) -> None:
        """Button clicks: show a refusal (budget, …) in the grid instead of raising."""
        try:
            self.message.value = ""
            action()
        except (ig.BudgetError, ig.SpecError, ValueError) as exc:
            self.message.value = f"<span style='color:#b00'>{escape(str(exc))}</span>"

    def _cell_changed(self, cell: Cell) -> None:
        view = self.views.get(cell.index)
        if view is not None:
            view.refresh()
        self._update_summary()

    def _update_summary(self) -> None:
        cmp = self.comparison
        counts = ", ".join(f"{n} {state}" for state, n in cmp.counts().items() if n)
        dims = " × ".join(f"{a.field} ({len(a)})" for a in cmp.axes)
        self.summary.value = (
            f"<b>Comparison {escape(cmp.id)}</b>: {escape(dims)} · {cmp.n_calls} calls · {cmp.n_images} images · "
            f"~${cmp.estimate_cost():.2f} · {escape(counts)} · spent ${cmp.spent_usd:.2f}"
        )

    # --- opening a cell -------------------------------------------------------------------
    def on_open(self, callback: Callable[[Cell], None], remove: bool = False) -> None:
        """Call `callback(cell)` when a cell's open button is clicked (instead of a form)."""
        self._open_callbacks.register(callback, remove=remove)

    def open_image(self, cell: Cell, index: int = 0) -> Any:
        """Show image `index` of `cell` in the large view, with every finished cell's images
        (in grid order) a previous/next away; returns the `ImageResult` in view."""
        entries: list[tuple[Any, Any]] = []
        start = 0
        for other in self.comparison.cells:
            if other.state != "ok" or other.result is None:
                continue
            if other is cell:
                start = len(entries) + index
            entries.extend((image, other.result) for image in other.images)
        if not entries:
            raise ValueError(f"Cell {cell.legend} has no image to show yet.")
        self.large_view.show(entries, start)
        return self.large_view.image

    def on_action(self, callback: Callable[[str, Any], Any], remove: bool = False) -> None:
        """Call `callback(action, spec)` with the prefilled spec of a per-image action from the
        large view (remix, edit, …), like `ResultGrid.on_action`; without one, a form opens."""
        self.large_view.on_action(callback, remove=remove)

    def open_cell(self, cell: Cell) -> None:
        if self._open_callbacks:
            self._open_callbacks(cell)
            return
        self.detail.open_form(f"Cell {cell.legend}", cell.spec.copy(), self.comparison.client)


class ComparePanel(W.VBox):
    """The Studio's Compare tab: pick up to three fields of a spec, type values (a list or a
    range like `1-10 (+2)`), see the cost before running, set a budget, and Run into a grid.

    `spec_or_form` is a spec, a `SpecForm` (its current spec is read at each preview), a
    callable returning a spec, or None (a Generate form is shown for the base).
    """

    def __init__(self, spec_or_form: Any = None, client: ig.Client | None = None) -> None:
        super().__init__(layout=W.Layout(width="100%"))
        self.client = client
        self.comparison: Comparison | None = None
        self.grid: ComparisonGrid | None = None
        self.base_box = W.VBox()
        self.set_base(spec_or_form)
        self.field_boxes: list[W.Dropdown] = []
        self.value_boxes: list[W.Text] = []
        rows = []
        for name in ("x", "y", "page"):
            field = W.Dropdown(options=self._field_options(), value=None, description=f"Axis {name}",
                               layout=W.Layout(width="300px"))  # fmt: skip
            values = W.Text(placeholder="values: a, b, c  or  1-10 (+2)  or  10-90 [5]",
                            layout=W.Layout(width="420px"))  # fmt: skip
            field.observe(lambda _c: self.preview(), "value")
            values.observe(lambda _c: self.preview(), "value")
            self.field_boxes.append(field)
            self.value_boxes.append(values)
            rows.append(W.HBox([field, values]))
        self.seeds = W.BoundedIntText(value=0, min=0, max=64, description="Seeds / cell",
                                      tooltip="0: one shared seed; n: a seed axis of n seeds")  # fmt: skip
        self.budget = W.BoundedFloatText(value=0.0, min=0.0, max=10_000.0, step=0.1, description="Budget $",
                                         tooltip="Refuse to run above this cost (0: no budget)")  # fmt: skip
        self.seeds.observe(lambda _c: self.preview(), "value")
        self.budget.observe(lambda _c: self.preview(), "value")
        self.cost = W.HTML()
        self.run_button = W.Button(description="Run comparison", icon="play", button_style="primary")
        self.run_button.on_click(lambda _b: self._run_clicked())
        self.output = W.VBox()
        self.children = (self.base_box, *rows, W.HBox([self.seeds, self.budget]),
                         W.HBox([self.run_button, self.cost]), self.output)  # fmt: skip
        self.preview()

    def set_base(self, spec_or_form: Any) -> None:
        """Compare around this spec (or form, or callable) from now on."""
        if spec_or_form is None:
            spec_or_form = SpecForm(ig.Generate(), self.client)
            spec_or_form.run_button.layout.display = "none"  # the panel's Run runs the grid
        self._source = spec_or_form
        self.base_box.children = (spec_or_form,) if isinstance(spec_or_form, W.Widget) else ()
        if hasattr(self, "field_boxes"):
            for box in self.field_boxes:
                box.options = self._field_options()
            self.preview()

    def base_spec(self) -> ig.Spec:
        src = self._source
        if hasattr(src, "spec"):
            return src.spec
        return src() if callable(src) else src

    def _field_options(self) -> list[tuple[str, str | None]]:
        spec = self.base_spec()
        options: list[tuple[str, str | None]] = [("—", None)]
        for name in spec.field_names():
            options.append((name, name))
            if isinstance(getattr(spec, name), str) and name.endswith("prompt"):
                options.append((f"{name} (search/replace)", f"{name}::sr"))
        return options

    def axes(self) -> dict[str, Any]:
        """The axes as `compare()` keywords, from the rows that have a field and values."""
        out: dict[str, Any] = {}
        for field, values in zip(self.field_boxes, self.value_boxes, strict=True):
            if field.value is None or not values.value.strip():
                continue
            name, _, mode = field.value.partition("::")
            if name in out:
                raise ValueError(f"{name!r} is on two axes; use it once")
            out[name] = PromptSR.parse(values.value) if mode == "sr" else values.value
        return out

    def plan(self, *, budget: bool = True) -> Comparison:
        """The comparison the panel describes (validated; raises like `compare`)."""
        return compare(
            self.base_spec(), self.client, budget_usd=(self.budget.value or None) if budget else None,
            seeds=self.seeds.value or None, **self.axes(),
        )  # fmt: skip

    def preview(self) -> str:
        """Calls, images and cost of what Run would do, or why it cannot run. Never raises."""
        ok = False
        try:
            cmp = self.plan(budget=False)
            cost = cmp.estimate_cost()
            text = f"{cmp.n_calls} calls · {cmp.n_images} images · ~${cost:.2f}"
            if self.budget.value and cost > self.budget.value + 1e-9:
                text = f"<span style='color:#b00'>{text}: over the budget of ${self.budget.value:.2f}</span>"
            else:
                ok = True
        except Exception as exc:  # every refusal is shown, none escapes into a widget callback
            shown = str(exc) if self.axes_given() else "choose a field and type its values"
            text = f"<span style='color:#b00'>{escape(shown)}</span>".replace("\n", "<br/>")
        self.cost.value = text
        self.run_button.disabled = not ok
        return text

    def axes_given(self) -> bool:
        return any(
            f.value is not None and v.value.strip() for f, v in zip(self.field_boxes, self.value_boxes, strict=True)
        )

    def run(self) -> ComparisonGrid:
        """Plan (with the budget), show a ComparisonGrid and start it."""
        if self.client is None:
            self.client = ig.Client()
        self.comparison = self.plan()
        self.grid = ComparisonGrid(self.comparison)
        self.output.children = (self.grid,)
        self.grid.run()
        return self.grid

    def _run_clicked(self) -> None:
        try:
            self.run()
        except Exception as exc:  # shown where the user clicked
            self.cost.value = f"<span style='color:#b00'>{escape(str(exc))}</span>".replace("\n", "<br/>")
