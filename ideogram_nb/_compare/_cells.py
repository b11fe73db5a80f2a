"""The cells of a comparison grid: planned from the axes, laid out x fastest, pages last.

Why a module of its own: planning/running (`_comparison`), judging (`_judging`) and rendering
(`_rendering`) all walk the same cells; each gets this grid, not the whole `Comparison`.
"""

from __future__ import annotations

import itertools
import math
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._api import SEED_MAX
from .._errors import ComparisonError, ImageInputError, OutcomeUnknownError, Problem, SpecError
from .._specs._base import Spec
from ._axes import Axis, make_axis

if TYPE_CHECKING:
    from .._results import ImageResult, Result

#: Names of the axes in order.
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
    def outcome_unknown(self) -> bool:
        """Failed after the request was sent: it may have been made and billed, so neither
        `run()` nor `retry_failed()` sends it again unless asked (`resend_unknown=True`)."""
        return isinstance(self.error, OutcomeUnknownError)

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


class CellGrid:
    """The planned cells of up to three axes (x, y, page), addressable by index."""

    def __init__(self, axes: tuple[Axis, ...], cells: list[Cell]) -> None:
        self.axes = axes
        self.cells = cells
        self._by_index = {c.index: c for c in cells}

    def at(self, index: tuple[int, ...]) -> Cell:
        return self._by_index[index]

    def page_rows(self, page: int = 0) -> list[list[Cell]]:
        """The cells of one page (a value of the third axis) as rows (y) of columns (x)."""
        n = len(self.axes)
        rows = []
        for y in range(len(self.axes[1]) if n > 1 else 1):
            rest = (y, page)[: n - 1]
            rows.append([self._by_index[(x, *rest)] for x in range(len(self.axes[0]))])
        return rows

    @property
    def n_pages(self) -> int:
        return len(self.axes[2]) if len(self.axes) > 2 else 1


def build_axes(base: Spec, axes: Mapping[str, Any] | Iterable[Axis], seeds: Any) -> tuple[Axis, ...]:
    """The axes of a grid, checked together (every bad value named at once); seeds made concrete."""
    built: list[Axis] = []
    problems: list[Problem] = []
    items: list[tuple[str, Any]] = list(axes.items()) if isinstance(axes, Mapping) else [(a.field, a) for a in axes]
    if seeds is not None:
        if any(name == "seed" for name, _ in items):
            raise ValueError("give either seeds=... or a seed axis, not both")
        if isinstance(seeds, int):
            if seeds < 1:
                raise ValueError(f"seeds={seeds!r}: give at least one seed")
            user_seed = getattr(base, "seed", None)  # not every spec has a seed field
            first = [user_seed] if user_seed is not None else []  # keep the user's seed
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


def plan_cells(base: Spec, axes: tuple[Axis, ...], seed: int | None) -> list[Cell]:
    """Every cell of the grid, validated: `ComparisonError` names every problem of every cell."""
    cells: list[Cell] = []
    failures: list[tuple[str, Problem]] = []
    ranges = [range(len(a)) for a in reversed(axes)]  # x varies fastest
    for rev in itertools.product(*ranges):
        index = tuple(reversed(rev))
        values = tuple(a.values[i] for a, i in zip(axes, index, strict=True))
        legends = tuple(a.legend(i) for a, i in zip(axes, index, strict=True))
        changes: dict[str, Any] = {} if seed is None else {"seed": seed}
        for axis, value in zip(axes, values, strict=True):
            changes.update(axis.changes(base, value))
        try:
            spec = base.copy(**changes)
        except SpecError as exc:
            failures += [(", ".join(legends), p) for p in exc.problems]
            continue
        except (ImageInputError, ValueError, TypeError) as exc:  # a field type outside the spec's checks
            fields = ", ".join(a.field for a in axes)
            failures.append((", ".join(legends), Problem(fields, values, str(exc))))
            continue
        failures += [(", ".join(legends), p) for p in spec.problems()]
        cells.append(Cell(index, values, legends, spec))
    if failures:
        raise ComparisonError(failures, math.prod(len(a) for a in axes))
    return cells
