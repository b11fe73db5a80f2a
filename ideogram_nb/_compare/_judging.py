"""Judging a comparison: its A/B pairs, the words that differ, votes and their tally.

Why separate from planning and running: judging results is its own activity (look at the
pairs, see what changed, vote, tally later), and none of it changes which calls are made.
Votes live in the history's SQLite so they survive the notebook and travel with it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from html import escape
from typing import TYPE_CHECKING, Any

from .._history._leaderboard import BEST_KIND
from ._axes import format_value
from ._cells import Cell, CellGrid

if TYPE_CHECKING:
    from .._history._database import History

CHOICES = ("A", "B", "tie")
_CHOICE_ALIASES = {"a": "A", "b": "B", "tie": "tie", "=": "tie", "draw": "tie", "same": "tie"}


def word_diff(a: str, b: str) -> list[tuple[str, str, str]]:
    """Word-level difflib opcodes: (tag, words of A, words of B); tag is equal/replace/delete/insert."""
    aw, bw = a.split(), b.split()
    matcher = difflib.SequenceMatcher(None, aw, bw, autojunk=False)
    return [(tag, " ".join(aw[i1:i2]), " ".join(bw[j1:j2])) for tag, i1, i2, j1, j2 in matcher.get_opcodes()]


def diff_html(ops: list[tuple[str, str, str]]) -> tuple[str, str]:
    """A and B as HTML with the differing words in <mark>."""
    a_parts, b_parts = [], []
    for tag, a, b in ops:
        if tag == "equal":
            a_parts.append(escape(a))
            b_parts.append(escape(b))
            continue
        if a:
            a_parts.append(f"<mark>{escape(a)}</mark>")
        if b:
            b_parts.append(f"<mark>{escape(b)}</mark>")
    return " ".join(a_parts), " ".join(b_parts)


def normalise_choice(choice: str) -> str:
    folded = _CHOICE_ALIASES.get(str(choice).strip().lower())
    if folded is None:
        raise ValueError(f"vote for 'A', 'B' or 'tie', not {choice!r}")
    return folded


class Judging:
    """Pairs, diff, votes and tally over one grid; votes go to the history it is given."""

    def __init__(self, grid: CellGrid, comparison_id: str, history: Callable[[], History]) -> None:
        self.grid = grid
        self.comparison_id = comparison_id
        self._history = history

    # --- pairs ----------------------------------------------------------------------------
    @property
    def ab_axis(self) -> int | None:
        """Position of the A/B axis: the first two-valued axis that is not the seed."""
        two = [k for k, a in enumerate(self.grid.axes) if len(a) == 2]
        for k in two:
            if self.grid.axes[k].field != "seed":
                return k
        return two[0] if two else None

    @property
    def is_ab(self) -> bool:
        return self.ab_axis is not None

    def _require_ab(self) -> int:
        k = self.ab_axis
        if k is None:
            raise ValueError("not an A/B comparison: give one axis exactly two values, e.g. prompt=[a, b]")
        return k

    def pairs(self) -> list[tuple[Cell, Cell]]:
        """(A cell, B cell) for every combination of the other axes (e.g. each seed)."""
        k = self._require_ab()
        out = []
        for cell in self.grid.cells:
            if cell.index[k] == 0:
                other = cell.index[:k] + (1,) + cell.index[k + 1 :]
                out.append((cell, self.grid.at(other)))
        return out

    def sides(self) -> tuple[str, str, str]:
        k = self._require_ab()
        a_cell, b_cell = self.pairs()[0]
        field = self.grid.axes[k].field
        return field, format_value(getattr(a_cell.spec, field)), format_value(getattr(b_cell.spec, field))

    def diff(self) -> list[tuple[str, str, str]]:
        """The words that differ between side A and side B (of the whole field, after any S/R)."""
        _, a, b = self.sides()
        return word_diff(a, b)

    # --- votes ----------------------------------------------------------------------------
    def _pair_index(self, pair: int, pairs: list[tuple[Cell, Cell]]) -> int:
        """A pair index if in range, otherwise the seed both sides of a pair share."""
        if isinstance(pair, bool) or not isinstance(pair, int):
            raise TypeError(f"pair must be a pair index or a seed (int), not {pair!r}")
        if 0 <= pair < len(pairs):
            return pair
        by_seed = [i for i, (a, _) in enumerate(pairs) if getattr(a.spec, "seed", None) == pair]
        if len(by_seed) == 1:
            return by_seed[0]
        raise KeyError(f"{pair!r} is neither a pair index (0–{len(pairs) - 1}) nor the seed of one pair")

    def vote(self, pair: int, choice: str, *, note: str | None = None) -> dict[str, Any]:
        """Record which side of one pair is better ("A", "B" or "tie") in the history."""
        pairs = self.pairs()
        i = self._pair_index(pair, pairs)
        choice = normalise_choice(choice)
        a, b = pairs[i]
        field, a_text, b_text = self.sides()
        k = self._require_ab()
        meta = {
            "field": field, "a": a_text, "b": b_text, "seed": getattr(a.spec, "seed", None),
            "legend": ", ".join(s for j, s in enumerate(a.legends) if j != k), "note": note,
        }  # fmt: skip
        return self._history().add_vote(
            self.comparison_id, i, choice, a_run_id=a.result.run_id if a.result else None,
            b_run_id=b.result.run_id if b.result else None, meta=meta,
        )  # fmt: skip

    def votes(self) -> list[dict[str, Any]]:
        """The current vote of each voted pair or line (a later vote replaces an earlier one)."""
        return self._history().votes(self.comparison_id)

    def pair_votes(self) -> list[dict[str, Any]]:
        """The current A/B votes only (no "best of a line" picks)."""
        return [v for v in self.votes() if v["meta"].get("kind") != BEST_KIND]

    def tally(self) -> dict[str, Any]:
        """Votes counted: {"field", "a", "b", "A", "B", "tie", "unvoted", "pairs"}."""
        field, a, b = self.sides()
        counts = {c: 0 for c in CHOICES}
        votes = self.pair_votes()
        for v in votes:
            counts[v["choice"]] += 1
        n = len(self.pairs())
        return {"field": field, "a": a, "b": b, **counts, "unvoted": n - len(votes), "pairs": n}

    # --- best of a row or column (X/Y grids) ------------------------------------------------
    def line(self, cell: Cell, field: str) -> tuple[int, list[Cell]]:
        """(axis position, the cells that differ from `cell` only on the `field` axis)."""
        fields = [a.field for a in self.grid.axes]
        if field not in fields:
            raise KeyError(f"{field!r} is not an axis of this comparison; axes: {', '.join(fields)}")
        k = fields.index(field)
        if len(self.grid.axes[k]) < 2:
            raise ValueError(f"the {field!r} axis has one value: there is nothing to pick the best from")
        return k, [self.grid.at(cell.index[:k] + (i,) + cell.index[k + 1 :]) for i in range(len(self.grid.axes[k]))]

    def line_key(self, cell: Cell, k: int) -> int:
        """The votes table's `pair` of one line: negative, so it never meets an A/B pair index;
        a later pick on the same line replaces the earlier one."""
        flat = 0
        for j, axis in enumerate(self.grid.axes):
            flat = flat * len(axis) + (0 if j == k else cell.index[j])
        return -(1 + k + len(self.grid.axes) * flat)

    def vote_best(self, cell: Cell, field: str, *, note: str | None = None) -> dict[str, Any]:
        """Record `cell` as the best of its line along the `field` axis (its row or column): one
        win of its value over each other value of that line, for the leaderboard."""
        k, cells = self.line(cell, field)
        # the field's whole value, as A/B votes record it (a search/replace axis: the full prompt)
        values = [format_value(getattr(c.spec, field)) for c in cells]
        meta = {
            "kind": BEST_KIND, "field": field, "winner": values[cell.index[k]], "values": values,
            "winner_index": cell.index[k],
            "run_ids": [c.result.run_id if c.result else None for c in cells], "note": note,
            "line": ", ".join(s for j, s in enumerate(cell.legends) if j != k),
        }  # fmt: skip
        run_id = cell.result.run_id if cell.result else None
        return self._history().add_vote(self.comparison_id, self.line_key(cell, k), "A", a_run_id=run_id, meta=meta)

    def best_picks(self) -> list[dict[str, Any]]:
        """The current "best of a line" votes of this comparison."""
        return [v for v in self.votes() if v["meta"].get("kind") == BEST_KIND]

    def best_of(self, cell: Cell, field: str) -> Cell | None:
        """The cell currently picked as best on `cell`'s line along `field`, or None."""
        k, cells = self.line(cell, field)
        key = self.line_key(cell, k)
        for v in self.best_picks():
            at = v["meta"].get("winner_index")
            if v["pair"] == key and isinstance(at, int) and 0 <= at < len(cells):
                return cells[at]
        return None
