"""Deciding inside the comparison grid: A/B vote bars, "best of a row/column" picks, the
running leaderboard and score captions. Thin views: every click is one `Comparison` call
(`vote`, `vote_best`), recorded in the history at once; the numbers come from
`History.leaderboard` and `Comparison.scores`.

Why buttons with words: they take keyboard focus (Tab) and fire on Enter or Space, and their
labels say what they record; tooltips sit on the buttons themselves, never on a Box
(ipywidgets#3860 hides a Box that has one).
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
from collections.abc import Callable
from html import escape
from typing import Any

import ipywidgets as W

from .._config import SCORE_LOWER_IS_BETTER, SCORE_METRICS

Cell = Any
CHOICE_LABELS = (("A", "A is better"), ("B", "B is better"), ("tie", "Tie: neither is better"))


class PairVoteBar(W.HBox):
    """A, B, tie and a note for one A/B pair (shown under its B picture, beside A); the chosen
    button is highlighted."""

    def __init__(self, comparison: Any, pair: int, a: Cell, b: Cell, on_vote: Callable[[], None]) -> None:
        super().__init__(layout=W.Layout(align_items="center", flex_flow="row wrap"))
        self.comparison, self.pair, self.a, self.b = comparison, pair, a, b
        self._on_vote = on_vote
        k = comparison.ab_axis
        where = ", ".join(s for j, s in enumerate(a.legends) if j != k) or f"pair {pair + 1}"
        self.label = W.HTML(f"<small>vote ({escape(where)}):</small>")
        self.buttons = {}
        for choice, tip in CHOICE_LABELS:
            button = W.Button(description=choice, tooltip=f"{tip} ({where}); recorded in the history at once",
                              layout=W.Layout(width="auto"))  # fmt: skip
            button.on_click(lambda _b, c=choice: self.vote(c))
            self.buttons[choice] = button
        self.note = W.Text(placeholder="note (optional)", layout=W.Layout(width="95%"))
        self.message = W.HTML()
        self.children = (self.label, *self.buttons.values(), self.note, self.message)

    def vote(self, choice: str) -> None:
        try:
            self.comparison.vote(self.pair, choice, note=self.note.value.strip() or None)
        except (KeyError, ValueError, TypeError) as exc:
            self.message.value = f"<span style='color:#b00'>{escape(str(exc))}</span>"
            return
        self.message.value = ""
        self._on_vote()

    def show(self, choice: str | None) -> None:
        for name, button in self.buttons.items():
            button.button_style = "success" if name == choice else ""


class BestButton(W.Button):
    """ "best <field>": this cell is the best of its line along that axis."""

    def __init__(self, comparison: Any, cell: Cell, field: str, direction: str, on_vote: Callable[[], None]) -> None:
        tip = f"Mark this the best {field} of its {direction}; recorded in the history at once"
        super().__init__(description=f"best {field}", icon="star-o", layout=W.Layout(width="auto"), tooltip=tip)
        self.comparison, self.cell, self.field = comparison, cell, field
        self.on_click(lambda _b: self.pick(on_vote))

    def pick(self, on_vote: Callable[[], None]) -> None:
        self.comparison.vote_best(self.cell, self.field)
        on_vote()

    def show(self, winner: Cell | None) -> None:
        """Highlighted when this cell is the current pick of its line."""
        picked = winner is self.cell
        self.button_style = "success" if picked else ""
        self.icon = "star" if picked else "star-o"


class LeaderboardView(W.VBox):
    """The leaderboard of each ranked axis, from every vote in the history; `refresh()` re-reads."""

    def __init__(self, comparison: Any) -> None:
        super().__init__()
        self.comparison = comparison
        self.html = W.HTML()
        self.children = (self.html,)
        self.refresh()

    def fields(self) -> list[str]:
        return [a.field for a in self.comparison.axes if a.field != "seed" and len(a) > 1]

    def refresh(self) -> None:
        history = getattr(self.comparison.client, "history", None)
        if history is None or not self.fields():
            self.html.value = ""
            return
        parts = ["<b>Leaderboard</b> <small>(every vote in the history; 95 % intervals)</small>"]
        for field in self.fields():
            rows = history.leaderboard(field)
            if not rows:
                parts.append(f"<div><small>{escape(field)}: no votes yet</small></div>")
                continue
            body = "".join(
                f"<tr><td>{escape(str(r['value']))}</td><td>{r['strength']:+.2f}</td>"
                f"<td>[{r['ci_low']:+.2f}, {r['ci_high']:+.2f}]</td><td>{r['wins']}</td><td>{r['losses']}</td>"
                f"<td>{r['ties']}</td></tr>"
                for r in rows
            )
            settled = any(r["ahead_of_next"] for r in rows)
            hint = "" if settled else "<small>intervals overlap: too few votes to tell yet</small>"
            parts.append(
                f"<div><b>{escape(field)}</b><table><tr><th>value</th><th>strength</th><th>interval</th>"
                f"<th>wins</th><th>losses</th><th>ties</th></tr>{body}</table>{hint}</div>"
            )
        self.html.value = "".join(parts)


def in_thread(work: Callable[[], Any], name: str) -> cf.Future[Any]:
    """Run `work` on a daemon thread (OCR takes seconds: the kernel stays responsive)."""
    future: cf.Future[Any] = cf.Future()
    future.set_running_or_notify_cancel()

    def run() -> None:
        try:
            future.set_result(work())
        except BaseException as exc:  # handed to whoever waits on the future
            future.set_exception(exc)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


def score_caption(scores: list[dict[str, Any]]) -> str:
    """The metrics of a cell's images, as a small caption (only those that apply)."""
    lines = []
    for k, metrics in enumerate(scores):
        shown = [f"{m.replace('_', ' ')} {v:.2f}" for m in SCORE_METRICS if (v := metrics.get(m)) is not None]
        if shown:
            lines.append((f"#{k + 1}: " if len(scores) > 1 else "") + " · ".join(shown))
    return "<small style='color:#555'>" + "<br/>".join(escape(x) for x in lines) + "</small>" if lines else ""


def mean_metric(scores: list[dict[str, Any]], metric: str) -> float | None:
    values = [s[metric] for s in scores if s.get(metric) is not None]
    return sum(values) / len(values) if values else None


def order_by(labels: int, value_of: Callable[[int], float | None], metric: str) -> list[int]:
    """Positions sorted best first by `value_of` (unscored last, grid order kept among equals)."""
    sign = 1.0 if metric in SCORE_LOWER_IS_BETTER else -1.0

    def key(i: int) -> tuple[int, float, int]:
        v = value_of(i)
        return (1, 0.0, i) if v is None else (0, sign * v, i)

    return sorted(range(labels), key=key)
