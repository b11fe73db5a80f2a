"""The deciding part of `ComparisonGrid`: its vote bars and best buttons, the tally, the
leaderboard view, the Score button and Sort by. Composed into the grid (`grid.decisions`), as
`Comparison` composes its judging, so the grid module stays about showing cells.
"""

from __future__ import annotations

import concurrent.futures as cf
from html import escape
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from .._config import SCORE_METRICS
from ._deciding import BestButton, LeaderboardView, PairVoteBar, in_thread, mean_metric, order_by, score_caption

if TYPE_CHECKING:
    from ._comparison_grid import ComparisonGrid


class GridDecisions:
    """Votes, best picks, leaderboard and scores of one `ComparisonGrid`."""

    def __init__(self, grid: ComparisonGrid) -> None:
        self.grid = grid
        self.comparison = grid.comparison
        self.vote_bars: list[PairVoteBar] = []
        if self.comparison.is_ab:
            self.vote_bars = [PairVoteBar(self.comparison, i, a, b, self.refresh)
                              for i, (a, b) in enumerate(self.comparison.pairs())]  # fmt: skip
        for bar in self.vote_bars:  # under the B picture, beside A: wherever swap or paging puts them
            grid.views[bar.b.index].extras.children += (bar,)
        ab = self.comparison.ab_axis
        self.best_buttons: list[BestButton] = []
        for k, axis in enumerate(self.comparison.axes[:2]):
            if k == ab or axis.field == "seed" or len(axis) < 2:
                continue
            for cell in self.comparison.cells:
                button = BestButton(self.comparison, cell, axis.field, "row" if k == 0 else "column", self.refresh)
                self.best_buttons.append(button)
                grid.views[cell.index].extras.children += (button,)
        self.tally = W.HTML()
        self.leaderboard = LeaderboardView(self.comparison)
        self.cell_scores: dict[tuple[int, ...], list[dict[str, Any]]] = {}
        self.score_button = W.Button(description="Score", icon="check-square-o",
                                     tooltip="Measure every finished cell offline (text, edit locality, palette, "
                                             "sharpness, near-duplicates); stored in the history")  # fmt: skip
        self.score_button.on_click(lambda _b: self.score_in_background())
        self.score_future: cf.Future[Any] | None = None
        # "" is the grid's own order: a None value would show as an empty dropdown
        sorts = [("grid order", "")] + [(m.replace("_", " "), m) for m in SCORE_METRICS]
        self.sort_select = W.Dropdown(options=sorts, value="", description="Sort by", layout=W.Layout(width="auto"))
        self.sort_select.observe(lambda ch: self.sort_by(ch["new"]), "value")

    def refresh(self) -> None:
        """Show the recorded votes: chosen buttons, the running tally, the leaderboard."""
        history = getattr(self.comparison.client, "history", None)
        votes = self.comparison.votes() if history is not None else []
        by_pair = {v["pair"]: v for v in votes}
        for bar in self.vote_bars:
            vote = by_pair.get(bar.pair)
            bar.show(vote["choice"] if vote else None)
        for button in self.best_buttons:
            button.show(self.comparison.judging.best_of(button.cell, button.field) if history is not None else None)
        text = []
        if self.vote_bars and history is not None:
            t = self.comparison.tally()
            text.append(f"<b>Votes</b>: A ({escape(t['a'])}) {t['A']} · B ({escape(t['b'])}) {t['B']} · "
                        f"tie {t['tie']} · unvoted {t['unvoted']} of {t['pairs']}")  # fmt: skip
        picks = [v for v in votes if v["meta"].get("kind") == "best"]
        if picks:
            text.append(f"<b>Best picks</b>: {len(picks)}")
        self.tally.value = "<br/>".join(text)
        self.leaderboard.refresh()

    def score_in_background(self) -> cf.Future[Any]:
        """What the Score button does: `score()` on a thread, the button disabled meanwhile."""
        self.score_button.disabled = True
        self.grid.message.value = "<small>scoring the finished cells…</small>"

        def work() -> list[dict[str, Any]]:
            try:
                rows = self.score()
                self.grid.message.value = ""
                return rows
            except Exception as exc:  # shown where the user clicked, and kept in the future
                self.grid.message.value = f"<span style='color:#b00'>scoring failed: {escape(str(exc))}</span>"
                raise
            finally:
                self.score_button.disabled = False

        self.score_future = in_thread(work, f"score-{self.comparison.id}")
        return self.score_future

    def score(self) -> list[dict[str, Any]]:
        """Score every finished cell (stored in the history) and show the metrics in the cells."""
        rows = self.comparison.scores()
        self.cell_scores = {}
        for row in rows:
            self.cell_scores.setdefault(tuple(row["cell"]), []).append({m: row.get(m) for m in SCORE_METRICS})
        for index, view in self.grid.views.items():
            view.scores_html.value = score_caption(self.cell_scores.get(index, []))
        if self.sort_select.value:
            self.sort_by(self.sort_select.value)
        return rows

    def sort_by(self, metric: str | None) -> None:
        """Order columns and rows best first by their mean `metric` (None: grid order); cells
        are scored first if they were not. Nothing is run again."""
        metric = metric or None
        if (self.sort_select.value or None) != metric:
            self.sort_select.value = metric or ""  # its observer calls back here
            return
        if metric is None:
            self.grid.col_order = self.grid.row_order = None
        else:
            if not self.cell_scores:
                self.score()
                return
            col_ax, row_ax = self.grid._view_axes()
            self.grid.col_order = self._order(col_ax, metric)
            self.grid.row_order = self._order(row_ax, metric)
        self.grid._layout()

    def _order(self, k: int | None, metric: str) -> list[int] | None:
        if k is None:
            return None

        def value_of(i: int) -> float | None:
            found = [s for idx, sc in self.cell_scores.items() if idx[k] == i for s in sc]
            return mean_metric(found, metric)

        return order_by(len(self.comparison.axes[k]), value_of, metric)
