"""One cell of a comparison grid: its pictures (or state), caption, open and retry buttons.

Why its own module: a cell is the grid's unit of state (planned, running, ok, failed, outcome
unknown); how one cell looks and keeps its size while it fills is apart from how the grid lays
cells out, pages and swaps them (`_comparison_grid`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from html import escape
from typing import Any

import ipywidgets as W

from ._image_button import ImageButton
from ._thumbs import placeholder, result_thumbnail
from ._tiles import aspect_ratio_of

Cell = Any  # a `Comparison` cell: index, legend, state, spec, result, images, seeds, error

STATE_BORDER = {
    "planned": "1px dashed #bbbbbb", "running": "2px solid #1976d2", "ok": "1px solid #dddddd",
    "error": "2px solid #d32f2f", "unknown": "2px dashed #b45f06",
}  # fmt: skip
RETRY_TIP = "Run this cell again"
RESEND_TIP = (
    "This cell's outcome is unknown: the request was sent and the answer lost, so the service may "
    "already have made and billed it. Sending it again may pay twice."
)


def _tooltip(cell: Cell) -> str:
    """The cell's record, as plain text for a hover tooltip."""
    lines = [cell.legend, f"state: {cell.state}"]
    if cell.result is not None:
        lines.append(f"run: {cell.result.run_id}")
        lines.append(f"cost: ${cell.result.cost_usd:.3f}")
    if cell.seeds:
        lines.append("seeds: " + ", ".join(str(s) for s in cell.seeds))
    if cell.error is not None:
        lines.append(f"error: {cell.error}")
    return "\n".join(lines)


class CellView(W.VBox):
    """One cell: thumbnails (or its state), a caption, open and retry buttons."""

    def __init__(
        self, cell: Cell, px: int, store: Any, on_open: Callable[[Cell], None], on_retry: Callable[[Cell], object],
        on_image: Callable[[Cell, int], object] | None = None,
    ) -> None:  # fmt: skip
        super().__init__(layout=W.Layout(width=f"{px + 8}px", padding="2px", margin="2px"))
        self.cell, self._px, self._store = cell, px, store
        self._on_image = on_image
        self.images = W.Box(layout=W.Layout(flex_flow="row wrap", width=f"{px}px", min_height="24px"))
        self.caption = W.HTML()
        self.open_button = W.Button(description="open", icon="external-link", tooltip="Open this cell in a form",
                                    layout=W.Layout(width="auto"))  # fmt: skip
        self.retry_button = W.Button(description="retry", icon="refresh", button_style="warning",
                                     tooltip="Run this cell again", layout=W.Layout(width="auto"))  # fmt: skip
        self.open_button.on_click(lambda _b: on_open(self.cell))
        self.retry_button.on_click(lambda _b: on_retry(self.cell))
        #: Score caption (after `ComparisonGrid.score`) and "best of" buttons (X/Y grids).
        self.scores_html = W.HTML()
        self.extras = W.HBox(layout=W.Layout(flex_flow="row wrap"))
        self.children = (self.images, self.caption, self.scores_html, W.HBox([self.open_button, self.retry_button]),
                         self.extras)  # fmt: skip
        self.refresh()

    def _picture(self, image: Any, index: int, tile: int) -> W.Widget:
        """A cell's picture: a click opens it in the grid's large view (the actions of any result)."""
        value = result_thumbnail(image, tile, self._store)
        if self._on_image is None:
            return W.Image(value=value, format="jpeg", width=tile)
        button = ImageButton(value=value, format="jpeg", layout=W.Layout(width=f"{tile}px"))
        button.on_click(partial(self._image_clicked, index))
        return button

    def _image_clicked(self, index: int, _button: Any = None) -> None:
        if self._on_image is not None:
            self._on_image(self.cell, index)

    def refresh(self) -> None:
        cell = self.cell
        if cell.state == "ok":
            n = max(1, len(cell.images))
            per_row = 1 if n == 1 else 2
            tile = self._px // per_row
            self.images.children = tuple(self._picture(im, i, tile) for i, im in enumerate(cell.images))
            seeds = ", ".join(str(s) for s in dict.fromkeys(cell.seeds))
            self.caption.value = f"<small>seed {escape(seeds)}</small>"
        elif cell.state == "error" and cell.outcome_unknown:
            self.images.children = ()
            self.caption.value = (
                "<small style='color:#b45f06'><b>outcome unknown: possibly billed</b>, not re-sent. "
                f"{escape(str(cell.error))[:300]}</small>"
            )
        elif cell.state == "error":
            self.images.children = ()
            self.caption.value = f"<small style='color:#b00'>failed: {escape(str(cell.error))[:300]}</small>"
        else:  # planned or running: placeholders the size and shape of the images on their way
            n = max(1, cell.spec.image_count)
            tile = self._px // (1 if n == 1 else 2)
            ratio = aspect_ratio_of(cell.spec)
            self.images.children = tuple(
                W.Image(value=placeholder(tile, cell.state, ratio), format="jpeg", width=tile) for _ in range(n)
            )
            self.caption.value = f"<small style='color:#777'>{escape(cell.state)}</small>"
        unknown = cell.state == "error" and cell.outcome_unknown
        # The per-cell button is the deliberate way to send an unknown cell again: it says so.
        self.retry_button.description = "re-send (may pay twice)" if unknown else "retry"
        self.retry_button.button_style = "danger" if unknown else "warning"
        self.retry_button.tooltip = RESEND_TIP if unknown else RETRY_TIP
        self.retry_button.layout.display = None if cell.state == "error" else "none"
        self.layout.border = STATE_BORDER.get("unknown" if unknown else cell.state, "")
        self.open_button.tooltip = _tooltip(cell)  # not on the Box itself: ipywidgets#3860
