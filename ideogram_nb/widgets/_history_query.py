"""What the history browser shows, as plain Python: filters, one page, totals, a selection.

Why a controller apart from the widgets: paging, filtering and selecting are decisions about
queries, testable without a front end; the `HistoryBrowser` only draws them. Why pages come
from `history.runs(limit, offset)` and `history.totals()`: a history of thousands of runs is
never loaded whole; a page is two indexed queries, however long the history grows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import ideogram_nb as ig

#: "ok", "error", "unknown" (sent, answer lost: possibly billed), "pending" (a v2 job running upstream).
STATUSES = ig.History.STATUSES

__all__ = ["PAGE_SIZE", "STATUSES", "Filters", "HistoryQuery", "endpoints"]

PAGE_SIZE = 20


def endpoints() -> list[str]:
    """Every endpoint a public spec class declares (the endpoint filter's choices)."""
    out: list[str] = []
    for name in ig.__all__:
        obj = getattr(ig, name)
        if isinstance(obj, type) and issubclass(obj, ig.Spec) and obj.endpoint and obj.endpoint not in out:
            out.append(obj.endpoint)
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class Filters:
    """The history's own filters; None (or empty text) means "any"."""

    endpoint: str | None = None
    provider: str | None = None
    status: str | None = None
    text: str | None = None
    label: str | None = None

    def kwargs(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("text", "label"):
            out[name] = (out[name] or "").strip() or None
        return out


class HistoryQuery:
    """One page of a filtered history plus the runs selected across pages.

    `refresh()` re-reads the page and the totals; nothing else touches the database.
    """

    def __init__(self, history: ig.History, page_size: int = PAGE_SIZE) -> None:
        if page_size < 1:
            raise ValueError(f"page_size={page_size!r}: must be at least 1")
        self.history = history
        self.page_size = page_size
        self.filters = Filters()
        self.page = 1
        self.records: list[ig.RunRecord] = []
        self.totals: dict[str, Any] = {"runs": 0, "images": 0, "cost_usd": 0.0, "unknown": 0, "unknown_usd": 0.0}
        self._selected: dict[str, None] = {}  # an ordered set: the order runs were ticked

    # --- filters and pages ----------------------------------------------------------------------
    def set_filters(self, **changes: Any) -> None:
        """Change some filters and go back to page 1 (the old page may not exist any more)."""
        self.filters = replace(self.filters, **changes)
        self.page = 1
        self.refresh()

    def refresh(self) -> None:
        kwargs = self.filters.kwargs()
        self.totals = self.history.totals(**kwargs)
        self.page = min(max(1, self.page), self.pages)
        offset = (self.page - 1) * self.page_size
        self.records = self.history.runs(**kwargs, limit=self.page_size, offset=offset)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.totals["runs"] / self.page_size))

    def go_to(self, page: int) -> int:
        """Show page `page` (clamped to 1 … pages); returns the page shown."""
        self.page = int(page)
        self.refresh()
        return self.page

    def next_page(self) -> int:
        return self.go_to(self.page + 1)

    def prev_page(self) -> int:
        return self.go_to(self.page - 1)

    @property
    def page_label(self) -> str:
        return f"page {self.page} of {self.pages}"

    def totals_text(self) -> str:
        t = self.totals
        text = f"{_plural(t['runs'], 'run')} · {_plural(t['images'], 'image')} · ${t['cost_usd']:.2f}"
        if t.get("unknown"):
            text += (
                f" (${t['unknown_usd']:.2f} possibly billed: {_plural(t['unknown'], 'run')} not settled, "
                "outcome unknown or job still running)"
            )
        return text

    # --- selection ------------------------------------------------------------------------------
    @property
    def selected(self) -> list[str]:
        return list(self._selected)

    def is_selected(self, run_id: str) -> bool:
        return run_id in self._selected

    def select(self, run_ids: str | Iterable[str], on: bool = True) -> None:
        for run_id in [run_ids] if isinstance(run_ids, str) else run_ids:
            if on:
                self._selected.setdefault(run_id, None)
            else:
                self._selected.pop(run_id, None)

    def select_page(self) -> None:
        self.select(rec.run_id for rec in self.records)

    def clear_selection(self) -> None:
        self._selected.clear()

    # --- acting on runs -------------------------------------------------------------------------
    def export_runs(self) -> list[ig.RunRecord]:
        """The selected runs, or (none selected) every run matching the filters; oldest first."""
        if self._selected:
            return sorted((self.history[r] for r in self._selected), key=lambda r: (r.created_at, r.run_id))
        return self.history.runs(**self.filters.kwargs(), newest_first=False)

    def export_description(self) -> str:
        n = len(self._selected)
        return f"Export {n} selected" if n else f"Export all {self.totals['runs']}"

    def export(self, path: str | Path, title: str | None = None) -> Path:
        """Export to the path shown beside the button: clicking it again updates that file."""
        return self.history.export_notebook(path, runs=self.export_runs(), title=title, overwrite=True)

    def record(self, run_id: str) -> ig.RunRecord:
        for rec in self.records:
            if rec.run_id == run_id:
                return rec
        return self.history[run_id]

    def spec_for(self, run_id: str) -> ig.Spec:
        """The spec as it was sent (the seed stays empty if it was), ready to edit and re-run."""
        return ig.spec_from_dict(self.record(run_id).spec)

    def result_for(self, run_id: str) -> ig.Result:
        return ig.Result.from_record(self.record(run_id), self.history.store)
