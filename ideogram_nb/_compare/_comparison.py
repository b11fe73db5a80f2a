"""Comparisons: A/B pairs and X/Y/Z grids of one spec, planned, priced and checked up front.

Why plan first: every cell costs money, so the whole grid is built and validated before the
first call (every problem of every cell in one error), its call count and cost are known,
and a budget refuses it outright. One concrete seed is shared by all cells unless the seed
is an axis, so differences between cells come from the varied field, not from chance.
Cells run concurrently through the client; a failed cell is kept, marked and retryable.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import json
import math
import secrets
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._api import SEED_MAX
from ._axes import Axis, format_value, make_axis
from ._view import COMPARE_CHUNK, ComparisonViews
from ._contact_sheet import read_png_text
from .._errors import BudgetError, ComparisonError, ImageInputError, Problem, SpecError
from .._progress import Progress
from .._specs._base import Spec
from .._specs._registry import spec_from_dict

if TYPE_CHECKING:
    from .._client import Client
    from .._results import ImageResult, Result

LABEL_PREFIX = "compare:"
AXIS_NAMES = ("x", "y", "page")


def draw_seed() -> int:
    """One concrete seed for a grid whose spec left it empty (recorded, so reproducible)."""
    return secrets.randbelow(SEED_MAX + 1)


@dataclass(eq=False)
class Cell:
    """One point of the grid: its axis values, the spec it runs, and (once run) its result."""

    index: tuple[int, ...]
    values: tuple[Any, ...]
    legends: tuple[str, ...]
    spec: Spec
    result: Result | None = None
    state: str = "planned"  # planned | running | ok | error

    @property
    def legend(self) -> str:
        return ", ".join(self.legends)

    @property
    def ok(self) -> bool | None:
        return None if self.result is None or self.state == "running" else self.result.ok

    @property
    def error(self) -> BaseException | None:
        return None if self.result is None else self.result.error

    @property
    def images(self) -> list[ImageResult]:
        """The single images of this cell (each with a local `path`)."""
        return [] if self.result is None else list(self.result.images)

    @property
    def seeds(self) -> list[int | None]:
        """Seeds the images came back with; before a run, the seed that will be sent."""
        if self.result is not None and self.result.images:
            return self.result.seeds
        seed = getattr(self.spec, "seed", None)
        return [seed] if seed is not None else []

    def __repr__(self) -> str:
        return f"<Cell [{self.legend}] {self.state}>"


class Comparison(ComparisonViews):
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
        self.axes: tuple[Axis, ...] = self._make_axes(base_spec, axes, seeds)
        has_seed = "seed" in type(base_spec).param
        seeded_axis = any(a.field == "seed" for a in self.axes)
        #: The one seed every cell shares (None when the seed is an axis or not a field).
        self.seed: int | None = None
        if has_seed and not seeded_axis:
            self.seed = base_spec.seed if base_spec.seed is not None else draw_seed()
        self.cells: list[Cell] = self._plan()
        self._by_index = {c.index: c for c in self.cells}
        self._listeners: list[Callable[[Cell], None]] = []
        self._lock = threading.Lock()
        self.check_budget()

    # --- planning -------------------------------------------------------------------------
    @staticmethod
    def _make_axes(base: Spec, axes: Mapping[str, Any] | Iterable[Axis], seeds: Any) -> tuple[Axis, ...]:
        built: list[Axis] = []
        problems: list[Problem] = []
        items = list(axes.items()) if isinstance(axes, Mapping) else [(a.field, a) for a in axes]
        if seeds is not None:
            if any(name == "seed" for name, _ in items):
                raise ValueError("give either seeds=... or a seed axis, not both")
            if isinstance(seeds, int):
                if seeds < 1:
                    raise ValueError(f"seeds={seeds!r}: give at least one seed")
                first = [base.seed] if getattr(base, "seed", None) is not None else []  # keep the user's seed
                seeds = (first + [draw_seed() for _ in range(seeds)])[:seeds]
            items.append(("seed", list(seeds)))
        for name, raw in items:
            try:
                built.append(raw if isinstance(raw, Axis) else make_axis(base, name, raw))
            except SpecError as exc:
                problems.extend(exc.problems)
        if problems:
            raise SpecError(problems, spec_name="comparison axes")
        if not built:
            raise ValueError("compare() needs at least one axis, e.g. prompt=['a cat', 'a dog'] or seeds=3")
        if len(built) > len(AXIS_NAMES):
            raise ValueError(f"at most three axes (x, y, page), not {len(built)}: {[a.field for a in built]}")
        # A1111's habit: -1 (or None) on a seed axis means "a random seed": make it concrete now.
        return tuple(
            Axis(a.field, tuple(draw_seed() if v in (None, -1) else v for v in a.values), a.sr)
            if a.field == "seed" else a
            for a in built
        )  # fmt: skip

    def _plan(self) -> list[Cell]:
        cells: list[Cell] = []
        failures: list[tuple[str, Problem]] = []
        ranges = [range(len(a)) for a in reversed(self.axes)]  # x varies fastest
        for rev in itertools.product(*ranges):
            index = tuple(reversed(rev))
            values = tuple(a.values[i] for a, i in zip(self.axes, index))
            legends = tuple(a.legend(i) for a, i in zip(self.axes, index))
            changes: dict[str, Any] = {} if self.seed is None else {"seed": self.seed}
            for axis, value in zip(self.axes, values):
                changes.update(axis.changes(self.base, value))
            try:
                spec = self.base.copy(**changes)
            except SpecError as exc:
                failures += [(", ".join(legends), p) for p in exc.problems]
                continue
            except (ImageInputError, ValueError, TypeError) as exc:  # a field type outside the spec's checks
                fields = ", ".join(a.field for a in self.axes)
                failures.append((", ".join(legends), Problem(fields, values, str(exc))))
                continue
            failures += [(", ".join(legends), p) for p in spec.problems()]
            cells.append(Cell(index, values, legends, spec))
        if failures:
            raise ComparisonError(failures, math.prod(self.shape))
        return cells

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

    @property
    def spent_usd(self) -> float:
        return round(sum(c.result.cost_usd for c in self.cells if c.result is not None), 6)

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
        planned = self.estimate_cost(todo)
        spent = round(sum(c.result.cost_usd for c in self.cells if c.result is not None and c not in todo), 6)
        if spent + planned > self.budget_usd + 1e-9:
            already = f" on top of ${spent:.2f} already spent" if spent else ""
            raise BudgetError(
                f"comparison {self.id}: {len(todo)} calls ({sum(c.spec.image_count for c in todo)} images) "
                f"would cost ${planned:.2f}{already}, over the budget of ${self.budget_usd:.2f}; nothing was run"
            )

    # --- running --------------------------------------------------------------------------
    def observe(self, callback: Callable[[Cell], None]) -> None:
        """Call `callback(cell)` whenever a cell starts or finishes (from a worker thread)."""
        self._listeners.append(callback)

    def _notify(self, cell: Cell) -> None:
        for cb in list(self._listeners):
            try:
                cb(cell)
            except Exception:  # a broken view must not stop the grid: report and go on
                traceback.print_exc(file=sys.stderr)

    def _client(self) -> Client:
        if self.client is None:
            from .._client import Client

            self.client = Client()
        return self.client

    def _execute(self, cells: list[Cell] | None, progress: bool | Callable[[int, int, Result], None]) -> None:
        """Run `cells` (None: every cell not done yet), skipping any already running."""
        client = self._client()
        with self._lock:  # a second Run (or a double click) never sends a cell twice
            pool = [c for c in self.cells if c.state != "ok"] if cells is None else cells
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
            for cell, res in zip(cells, results):  # results keep their order: a safety net
                if cell.state == "running":
                    finish(cell, res)
        finally:
            if reporter is not None:
                reporter.close()
            for cell in cells:  # interrupted (e.g. KeyboardInterrupt): runnable again, not stuck
                if cell.state == "running":
                    cell.state = "planned" if cell.result is None else ("ok" if cell.result.ok else "error")
                    self._notify(cell)

    def run(self, progress: bool | Callable[[int, int, Result], None] = True) -> Comparison:
        """Run every cell not yet done, concurrently; failures stay as marked cells."""
        self.check_budget([c for c in self.cells if c.state != "ok"])
        self._execute(None, progress)
        return self

    def retry_failed(self, progress: bool | Callable[[int, int, Result], None] = True) -> Comparison:
        """Run again only the cells that failed."""
        return self.retry([c for c in self.cells if c.state == "error"], progress=progress)

    def retry(self, cells: Iterable[Cell], progress: bool | Callable[[int, int, Result], None] = False) -> Comparison:
        todo = list(cells)
        if todo:
            self.check_budget(todo)
            self._execute(todo, progress)
        return self

    def start(self, cells: Iterable[Cell] | None = None) -> cf.Future[Comparison]:
        """Run in the background (the notebook stays live); watch with `observe`."""
        todo = None if cells is None else list(cells)
        self.check_budget([c for c in self.cells if c.state != "ok"] if todo is None else todo)
        future: cf.Future[Comparison] = cf.Future()
        future.set_running_or_notify_cancel()

        def work() -> None:
            try:
                self._execute(todo, progress=False)
                future.set_result(self)
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)

        threading.Thread(target=work, name=f"compare-{self.id}", daemon=True).start()
        return future

    # --- results --------------------------------------------------------------------------
    def _key(self, key: Any) -> tuple[int, ...]:
        keys = key if isinstance(key, tuple) and len(self.axes) > 1 else (key,)
        if len(keys) != len(self.axes):
            raise KeyError(f"give one value per axis ({', '.join(a.field for a in self.axes)}), not {key!r}")
        return tuple(a.index(k) for a, k in zip(self.axes, keys))

    def cell(self, *key: Any) -> Cell:
        """The cell at these axis values (values or their label text)."""
        return self._by_index[self._key(key if len(key) > 1 else key[0])]

    def __getitem__(self, key: Any) -> Result | None:
        """`comparison[x]`, `comparison[x, y]`, `comparison[x, y, page]` → Result (None: not run)."""
        return self._by_index[self._key(key)].result

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
            row: dict[str, Any] = {a.field: _jsonable(v) for a, v in zip(self.axes, c.values)}
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
        return {"format": 1, "id": self.id, "base": self.base.to_dict(), "axes": axes, "seed": self.seed, "seeds": self.seeds}

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
