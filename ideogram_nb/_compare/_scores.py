"""Offline scores of a comparison's cells: computed once, stored in the history beside the run.

Why stored: OCR takes a fraction of a second per image, so a grid is scored once; re-opening it
(after a restart, in a report, in the leaderboard view) reads the `scores` table. Why several at
once: tesseract runs as a subprocess and Pillow/numpy release the GIL, so a small thread pool
keeps both cores busy. With `Comparison.run(score=True)` each cell is scored as it finishes,
on a background thread while the others still run, so scoring adds little to a grid's makespan
and the scores are ready soon after it (benchmarks/bench_scoring.py).
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._scoring import METRICS, score_images
from .._scoring_ocr import prompt_of, quoted_text
from ._cells import Cell, CellGrid

if TYPE_CHECKING:
    from .._history._database import History

#: Images scored at once (OCR is a subprocess each).
SCORE_WORKERS = 2
#: Cells scored at once while a grid still runs (two: the last cells' scores follow the grid closely).
BACKGROUND_WORKERS = 2


class CellScores:
    """Scores per cell of one grid, read from and written to the history it is given."""

    def __init__(self, grid: CellGrid, history: Callable[[], History]) -> None:
        self.grid = grid
        self._history = history
        self._lock = threading.Lock()
        self._busy: dict[str, threading.Event] = {}
        self._pool: cf.ThreadPoolExecutor | None = None
        self._ocr_waiting: list[Cell] = []

    def score_cell(self, cell: Cell, *, ocr: bool = True) -> list[dict[str, Any]]:
        """The metrics of each image of a finished cell (stored ones when complete)."""
        res = cell.result
        if res is None or not res.ok or not res.run_id:
            return []
        with self._lock:  # a cell scored on finish and by `scores()` at once: measured once
            event = self._busy.get(res.run_id)
            mine = event is None
            if mine:
                event = self._busy[res.run_id] = threading.Event()
        assert event is not None
        if not mine:
            event.wait()
        try:
            history = self._history()
            stored = history.scores(res.run_id)
            # text_accuracy is known without OCR when the prompt quotes nothing (it does not apply)
            ocr_applies = bool(quoted_text(prompt_of(cell.spec)))
            needed = METRICS if ocr or not ocr_applies else tuple(m for m in METRICS if m != "text_accuracy")
            if len(stored) == len(res.images) and all(all(m in s for m in needed) for s in stored):
                return [{m: s.get(m) for m in METRICS} for s in stored]
            images = [im.path for im in res.images if im.path is not None]
            if len(images) != len(res.images):  # a withheld image has nothing to measure
                return [{m: None for m in METRICS} for _ in res.images]
            scores = score_images(images, cell.spec, ocr=ocr)
            # without OCR, text_accuracy was not measured: leave it out so it is measured later
            history.record_scores(res.run_id, [{m: v for m, v in s.items() if m in needed} for s in scores])
            return scores
        finally:
            if mine:
                with self._lock:
                    self._busy.pop(res.run_id, None)
                event.set()

    def on_cell(self, cell: Cell) -> None:
        """An `observe` listener: score a cell the moment it finishes well, on a background
        thread, so scoring overlaps the cells still running; `rows()` waits for what is under
        way. OCR (a fraction of a second per image, more than the grid's own work per cell)
        waits until no cell is running: it never competes with the grid for the CPU."""
        if cell.state != "ok":
            return
        with self._lock:
            if self._pool is None:
                self._pool = cf.ThreadPoolExecutor(BACKGROUND_WORKERS, thread_name_prefix="score")
            self._pool.submit(self._score_quietly, cell)

    def _score_quietly(self, cell: Cell) -> None:
        """Background scoring: a failure here is not lost, `rows()` measures the cell again (and
        raises where the user is)."""
        try:
            self.score_cell(cell, ocr=False)
            if quoted_text(prompt_of(cell.spec)):
                with self._lock:
                    self._ocr_waiting.append(cell)
            while not any(c.state == "running" for c in self.grid.cells):
                with self._lock:
                    if not self._ocr_waiting:
                        break
                    waiting = self._ocr_waiting.pop(0)
                self.score_cell(waiting)
        except Exception:  # noqa: BLE001 - measured again in the foreground, where it raises
            pass

    def wait(self) -> None:
        """Until the background scoring started by `on_cell` is done."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def stored(self, cell: Cell) -> list[dict[str, Any]]:
        """What the history holds for a cell (None for anything not measured)."""
        if cell.result is None or not cell.result.run_id:
            return []
        stored = self._history().scores(cell.result.run_id)
        return [{m: (stored[k].get(m) if k < len(stored) else None) for m in METRICS} for k in range(len(cell.images))]

    def rows(self, *, ocr: bool = True, compute: bool = True, workers: int = SCORE_WORKERS) -> list[dict[str, Any]]:
        """One row per image of every finished cell: cell, legend, axis values, run_id,
        image_index and each metric (None where it does not apply); missing ones computed
        (with `compute=False`, only what is stored)."""
        done = [c for c in self.grid.cells if c.state == "ok" and c.result is not None]
        self.wait()
        if compute:
            with cf.ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="score") as pool:
                per_cell = list(pool.map(lambda c: self.score_cell(c, ocr=ocr), done))
        else:
            per_cell = [self.stored(c) for c in done]
        out = []
        for cell, scores in zip(done, per_cell, strict=True):
            for k, metrics in enumerate(scores):
                row: dict[str, Any] = {"cell": list(cell.index), "legend": cell.legend}
                row.update({a.field: a.labels[i] for a, i in zip(self.grid.axes, cell.index, strict=True)})
                row.update(run_id=cell.result.run_id if cell.result else None, image_index=k, **metrics)
                out.append(row)
        return out
