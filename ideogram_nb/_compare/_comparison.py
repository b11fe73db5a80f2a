"""Comparisons: A/B pairs and X/Y/Z grids of one spec, planned, priced and checked up front.

Why plan first: every cell costs money, so the whole grid is built and validated before the
first call (every problem of every cell in one error), its call count and cost are known,
and a budget refuses it outright. One concrete seed is shared by all cells unless the seed
is an axis, so differences between cells come from the varied field, not from chance.
Cells run concurrently through the client; a failed cell is kept, marked and retryable.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._callbacks import Callbacks
from .._errors import BudgetError
from .._progress import Progress
from .._specs._base import Spec
from .._specs._registry import spec_from_dict
from ._axes import Axis, format_value
from ._cells import Cell, CellGrid, build_axes, draw_seed, plan_cells
from ._contact_sheet import read_png_text
from ._judging import Judging
from ._quoting import ShapeQuotes
from ._rendering import COMPARE_CHUNK, Rendering
from ._scores import CellScores

if TYPE_CHECKING:
    from .._client import Client
    from .._results import Result

LABEL_PREFIX = "compare:"


class Comparison:
    """A planned grid of cells over up to three axes (x, y, page). See `compare()`."""

    def __init__(
        self,
        base_spec: Spec,
        axes: Mapping[str, Any] | Iterable[Axis],
        client: Client | None = None,
        budget_usd: float | None = None,
        seeds: int | Iterable[int] | None = None,
        *,
        id: str | None = None,
    ) -> None:
        self.id = id or secrets.token_hex(4)
        self.base = base_spec
        self.client = client
        self.budget_usd = budget_usd
        self._quotes = ShapeQuotes()
        self.axes: tuple[Axis, ...] = build_axes(base_spec, axes, seeds)
        has_seed = "seed" in type(base_spec).param
        seeded_axis = any(a.field == "seed" for a in self.axes)
        #: The one seed every cell shares (None when the seed is an axis or not a field).
        self.seed: int | None = None
        if has_seed and not seeded_axis:
            user_seed = getattr(base_spec, "seed", None)  # a field of this spec, not of every Spec
            self.seed = user_seed if user_seed is not None else draw_seed()
        self.grid = CellGrid(self.axes, plan_cells(base_spec, self.axes, self.seed))
        self.cells: list[Cell] = self.grid.cells
        #: Pairs, diff and votes (`judging`); HTML and contact sheets (`rendering`).
        self.judging = Judging(self.grid, self.id, lambda: self._client().history)
        self.rendering = Rendering(self.grid, self.judging, self.setup, lambda: repr(self))
        #: Offline scores per cell, stored in the history (`scores`).
        self.scoring = CellScores(self.grid, lambda: self._client().history)
        self._listeners = Callbacks()
        self._lock = threading.Lock()
        #: What replaced results had cost: a re-run never refunds the run it replaces.
        self._replaced_usd = 0.0
        self.check_budget()

    # --- facts before running -------------------------------------------------------------
    @property
    def label(self) -> str:
        """The history label of every run of this comparison."""
        return LABEL_PREFIX + self.id

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a) for a in self.axes)

    @property
    def n_calls(self) -> int:
        return len(self.cells)

    @property
    def n_images(self) -> int:
        return sum(c.spec.image_count for c in self.cells)

    def estimate_cost(self, cells: Iterable[Cell] | None = None) -> float:
        """US dollars the cells (default: all) are expected to cost."""
        return round(sum(c.spec.estimate_cost() for c in (self.cells if cells is None else cells)), 6)

    def quote_cost(self, cells: Iterable[Cell] | None = None) -> float:
        """US dollars the cells (default: all) will cost, asked of the service where it can
        quote (v2 dry runs: free, nothing generated), one quote per distinct cell shape; the
        local price table for the rest. The budget guard uses this."""
        todo = list(self.cells if cells is None else cells)
        if not any(type(c.spec).family == "v2" for c in todo):  # only v2 routes take a dry run
            return self.estimate_cost(todo)
        return self._quotes.cost(self._client(), [c.spec for c in todo])

    @property
    def spent_usd(self) -> float:
        """Recorded cost of every call made, replaced results included; a call whose outcome is
        unknown counts as spent (it may have been billed)."""
        return round(self._replaced_usd + sum(c.result.cost_usd for c in self.cells if c.result is not None), 6)

    @property
    def seeds(self) -> list[int]:
        """Every concrete seed of the grid (planned, then as returned), in order, once each."""
        found = [s for c in self.cells for s in c.seeds if s is not None]
        return list(dict.fromkeys(found))

    def check_budget(self, cells: Iterable[Cell] | None = None) -> None:
        """Raise `BudgetError` (naming cost and budget) if running `cells` would exceed it."""
        if self.budget_usd is None:
            return
        todo = list(self.cells if cells is None else cells)
        planned = self.quote_cost(todo)
        spent = self.spent_usd  # cells run again keep what they (possibly) cost before
        if spent + planned > self.budget_usd + 1e-9:
            already = f" on top of ${spent:.2f} already spent" if spent else ""
            raise BudgetError(
                f"comparison {self.id}: {len(todo)} calls ({sum(c.spec.image_count for c in todo)} images) "
                f"would cost ${planned:.2f}{already}, over the budget of ${self.budget_usd:.2f}; nothing was run"
            )

    # --- running --------------------------------------------------------------------------
    def observe(self, callback: Callable[[Cell], None], remove: bool = False) -> None:
        """Call `callback(cell)` whenever a cell starts or finishes (from a worker thread).

        A listener that raises is reported on stderr: a broken view never stops the grid."""
        self._listeners.register(callback, remove=remove)

    def _notify(self, cell: Cell) -> None:
        self._listeners(cell)

    def _client(self) -> Client:
        if self.client is None:
            from .._client import Client

            self.client = Client()
        return self.client

    def _execute(self, cells: list[Cell] | None, progress: bool | Callable[[int, int, Result], None]) -> None:
        """Run `cells` (None: every cell not done yet), skipping any already running."""
        client = self._client()
        with self._lock:  # a second Run (or a double click) never sends a cell twice
            # "every cell not done" leaves out cells that may have been billed: only an
            # explicit list (retry, retry_failed(resend_unknown=True)) sends those again
            pool = [c for c in self.cells if c.state != "ok" and not c.outcome_unknown] if cells is None else cells
            cells = [c for c in pool if c.state != "running"]
            for cell in cells:
                cell.state = "running"
        by_spec = {id(c.spec): c for c in cells}
        for cell in cells:
            self._notify(cell)
        if not cells:
            return
        reporter = Progress(len(cells)) if progress is True else None

        def finish(cell: Cell, res: Result) -> None:
            with self._lock:
                if cell.result is not None and cell.result is not res:
                    self._replaced_usd += cell.result.cost_usd
                cell.result, cell.state = res, ("ok" if res.ok else "error")
            self._notify(cell)

        def done(n: int, total: int, res: Result) -> None:
            cell = by_spec.get(id(res.spec))
            if cell is not None:
                finish(cell, res)
            if reporter is not None:
                reporter.update(n, res)
            elif callable(progress):
                progress(n, total, res)

        try:
            results = client.run_many([c.spec for c in cells], progress=done, label=self.label)
            for cell, res in zip(cells, results, strict=True):  # results keep their order: a safety net
                if cell.state == "running":
                    finish(cell, res)
        finally:
            if reporter is not None:
                reporter.close()
            for cell in cells:  # interrupted (e.g. KeyboardInterrupt): runnable again, not stuck
                if cell.state == "running":
                    cell.state = "planned" if cell.result is None else ("ok" if cell.result.ok else "error")
                    self._notify(cell)

    def run(self, progress: bool | Callable[[int, int, Result], None] = True, *, score: bool = False) -> Comparison:
        """Run every cell not yet done, concurrently; failures stay as marked cells. Cells whose
        outcome is unknown are not sent again (see `retry_failed`). `score=True` scores each
        cell on a background thread as it finishes, while the others still run; `scores()`
        then waits for what is still being measured."""
        self.check_budget([c for c in self.cells if c.state != "ok" and not c.outcome_unknown])
        if score:
            self.observe(self.scoring.on_cell)
        try:
            self._execute(None, progress)
        finally:
            if score:
                self.observe(self.scoring.on_cell, remove=True)
        return self

    def retry_failed(
        self, progress: bool | Callable[[int, int, Result], None] = True, *, resend_unknown: bool | None = None
    ) -> Comparison:
        """Run again only the cells that failed.

        Cells whose outcome is unknown (sent, answer lost: maybe made and billed) are left
        alone unless `resend_unknown=True` (default: the client's `resend_unknown`); sending
        them again may pay twice, and the budget counts what they may have cost.
        """
        return self.retry(self.to_retry(resend_unknown), progress=progress)

    def to_retry(self, resend_unknown: bool | None = None) -> list[Cell]:
        """The failed cells `retry_failed` would send: unknown outcomes only when asked."""
        if resend_unknown is None:
            resend_unknown = bool(getattr(self._client(), "resend_unknown", False))
        return [c for c in self.cells if c.state == "error" and (resend_unknown or not c.outcome_unknown)]

    def retry(self, cells: Iterable[Cell], progress: bool | Callable[[int, int, Result], None] = False) -> Comparison:
        todo = list(cells)
        if todo:
            self.check_budget(todo)
            self._execute(todo, progress)
        return self

    def start(self, cells: Iterable[Cell] | None = None, *, score: bool = False) -> cf.Future[Comparison]:
        """Run in the background (the notebook stays live); watch with `observe`. `score=True`
        scores each cell as it finishes, as `run(score=True)` does."""
        todo = None if cells is None else list(cells)
        pending = [c for c in self.cells if c.state != "ok" and not c.outcome_unknown]
        self.check_budget(pending if todo is None else todo)
        future: cf.Future[Comparison] = cf.Future()
        future.set_running_or_notify_cancel()

        def work() -> None:
            if score:
                self.observe(self.scoring.on_cell)
            try:
                self._execute(todo, progress=False)
                future.set_result(self)
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)
            finally:
                if score:
                    self.observe(self.scoring.on_cell, remove=True)

        threading.Thread(target=work, name=f"compare-{self.id}", daemon=True).start()
        return future

    # --- results --------------------------------------------------------------------------
    def _key(self, key: Any) -> tuple[int, ...]:
        keys = key if isinstance(key, tuple) and len(self.axes) > 1 else (key,)
        if len(keys) != len(self.axes):
            raise KeyError(f"give one value per axis ({', '.join(a.field for a in self.axes)}), not {key!r}")
        return tuple(a.index(k) for a, k in zip(self.axes, keys, strict=True))

    def cell(self, *key: Any) -> Cell:
        """The cell at these axis values (values or their label text)."""
        return self.grid.at(self._key(key if len(key) > 1 else key[0]))

    def __getitem__(self, key: Any) -> Result | None:
        """`comparison[x]`, `comparison[x, y]`, `comparison[x, y, page]` → Result (None: not run)."""
        return self.grid.at(self._key(key)).result

    def __len__(self) -> int:
        return len(self.cells)

    def __iter__(self) -> Any:
        return iter(self.cells)

    @property
    def failed(self) -> list[Cell]:
        return [c for c in self.cells if c.state == "error"]

    def counts(self) -> dict[str, int]:
        out = {"planned": 0, "running": 0, "ok": 0, "error": 0}
        for c in self.cells:
            out[c.state] += 1
        return out

    def to_records(self) -> list[dict[str, Any]]:
        """One plain dict per cell: axis values, run_id, ok, error, seeds, sha256s, paths, cost."""
        rows = []
        for c in self.cells:
            res = c.result
            row: dict[str, Any] = {a.field: _jsonable(v) for a, v in zip(self.axes, c.values, strict=True)}
            row.update(
                cell=list(c.index), legend=c.legend, run_id=None if res is None else res.run_id, ok=c.ok,
                error=None if c.error is None else str(c.error), seeds=c.seeds,
                sha256s=[im.sha256 for im in c.images], paths=[str(im.path) if im.path else None for im in c.images],
                cost=None if res is None else res.cost_usd, estimated_cost=c.spec.estimate_cost(),
            )  # fmt: skip
            rows.append(row)
        return rows

    def setup(self) -> dict[str, Any]:
        """The axis set-up as JSON-safe data: enough to rebuild the same cells."""
        axes = []
        for k, a in enumerate(self.axes):
            sent = {c.index[k]: c.spec.to_dict().get(a.field) for c in self.cells}  # images as sha256: refs
            values = [_jsonable(v, sent.get(i)) for i, v in enumerate(a.values)]
            axes.append(a.to_json(values if a.sr is None else None))
        return {
            "format": 1, "id": self.id, "base": self.base.to_dict(), "axes": axes,
            "seed": self.seed, "seeds": self.seeds,
        }  # fmt: skip

    @classmethod
    def from_image(cls, path: str | Path, client: Client | None = None) -> Comparison:
        """Rebuild a grid (same cells, same seeds, not yet run) from a saved contact sheet."""
        text = read_png_text(path, COMPARE_CHUNK)
        if text is None:
            raise ValueError(f"{path} has no '{COMPARE_CHUNK}' text chunk: not a contact sheet of ideogram_nb")
        data = json.loads(text)
        base = spec_from_dict(data["base"])
        if data.get("seed") is not None:
            base = base.copy(seed=data["seed"])
        return cls(base, [Axis.from_json(a) for a in data["axes"]], client=client)

    # --- judging and rendering (composed: see `Judging` and `Rendering`) --------------------
    def page_rows(self, page: int = 0) -> list[list[Cell]]:
        """The cells of one page (a value of the third axis) as rows (y) of columns (x)."""
        return self.grid.page_rows(page)

    @property
    def n_pages(self) -> int:
        return self.grid.n_pages

    @property
    def ab_axis(self) -> int | None:
        return self.judging.ab_axis

    @property
    def is_ab(self) -> bool:
        return self.judging.is_ab

    def pairs(self) -> list[tuple[Cell, Cell]]:
        """(A cell, B cell) for every combination of the other axes (e.g. each seed)."""
        return self.judging.pairs()

    def diff(self) -> list[tuple[str, str, str]]:
        """The words that differ between side A and side B."""
        return self.judging.diff()

    def vote(self, pair: int, choice: str, *, note: str | None = None) -> dict[str, Any]:
        """Record which side of one pair (index, or the seed it shares) is better: A, B or tie."""
        return self.judging.vote(pair, choice, note=note)

    def votes(self) -> list[dict[str, Any]]:
        """The current vote of each voted pair (a later vote replaces an earlier one)."""
        return self.judging.votes()

    def tally(self) -> dict[str, Any]:
        """Votes counted: {"field", "a", "b", "A", "B", "tie", "unvoted", "pairs"}."""
        return self.judging.tally()

    def vote_best(self, cell: Cell, field: str, *, note: str | None = None) -> dict[str, Any]:
        """Record `cell` as the best of its row or column along the `field` axis (X/Y grids)."""
        return self.judging.vote_best(cell, field, note=note)

    def scores(self, *, ocr: bool = True, compute: bool = True) -> list[dict[str, Any]]:
        """Offline scores of every finished cell, one row per image (`score_image` metrics plus
        cell, legend, axis values, run_id, image_index), computed once and stored in the history."""
        return self.scoring.rows(ocr=ocr, compute=compute)

    def to_html(self, path: str | Path, *, overwrite: bool = False, score: bool = True) -> Path:
        """Write one self-contained HTML report: set-up, cost, the grid (thumbnails inline, the
        differing words marked), votes, scores, the leaderboard of each axis, and the code that
        plans the same grid. `score=False` shows only scores already stored."""
        from ._report import comparison_report

        return comparison_report(self, path, overwrite=overwrite, score=score)

    def to_image(self, path: str | Path, captions: bool = False, **options: Any) -> list[Path]:
        """Stitch a labelled contact sheet (see `Rendering.to_image`) → the written paths."""
        return self.rendering.to_image(path, captions=captions, **options)

    def save_images(self, folder: str | Path) -> list[Path]:
        """Copy every cell's single images into `folder`, named by their axis values."""
        return self.rendering.save_images(folder)

    def _repr_html_(self) -> str:
        return self.rendering.html()

    # --- display --------------------------------------------------------------------------
    def __repr__(self) -> str:
        dims = " × ".join(f"{a.field}[{len(a)}]" for a in self.axes)
        done = ", ".join(f"{n} {k}" for k, n in self.counts().items() if n)
        return (
            f"<Comparison {self.id}: {dims} = {self.n_calls} calls, {self.n_images} images, "
            f"~${self.estimate_cost():.2f}; {done}>"
        )


def _jsonable(value: Any, fallback: Any = None) -> Any:
    """Axis values as JSON: plain values as they are, images by their `sha256:` reference."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    ref = getattr(value, "ref", None)
    if isinstance(ref, str):
        return ref
    return fallback if fallback is not None else format_value(value)


def compare(
    base_spec: Spec,
    client: Client | None = None,
    budget_usd: float | None = None,
    *,
    seeds: int | Iterable[int] | None = None,
    **axes: Any,
) -> Comparison:
    """Plan an A/B comparison or an X/Y/Z grid of `base_spec` (nothing runs until `.run()`).

    Axes are fields with values, in keyword order x, y, page: a list, a CSV string
    (`'"a, b", c'`), an integer range (`"1-10 (+2)"`, `"10-90 [5]"`) or a `PromptSR`.
    `seeds=3` adds a seed axis of three concrete seeds (several seeds per side of an A/B).
    Raises `ComparisonError` (a `SpecError`) listing every problem of every cell, and
    `BudgetError` when the estimate exceeds `budget_usd`.

    >>> cmp = compare(Generate(prompt="a red fox"), rendering_speed=["TURBO", "QUALITY"], seeds=2)
    >>> cmp.n_calls, cmp.estimate_cost()
    (4, 0.24)
    """
    return Comparison(base_spec, axes, client=client, budget_usd=budget_usd, seeds=seeds)
